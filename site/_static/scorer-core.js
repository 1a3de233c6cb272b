/*
 * c2c-segments: the core of the in-browser scorer (one global, `c2cCore`), shared by the Worker
 * and the page; pure functions, no DOM. It repeats `c2c score` (analysis/intake/reader.py,
 * scoring/, features/transform.py, segments/) rule for rule: CSV records, row rules, transform,
 * keys, nearest centroid, segments, reasons, the CSV files. Columns, kinds, limits, tiers,
 * segments and reason templates come from model.json and the page's contract block.
 */
"use strict";
// A block, not a function wrapper: in strict mode the functions below stay private to it.
{
  const REASON_VALUE_CHARS = 40;  // rules.REASON_VALUE_CHARS
  const STEP_ROWS = 8192;  // rows (or records) handled per step of a chunked run
  const PLAIN_NUMBER = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
  const FORMULA_START = /^[=+\-@\t\r]/;
  const NEEDS_QUOTES = /[",\r\n]/;
  const LINE_END = /[\r\n]/g;
  const FIELD_END = /[,\r\n]/g;

  /** A file the scorer cannot use; the message is Python's InputError sentence. */
  class InputError extends Error {}
  InputError.prototype.name = "InputError";

  /** reader._fail: "Cannot read <label>: <problem>." */
  function cannotRead(label, problem) {
    return new InputError(`Cannot read ${label}: ${problem}.`);
  }

  /** Python's f"{n:,}" for a whole number (a number or its digits). */
  function thousands(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /** rules.shorten: at most 40 characters (code points, as Python counts), else 37 + "...". */
  function shorten(value) {
    const points = Array.from(value);
    return points.length <= REASON_VALUE_CHARS ? value
      : points.slice(0, REASON_VALUE_CHARS - 3).join("") + "...";
  }

  /** A cell that matched a whole-number pattern as Python's int() prints it ("-007" -> "-7"). */
  function canonicalInt(cell) {
    const digits = cell.replace(/^[+-]?0*/, "") || "0";
    return cell[0] === "-" && digits !== "0" ? "-" + digits : digits;
  }

  /** numpy.round(x, digits): x * 10^digits rounded half to even, divided back; sign kept. */
  function roundTo(x, digits) {
    const scale = 10 ** digits;
    const y = Math.abs(x) * scale;
    const below = Math.floor(y);
    const up = y - below > 0.5 || (y - below === 0.5 && below % 2 === 1);
    const rounded = (up ? below + 1 : below) / scale;
    return x < 0 || Object.is(x, -0) ? -rounded : rounded;
  }

  // ---- CSV records: pyarrow's fields, Python's line numbers (\r\n, \r and \n end a line)
  /** Line breaks in `piece`: \r\n counts once, a lone \r or \n once each. */
  function countBreaks(piece) {
    return (piece.match(/\r\n|\r|\n/g) || []).length;
  }

  /** A quoted part from text[i] (after its opening quote): "" inside is one quote, the end of
   * the text ends it. Returns [value, index after the closing quote]. */
  function quotedPart(reader, i) {
    let value = "";
    for (;;) {
      const quote = reader.text.indexOf('"', i);
      const piece = reader.text.slice(i, quote === -1 ? reader.text.length : quote);
      reader.line += countBreaks(piece);
      value += piece;
      if (quote === -1) return [value, reader.text.length];
      if (reader.text.charCodeAt(quote + 1) !== 34) return [value, quote + 1];
      value += '"';
      i = quote + 2;
    }
  }

  /** One record that holds a quote, from reader.pos: a quote opens a quoted part only at the
   * start of a field; text after the closing quote is kept. Advances reader.pos and .line. */
  function quotedRecord(reader) {
    const { text } = reader;
    const fields = [];
    for (let i = reader.pos; ;) {
      let value = "";
      if (text.charCodeAt(i) === 34) [value, i] = quotedPart(reader, i + 1);
      FIELD_END.lastIndex = i;
      const found = FIELD_END.exec(text);
      const end = found === null ? text.length : found.index;
      fields.push(value + text.slice(i, end));
      const separator = text.charCodeAt(end);
      i = end + (separator === 13 && text.charCodeAt(end + 1) === 10 ? 2 : 1);
      if (separator === 44) continue;
      reader.pos = Math.min(i, text.length);
      if (end < text.length) reader.line += 1;
      return fields;
    }
  }

  /** Up to `limit` more records of reader.text into out.rows (string[][]) and out.lines (the
   * 1-based line each starts on); blank lines are skipped but counted. True at the end. */
  function readRecords(reader, limit, out) {
    const { text } = reader;
    for (let count = 0; reader.pos < text.length && count < limit;) {
      const first = text.charCodeAt(reader.pos);
      if (first === 10 || first === 13) {
        reader.pos += first === 13 && text.charCodeAt(reader.pos + 1) === 10 ? 2 : 1;
        reader.line += 1;
        continue;
      }
      if (reader.quoteAt < reader.pos) {
        const quote = text.indexOf('"', reader.pos);
        reader.quoteAt = quote === -1 ? text.length : quote;
      }
      LINE_END.lastIndex = reader.pos;
      const found = LINE_END.exec(text);
      const end = found === null ? text.length : found.index;
      out.lines.push(reader.line);
      count += 1;
      if (reader.quoteAt < end) {
        out.rows.push(quotedRecord(reader));
        continue;
      }
      out.rows.push(text.slice(reader.pos, end).split(","));
      reader.pos = end + (text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10 ? 2 : 1);
      reader.line += 1;
    }
    return reader.pos >= text.length;
  }

  // ---- The model, ready for scoring
  /** What scoring needs, looked up once: `model` is model.json, `contract` the page's block
   * {schema_columns, scored_columns, role_of_column}. A user's `values` are its required columns
   * after the id (the first) as numbers; the sign-up age is the one optional column (model.py). */
  function prepare(model, contract) {
    const rules = {};
    for (const column of model.required_columns.concat(model.optional_columns)) {
      const kind = model.kinds[column];
      const maximum = model.limits.maximum[column];
      rules[column] = { column, expected: kind.expected, cache: new Map(),
        whole: kind.kind === "int" || kind.kind === "int64",
        cached: column !== model.required_columns[0],  // ids are all different: no cache
        pattern: kind.pattern === null ? null : new RegExp(kind.pattern),
        nonNegative: model.limits.non_negative.includes(column),
        maximum: maximum === undefined ? null : String(maximum) };
    }
    const valueColumns = model.required_columns.slice(1);
    const valueIndex = Object.fromEntries(valueColumns.map((column, j) => [column, j]));
    const days = model.recency_column;
    return { model, rules, valueIndex, daysColumn: days, idColumn: model.required_columns[0],
      daysCell: model.required_columns.indexOf(days), daysValue: valueIndex[days],
      seniorityColumn: model.optional_columns.length ? model.optional_columns[0] : null,
      features: model.features.map((p) => ({ ...p, censor: p.censor ?? null,
        at: valueIndex[p.column], span: p.hi - p.lo > 0 ? p.hi - p.lo : 1.0 })),
      roleOf: valueColumns.map((column) => contract.role_of_column[column] || 0),
      schemaColumns: new Set(contract.schema_columns), scoredColumns: contract.scored_columns,
      labelIndex: new Map(model.label_table.rows.map((row) => row.split(" "))) };
  }

  // ---- Row rules (analysis/scoring/rules.py)
  /** rules._cell_rules for one cell: {reason: the sentence or null, canon: the cell as Python's
   * int() prints it, or null when it does not parse}. Cached per column, ids excepted. */
  function checkCell(rule, cell) {
    let got = rule.cache.get(cell);
    if (got !== undefined) return got;
    const quoted = `${rule.column} "${shorten(cell)}"`;
    let [canon, reason] = [null, null];
    if (cell === "") reason = `${rule.column} is empty`;
    else if (rule.pattern !== null && !rule.pattern.test(cell)) {
      reason = `${quoted} is not ${rule.expected}`;
    } else {
      canon = rule.whole ? canonicalInt(cell) : cell;
      if (rule.nonNegative && canon[0] === "-") reason = `${quoted} is negative`;
      else if (rule.maximum !== null && BigInt(canon) > BigInt(rule.maximum)) {
        reason = `${quoted} is above the plausible maximum ${thousands(rule.maximum)}`;
      }
    }
    got = { reason, canon };
    if (rule.cached && rule.cache.size < 100000) rule.cache.set(cell, got);
    return got;
  }

  /** One data row's reasons in rules.row_reasons' order (cells column by column, days after
   * sign-up, a repeated id); `firstLine` (Map id -> line) records every id that parses,
   * accepted or not. Returns {reasons, id, values: the feature cells as numbers, flag: the
   * placeholder flag} (values and flag null when the row has a reason). The sign-up age only
   * counts when the file has the column and the cell is a whole number in [0, its maximum]. */
  function checkRow(scorer, at, fields, line, firstLine) {
    const reasons = [];
    const cells = scorer.model.required_columns.map((column) => {
      const got = checkCell(scorer.rules[column], fields[at[column]]);
      if (got.reason !== null) reasons.push(got.reason);
      return got;
    });
    const ageRule = scorer.rules[scorer.seniorityColumn];
    const age = scorer.seniorityColumn === null || at[scorer.seniorityColumn] === undefined ? null
      : checkCell(ageRule, fields[at[scorer.seniorityColumn]]).canon;
    const signUpAge = age !== null && age[0] !== "-" &&
      (ageRule.maximum === null || BigInt(age) <= BigInt(ageRule.maximum)) ? age : null;
    const days = cells[scorer.daysCell];
    if (signUpAge !== null && days.reason === null && BigInt(days.canon) > BigInt(signUpAge)) {
      reasons.push(`${scorer.daysColumn} ${days.canon} is greater than ` +
        `${scorer.seniorityColumn} ${signUpAge}`);
    }
    const id = cells[0].canon;
    if (id !== null && firstLine.has(id)) {
      reasons.push(`duplicate ${scorer.idColumn} (first seen on line ${firstLine.get(id)})`);
    } else if (id !== null) firstLine.set(id, line);
    if (reasons.length) return { reasons, id, values: null, flag: null };
    const values = cells.slice(1).map((cell) => Number(cell.canon));
    return { reasons, id, values, flag: placeholderFlag(scorer, signUpAge, values) };
  }

  // ---- One accepted user: transform, cluster, segment, reason
  /** The solution (algorithm, k) made ready: centroids, tiers, label column, segment map. */
  function solutionOf(scorer, algorithm, k) {
    const model = scorer.model;
    const sol = model.solutions.find((s) => s.algorithm === algorithm && s.k === Number(k));
    if (sol === undefined) throw new InputError(`No solution for algorithm=${algorithm} k=${k}.`);
    const key = `${sol.algorithm}_k${sol.k}`;  // vocabulary.solution_key
    return { algorithm: sol.algorithm, k: sol.k, centroids: sol.centroids,
      labelColumn: model.label_table.solutions.indexOf(key),
      map: model.segments.maps[key] || {} };
  }

  /** transform.transform of one user: raw whole numbers `values` -> features `x`. */
  function transformRow(features, values, x) {
    for (let j = 0; j < features.length; j++) {
      const p = features[j];
      const v = p.censor === null ? values[p.at] : Math.min(values[p.at], p.censor);
      const logged = Math.min(Math.log1p(Math.max(v - p.offset, 0)), p.cap);
      const scaled = Math.min(Math.max((logged - p.lo) / p.span, 0), 1);
      x[j] = p.invert ? 1 - scaled : scaled;
    }
  }

  /** nearest.assign_nearest for one row: squared differences summed feature by feature, sqrt;
   * the cluster is the lowest index within `tolerance` of the smallest distance; the margin is
   * the next other cluster's distance minus the chosen one's. `d` Float64Array(k) scratch. */
  function nearestCentroid(x, centroids, tolerance, d) {
    const k = centroids.length;
    for (let c = 0; c < k; c++) {
      let total = 0;
      for (let j = 0; j < x.length; j++) {
        const diff = x[j] - centroids[c][j];
        total += diff * diff;
      }
      d[c] = Math.sqrt(total);
    }
    const smallest = Math.min(...d);
    let cluster = 0;
    while (!(d[cluster] <= smallest + tolerance)) cluster += 1;
    const next = Math.min(...d.filter((_, c) => c !== cluster));
    const margin = k > 1 ? next - d[cluster] : 0;
    return { cluster, distance: d[cluster], margin, tied: k > 1 && margin <= tolerance };
  }

  /** keys.integer_keys of one user, written as the label table's rows write it. */
  function keyOf(features, values) {
    return features.map((p) => {
      const v = p.censor === null ? values[p.at] : Math.min(values[p.at], p.censor);
      return Math.min(Math.max(v - Math.trunc(p.offset), 0), p.key_limit);
    }).join(",");
  }

  /** types.type_codes of one user: its index into model.segments.types, band * roles + role.
   * Role: the smallest role code among the product columns above 0 (0: no product history);
   * band: 0 recent (days <= the recent cut), 2 unseen (days >= the placeholder bound), else 1. */
  function typeIndex(scorer, values) {
    const codes = scorer.roleOf.filter((code, j) => code > 0 && values[j] > 0);
    const role = codes.length ? Math.min(...codes) : 0;
    const { recent_days: recentDays, censor_days: censorDays, roles } = scorer.model.segments;
    const days = values[scorer.daysValue];
    const unseen = censorDays !== null && days >= censorDays;
    const band = days <= recentDays ? 0 : unseen ? 2 : 1;
    return band * roles.length + role;
  }

  /** placeholder.placeholder_mask of one user: 1 or 0; -1 when the sign-up age is unknown. */
  function placeholderFlag(scorer, signUpAge, values) {
    if (signUpAge === null) return -1;
    const age = Number(signUpAge);
    const offset = age - values[scorer.daysValue];
    return scorer.model.placeholder.offsets.some((p) => age >= p.seniority_min &&
      age <= p.seniority_max && offset === p.offset) ? 1 : 0;
  }

  /** reasons.reason_of: the user's product facts, then when they were last seen. */
  function reasonOf(scorer, values, flag) {
    const words = scorer.model.reasons;
    const facts = words.facts.filter(([column]) => values[scorer.valueIndex[column]] > 0)
      .map(([column, template]) => template.replace("{}", values[scorer.valueIndex[column]]));
    const activity = facts.length ? facts.slice(0, words.max_facts).join(words.separator)
      : words.no_history;
    const days = values[scorer.daysValue];
    const censorDays = scorer.model.placeholder.censor_days;
    let when = words.days.replace("{}", days);
    if (flag === 1) when = words.placeholder.replace("{}", days);
    else if (flag === -1 && censorDays !== null && days >= censorDays) {
      when = words.censored.replace("{}", censorDays);
    } else if (days <= 1) when = days === 0 ? words.today : words.one_day;
    return activity + words.join + when;
  }

  /** score.score_frame for one accepted user of solution `sol`: {cluster, tier, segment,
   * reason, distance, margin, tied}; a key in the label table gives its stored cluster (not
   * tied), anyone else the nearest centroid. Distances are rounded to round_digits. */
  function scoreRow(scorer, sol, values, flag, scratch) {
    const { scoring, segments } = scorer.model;
    transformRow(scorer.features, values, scratch.x);
    const near = nearestCentroid(scratch.x, sol.centroids, scoring.tie_tolerance, scratch.d);
    const stored = sol.labelColumn < 0 ? undefined
      : scorer.labelIndex.get(keyOf(scorer.features, values));
    const cluster = stored === undefined ? near.cluster : parseInt(stored[sol.labelColumn], 36);
    const type = segments.types[typeIndex(scorer, values)];
    const tier = segments.tier_of_type[type];
    const segment = (sol.map[tier] || {})[type] || `${tier}/${segments.groups[type]}`;
    return { cluster, tier, segment, reason: reasonOf(scorer, values, flag),
      tied: near.tied && stored === undefined,
      distance: roundTo(near.distance, scoring.round_digits),
      margin: roundTo(near.margin, scoring.round_digits) };
  }

  /** The one-user form: `cells` {column: text} checked and scored as a one-row file's row;
   * {reasons} when rejected, else {id, cluster, tier, segment, reason, distance, margin, tied}. */
  function scoreOne(scorer, cells, choice) {
    const header = scorer.model.required_columns.concat(scorer.model.optional_columns);
    const at = Object.fromEntries(header.map((name, i) => [name, i]));  // the model's columns
    const row = checkRow(scorer, at, header.map((c) => cells[c] ?? ""), 2, new Map());
    if (row.reasons.length) return { reasons: row.reasons };
    const sol = solutionOf(scorer, choice.algorithm, choice.k);
    const scratch = { x: new Float64Array(scorer.features.length), d: new Float64Array(sol.k) };
    return { id: row.id, ...scoreRow(scorer, sol, row.values, row.flag, scratch) };
  }

  // ---- The CSV files (analysis/scoring/output.py): CRLF, minimal quoting, formulas neutralised
  /** Python's repr() of a finite float (what the CSV writer prints): shortest round-trip
   * digits, exponent form below 1e-4 and from 1e16. */
  function pyFloat(x) {
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    const [mantissa, expText] = x.toExponential().split("e");
    const exp = Number(expText);
    const sign = x < 0 ? "-" : "";
    const digits = mantissa.replace("-", "").replace(".", "");
    if (exp < -4 || exp >= 16) {
      const [rest, power] = [digits.length > 1 ? `.${digits.slice(1)}` : "", Math.abs(exp)];
      return `${sign}${digits[0]}${rest}e${exp < 0 ? "-" : "+"}${String(power).padStart(2, "0")}`;
    }
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    if (digits.length <= exp + 1) return `${sign}${digits.padEnd(exp + 1, "0")}.0`;
    return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }

  /** output.neutralise: a quote before a cell a spreadsheet would run as a formula. */
  function neutralise(cell) {
    return FORMULA_START.test(cell) && !PLAIN_NUMBER.test(cell) ? "'" + cell : cell;
  }

  /** A CSV file as Python's csv writer writes it (CRLF): `header`, then rowCells(i) for each
   * i < count; `guard` neutralises every cell. */
  function csvText(header, count, rowCells, guard) {
    const line = (cells) => cells.map((cell) => {
      const text = guard ? neutralise(cell) : cell;
      return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    }).join(",") + "\r\n";
    const lines = [line(header)];
    for (let i = 0; i < count; i++) lines.push(line(rowCells(i)));
    return lines.join("");
  }

  /** Row `i` of a result's scored columns (see c2cJob's scoreSteps) as texts, in the order of
   * score.SCORED_COLUMNS (`scorer.scoredColumns`); `decimals(x)` writes distances. */
  function scoredCells(scorer, result, i, decimals) {
    const s = result.scored;
    const cell = { cluster: () => String(s.cluster[i]), tier: () => scorer.model.tiers[s.tier[i]],
      segment: () => result.segmentNames[s.segment[i]], reason: () => s.reason[i],
      distance: () => decimals(s.distance[i]), margin: () => decimals(s.margin[i]),
      tied: () => (s.tied[i] ? "True" : "False"), algorithm: () => result.algorithm,
      k: () => String(result.k), [scorer.idColumn]: () => s.ids[i] };
    return scorer.scoredColumns.map((name) => cell[name]());
  }

  /** The scored rows as `c2c score -o` writes them (floats as Python's repr). */
  function scoredCsv(scorer, result) {
    return csvText(scorer.scoredColumns, result.scored.ids.length,
      (i) => scoredCells(scorer, result, i, pyFloat), false);
  }

  /** The rejected rows as `c2c score --rejects` writes them: the file's cells, line, reason;
   * every cell (header included) neutralised. */
  function rejectedCsv(result) {
    const r = result.rejected;
    return csvText(result.header.concat(["line", "reject_reason"]), r.reason.length,
      (i) => r.cells[i].concat([String(r.line[i]), r.reason[i]]), true);
  }

  self.c2cCore = {
    InputError, cannotRead, thousands, countBreaks, readRecords, prepare, checkRow, solutionOf,
    scoreRow, scoreOne, pyFloat, neutralise, scoredCells, scoredCsv, rejectedCsv, STEP_ROWS,
  };
}
