/* A "Download CSV" button under every table of the page (one header row; a cell's data-csv
 * values replace its text, so counts and shares export as numbers in their own columns).
 * Cells a spreadsheet would run as a formula (= + - @, tab, CR, unless a plain number) get a
 * leading quote, as the project's own CSV files do. */
(function () {
  "use strict";

  var PLAIN_NUMBER = /^[+-]?(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)%?$/;

  var GROUPED_NUMBER = /^[\u2212-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$/;
  var SIGNED_NUMBER = /^\u2212[0-9]+(?:\.[0-9]+)?$/;

  /* A number as the page writes it ("98,913", "\u22120.04") as a spreadsheet reads it
   * ("98913", "-0.04"); any other text unchanged. */
  function plainNumber(value) {
    if (GROUPED_NUMBER.test(value)) { return value.replace(/,/g, "").replace("\u2212", "-"); }
    if (SIGNED_NUMBER.test(value)) { return value.replace("\u2212", "-"); }
    return value;
  }

  function cell(text) {
    var value = plainNumber(text.replace(/\s+/g, " ").trim());
    if (/^[=+\-@\t\r]/.test(value) && !PLAIN_NUMBER.test(value)) { value = "'" + value; }
    return /[",\n\r]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
  }

  /* A cell's CSV values: its data-csv (a JSON list: one value per column, so "55,229 (55.8%)"
   * can export as 55229 and 0.558, and a header as "Users" and "Users share"), else its text. */
  function values(c) {
    var given = c.getAttribute("data-csv");
    return given === null ? [c.textContent] : JSON.parse(given).map(String);
  }

  function tableCsv(table) {
    return Array.prototype.map.call(table.rows, function (row) {
      var out = [];
      Array.prototype.forEach.call(row.cells, function (c) {
        values(c).forEach(function (v) { out.push(cell(v)); });
      });
      return out.join(",");
    }).join("\r\n") + "\r\n";
  }

  function fileName(table, index) {
    var caption = table.caption ? table.caption.textContent : "";
    var slug = caption.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    var page = (location.pathname.split("/").pop() || "index").replace(/\.html$/, "");
    return page + "-" + (slug.slice(0, 50) || "table-" + (index + 1)) + ".csv";
  }

  function addButton(table, index) {
    var tools = document.createElement("div");
    tools.className = "c2c-table-tools";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "c2c-export-button";
    button.textContent = "Download CSV";
    button.addEventListener("click", function () {
      var blob = new Blob([tableCsv(table)], {type: "text/csv;charset=utf-8"});
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = fileName(table, index);
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    });
    tools.appendChild(button);
    var wrap = table.closest(".c2c-table-wrap") || table;
    wrap.parentNode.insertBefore(tools, wrap.nextSibling);
  }

  var SCROLLERS = ".c2c-table-wrap, .pst-scrollable-table-container, .table-wrapper";

  /* A region that scrolls sideways is reachable by keyboard and named for screen readers
   * (WCAG 2.1.1; axe's scrollable-region-focusable); re-checked when the width changes. */
  function markScrollable() {
    document.querySelectorAll(SCROLLERS).forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        var table = wrap.querySelector("table");
        var caption = table && table.caption ? table.caption.textContent.trim() : "";
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", (caption || "Table") + " (scrolls sideways)");
        wrap.classList.add("c2c-scrolls");
      } else if (!scrolls && wrap.classList.contains("c2c-scrolls")) {
        ["tabindex", "role", "aria-label"].forEach(function (a) { wrap.removeAttribute(a); });
        wrap.classList.remove("c2c-scrolls");
      }
    });
  }

  function start() {
    document.querySelectorAll("table.c2c-table:not(.c2c-own-csv)").forEach(addButton);
    markScrollable();
    window.addEventListener("resize", markScrollable);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
