/*
 * c2c-segments — the in-browser scorer of the "Score users" page.
 *
 * Scores a CSV of users against model.json (written by `c2c segment`, copied to _static/ by
 * the site build) with exactly the rules and the arithmetic of `c2c score`
 * (analysis/scoring.py):
 *   - file-level faults as analysis/io.py reports them (empty, binary, not UTF-8, other
 *     delimiter, repeated or missing columns, rows with the wrong number of fields, no data);
 *   - row-level faults as reasons, joined with "; " (cells must match analysis/kinds.py's
 *     patterns; counts and daysSinceLastLogin must not be negative; daysSinceLastLogin must not
 *     exceed seniority when that column is there; an identifierHash seen on an earlier line is
 *     a duplicate);
 *   - the feature transform of analysis/features.py, then the nearest centroid: squared
 *     differences added in feature order, Math.sqrt, ties to the lowest cluster index.
 *
 * The file never leaves the browser: the only request this script makes is for model.json.
 * Every cell is rendered with textContent; cells in downloaded CSVs that a spreadsheet would
 * run as a formula are prefixed with a single quote.
 *
 * window.c2cScorer = {loadModel(url), scoreText(csvText, {algorithm, k}), ...} (see the end).
 * No dependencies; ES2017+.
 */
(function () {
  "use strict";

  const SCRIPT_URL = (document.currentScript && document.currentScript.src) || document.baseURI;

  // ------------------------------------------------------------------------------------------
  // Shared rules: mirror analysis/schema.py, analysis/kinds.py, analysis/io.py, scoring.py
  // ------------------------------------------------------------------------------------------

  const MODEL_SCHEMA_VERSION = 1;
  const ID_COLUMN = "identifierHash";
  const DAYS_COLUMN = "daysSinceLastLogin";
  const SENIORITY_COLUMN = "seniority";
  const TIERS = ["inactive", "moderate", "active"];
  const SCHEMA_COLUMNS = {
    identifierHash: "int64", type: "str", country: "str", language: "str",
    socialNbFollowers: "int", socialNbFollows: "int", socialProductsLiked: "int",
    productsListed: "int", productsSold: "int", productsPassRate: "float",
    productsWished: "int", productsBought: "int", gender: "str", civilityGenderId: "int",
    civilityTitle: "str", hasAnyApp: "bool", hasAndroidApp: "bool", hasIosApp: "bool",
    hasProfilePicture: "bool", daysSinceLastLogin: "int", seniority: "int",
    seniorityAsMonths: "float", seniorityAsYears: "float", countryCode: "str",
  };
  /** Columns that cannot be negative (counts, days): schema.COUNT_COLUMNS + the day numbers. */
  const NON_NEGATIVE = new Set([
    "socialNbFollowers", "socialNbFollows", "socialProductsLiked", "productsListed",
    "productsSold", "productsWished", "productsBought", DAYS_COLUMN, SENIORITY_COLUMN,
  ]);
  const FOREIGN_DELIMITERS = [[";", "semicolon"], ["\t", "tab"], ["|", "pipe"]];
  const LISTED_LINES = 3;
  const REASON_VALUE_CHARS = 40;
  const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
  const DEFAULT_PAGE_SIZE = 50;
  const CHUNK_ROWS = 2000;

  /** analysis/kinds.py _at_most: digit strings as long as `bound` and numerically <= it. */
  function atMost(bound) {
    const alternatives = [bound];
    for (let i = 0; i < bound.length; i++) {
      const digit = bound[i];
      if (digit !== "0") {
        const rest = bound.length - i - 1;
        alternatives.push(`${bound.slice(0, i)}[0-${Number(digit) - 1}][0-9]{${rest}}`);
      }
    }
    return alternatives.join("|");
  }

  /** analysis/kinds.py _int64_pattern: exact decimal integers in the signed 64-bit range. */
  function int64Pattern() {
    const high = "9223372036854775807";
    const low = "9223372036854775808";
    const shorter = `[0-9]{1,${high.length - 1}}`;
    return `0*(?:${shorter}|${atMost(high)})|-0*(?:${shorter}|${atMost(low)})`;
  }

  const PATTERNS = {
    int64: int64Pattern(),
    int: int64Pattern(),
    float: "[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?",
    bool: "True|False",
    str: null,
  };
  const EXPECTED_TEXT = {
    int64: "a whole number in the signed 64-bit range (e.g. -1097895247965112460)",
    int: "a whole number (e.g. 12)",
    float: "a decimal number (e.g. 74.0)",
    bool: "True or False",
    str: "text",
  };
  const ANCHORED = {};
  for (const kind of Object.keys(PATTERNS)) {
    ANCHORED[kind] = PATTERNS[kind] === null ? null : new RegExp(`^(?:${PATTERNS[kind]})$`);
  }
  /** A plain number (no formula): left alone by the CSV-injection guard. */
  const PLAIN_NUMBER = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
  const FORMULA_START = /^[=+\-@\t\r]/;

  class InputError extends Error {
    constructor(message) {
      super(message);
      this.name = "InputError";
    }
  }

  function cannot(label, problem) {
    return new InputError(`Cannot read ${label}: ${problem}.`);
  }

  /** A cell value for a reason: at most 40 characters (code points), else 37 + "...". */
  function shorten(value) {
    if (value.length <= REASON_VALUE_CHARS) return value;
    const points = Array.from(value);
    return points.length > REASON_VALUE_CHARS
      ? points.slice(0, REASON_VALUE_CHARS - 3).join("") + "..." : value;
  }

  /** An integer cell that matched the int64 pattern, written without sign noise or zeros. */
  function canonicalInt(cell) {
    const negative = cell.charCodeAt(0) === 45;
    let digits = negative ? cell.slice(1) : cell;
    let i = 0;
    while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
    digits = digits.slice(i);
    return negative && digits !== "0" ? "-" + digits : digits;
  }

  /** Compare two canonical non-negative integer strings: -1, 0 or 1. */
  function compareDigits(a, b) {
    if (a.length !== b.length) return a.length < b.length ? -1 : 1;
    return a < b ? -1 : (a > b ? 1 : 0);
  }

  /** CSV-injection guard: prefix ' to non-numeric cells starting with = + - @ tab or CR. */
  function neutralise(cell) {
    const text = String(cell);
    return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? "'" + text : text;
  }

  /** Python's repr() of a float (what pandas writes), so both scorers write the same bytes. */
  function pyFloat(x) {
    if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : (x > 0 ? "inf" : "-inf");
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    const [mantissa, expText] = x.toExponential().split("e");
    const exp = Number(expText);
    const negative = mantissa[0] === "-";
    const digits = mantissa.replace("-", "").replace(".", "");
    const sign = negative ? "-" : "";
    if (exp < -4 || exp >= 16) {
      const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
      const e = Math.abs(exp);
      return `${sign}${mant}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" + e : e}`;
    }
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
    return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }

  // ------------------------------------------------------------------------------------------
  // CSV parsing: RFC 4180 as Python's csv module and pyarrow read it (non-strict)
  // ------------------------------------------------------------------------------------------

  /** Line breaks in a piece of text: \r\n counts once, lone \r and \n once each. */
  function countBreaks(text) {
    let count = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13) {
        count++;
        if (text.charCodeAt(i + 1) === 10) i++;
      } else if (c === 10) {
        count++;
      }
    }
    return count;
  }
  const HAS_BREAK = /[\r\n]/;

  /**
   * Records of `text` as {fields, line}: `line` is the 1-based physical line the record starts
   * on (\r\n, \r and \n each end a line). Blank lines are skipped. A quote opens a quoted field
   * only at the start of a field; "" inside quotes is one quote; text after a closing quote is
   * kept; a quote inside an unquoted field is literal; end of text inside quotes ends the field.
   */
  function* csvRecords(text) {
    const n = text.length;
    let i = 0;
    let line = 1;
    while (i < n) {
      const first = text.charCodeAt(i);
      if (first === 10 || first === 13) {
        i += first === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
        line++;
        continue;
      }
      const start = line;
      const fields = [];
      for (;;) {
        let value;
        if (i < n && text.charCodeAt(i) === 34) {
          i++;
          value = "";
          for (;;) {
            const q = text.indexOf('"', i);
            const piece = text.slice(i, q === -1 ? n : q);
            if (HAS_BREAK.test(piece)) line += countBreaks(piece);
            value += piece;
            if (q === -1) {
              i = n;
              break;
            }
            i = q + 1;
            if (i < n && text.charCodeAt(i) === 34) {
              value += '"';
              i++;
              continue;
            }
            break;
          }
        } else {
          value = "";
        }
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === 44 || c === 10 || c === 13) break;
          j++;
        }
        if (j > i) value += text.slice(i, j);
        i = j;
        fields.push(value);
        if (i >= n) break;
        const c = text.charCodeAt(i);
        if (c === 44) {
          i++;
          continue;
        }
        i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
        line++;
        break;
      }
      yield { fields, line: start };
    }
  }

  /** Python bytes.strip() whitespace. */
  const ONLY_WHITESPACE = /^[ \t\n\r\x0b\x0c]*$/;

  /** analysis/io._check_text on decoded text: BOM dropped, not empty, no NUL. */
  function checkText(text, label) {
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (ONLY_WHITESPACE.test(text)) throw cannot(label, "the file is empty");
    const nul = text.indexOf("\u0000");
    if (nul >= 0) {
      const line = countBreaks(text.slice(0, nul)) + 1;
      throw cannot(label, `it is binary data, not a CSV text file (NUL character on line ${line})`);
    }
    return text;
  }

  /** analysis/io._check_text on bytes (BOM skipped): "the file is empty", binary, or null. */
  function byteProblem(bytes) {
    const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    let blank = true;
    for (let i = start; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0) {
        let line = 1;
        for (let j = start; j < i; j++) if (bytes[j] === 10) line++;
        return `it is binary data, not a CSV text file (NUL byte at offset ${i - start}, ` +
          `line ${line})`;
      }
      if (blank && !(b === 32 || (b >= 9 && b <= 13))) blank = false;
    }
    return blank ? "the file is empty" : null;
  }

  /** analysis/io._header: other delimiters and repeated names are file-level faults. */
  function checkHeader(names, label) {
    if (names.length === 1) {
      for (const [sep, word] of FOREIGN_DELIMITERS) {
        if (names[0].includes(sep)) {
          throw cannot(label, `the header is a single column containing '${sep}', so the file is ` +
            `${word}-separated; expected comma-separated values`);
        }
      }
    }
    const seen = new Set();
    const repeated = new Set();
    for (const name of names) {
      if (seen.has(name)) repeated.add(name);
      seen.add(name);
    }
    if (repeated.size) {
      const list = Array.from(repeated).sort().map((r) => `'${r}'`).join(", ");
      throw cannot(label, `the header repeats column(s) ${list}`);
    }
  }

  /** analysis/io._field_count_error: rows whose field count differs from the header's. */
  function raggedError(label, bad, expected, lastLine) {
    const [firstLine, firstCount] = bad[0];
    let sentence = `line ${firstLine} has ${firstCount} fields, expected ${expected}`;
    if (firstLine === lastLine && firstCount < expected) {
      sentence += " (the file looks truncated mid-row)";
    }
    if (bad.length > 1) {
      const others = bad.slice(1, 1 + LISTED_LINES).map((b) => b[0]).join(", ");
      const more = bad.length - 1 - LISTED_LINES;
      sentence += `; also line(s) ${others}` + (more > 0 ? ` and ${more} more` : "");
    }
    return cannot(label, sentence);
  }

  // ------------------------------------------------------------------------------------------
  // The model: transform + nearest centroid (analysis/features.py, analysis/scoring.py)
  // ------------------------------------------------------------------------------------------

  function checkModel(model) {
    const problems = [];
    if (!model || typeof model !== "object") problems.push("not a JSON object");
    else {
      if (model.schema_version !== MODEL_SCHEMA_VERSION) {
        problems.push(`schema_version ${model.schema_version}, expected ${MODEL_SCHEMA_VERSION}`);
      }
      if (!Array.isArray(model.features) || !model.features.length) problems.push("no features");
      if (!Array.isArray(model.solutions) || !model.solutions.length) problems.push("no solutions");
      if (!model.chosen) problems.push("no chosen solution");
      if (!Array.isArray(model.required_columns)) problems.push("no required_columns");
    }
    if (problems.length) throw new InputError(`The model is not usable: ${problems.join("; ")}.`);
    return model;
  }

  /** analysis.scoring.model.find_solution: (algorithm, k), either missing -> the chosen one's. */
  function findSolution(model, algorithm, k) {
    const alg = algorithm || model.chosen.algorithm;
    const kk = Number(k || model.chosen.k);
    for (const sol of model.solutions) {
      if (sol.algorithm === alg && sol.k === kk) return sol;
    }
    const available = model.solutions.map((s) => `${s.algorithm} k=${s.k}`).sort().join(", ");
    throw new InputError(`No solution for algorithm=${alg} k=${kk}; available: ${available}.`);
  }

  /** Plain arrays for the hot loop: transform params, centroids, tier of each cluster. */
  function compile(model, sol) {
    const feats = model.features.map((p) => {
      let span = p.hi - p.lo;
      if (span <= 0) span = 1.0;
      return { column: p.column, offset: p.offset, cap: p.cap, lo: p.lo, span, invert: !!p.invert };
    });
    return {
      feats,
      f: feats.length,
      centroids: sol.centroids.map((c) => Float64Array.from(c)),
      tierOf: sol.tier_of_cluster,
      algorithm: sol.algorithm,
      k: sol.k,
      x: new Float64Array(feats.length),
    };
  }

  /**
   * Score one user's raw feature values (Float64Array in model.features order):
   * x = clip((min(log1p(max(v - offset, 0)), cap) - lo) / span, 0, 1), 1 - x when invert;
   * then the nearest centroid. Returns [cluster, distance, margin].
   */
  function scoreValues(values, m) {
    const { feats, f, x, centroids } = m;
    for (let j = 0; j < f; j++) {
      const p = feats[j];
      const excess = Math.max(values[j] - p.offset, 0);
      const logged = Math.min(Math.log1p(excess), p.cap);
      const scaled = Math.min(Math.max((logged - p.lo) / p.span, 0), 1);
      x[j] = p.invert ? 1.0 - scaled : scaled;
    }
    let best = Infinity;
    let second = Infinity;
    let cluster = 0;
    for (let c = 0; c < centroids.length; c++) {
      const centre = centroids[c];
      let total = 0;
      for (let j = 0; j < f; j++) {
        const d = x[j] - centre[j];
        total += d * d;
      }
      const dist = Math.sqrt(total);
      if (dist < best) {
        second = best;
        best = dist;
        cluster = c;
      } else if (dist < second) {
        second = dist;
      }
    }
    return [cluster, best, centroids.length > 1 ? second - best : 0];
  }

  // ------------------------------------------------------------------------------------------
  // Row rules (analysis/scoring.py)
  // ------------------------------------------------------------------------------------------

  /** Where each column the rules need sits in the header; missing ones are a file fault. */
  function makePlan(header, model, label) {
    const index = new Map(header.map((name, i) => [name, i]));
    const missing = model.required_columns.filter((c) => !index.has(c));
    if (missing.length) {
      throw new InputError(`Cannot use ${label}: it lacks the column(s) the model needs: ` +
        `${missing.join(", ")}.`);
    }
    const featureIndex = model.features.map((p) => model.required_columns.indexOf(p.column));
    const checks = model.required_columns.map((col) => ({
      col,
      at: index.get(col),
      kind: SCHEMA_COLUMNS[col] || "str",
      nonNegative: NON_NEGATIVE.has(col),
      cache: new Map(),
    }));
    const daysAt = model.required_columns.indexOf(DAYS_COLUMN);
    const idAt = model.required_columns.indexOf(ID_COLUMN);
    const seniority = index.has(SENIORITY_COLUMN)
      ? { col: SENIORITY_COLUMN, at: index.get(SENIORITY_COLUMN), kind: "int", nonNegative: true,
        cache: new Map() } : null;
    return {
      checks, featureIndex, daysAt, idAt, seniority,
      extraColumns: header.filter((name) => !(name in SCHEMA_COLUMNS)),
    };
  }

  /** One cell: {reason, canon, value}; reason null when the cell is usable. Cached per column. */
  function checkCell(check, cell) {
    let out = check.cache.get(cell);
    if (out !== undefined) return out;
    const { col, kind } = check;
    const re = ANCHORED[kind];
    if (cell === "") {
      out = { reason: `${col} is empty`, canon: null, value: NaN };
    } else if (re !== null && !re.test(cell)) {
      out = { reason: `${col} "${shorten(cell)}" is not ${EXPECTED_TEXT[kind]}`, canon: null,
        value: NaN };
    } else {
      const canon = kind === "int" || kind === "int64" ? canonicalInt(cell) : cell;
      const value = Number(canon);
      const reason = check.nonNegative && value < 0 ? `${col} "${shorten(cell)}" is negative` : null;
      out = { reason, canon, value };
    }
    if (check.cache.size < 100000) check.cache.set(cell, out);
    return out;
  }

  /** All reasons of one row (duplicates aside), its canonical id and its feature values. */
  function checkRow(fields, plan) {
    const reasons = [];
    const cells = plan.checks.map((check) => {
      const res = checkCell(check, fields[check.at]);
      if (res.reason !== null) reasons.push(res.reason);
      return res;
    });
    if (plan.seniority !== null && plan.daysAt >= 0) {
      const days = cells[plan.daysAt];
      const sen = checkCell(plan.seniority, fields[plan.seniority.at]);
      if (days.reason === null && sen.reason === null && compareDigits(days.canon, sen.canon) > 0) {
        reasons.push(`${DAYS_COLUMN} ${days.canon} is greater than ${SENIORITY_COLUMN} ${sen.canon}`);
      }
    }
    const id = plan.idAt >= 0 && cells[plan.idAt].canon !== null ? cells[plan.idAt].canon : null;
    const values = new Float64Array(plan.featureIndex.length);
    for (let j = 0; j < values.length; j++) values[j] = cells[plan.featureIndex[j]].value;
    return { reasons, id, values };
  }

  function duplicateReason(firstLine) {
    return `duplicate ${ID_COLUMN} (first seen on line ${firstLine})`;
  }

  /**
   * The scorer as a generator: yields progress (rows done) every CHUNK_ROWS rows and returns
   * {header, extraColumns, accepted, rejected, rowsIn, algorithm, k, tierCounts}. Throws
   * InputError for file-level faults, in analysis/io.py's order.
   */
  function* scoreSteps(text, model, options) {
    const opts = options || {};
    const label = opts.label || "the file";
    const sol = findSolution(model, opts.algorithm, opts.k);
    text = checkText(text, label);
    const records = [];
    let lastLine = 0;
    for (const rec of csvRecords(text)) {
      records.push(rec);
      lastLine = rec.line;
      if (records.length % (CHUNK_ROWS * 2) === 0) yield 0;
    }
    if (!records.length) throw cannot(label, "the file is empty");
    const header = records[0].fields;
    checkHeader(header, label);
    const bad = [];
    for (let r = 1; r < records.length; r++) {
      if (records[r].fields.length !== header.length) {
        bad.push([records[r].line, records[r].fields.length]);
      }
    }
    if (bad.length) throw raggedError(label, bad, header.length, lastLine);
    if (records.length === 1) throw cannot(label, "it has a header but no data rows");
    const plan = makePlan(header, model, label);
    const m = compile(model, sol);
    const accepted = [];
    const rejected = [];
    const firstLineOf = new Map();
    const tierCounts = { inactive: 0, moderate: 0, active: 0 };
    const rowsIn = records.length - 1;
    for (let r = 1; r < records.length; r++) {
      const { fields, line } = records[r];
      const row = checkRow(fields, plan);
      if (row.id !== null) {
        const first = firstLineOf.get(row.id);
        if (first === undefined) firstLineOf.set(row.id, line);
        else row.reasons.push(duplicateReason(first));
      }
      if (row.reasons.length) {
        rejected.push({ line, reject_reason: row.reasons.join("; "), cells: fields });
      } else {
        const [cluster, distance, margin] = scoreValues(row.values, m);
        const tier = m.tierOf[cluster];
        tierCounts[tier] = (tierCounts[tier] || 0) + 1;
        accepted.push({ line, identifierHash: row.id, cluster, tier, distance, margin,
          algorithm: m.algorithm, k: m.k });
      }
      if (r % CHUNK_ROWS === 0) yield r;
    }
    if (accepted.length + rejected.length !== rowsIn) {
      throw new Error(`internal error: ${accepted.length} accepted + ${rejected.length} ` +
        `rejected != ${rowsIn} rows`);
    }
    return { header, extraColumns: plan.extraColumns, accepted, rejected, rowsIn,
      algorithm: m.algorithm, k: m.k, tierCounts };
  }

  let currentModel = null;

  function requireModel(options) {
    const model = (options && options.model) || currentModel;
    if (!model) throw new InputError("The model is not loaded yet.");
    return model;
  }

  /** Score CSV text synchronously: {accepted, rejected, ...}; throws InputError. */
  function scoreText(csvText, options) {
    const steps = scoreSteps(csvText, requireModel(options), options);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /** Let the browser paint and handle input between chunks. */
  function nextTask() {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    });
  }

  /** Score CSV text in chunks, yielding to the event loop; `isStale()` aborts quietly. */
  async function scoreTextAsync(csvText, options, onProgress, isStale) {
    const steps = scoreSteps(csvText, requireModel(options), options);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      if (onProgress) onProgress(step.value);
      await nextTask();
      if (isStale && isStale()) return null;
    }
  }

  /** One user typed into the form: {ok, cluster, tier, distance, margin} or {ok:false, reasons}. */
  function scoreOne(values, options) {
    const model = requireModel(options);
    const sol = findSolution(model, options && options.algorithm, options && options.k);
    const header = model.required_columns.slice();
    const fields = header.map((c) => (values[c] === undefined ? "" : String(values[c])));
    if (values[SENIORITY_COLUMN] !== undefined && values[SENIORITY_COLUMN] !== "") {
      header.push(SENIORITY_COLUMN);
      fields.push(String(values[SENIORITY_COLUMN]));
    }
    const plan = makePlan(header, model, "the form");
    const row = checkRow(fields, plan);
    if (row.reasons.length) return { ok: false, reasons: row.reasons };
    const [cluster, distance, margin] = scoreValues(row.values, compile(model, sol));
    return { ok: true, identifierHash: row.id, cluster, tier: sol.tier_of_cluster[cluster],
      distance, margin, algorithm: sol.algorithm, k: sol.k };
  }

  // ------------------------------------------------------------------------------------------
  // CSV output (same columns and number formatting as `c2c score`)
  // ------------------------------------------------------------------------------------------

  const SCORED_COLUMNS = [ID_COLUMN, "cluster", "tier", "distance", "margin", "algorithm", "k"];

  function csvCell(value) {
    const text = neutralise(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  /** One CSV line as pandas writes it: CRLF-terminated (RFC 4180), minimal quoting. */
  function csvLine(cells) {
    return cells.map(csvCell).join(",") + "\r\n";
  }

  /** The scored rows as `c2c score` writes OUT. */
  function scoredCsv(result) {
    const parts = [csvLine(SCORED_COLUMNS)];
    for (const r of result.accepted) {
      parts.push(csvLine([r.identifierHash, String(r.cluster), r.tier, pyFloat(r.distance),
        pyFloat(r.margin), r.algorithm, String(r.k)]));
    }
    return parts.join("");
  }

  /** The rejected rows as `c2c score --rejects` writes them: cells, line, reject_reason. */
  function rejectedCsv(result) {
    const parts = [csvLine(result.header.concat(["line", "reject_reason"]))];
    for (const r of result.rejected) {
      parts.push(csvLine(r.cells.concat([String(r.line), r.reject_reason])));
    }
    return parts.join("");
  }

  // ------------------------------------------------------------------------------------------
  // Model loading
  // ------------------------------------------------------------------------------------------

  async function loadModel(url) {
    const target = new URL(url || "model.json", SCRIPT_URL).href;
    let response;
    try {
      response = await fetch(target, { credentials: "same-origin" });
    } catch (err) {
      throw new InputError(`Could not fetch the model (${target}): ${err.message}.`);
    }
    if (!response.ok) {
      throw new InputError(`Could not fetch the model (${target}): HTTP ${response.status}.`);
    }
    let model;
    try {
      model = await response.json();
    } catch (err) {
      throw new InputError(`The model (${target}) is not valid JSON.`);
    }
    currentModel = checkModel(model);
    return currentModel;
  }

  // ------------------------------------------------------------------------------------------
  // The page (only built when the HTML block of site/score.md is present)
  // ------------------------------------------------------------------------------------------

  const SVG_NS = "http://www.w3.org/2000/svg";
  const TIER_COLOURS = { inactive: "#9e9e9e", moderate: "#f2a93b", active: "#2e8b57",
    rejected: "#c0392b" };
  const fmtInt = (n) => n.toLocaleString("en-US");

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** A horizontal bar chart of users per tier (plus rejected rows), drawn as inline SVG. */
  function drawTierChart(box, result) {
    box.replaceChildren();
    const bars = TIERS.map((t) => [t, result.tierCounts[t] || 0]);
    bars.push(["rejected", result.rejected.length]);
    const total = Math.max(1, result.rowsIn);
    const max = Math.max(1, ...bars.map((b) => b[1]));
    const width = 560;
    const labelW = 90;
    const barW = 330;
    const rowH = 30;
    const svg = svgEl("svg", { viewBox: `0 0 ${width} ${rowH * bars.length + 10}`,
      width: "100%", role: "img", class: "c2c-chart-svg" });
    svg.appendChild(svgEl("title", {}, "Scored users per tier, and rejected rows"));
    bars.forEach(([name, count], i) => {
      const y = 5 + i * rowH;
      const w = Math.round((barW * count) / max);
      svg.appendChild(svgEl("text", { x: labelW - 8, y: y + 19, "text-anchor": "end",
        "font-size": 14, fill: "currentColor" }, name));
      svg.appendChild(svgEl("rect", { x: labelW, y: y + 4, width: Math.max(w, count ? 2 : 0),
        height: rowH - 10, fill: TIER_COLOURS[name] || "#4c78a8", "data-tier": name }));
      const pct = ((100 * count) / total).toFixed(1);
      svg.appendChild(svgEl("text", { x: labelW + w + 8, y: y + 19, "font-size": 13,
        fill: "currentColor" }, `${fmtInt(count)} (${pct}%)`));
    });
    box.appendChild(svg);
  }

  /** A table with a pager; every cell is set with textContent. */
  function pagedTable(box, columns, rows, toCells, pageSize, caption) {
    box.replaceChildren();
    if (!rows.length) {
      box.appendChild(el("p", { class: "c2c-empty" }, "None."));
      return;
    }
    const pages = Math.ceil(rows.length / pageSize);
    let page = 0;
    const wrap = el("div", { class: "c2c-table-wrap" });
    const table = el("table", { class: "c2c-table" });
    table.appendChild(el("caption", {}, caption));
    const head = el("thead");
    const hr = el("tr");
    for (const c of columns) hr.appendChild(el("th", { scope: "col" }, c));
    head.appendChild(hr);
    table.appendChild(head);
    const body = el("tbody");
    table.appendChild(body);
    wrap.appendChild(table);
    const nav = el("div", { class: "c2c-pager" });
    const prev = el("button", { type: "button", class: "c2c-prev" }, "Previous");
    const info = el("span", { class: "c2c-page-info" });
    const next = el("button", { type: "button", class: "c2c-next" }, "Next");
    nav.append(prev, info, next);
    function show() {
      body.replaceChildren();
      const from = page * pageSize;
      const to = Math.min(rows.length, from + pageSize);
      for (let i = from; i < to; i++) {
        const tr = el("tr");
        for (const cell of toCells(rows[i])) tr.appendChild(el("td", {}, cell));
        body.appendChild(tr);
      }
      info.textContent = ` Page ${page + 1} of ${pages} (rows ${fmtInt(from + 1)}–${fmtInt(to)} ` +
        `of ${fmtInt(rows.length)}) `;
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }
    prev.addEventListener("click", () => { if (page > 0) { page--; show(); } });
    next.addEventListener("click", () => { if (page < pages - 1) { page++; show(); } });
    show();
    box.append(wrap, nav);
  }

  function download(text, filename) {
    const blob = new Blob([text], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: filename });
    a.style.display = "none";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function initPage(root) {
    const $ = (sel) => root.querySelector(sel);
    const status = $(".c2c-status");
    const message = $(".c2c-message");
    const algSelect = $(".c2c-algorithm");
    const kSelect = $(".c2c-k");
    const fileInput = $(".c2c-file");
    const results = $(".c2c-results");
    const oneForm = $(".c2c-one");
    const oneFields = $(".c2c-one-fields");
    const oneResult = $(".c2c-one-result");
    const maxBytes = Number(root.dataset.maxBytes) || DEFAULT_MAX_BYTES;
    const pageSize = Number(root.dataset.pageSize) || DEFAULT_PAGE_SIZE;
    const state = { model: null, text: null, label: null, result: null, run: 0 };
    window.c2cScorer.ui = state;

    function say(text) { status.textContent = text; }
    function warn(text, kind) {
      message.textContent = text;
      message.className = `c2c-message c2c-${kind || "error"}`;
      message.hidden = !text;
    }

    function choice() {
      return { algorithm: algSelect.value, k: Number(kSelect.value) };
    }

    function fillK(preferred) {
      const ks = state.model.solutions.filter((s) => s.algorithm === algSelect.value)
        .map((s) => s.k).sort((a, b) => a - b);
      kSelect.replaceChildren(...ks.map((k) => el("option", { value: String(k) }, String(k))));
      const keep = ks.includes(preferred) ? preferred : ks.includes(state.model.chosen.k)
        ? state.model.chosen.k : ks[0];
      kSelect.value = String(keep);
    }

    function fillSelects() {
      const algorithms = Array.from(new Set(state.model.solutions.map((s) => s.algorithm))).sort();
      algSelect.replaceChildren(...algorithms.map((a) => el("option", { value: a }, a)));
      algSelect.value = state.model.chosen.algorithm;
      fillK(state.model.chosen.k);
      algSelect.disabled = false;
      kSelect.disabled = false;
    }

    function fillForm() {
      oneFields.replaceChildren();
      for (const col of state.model.required_columns) {
        const id = `c2c-one-${col}`;
        const row = el("div", { class: "c2c-one-row" });
        row.appendChild(el("label", { for: id }, col));
        row.appendChild(el("input", { id, name: col, type: "text", inputmode: "numeric",
          autocomplete: "off", value: col === ID_COLUMN ? "1" : "0" }));
        oneFields.appendChild(row);
      }
      oneForm.querySelector("button").disabled = false;
    }

    function showResult(result, ms) {
      state.result = result;
      results.hidden = false;
      const tierText = TIERS.map((t) => `${t} ${fmtInt(result.tierCounts[t] || 0)}`).join(", ");
      $(".c2c-summary").textContent = `${fmtInt(result.rowsIn)} rows in, ` +
        `${fmtInt(result.accepted.length)} scored, ${fmtInt(result.rejected.length)} rejected ` +
        `(${result.algorithm}, k = ${result.k}): ${tierText}. Took ${Math.round(ms)} ms.`;
      drawTierChart($(".c2c-chart"), result);
      pagedTable($(".c2c-scored"), SCORED_COLUMNS.concat(["line"]), result.accepted,
        (r) => [r.identifierHash, String(r.cluster), r.tier, r.distance.toFixed(6),
          r.margin.toFixed(6), r.algorithm, String(r.k), String(r.line)],
        pageSize, "Scored users");
      pagedTable($(".c2c-rejected"), ["line", "reject_reason"].concat(result.header),
        result.rejected, (r) => [String(r.line), r.reject_reason].concat(r.cells),
        pageSize, "Rejected rows and why");
      $(".c2c-download").disabled = !result.accepted.length;
      $(".c2c-download-rejects").disabled = !result.rejected.length;
      if (result.extraColumns.length) {
        warn(`Ignored column(s) that are not in the export's schema: ` +
          `${result.extraColumns.join(", ")}.`, "warning");
      } else if (result.rejected.length) {
        warn(`${fmtInt(result.rejected.length)} row(s) were rejected; see the reasons below.`,
          "warning");
      }
    }

    async function run(startedAt) {
      if (state.text === null || !state.model) return;
      const runId = ++state.run;
      const t0 = startedAt || performance.now();
      warn("");
      results.hidden = true;
      say(`Scoring ${state.label}…`);
      try {
        const result = await scoreTextAsync(state.text, { ...choice(), label: state.label },
          (done) => { if (done) say(`Scoring ${state.label}… ${fmtInt(done)} rows`); },
          () => runId !== state.run);
        if (result === null) return;
        const t1 = performance.now();
        showResult(result, t1 - t0);
        window.c2cScorer.lastTiming = { scoreMs: t1 - t0, totalMs: performance.now() - t0,
          rows: result.rowsIn };  // from choosing the file (or the solution) to the tables
        say(`Scored ${state.label}.`);
      } catch (err) {
        if (runId !== state.run) return;
        say("Choose a CSV file to score.");
        warn(err instanceof InputError ? err.message : `Unexpected error: ${err.message}`);
      }
    }

    async function readFile(file) {
      const startedAt = performance.now();
      state.text = null;
      state.result = null;
      results.hidden = true;
      warn("");
      const label = file.name || "the file";
      if (file.size > maxBytes) {
        const limit = +(maxBytes / 1048576).toFixed(1);
        warn(`Cannot read ${label}: it is ${fmtInt(file.size)} bytes, more than the ${limit} MB ` +
          "this page reads. Use `c2c score` for larger files.");
        return;
      }
      say(`Reading ${label}…`);
      const buffer = await file.arrayBuffer();
      const bytes = new Uint8Array(buffer);
      if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 &&
        bytes[3] === 4) {
        say("Choose a CSV file to score.");
        warn(`Cannot read ${label}: it is a zip archive; unzip it and choose the CSV inside ` +
          "(`c2c score` reads zip files directly).");
        return;
      }
      // analysis/io._check_text's order on the bytes: empty, then NUL (binary), then UTF-8.
      const problem = byteProblem(bytes);
      if (problem) {
        say("Choose a CSV file to score.");
        warn(`Cannot read ${label}: ${problem}.`);
        return;
      }
      let text;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch (err) {
        say("Choose a CSV file to score.");
        warn(`Cannot read ${label}: the text is not UTF-8; re-save it as UTF-8.`);
        return;
      }
      state.text = text;
      state.label = label;
      await run(startedAt);
    }

    fileInput.addEventListener("change", () => {
      const file = fileInput.files && fileInput.files[0];
      if (file) readFile(file).catch((err) => warn(`Unexpected error: ${err.message}`));
    });
    algSelect.addEventListener("change", () => { fillK(Number(kSelect.value)); run(); });
    kSelect.addEventListener("change", () => { run(); });
    $(".c2c-download").addEventListener("click", () => {
      if (state.result) download(scoredCsv(state.result), "scored.csv");
    });
    $(".c2c-download-rejects").addEventListener("click", () => {
      if (state.result) download(rejectedCsv(state.result), "rejected.csv");
    });
    oneForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!state.model) return;
      const values = {};
      for (const input of oneFields.querySelectorAll("input")) values[input.name] = input.value;
      const res = scoreOne(values, choice());
      oneResult.replaceChildren();
      if (!res.ok) {
        oneResult.appendChild(el("p", { class: "c2c-error" }, "Not scored:"));
        const ul = el("ul");
        for (const reason of res.reasons) ul.appendChild(el("li", {}, reason));
        oneResult.appendChild(ul);
        return;
      }
      const dl = el("dl", { class: "c2c-one-dl" });
      for (const [k, v] of [["solution", `${res.algorithm}, k = ${res.k}`],
        ["cluster", String(res.cluster)], ["tier", res.tier],
        ["distance", res.distance.toFixed(6)], ["margin", res.margin.toFixed(6)]]) {
        dl.append(el("dt", {}, k), el("dd", { "data-field": k }, v));
      }
      oneResult.appendChild(dl);
    });

    say("Loading the model…");
    const modelUrl = root.dataset.model ? new URL(root.dataset.model, document.baseURI).href
      : new URL("model.json", SCRIPT_URL).href;
    loadModel(modelUrl).then((model) => {
      state.model = model;
      fillSelects();
      fillForm();
      fileInput.disabled = false;
      say("Choose a CSV file to score.");
      root.dataset.ready = "true";
    }).catch((err) => {
      say("The scorer is unavailable.");
      warn(`${err.message} The site build copies artifacts/model.json to _static/model.json; ` +
        "run `c2c build`.");
      root.dataset.ready = "error";
    });
  }

  window.c2cScorer = {
    loadModel,
    scoreText,
    scoreTextAsync,
    scoreOne,
    scoredCsv,
    rejectedCsv,
    neutralise,
    pyFloat,
    csvRecords: (text) => Array.from(csvRecords(text)),
    patterns: PATTERNS,
    expectedText: EXPECTED_TEXT,
    get model() { return currentModel; },
    lastTiming: null,
    ui: null,
  };

  function boot() {
    const root = document.getElementById("c2c-scorer");
    if (root) initPage(root);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
