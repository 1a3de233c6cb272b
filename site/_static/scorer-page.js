/*
 * c2c-segments: the "Score users" page. Reads the model and the scorer's contract from the
 * page's JSON blocks (written by analysis/report/charts/score.py), scores each chosen file in a
 * Web Worker (scorer-worker.js) or, where no Worker can be made (a page opened from file://),
 * with the same code in the page in steps, and shows the result. Text from a file reaches the
 * page through textContent only; widths and colours are set through CSSOM, since the
 * Content-Security-Policy refuses style attributes.
 */
"use strict";
// A block, not a function wrapper: in strict mode the functions below stay private to it.
{
  const core = self.c2cCore;
  const job = self.c2cJob;
  const WORKER_URL = new URL("scorer-worker.js", document.currentScript.src).href;
  const MEBIBYTE = 1048576;

  /** A run that was stopped on purpose (Cancel, or a newer file). */
  class Cancelled extends Error {}
  /** The Worker could not start (its script failed to load or run). */
  class WorkerFailed extends Error {}

  /** A new element with attributes and, optionally, text (set through textContent). */
  function el(tag, attrs = {}, text = undefined) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- Runners: score(file, choice), rescore(choice), cancel(); both report progress (0..1)
  /** Scoring in a Web Worker: the file's bytes are transferred to it; cancel() terminates it
   * (a later rescore then reads the file again). Each job has an id: an answer to an older
   * job (a solution changed twice quickly) is ignored. */
  function workerRunner(setup, onProgress) {
    let [worker, pending, file, jobs] = [null, null, null, 0];
    function stop(error) {
      if (worker !== null) worker.terminate();
      if (pending !== null) pending.reject(error);
      [worker, pending] = [null, null];
    }
    function answer({ data }) {
      if (pending === null || data.id !== pending.id) return;
      if (data.type === "progress") return onProgress(data.fraction);
      const { resolve, reject } = pending;
      pending = null;
      if (data.type === "result") resolve(data.result);
      else reject(data.name === "InputError" ? new core.InputError(data.message)
        : new Error(data.message));
    }
    function send(message, transfer) {
      if (worker === null) {
        worker = new Worker(WORKER_URL);
        worker.onmessage = answer;
        worker.onerror = (event) => { event.preventDefault(); stop(new WorkerFailed()); };
      }
      return new Promise((resolve, reject) => {
        pending = { id: ++jobs, resolve, reject };
        worker.postMessage({ ...message, id: pending.id }, transfer);
      });
    }
    return {
      engine: "worker",
      async score(chosen, choice) {
        stop(new Cancelled());
        file = chosen;
        const buffer = await file.arrayBuffer();
        return send({ type: "score", buffer, name: file.name, model: setup.model,
          contract: setup.contract, limits: setup.limits, choice }, [buffer]);
      },
      rescore(choice) {
        return worker === null ? this.score(file, choice) : send({ type: "rescore", choice }, []);
      },
      cancel() { stop(new Cancelled()); },
    };
  }

  /** Scoring in the page with the Worker's code, yielding to the browser between steps with
   * setTimeout; cancel() (or a newer run) stops a run at its next step. */
  function pageRunner(setup, onProgress) {
    let [session, current] = [null, 0];
    const pauseFor = (run) => () => new Promise((resolve, reject) => {
      setTimeout(() => (run === current ? resolve() : reject(new Cancelled())), 0);
    });
    return {
      engine: "page",
      async score(file, choice) {
        const run = ++current;
        session = job.createSession(setup.model, setup.contract);
        const buffer = await file.arrayBuffer();
        return session.load(buffer, file.name, setup.limits, choice, onProgress, pauseFor(run));
      },
      rescore(choice) { return session.rescore(choice, onProgress, pauseFor(++current)); },
      cancel() { current += 1; },
    };
  }

  // ---- Result views: summary, bars, paged tables, downloads
  /** Rows of bars: items [{name, note, count, colour}], widths relative to the largest. */
  function drawBars(box, items, total) {
    const largest = Math.max(1, ...items.map((item) => item.count));
    box.replaceChildren(...items.map((item) => {
      const bar = el("span", { class: "c2c-bar" });
      bar.style.width = `${(100 * item.count) / largest}%`;
      bar.style.backgroundColor = item.colour;
      const track = el("span", { class: "c2c-bar-track" });
      track.append(bar);
      const label = el("span", { class: "c2c-bar-label" }, item.name);
      if (item.note) label.append(el("small", {}, item.note));
      const share = total ? ((100 * item.count) / total).toFixed(1) : "0.0";
      const row = el("div", { class: "c2c-bar-row", "data-name": item.name,
        "data-count": String(item.count) });
      row.append(label, track, el("span", { class: "c2c-bar-value" },
        `${core.thousands(item.count)} (${share}%)`));
      return row;
    }));
  }

  /** Users per tier and per segment of `result`, tiers in the model's order. */
  function countItems(model, result) {
    const s = result.scored;
    const perTier = model.tiers.map(() => 0);
    const perSegment = result.segmentNames.map(() => 0);
    const tierOfSegment = [];
    for (let i = 0; i < s.tier.length; i++) {
      perTier[s.tier[i]] += 1;
      perSegment[s.segment[i]] += 1;
      tierOfSegment[s.segment[i]] = s.tier[i];
    }
    const tiers = model.tiers.map((name, t) => ({ name, count: perTier[t],
      colour: model.tier_colors[name] }));
    const segments = result.segmentNames.map((name, g) => ({ name, count: perSegment[g],
      tier: tierOfSegment[g], note: model.segments.labels[name] || "",
      colour: model.tier_colors[model.tiers[tierOfSegment[g]]] }));
    segments.sort((a, b) => a.tier - b.tier || b.count - a.count);
    return { tiers, segments };
  }

  /** A table of `count` rows shown `pageSize` at a time; rowCells(i) gives row i's texts. The
   * table scrolls inside its own box (a keyboard can scroll it too). */
  function pagedTable(box, columns, count, rowCells, pageSize, caption) {
    if (!count) return box.replaceChildren(el("p", { class: "c2c-empty" }, "None."));
    const [pages, body, head] = [Math.ceil(count / pageSize), el("tbody"), el("thead")];
    let page = 0;
    head.append(el("tr"));
    head.firstChild.append(...columns.map((c) => el("th", { scope: "col" }, c)));
    const table = el("table", { class: "c2c-result-table" });
    table.append(el("caption", {}, caption), head, body);
    const wrap = el("div", { class: "c2c-result-wrap", tabindex: "0", role: "region",
      "aria-label": caption });
    wrap.append(table);
    const prev = el("button", { type: "button", class: "c2c-prev" }, "Previous");
    const info = el("span", { class: "c2c-page-info", "aria-live": "polite" });
    const next = el("button", { type: "button", class: "c2c-next" }, "Next");
    const nav = el("div", { class: "c2c-pager" });
    nav.append(prev, info, next);
    function show() {
      const [from, to] = [page * pageSize, Math.min(count, (page + 1) * pageSize)];
      const rows = [];
      for (let i = from; i < to; i++) {
        const row = el("tr");
        row.append(...rowCells(i).map((text) => el("td", {}, text)));
        rows.push(row);
      }
      body.replaceChildren(...rows);
      info.textContent = `Page ${page + 1} of ${pages} (rows ${core.thousands(from + 1)}–` +
        `${core.thousands(to)} of ${core.thousands(count)})`;
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }
    prev.addEventListener("click", () => { page -= 1; show(); });
    next.addEventListener("click", () => { page += 1; show(); });
    show();
    box.replaceChildren(wrap, nav);
  }

  /** Offers `text` as a download named `name` (a blob URL, released a minute later). */
  function download(text, name) {
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    const link = el("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  /** Summary, bars and tables of `result`. */
  function showResult(ui, result) {
    const { model } = ui.setup;
    const [accepted, rejected] = [result.scored.ids.length, result.rejected.reason.length];
    const name = model.algorithm_names[result.algorithm] || result.algorithm;
    ui.part.summary.textContent = `${core.thousands(result.rowsIn)} rows in, ` +
      `${core.thousands(accepted)} scored, ${core.thousands(rejected)} rejected ` +
      `(${name}, k = ${result.k})`;
    const items = countItems(model, result);
    drawBars(ui.part.tierBars, items.tiers, accepted);
    drawBars(ui.part.segmentBars, items.segments, accepted);
    const decimals = (x) => x.toFixed(model.scoring.round_digits);
    pagedTable(ui.part.scored, ui.scorer.scoredColumns.concat(["line"]), accepted,
      (i) => core.scoredCells(ui.scorer, result, i, decimals).concat(`${result.scored.line[i]}`),
      ui.setup.pageSize, "Scored users");
    const r = result.rejected;
    pagedTable(ui.part.rejected, ["line", "reject_reason"].concat(result.header), rejected,
      (i) => [String(r.line[i]), r.reason[i]].concat(r.cells[i]), ui.setup.pageSize,
      "Rejected rows and why");
    ui.part.downloadScored.disabled = !accepted;
    ui.part.downloadRejected.disabled = !rejected;
    ui.part.results.hidden = false;
    if (result.extraColumns.length) {
      say(ui, `Ignored column(s) that are not in the export's schema: ` +
        `${result.extraColumns.join(", ")}.`, "warning");
    }
  }

  // ---- The page's flow: choose, score (progress, cancel), switch solution
  /** Shows `text` in the message box (kind "error" or "warning"); "" hides it. */
  function say(ui, text, kind = "error") {
    ui.part.message.textContent = text;
    ui.part.message.className = `c2c-message c2c-${kind}`;
    ui.part.message.hidden = !text;
  }

  /** The progress bar and Cancel, shown while a run goes on. */
  function setBusy(ui, busy) {
    ui.part.progressBox.hidden = !busy;
    ui.part.progress.value = 0;
    ui.part.cancel.disabled = !busy;
  }

  /** Runs `work()` (a runner call) as the page's current run: progress, then the result or
   * the message. A Worker that cannot start is replaced by the page runner. */
  async function run(ui, work, label, startedAt) {
    const id = ++ui.runId;
    ui.root.dataset.state = "running";
    say(ui, "");
    setBusy(ui, true);
    ui.part.status.textContent = `Scoring ${label}…`;
    try {
      const result = await work();
      if (id !== ui.runId) return;
      ui.result = result;
      showResult(ui, result);
      const seconds = (performance.now() - startedAt) / 1000;
      ui.part.status.textContent = `Scored ${label} in ${seconds.toFixed(seconds < 1 ? 2 : 1)} s.`;
      ui.root.dataset.elapsedMs = String(Math.round(seconds * 1000));
      ui.root.dataset.state = "done";
    } catch (err) {
      if (id !== ui.runId || err instanceof Cancelled) return;
      if (err instanceof WorkerFailed || err.name === "SecurityError") {  // no Worker here
        ui.runner = pageRunner(ui.setup, ui.onProgress);
        ui.root.dataset.engine = ui.runner.engine;
        return run(ui, work, label, startedAt);
      }
      [ui.part.results.hidden, ui.result] = [true, null];
      ui.part.status.textContent = "Choose a CSV or zip file to score.";
      say(ui, err instanceof core.InputError ? err.message : `Unexpected error: ${err.message}`);
      ui.root.dataset.state = "error";
    } finally {
      if (id === ui.runId) setBusy(ui, false);
    }
  }

  /** A file was chosen: refuse it when it is too big, else score it. */
  function chooseFile(ui, file) {
    const startedAt = performance.now();
    ui.runner.cancel();
    ui.runId += 1;
    [ui.part.results.hidden, ui.result] = [true, null];
    if (file.size <= ui.setup.limits.maxBytes) {
      return run(ui, () => ui.runner.score(file, choiceOf(ui)), file.name, startedAt);
    }
    const limit = +(ui.setup.limits.maxBytes / MEBIBYTE).toFixed(1);
    say(ui, `Cannot read ${file.name}: it is ${core.thousands(file.size)} bytes, more than the ` +
      `${limit} MB this page reads; use \`c2c score ${file.name} -o scored.csv\` instead.`);
    ui.root.dataset.state = "error";
  }

  /** Cancel: stop the run; a result shown before stays, with its own solution selected. */
  function cancelRun(ui) {
    ui.runner.cancel();
    ui.runId += 1;
    setBusy(ui, false);
    ui.root.dataset.state = "cancelled";
    ui.part.status.textContent = ui.result === null ? "Cancelled. Choose a CSV or zip file."
      : "Cancelled; the result below is the previous one.";
    if (ui.result === null) return;
    ui.part.algorithm.value = ui.result.algorithm;
    fillK(ui, ui.result.k);
  }

  /** The algorithm or k changed: score the same rows again (the file is not read again). */
  function changeSolution(ui) {
    if (ui.result === null) return;
    const choice = choiceOf(ui);
    const name = ui.setup.model.algorithm_names[choice.algorithm] || choice.algorithm;
    run(ui, () => ui.runner.rescore(choice), `${name}, k = ${choice.k}`, performance.now());
  }

  // ---- Controls: solution selects, the one-user form
  function choiceOf(ui) {
    return { algorithm: ui.part.algorithm.value, k: Number(ui.part.k.value) };
  }

  /** The k values of the selected algorithm; keeps `preferred` when it exists. */
  function fillK(ui, preferred) {
    const { model } = ui.setup;
    const ks = model.solutions.filter((s) => s.algorithm === ui.part.algorithm.value)
      .map((s) => s.k).sort((a, b) => a - b);
    ui.part.k.replaceChildren(...ks.map((k) => el("option", { value: String(k) }, String(k))));
    const keep = [preferred, model.chosen.k].find((k) => ks.includes(k));
    ui.part.k.value = String(keep === undefined ? ks[0] : keep);
  }

  /** Algorithm options named as the model names them, the chosen solution selected. */
  function fillSelects(ui) {
    const { model } = ui.setup;
    const algorithms = [...new Set(model.solutions.map((s) => s.algorithm))];
    ui.part.algorithm.replaceChildren(...algorithms.map((a) =>
      el("option", { value: a }, model.algorithm_names[a] || a)));
    ui.part.algorithm.value = model.chosen.algorithm;
    fillK(ui, model.chosen.k);
  }

  /** One text field per column the model reads (the optional ones may stay empty). */
  function buildForm(ui) {
    const { model } = ui.setup;
    const fields = model.required_columns.concat(model.optional_columns).map((column) => {
      const optional = model.optional_columns.includes(column);
      const field = el("div", { class: "c2c-one-field" });
      field.append(el("label", { for: `c2c-one-${column}` },
        optional ? `${column} (optional)` : column), el("input", { id: `c2c-one-${column}`,
        name: column, type: "text", inputmode: "numeric", autocomplete: "off",
        spellcheck: "false", value: optional ? "" : "0" }));
      return field;
    });
    ui.part.oneFields.replaceChildren(...fields);
  }

  /** Scores the form's user with the same rules as a file's row. */
  function scoreForm(ui) {
    const inputs = [...ui.part.oneFields.querySelectorAll("input")];
    const cells = Object.fromEntries(inputs.map((input) => [input.name, input.value]));
    const got = core.scoreOne(ui.scorer, cells, choiceOf(ui));
    if (got.reasons) {
      const reasons = el("ul");
      reasons.append(...got.reasons.map((reason) => el("li", {}, reason)));
      return ui.part.oneResult.replaceChildren(el("p", { class: "c2c-error" }, "Not scored:"),
        reasons);
    }
    const list = el("dl", { class: "c2c-one-dl" });
    const decimals = (x) => x.toFixed(ui.setup.model.scoring.round_digits);
    const shown = { cluster: String(got.cluster), tier: got.tier, segment: got.segment,
      reason: got.reason, distance: decimals(got.distance), margin: decimals(got.margin),
      tied: got.tied ? "yes" : "no" };
    for (const [name, text] of Object.entries(shown)) {
      list.append(el("dt", {}, name), el("dd", { "data-field": name }, text));
    }
    ui.part.oneResult.replaceChildren(list);
  }

  // ---- Start
  /** The page's parts, settings and model; picks the runner, wires and enables the controls. */
  function boot() {
    const root = document.getElementById("c2c-scorer");
    if (root === null) return;
    const part = {};
    for (const node of root.querySelectorAll("[data-part]")) part[node.dataset.part] = node;
    const model = JSON.parse(document.getElementById("c2c-model").textContent);
    const contract = JSON.parse(document.getElementById("c2c-scorer-contract").textContent);
    const setup = { model, contract, pageSize: Number(root.dataset.pageSize), limits: {
      maxBytes: Number(root.dataset.maxBytes), maxRatio: Number(root.dataset.maxUnzipRatio) } };
    const ui = { root, part, setup, scorer: core.prepare(model, contract), result: null,
      runId: 0, onProgress: (fraction) => { part.progress.value = fraction; } };
    const noWorker = location.protocol === "file:" || typeof Worker === "undefined";
    ui.runner = (noWorker ? pageRunner : workerRunner)(setup, ui.onProgress);
    root.dataset.engine = ui.runner.engine;
    fillSelects(ui);
    buildForm(ui);
    part.file.addEventListener("change", () => {
      if (part.file.files.length) chooseFile(ui, part.file.files[0]);
    });
    part.cancel.addEventListener("click", () => cancelRun(ui));
    part.algorithm.addEventListener("change", () => {
      fillK(ui, Number(part.k.value));
      changeSolution(ui);
    });
    part.k.addEventListener("change", () => changeSolution(ui));
    part.downloadScored.addEventListener("click",
      () => download(core.scoredCsv(ui.scorer, ui.result), "scored.csv"));
    part.downloadRejected.addEventListener("click",
      () => download(core.rejectedCsv(ui.result), "rejected.csv"));
    part.one.addEventListener("submit", (event) => { event.preventDefault(); scoreForm(ui); });
    for (const control of root.querySelectorAll("input, select, button")) control.disabled = false;
    setBusy(ui, false);
    part.status.textContent = "Choose a CSV or zip file to score.";
    root.dataset.state = "ready";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
}
