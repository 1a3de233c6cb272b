/* Campaign sizing: filter the pipeline's sizing cube (campaigns.json, embedded in the page as
 * the JSON block #c2c-sizing) by country, language, app ownership and gender, and show per
 * segment the users, the target / control split and the smallest uplift that split detects
 * (the pipeline's formula, analysis/campaigns/groups.py). Aggregates only: no user's row. */
(function () {
  "use strict";

  var ALL = "all";

  function unique(cells, key) {
    var seen = {};
    cells.forEach(function (c) { seen[c[key]] = (seen[c[key]] || 0) + c.users; });
    return Object.keys(seen).sort(function (a, b) {
      return seen[b] - seen[a] || (a < b ? -1 : 1);
    });
  }

  function detectable(nTarget, nControl, plan) {
    if (nTarget <= 0 || nControl <= 0) { return null; }
    var p = plan.base_rate;
    return 100 * plan.z * Math.sqrt(p * (1 - p) * (1 / nTarget + 1 / nControl));
  }

  function count(n) { return n.toLocaleString("en-US"); }

  function choices(form, data) {
    var picked = {};
    data.dimensions.forEach(function (d) { picked[d] = form.elements[d].value; });
    return picked;
  }

  function totals(data, picked) {
    var rows = {};
    data.plans.forEach(function (p) {
      rows[p.segment] = {plan: p, users: 0, target: 0, control: 0};
    });
    data.cells.forEach(function (c) {
      var keep = data.dimensions.every(function (d) {
        return picked[d] === ALL || c[d] === picked[d];
      });
      if (!keep || !rows[c.segment]) { return; }
      rows[c.segment].users += c.users;
      rows[c.segment][c.group] += c.users;
    });
    return data.plans.map(function (p) { return rows[p.segment]; });
  }

  function csvCell(value) {
    var text = String(value);
    if (/^[=+\-@\t\r]/.test(text) && !/^-?[0-9.]+$/.test(text)) { text = "'" + text; }
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function render(table, rows, data) {
    var body = table.tBodies[0];
    body.textContent = "";
    rows.forEach(function (r) {
      var mde = detectable(r.target, r.control, data);
      var cells = [count(r.users), count(r.target), count(r.control),
        mde === null ? "no split" : mde.toFixed(1) + " pp",
        mde !== null && mde <= data.max_uplift_pp ? "yes" : "too small to test"];
      var tr = document.createElement("tr");
      var who = document.createElement("td");
      var badge = document.createElement("span");
      badge.className = "c2c-tier c2c-tier-" + r.plan.tier;
      badge.textContent = r.plan.tier;
      who.append(badge, " " + r.plan.name);
      tr.appendChild(who);
      cells.forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function csv(rows, data, picked) {
    var head = ["segment", "tier", "users", "target", "control", "detectable_uplift_pp",
      "testable"].concat(data.dimensions);
    var lines = [head.join(",")];
    rows.forEach(function (r) {
      var mde = detectable(r.target, r.control, data);
      lines.push([r.plan.name, r.plan.tier, r.users, r.target, r.control,
        mde === null ? "" : mde.toFixed(4), mde !== null && mde <= data.max_uplift_pp]
        .concat(data.dimensions.map(function (d) { return picked[d]; })).map(csvCell).join(","));
    });
    return "\ufeff" + lines.join("\r\n") + "\r\n";
  }

  function start() {
    var block = document.getElementById("c2c-sizing");
    var form = document.getElementById("c2c-sizing-form");
    var table = document.getElementById("c2c-sizing-table");
    if (!block || !form || !table) { return; }
    var data = JSON.parse(block.textContent);
    data.dimensions.forEach(function (d) {
      var select = form.elements[d];
      unique(data.cells, d).forEach(function (value) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = value;
        select.appendChild(option);
      });
    });
    var update = function () { render(table, totals(data, choices(form, data)), data); };
    form.addEventListener("change", update);
    document.getElementById("c2c-sizing-csv").addEventListener("click", function () {
      var picked = choices(form, data);
      var text = csv(totals(data, picked), data, picked);
      var blob = new Blob([text], {type: "text/csv;charset=utf-8"});
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "campaign-sizing.csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
