/*
 * c2c-segments: one scoring job of the in-browser scorer, from a file's bytes to the result.
 * As a Web Worker (the page over http) it receives {type: "score", id, buffer, name, model,
 * contract, limits, choice} or {type: "rescore", id, choice} and posts {type: "progress", id,
 * fraction}, then {type: "result", id, result} or {type: "error", id, name, message}; the page
 * cancels by terminating it. As a plain script (the page from file://, where Chromium refuses
 * workers) it only defines the global `c2cJob`, which the page drives. Files are read as `c2c
 * score` reads them (intake/reader.py): a zip's only CSV member, strict UTF-8, the file-level
 * faults in Python's words; rows are checked once, then scored for any solution.
 */
"use strict";
const IN_WORKER = typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope;
if (IN_WORKER) importScripts("scorer-core.js");
// A block, not a function wrapper: in strict mode the functions below stay private to it.
{
  const core = self.c2cCore;
  const { InputError, cannotRead, thousands } = core;
  const LISTED_LINES = 3;  // reader.LISTED_LINES
  const FOREIGN_DELIMITERS = [[";", "semicolon"], ["\t", "tab"], ["|", "pipe"]];
  const [LOCAL_HEADER, CENTRAL_HEADER, END_RECORD] = [0x04034b50, 0x02014b50, 0x06054b50];
  const ZIP64_MARK = 0xffffffff;
  const REPLACEMENT_BYTES = [0xef, 0xbf, 0xbd];  // U+FFFD in UTF-8
  const CRC_TABLE = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });

  /** errors.clip: `text` cut to 80 characters, saying how long it was. */
  function clip(text) {
    const points = Array.from(text);
    return points.length <= 80 ? text
      : `${points.slice(0, 80).join("")}... (${thousands(points.length)} characters)`;
  }

  /** Python's repr() of a string (the quotes and the common escapes). */
  function pyRepr(text) {
    const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
    const body = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r")
      .replace(/\t/g, "\\t");
    return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
  }

  // ---- Zip archives (reader._zip_payload; Python's zipfile)
  /** CRC-32 of `bytes` (zlib's), as an unsigned number. */
  function crc32(bytes) {
    let c = 0xffffffff;
    for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  /** Offset of the last end-of-central-directory record in the last 64 KiB (zipfile's
   * _EndRecData); -1 when there is none: the bytes are not a zip archive. */
  function endRecordAt(view) {
    const last = view.byteLength - 22;
    for (let at = last; at >= Math.max(0, last - 65536); at--) {
      if (view.getUint32(at, true) === END_RECORD) return at;
    }
    return -1;
  }

  /** The members in the central directory: [{name, flags, method, crc, packedSize, size,
   * offset}] (bytes); Error, as zipfile raises it, when the directory is broken. */
  function zipMembers(bytes, view, end) {
    const [size, offset] = [view.getUint32(end + 12, true), view.getUint32(end + 16, true)];
    const concat = end - size - offset;  // bytes before the archive (a self-extractor's stub)
    if (offset + concat < 0 || size === ZIP64_MARK) {
      throw new Error("Bad offset for central directory");
    }
    const members = [];
    for (let at = offset + concat; at < offset + concat + size;) {
      if (at + 46 > end) throw new Error("Truncated central directory");
      if (view.getUint32(at, true) !== CENTRAL_HEADER) {
        throw new Error("Bad magic number for central directory");
      }
      const [flags, nameLength] = [view.getUint16(at + 8, true), view.getUint16(at + 28, true)];
      const raw = bytes.subarray(at + 46, at + 46 + nameLength);
      const name = flags & 0x800 ? new TextDecoder().decode(raw) : String.fromCharCode(...raw);
      const member = { name: name.split("\0")[0], flags, method: view.getUint16(at + 10, true),
        crc: view.getUint32(at + 16, true), packedSize: view.getUint32(at + 20, true),
        size: view.getUint32(at + 24, true), offset: view.getUint32(at + 42, true) };
      const extra = at + 46 + nameLength;
      readZip64(view, member, extra, extra + view.getUint16(at + 30, true));
      members.push({ ...member, offset: member.offset + concat });
      at = extra + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    }
    return members;
  }

  /** ZipInfo._decodeExtra: sizes and offset marked 0xFFFFFFFF are in the zip64 extra field
   * (id 1), in that order; the extra fields lie in bytes [start, end). */
  function readZip64(view, member, start, end) {
    for (let at = start; at + 4 <= end; at += 4 + view.getUint16(at + 2, true)) {
      if (view.getUint16(at, true) !== 1) continue;
      const marked = ["size", "packedSize", "offset"].filter((key) => member[key] === ZIP64_MARK);
      if (8 * marked.length > view.getUint16(at + 2, true)) {
        throw new Error("Corrupt zip64 extra field");
      }
      marked.forEach((key, i) => {
        member[key] = Number(view.getBigUint64(at + 4 + 8 * i, true));
      });
    }
  }

  /** `packed` (raw deflate) inflated by the browser's DecompressionStream, cut at `size`
   * bytes (zipfile stops at the declared size); `report(share)` follows it. */
  async function inflate(packed, size, report) {
    const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    const reader = stream.getReader();
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const got = await reader.read();
      if (got.done) break;
      const piece = got.value.subarray(0, size - filled);
      out.set(piece, filled);
      filled += piece.length;
      report(filled / size);
    }
    reader.cancel().catch(() => undefined);  // what follows the declared size is not read
    return out.subarray(0, filled);
  }

  /** A member's bytes (zipfile.ZipExtFile): stored or deflated, checked against its CRC-32. */
  async function readMember(bytes, view, member, report) {
    const at = member.offset;
    if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL_HEADER) {
      throw new Error("Bad magic number for file header");
    }
    if (member.flags & 0x1) {
      throw new Error(`File ${pyRepr(member.name)} is encrypted, password required for extraction`);
    }
    const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
    const packed = bytes.subarray(start, start + member.packedSize);
    if (packed.length < member.packedSize) throw new Error("the member's data is truncated");
    if (member.method !== 0 && member.method !== 8) {
      throw new Error(`compression method ${member.method} is not read here; use \`c2c score\``);
    }
    const data = member.method === 0 ? packed.subarray(0, member.size)
      : await inflate(packed, member.size, report);
    if (crc32(data) !== member.crc) throw new Error(`Bad CRC-32 for file ${pyRepr(member.name)}`);
    return data;
  }

  /** reader.read_payload on a file's bytes: {bytes, label}, the only CSV member of a zip
   * archive (__MACOSX/ ignored, at most `limits` {maxBytes, maxRatio} once unzipped, as
   * reader._read_member) or the bytes themselves; InputError in Python's words. */
  async function payload(bytes, name, limits, report) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = endRecordAt(view);
    if (end < 0 && (name.toLowerCase().endsWith(".zip") ||
        (bytes.length >= 4 && view.getUint32(0, true) === LOCAL_HEADER))) {
      throw cannotRead(name, "it is not a valid zip archive (corrupt or truncated)");
    }
    if (end < 0) return { bytes, label: name };
    try {
      const members = zipMembers(bytes, view, end)
        .filter((m) => !m.name.endsWith("/") && !m.name.startsWith("__MACOSX/"));
      const csvs = members.filter((m) => m.name.toLowerCase().endsWith(".csv"));
      const names = (list) => list.map((m) => m.name).join(", ") || "nothing";
      if (!csvs.length) {
        throw cannotRead(name, `the zip archive holds no CSV file (it holds: ${names(members)})`);
      }
      if (csvs.length > 1) {
        throw cannotRead(name, `the zip archive holds ${csvs.length} CSV files (${names(csvs)}); ` +
          "expected exactly one");
      }
      const limit = Math.min(limits.maxBytes, Math.floor(limits.maxRatio *
        Math.max(csvs[0].packedSize, 1)));
      const why = limit === limits.maxBytes ? "the absolute limit"
        : `${limits.maxRatio} times its compressed size of ${thousands(csvs[0].packedSize)} bytes`;
      if (csvs[0].size > limit) {
        throw cannotRead(name, `it expands to more than ${thousands(limit)} bytes (${why}); ` +
          "refusing to read it here: use `c2c score` for larger files");
      }
      const data = await readMember(bytes, view, csvs[0], report);
      return { bytes: data, label: `${name} (member ${clip(csvs[0].name)})` };
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw cannotRead(name, `the zip archive is corrupt or unsupported (${err.message})`);
    }
  }

  // ---- Bytes to text (reader._check_text)
  /** 1 + the LF bytes before `end` (reader._line_of). */
  function lineAtByte(bytes, end) {
    return bytes.subarray(0, end).reduce((line, b) => line + (b === 10 ? 1 : 0), 1);
  }

  /** Offset of the first byte of the first ill-formed UTF-8 sequence (Python's err.start):
   * where the browser's lenient decoder writes its first U+FFFD that the bytes did not hold. */
  function badUtf8Offset(bytes) {
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
    const encoder = new TextEncoder();
    let [offset, from] = [0, 0];
    for (let at = text.indexOf("\uFFFD"); at >= 0; at = text.indexOf("\uFFFD", at + 1)) {
      offset += encoder.encode(text.slice(from, at)).length;
      if (REPLACEMENT_BYTES.some((b, k) => bytes[offset + k] !== b)) return offset;
      [offset, from] = [offset + 3, at + 1];
    }
    return -1;
  }

  /** The text of `bytes` without a UTF-8 BOM, or InputError: the file is empty, binary (a NUL
   * byte) or not UTF-8; offsets count bytes after the BOM, lines count LF bytes. */
  function decodeText(bytes, label) {
    const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
    const data = hasBom ? bytes.subarray(3) : bytes;
    if (data.every((b) => b === 32 || (b >= 9 && b <= 13))) {
      throw cannotRead(label, "the file is empty");
    }
    const nul = data.indexOf(0);
    if (nul >= 0) {
      throw cannotRead(label, "it is binary data, not a CSV text file (NUL byte at offset " +
        `${nul}, line ${lineAtByte(data, nul)})`);
    }
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(data);
    } catch (err) {
      const at = badUtf8Offset(data);
      const hex = data[at].toString(16).toUpperCase().padStart(2, "0");
      throw cannotRead(label, `the text is not UTF-8 (byte 0x${hex} at offset ${at}, line ` +
        `${lineAtByte(data, at)}); re-save it as UTF-8`);
    }
  }

  // ---- The table's file-level faults (reader._header, reader._field_count_error, check_header)
  /** reader._header on the first record (`fields`, starting on `line`): InputError for a blank
   * first line, another delimiter or repeated names. Returns {header, at: column -> index,
   * extraColumns: columns outside the schema, missing: model columns the file lacks}. */
  function readHeader(fields, line, label, scorer) {
    if (line !== 1 || fields.join("").trim() === "") {
      throw cannotRead(label, "the first line is blank; expected the header row");
    }
    for (const [separator, word] of fields.length === 1 ? FOREIGN_DELIMITERS : []) {
      if (fields[0].includes(separator)) {
        throw cannotRead(label, `the header is a single column containing '${separator}', so ` +
          `the file is ${word}-separated; expected comma-separated values`);
      }
    }
    const repeated = [...new Set(fields.filter((name, i) => fields.indexOf(name) !== i))].sort();
    if (repeated.length) {
      throw cannotRead(label, `the header repeats column(s) ${repeated.map(pyRepr).join(", ")}`);
    }
    const at = Object.create(null);  // no inherited keys: a column may be called "constructor"
    fields.forEach((name, i) => { at[name] = i; });
    return { header: fields, at, extraColumns: fields.filter((c) => !scorer.schemaColumns.has(c)),
      missing: scorer.model.required_columns.filter((c) => at[c] === undefined) };
  }

  /** The faults known once every record is read, in Python's order: rows with another field
   * count (reader._field_count_error; `ragged` holds [line, fields]), no data rows, model
   * columns missing (score.check_header). */
  function checkRecords(text, label, head, ragged, rowsIn) {
    if (ragged.length) {
      const [[firstLine, firstCount], expected] = [ragged[0], head.header.length];
      let sentence = `line ${firstLine} has ${firstCount} fields, expected ${expected}`;
      const lastLine = 1 + core.countBreaks(text.replace(/[\r\n]+$/, ""));
      if (firstLine === lastLine && firstCount < expected) {
        sentence += " (the file looks truncated mid-row)";
      }
      if (ragged.length > 1) {
        const others = ragged.slice(1, 1 + LISTED_LINES).map((r) => r[0]).join(", ");
        const more = ragged.length - 1 - LISTED_LINES;
        sentence += `; also line(s) ${others}` + (more > 0 ? ` and ${more} more` : "");
      }
      throw cannotRead(label, sentence);
    }
    if (rowsIn === 0) throw cannotRead(label, "it has a header but no data rows");
    if (head.missing.length) {
      throw new InputError(`Cannot use ${label}: it lacks the column(s) the model needs: ` +
        `${head.missing.join(", ")}.`);
    }
  }

  // ---- A run in steps: each generator yields the share of its work done (0..1)
  /** Generator: the part of a run that does not depend on the solution: records read and
   * checked a step at a time (only a rejected row keeps its cells), then the file-level faults.
   * Returns `checked`: {header, extraColumns, rowsIn, accepted: {ids, lines: Int32Array,
   * values: Int32Array(n x value columns), flags: Int8Array}, rejected: {cells, line, reason}}. */
  function* checkSteps(scorer, text, label) {
    const reader = { text, pos: 0, line: 1, quoteAt: -1 };
    const accepted = { ids: [], lines: [], values: [], flags: [] };
    const rejected = { cells: [], line: [], reason: [] };
    const [ragged, firstLine] = [[], new Map()];
    let [head, rowsIn, done] = [null, 0, false];
    while (!done) {
      const chunk = { rows: [], lines: [] };
      done = core.readRecords(reader, core.STEP_ROWS, chunk);
      if (head === null) head = readHeader(chunk.rows.shift(), chunk.lines.shift(), label, scorer);
      chunk.rows.forEach((fields, i) => {
        const line = chunk.lines[i];
        if (fields.length !== head.header.length) ragged.push([line, fields.length]);
        if (ragged.length || head.missing.length) return;  // the file will be refused
        const row = core.checkRow(scorer, head.at, fields, line, firstLine);
        if (row.reasons.length) {
          rejected.cells.push(fields);
          rejected.line.push(line);
          rejected.reason.push(row.reasons.join("; "));
          return;
        }
        accepted.ids.push(row.id);
        accepted.lines.push(line);
        accepted.values.push(...row.values);
        accepted.flags.push(row.flag);
      });
      rowsIn += chunk.rows.length;
      if (!done) yield reader.pos / text.length;
    }
    checkRecords(text, label, head, ragged, rowsIn);
    return { header: head.header, extraColumns: head.extraColumns, rowsIn, rejected,
      accepted: { ids: accepted.ids, lines: Int32Array.from(accepted.lines),
        values: Int32Array.from(accepted.values), flags: Int8Array.from(accepted.flags) } };
  }

  /** Generator: the accepted rows of `checked` scored for `choice` {algorithm, k}. Returns the
   * result: {rowsIn, header, extraColumns, algorithm, k, segmentNames, scored: {ids, line,
   * cluster, tier (index into model.tiers), segment (index into segmentNames), reason,
   * distance, margin, tied}, rejected: {cells, line, reason}} (typed arrays where numeric). */
  function* scoreSteps(scorer, checked, choice) {
    const sol = core.solutionOf(scorer, choice.algorithm, choice.k);
    const { ids, lines, values, flags } = checked.accepted;
    const [n, f] = [ids.length, scorer.features.length];
    const w = scorer.model.required_columns.length - 1;  // values per row: all but the id
    const scored = { ids: ids.slice(), line: lines.slice(), cluster: new Int32Array(n),
      tier: new Uint8Array(n), segment: new Uint16Array(n), reason: new Array(n),
      distance: new Float64Array(n), margin: new Float64Array(n), tied: new Uint8Array(n) };
    const segments = new Map();
    const scratch = { x: new Float64Array(f), d: new Float64Array(sol.k) };
    for (let i = 0; i < n; i++) {
      const got = core.scoreRow(scorer, sol, values.subarray(i * w, i * w + w), flags[i], scratch);
      if (!segments.has(got.segment)) segments.set(got.segment, segments.size);
      scored.cluster[i] = got.cluster;
      scored.tier[i] = scorer.model.tiers.indexOf(got.tier);
      scored.segment[i] = segments.get(got.segment);
      scored.reason[i] = got.reason;
      scored.distance[i] = got.distance;
      scored.margin[i] = got.margin;
      scored.tied[i] = got.tied ? 1 : 0;
      if ((i + 1) % core.STEP_ROWS === 0) yield (i + 1) / n;
    }
    const r = checked.rejected;
    return { rowsIn: checked.rowsIn, header: checked.header, extraColumns: checked.extraColumns,
      algorithm: sol.algorithm, k: sol.k, segmentNames: [...segments.keys()], scored,
      rejected: { cells: r.cells, line: Int32Array.from(r.line), reason: r.reason } };
  }

  /** Runs `steps` to the end, telling `report` the share done (mapped onto [from, to]) and
   * awaiting `pause()` after each step (the page's fallback yields there, and cancels there
   * by throwing). Returns what `steps` returns. */
  async function drive(steps, report, pause, from = 0, to = 1) {
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done) return step.value;
      report(from + (to - from) * step.value);
      await pause();
    }
  }

  /** One file's session: read and checked once, then scored for any solution. */
  function createSession(model, contract) {
    const scorer = core.prepare(model, contract);
    let checked = null;
    return {
      scorer,
      /** Reads and checks the file (`buffer` ArrayBuffer, its `name`), then scores it. */
      async load(buffer, name, limits, choice, report, pause) {
        const file = await payload(new Uint8Array(buffer), name, limits, (s) => report(0.1 * s));
        const text = decodeText(file.bytes, file.label);
        checked = await drive(checkSteps(scorer, text, file.label), report, pause, 0.1, 0.8);
        return drive(scoreSteps(scorer, checked, choice), report, pause, 0.8, 1);
      },
      /** Scores the checked rows again for another solution. */
      rescore(choice, report, pause) {
        return drive(scoreSteps(scorer, checked, choice), report, pause);
      },
    };
  }

  if (IN_WORKER) {
    let session = null;
    const noPause = () => undefined;  // a worker need not yield: the page terminates it to cancel
    self.onmessage = async ({ data: job }) => {
      const report = (fraction) => self.postMessage({ type: "progress", id: job.id, fraction });
      try {
        if (job.type === "score") session = createSession(job.model, job.contract);
        const result = job.type === "score"
          ? await session.load(job.buffer, job.name, job.limits, job.choice, report, noPause)
          : await session.rescore(job.choice, report, noPause);
        const s = result.scored;
        const arrays = [s.line, s.cluster, s.tier, s.segment, s.distance, s.margin, s.tied];
        self.postMessage({ type: "result", id: job.id, result },
          arrays.concat([result.rejected.line]).map((a) => a.buffer));
      } catch (err) {
        self.postMessage({ type: "error", id: job.id, name: err.name, message: err.message });
      }
    };
  }

  self.c2cJob = { createSession };
}
