/* Draw every chart of the page from its JSON data block, offline and without eval.
 *
 * Each chart is <div class="c2c-chart" id=…> plus <script type="application/json"
 * class="c2c-spec" data-for=…> (data, never executed). vegaEmbed (the vendored bundle) draws it
 * as SVG with Vega's expression interpreter (ast: true), so the Content-Security-Policy needs
 * no 'unsafe-eval'. Charts are sized to their holder: the spec's widths are set to the space
 * available, side-by-side panels are stacked on narrow screens, and anything still wider than
 * the holder is drawn again narrower. They are redrawn when the window is resized and when the
 * theme switcher changes light/dark. Under each chart, PNG and SVG buttons save it.
 */
(function () {
  "use strict";

  var NARROW = 700;     // px: below this, side-by-side panels are stacked
  var MIN_WIDTH = 160;  // px: no plot narrower than this
  var views = [];

  function darkMode() {
    return document.documentElement.dataset.theme === "dark";
  }

  /* A deep copy of the spec whose views fit `width` pixels; bound parameters keep the values
   * the reader chose in the view drawn before (`previous`). */
  function fitted(spec, width, previous) {
    var copy = JSON.parse(JSON.stringify(spec));
    (copy.params || []).forEach(function (param) {
      if (previous && param.bind) {
        try { param.value = previous.signal(param.name); } catch (err) { /* not drawn yet */ }
      }
    });
    if (copy.hconcat && width < NARROW) {
      copy.vconcat = copy.hconcat;
      delete copy.hconcat;
    }
    setWidths(copy, width);
    return copy;
  }

  /* Give every view of a (possibly concatenated) spec its share of `width`. */
  function setWidths(spec, width) {
    var gap = 24;
    if (spec.hconcat) {
      var each = (width - gap * (spec.hconcat.length - 1)) / spec.hconcat.length;
      spec.hconcat.forEach(function (part) { setWidths(part, each); });
    } else if (spec.vconcat) {
      spec.vconcat.forEach(function (part) { setWidths(part, width); });
    } else if (typeof spec.width === "number" || spec.width === "container") {
      spec.width = Math.max(MIN_WIDTH, Math.floor(width - allowance(spec)));
    }
  }

  /* Pixels a view needs beside its plot area: its y axis labels and a right-hand legend. */
  function allowance(spec) {
    return spec.c2cAllowance || 90;
  }

  function embedOptions() {
    var options = {actions: false, renderer: "svg", ast: true, defaultStyle: false,
                   tooltip: {disableDefaultStyle: true}};
    if (darkMode()) { options.theme = "dark"; }
    return options;
  }

  /* Draw one chart; if its SVG ends up wider than the holder, draw it again narrower. */
  function draw(holder, spec, attempt) {
    var width = holder.clientWidth || holder.parentNode.clientWidth;
    var target = width - (attempt ? attempt : 0);
    var previous = holder.__c2cView;
    return vegaEmbed(holder, fitted(spec, target, previous), embedOptions()).then(
      function (result) {
        var svg = holder.querySelector("svg");
        var drawn = svg ? svg.getBoundingClientRect().width : 0;
        holder.__c2cView = result.view;
        if (drawn > width + 1 && (attempt || 0) < 3) {
          return draw(holder, spec, (attempt || 0) + (drawn - width) + 8);
        }
        return result;
      });
  }

  function saveAs(url, name) {
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  /* PNG and SVG buttons under a chart (they export what is drawn now). */
  function addExport(holder) {
    var bar = document.createElement("div");
    bar.className = "c2c-export";
    [["png", "PNG"], ["svg", "SVG"]].forEach(function (kind) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "c2c-export-button";
      button.textContent = "Save " + kind[1];
      button.addEventListener("click", function () {
        var view = holder.__c2cView;
        if (!view) { return; }
        var scale = kind[0] === "png" ? 2 : 1;
        view.toImageURL(kind[0], scale).then(function (url) {
          saveAs(url, (holder.dataset.name || holder.id) + "." + kind[0]);
        });
      });
      bar.appendChild(button);
    });
    holder.parentNode.insertBefore(bar, holder.nextSibling);
  }

  function drawAll() {
    views.forEach(function (entry) {
      draw(entry.holder, entry.spec).catch(function (err) {
        entry.holder.textContent = "This chart could not be drawn: " + err;
        console.error(err);
      });
    });
  }

  function start() {
    if (typeof vegaEmbed !== "function") {
      console.error("vegaEmbed is missing: charts need _static/vega-bundle.js");
      return;
    }
    document.querySelectorAll("script.c2c-spec").forEach(function (block) {
      var holder = document.getElementById(block.dataset.for);
      if (!holder) { return; }
      views.push({holder: holder, spec: JSON.parse(block.textContent)});
      addExport(holder);
    });
    drawAll();
    var pending = null;
    var lastWidth = window.innerWidth;
    window.addEventListener("resize", function () {
      if (Math.abs(window.innerWidth - lastWidth) < 8) { return; }
      lastWidth = window.innerWidth;
      clearTimeout(pending);
      pending = setTimeout(drawAll, 150);
    });
    new MutationObserver(drawAll).observe(document.documentElement,
                                          {attributes: true, attributeFilter: ["data-theme"]});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
