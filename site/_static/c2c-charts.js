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
  var MIN_WIDTH = 140;  // px: no plot narrower than this
  var MAX_TRIES = 4;     // redraws of a chart that came out wider than its holder
  var LABEL_SHARE = 0.3;  // on narrow screens, y axis labels get at most this share of the width
  var views = [];

  function darkMode() {
    return document.documentElement.dataset.theme === "dark";
  }

  /* Literal inks of the light specs and what they become on the dark theme's #333 background
   * (each text ink at least 4.5:1 against it): dark text turns light, white halos and
   * separators turn to the background, the vermillion accent lightens. */
  var DARK_INKS = {"black": "#e6e6e6", "#000": "#e6e6e6", "#000000": "#e6e6e6",
                   "#222": "#e6e6e6", "#333": "#e6e6e6", "#555555": "#bbbbbb",
                   "white": "#333333", "#fff": "#333333", "#ffffff": "#333333",
                   "#555": "#bbbbbb", "#D55E00": "#FF8C4D", "#B04A00": "#FF8C4D"};
  var INK_KEYS = ["color", "fill", "stroke", "subtitleColor", "titleColor", "labelColor"];

  /* The spec with every literal colour of a mark re-inked for the dark theme (in place). */
  function inked(node) {
    if (Array.isArray(node)) { node.forEach(inked); return node; }
    if (!node || typeof node !== "object") { return node; }
    Object.keys(node).forEach(function (key) {
      var value = node[key];
      if (INK_KEYS.indexOf(key) >= 0 && typeof value === "string" && DARK_INKS[value]) {
        node[key] = DARK_INKS[value];
      } else if (key !== "data" && key !== "datasets") {
        inked(value);
      }
    });
    return node;
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
    var narrow = width < NARROW;
    if (narrow) {
      copy.config = copy.config || {};
      copy.config.legend = Object.assign({}, copy.config.legend, {
        orient: "top", direction: "vertical", labelLimit: Math.round(width * 0.4)});
    }
    setWidths(copy, width, narrow ? Math.round(width * LABEL_SHARE) : null);
    return darkMode() ? inked(copy) : copy;
  }

  /* Give every view of a (possibly concatenated) spec its share of `width`; side-by-side
   * panels that would get less than MIN_WIDTH each are stacked instead. `labelLimit` (px, or
   * null) caps the y axis labels on narrow screens. */
  function setWidths(spec, width, labelLimit) {
    var gap = 24;
    if (spec.hconcat) {
      var each = (width - gap * (spec.hconcat.length - 1)) / spec.hconcat.length;
      if (each - allowance(labelLimit) < MIN_WIDTH) {
        spec.vconcat = spec.hconcat;
        delete spec.hconcat;
        return setWidths(spec, width, labelLimit);
      }
      spec.hconcat.forEach(function (part) { setWidths(part, each, labelLimit); });
      return;
    }
    (spec.vconcat || spec.layer || []).forEach(function (part) {
      setWidths(part, width, labelLimit);
    });
    if (labelLimit) {
      capLabels(spec, labelLimit);
      wrapTitle(spec, width);
    }
    if (typeof spec.width === "number" || spec.width === "container") {
      spec.width = Math.max(MIN_WIDTH, Math.floor(width - allowance(labelLimit)));
    }
  }

  /* Shorten the y axis labels of one view to `limit` pixels (Vega adds an ellipsis). */
  function capLabels(spec, limit) {
    var y = spec.encoding && spec.encoding.y;
    if (!y || y.axis === null) { return; }
    y.axis = Object.assign({}, y.axis);
    y.axis.labelLimit = Math.min(y.axis.labelLimit || limit, limit);
  }

  /* Break a view's title and subtitle into lines that fit `width` pixels (Vega titles do not
   * wrap by themselves); character widths are estimated from the font sizes. */
  function wrapTitle(spec, width) {
    if (!spec.title) { return; }
    spec.title = typeof spec.title === "object" ? Object.assign({}, spec.title)
                                                : {text: spec.title};
    spec.title.text = wrapped(spec.title.text, Math.floor(width / 8.5));
    if (spec.title.subtitle) {
      spec.title.subtitle = wrapped(spec.title.subtitle, Math.floor(width / 6.5));
    }
  }

  function wrapped(text, perLine) {
    var lines = [];
    [].concat(text).forEach(function (line) {
      var current = "";
      String(line).split(" ").forEach(function (word) {
        if (current && (current + " " + word).length > perLine) {
          lines.push(current);
          current = word;
        } else {
          current = current ? current + " " + word : word;
        }
      });
      lines.push(current);
    });
    return lines.length === 1 ? lines[0] : lines;
  }

  /* Pixels a view needs beside its plot area for its y axis (labels and title). */
  function allowance(labelLimit) {
    return labelLimit ? labelLimit + 30 : 90;
  }

  function embedOptions() {
    var options = {actions: false, renderer: "svg", ast: true, defaultStyle: false,
                   tooltip: {disableDefaultStyle: true}};
    if (darkMode()) {
      options.theme = "dark";
      options.config = {text: {color: "#e6e6e6"}};  // text marks with no colour of their own
    }
    return options;
  }

  /* Draw one chart; while its SVG is wider than the holder, draw it again narrower (at most
   * MAX_TRIES times). `shrink` (px) is taken off the holder's width; `tries` counts redraws. */
  function draw(holder, spec, shrink, tries) {
    var width = holder.clientWidth || holder.parentNode.clientWidth;
    shrink = shrink || 0;
    tries = tries || 0;
    var previous = holder.__c2cView;
    return vegaEmbed(holder, fitted(spec, width - shrink, previous), embedOptions()).then(
      function (result) {
        var svg = holder.querySelector("svg");
        var drawn = svg ? svg.getBoundingClientRect().width : 0;
        holder.__c2cView = result.view;
        if (drawn > width + 1 && tries < MAX_TRIES) {
          return draw(holder, spec, shrink + (drawn - width) + 4, tries + 1);
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
    var theme = darkMode();
    new MutationObserver(function () {
      if (darkMode() !== theme) {
        theme = darkMode();
        drawAll();
      }
    }).observe(document.documentElement, {attributes: true, attributeFilter: ["data-theme"]});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
