"""Input edge: read the raw export (CSV or a zip holding one CSV) as text, then type it.

``read_raw_table`` is the only function here that touches the file system; everything after
it is a pure function of frames.
A file that cannot be read as one comma-separated UTF-8 table raises ``InputError`` with one
sentence naming the file, what is wrong and where (line / byte offset).
"""

from __future__ import annotations

import codecs
import csv
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from analysis.config import ValidationConfig
from analysis.errors import InputError, clip
from analysis.intake.files import CHUNK, display_path, file_kind, file_sha256
from analysis.intake.kinds import NULLABLE_DTYPES, NUMPY_DTYPES, PATTERNS
from analysis.intake.schema import COLUMNS

#: Delimiters we recognise in a one-column header (the file is not comma-separated).
FOREIGN_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
#: How many offending lines an error sentence lists before summarising the rest.
LISTED_LINES = 3
#: Columns of the cell-error table returned by ``coerce_types``.
ERROR_COLUMNS = ["row", "column", "value", "expected"]

__all__ = ["checked_payload", "coerce_types", "display_path", "file_sha256", "load_users",
           "read_raw_table", "to_numpy_dtypes"]


# --------------------------------------------------------------------------------------------
# Reading: bytes -> string frame
# --------------------------------------------------------------------------------------------

def _fail(label: str, problem: str) -> InputError:
    """The one-sentence error for an unreadable input."""
    return InputError(f"Cannot read {label}: {problem}.")


@dataclass(frozen=True)
class InputLimits:
    """How much text an input may hold once read: ``max_bytes`` (absolute, after unzipping)
    and ``max_ratio`` (uncompressed size / compressed size of a zip member).

    Both are checked while streaming, whatever a zip's header declares, so a zip bomb is
    stopped after at most ``max_bytes`` have been expanded.
    """

    max_bytes: int
    max_ratio: float

    @classmethod
    def of(cls, cfg: ValidationConfig) -> InputLimits:
        """The limits of config ``[validation]``."""
        return cls(cfg.max_input_bytes, cfg.max_unzip_ratio)


def _too_big(label: str, limit: int, why: str) -> InputError:
    return _fail(label, f"it expands to more than {limit:,} bytes ({why}); refusing to read "
                        "it (config [validation] max_input_bytes, max_unzip_ratio)")


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, label: str,
                 limits: InputLimits) -> bytes:
    """The member's bytes, streamed and stopped as soon as they pass the limits."""
    by_ratio = int(limits.max_ratio * max(member.compress_size, 1))
    limit = min(limits.max_bytes, by_ratio)
    why = ("the absolute limit" if limit == limits.max_bytes else
           f"{limits.max_ratio:g} times its compressed size of {member.compress_size:,} bytes")
    if member.file_size > limit:
        raise _too_big(label, limit, why)
    chunks, total = [], 0
    with archive.open(member) as fh:
        while chunk := fh.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise _too_big(label, limit, why)
            chunks.append(chunk)
    return b"".join(chunks)


def _zip_payload(path: Path, label: str, limits: InputLimits) -> tuple[bytes, str]:
    """The bytes of the only CSV member of a zip archive, and a label naming the member."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist()
                       if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
            csvs = [m for m in members if m.filename.lower().endswith(".csv")]
            if not csvs:
                held = ", ".join(m.filename for m in members) or "nothing"
                raise _fail(label, f"the zip archive holds no CSV file (it holds: {held})")
            if len(csvs) > 1:
                names = ", ".join(m.filename for m in csvs)
                raise _fail(label, f"the zip archive holds {len(csvs)} CSV files ({names}); "
                                   "expected exactly one")
            member = csvs[0]
            return (_read_member(archive, member, label, limits),
                    f"{label} (member {clip(member.filename)})")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as err:
        raise _fail(label, f"the zip archive is corrupt or unsupported ({err})") from None


def read_payload(path: Path, limits: InputLimits) -> tuple[bytes, str]:
    """The CSV bytes behind ``path`` (unzipped when it is a zip) and a label for messages."""
    label = display_path(path)
    if path.is_symlink() and not path.exists():
        raise _fail(label, "it is a symbolic link that leads nowhere (a loop or a missing "
                           "target)")
    if not path.exists():
        raise _fail(label, "the file does not exist")
    if path.is_dir():
        raise _fail(label, "it is a directory, not a CSV file")
    try:
        kind = file_kind(path.stat().st_mode)
        if kind is not None:  # /dev/zero, a FIFO or <(...) would read forever or hang
            raise _fail(label, f"it is {kind}, not a regular file; save the export to a file "
                               "and pass its path")
        if zipfile.is_zipfile(path):
            return _zip_payload(path, label, limits)
        if path.stat().st_size > limits.max_bytes:
            raise _too_big(label, limits.max_bytes, "the absolute limit")
        data = path.read_bytes()
    except OSError as err:
        raise _fail(label, err.strerror or str(err)) from None
    if path.suffix.lower() == ".zip" or data.startswith(b"PK\x03\x04"):
        raise _fail(label, "it is not a valid zip archive (corrupt or truncated)")
    return data, label


def _line_of(data: bytes, offset: int) -> int:
    """1-based line number holding byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def _check_text(data: bytes, label: str) -> bytes:
    """``data`` without a UTF-8 BOM, after checking it is non-empty UTF-8 text (no NUL bytes);
    a file whose lines end with CR alone gets LF line ends."""
    data = data.removeprefix(codecs.BOM_UTF8)
    if not data.strip():
        raise _fail(label, "the file is empty")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _fail(label, f"it is binary data, not a CSV text file (NUL byte at offset {nul}, "
                           f"line {_line_of(data, nul)})")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _fail(label, f"the text is not UTF-8 (byte 0x{data[err.start]:02X} at offset "
                           f"{err.start}, line {_line_of(data, err.start)}); "
                           "re-save it as UTF-8") from None
    if b"\r" in data and b"\n" not in data:  # classic Mac line ends: CR alone ends a line
        data = data.replace(b"\r", b"\n")   # (as the browser scorer reads them)
    return data


def _header(data: bytes, label: str) -> list[str]:
    """Column names from the first line; rejects other delimiters and repeated names."""
    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")
    names = next(csv.reader([first]), [])
    if not "".join(names).strip():
        raise _fail(label, "the first line is blank; expected the header row")
    if len(names) == 1:
        for sep, word in FOREIGN_DELIMITERS.items():
            if sep in names[0]:
                raise _fail(label, f"the header is a single column containing '{sep}', so the "
                                   f"file is {word}-separated; expected comma-separated values")
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)  # linear
    if repeated:
        raise _fail(label, f"the header repeats column(s) {', '.join(map(repr, repeated))}")
    return names


def _physical_lines(data: bytes, rows: list[int]) -> list[int]:
    """Map non-blank row numbers (as the CSV parser counts them) to 1-based file lines
    (-1 when the parser could not tell)."""
    non_blank = [i + 1 for i, line in enumerate(data.split(b"\n")) if line.strip(b"\r")]
    return [non_blank[r - 1] if r is not None and 0 < r <= len(non_blank) else -1 for r in rows]


def _field_count_error(data: bytes, label: str, bad: list[tuple[int, int]],
                       expected: int) -> InputError:
    """The sentence for rows whose field count differs from the header's."""
    lines = _physical_lines(data, [row for row, _ in bad])
    first_line, first_count = lines[0], bad[0][1]
    sentence = f"line {first_line} has {first_count} fields, expected {expected}"
    last_line = len(data.rstrip(b"\r\n").split(b"\n"))
    if first_line == last_line and first_count < expected:
        sentence += " (the file looks truncated mid-row)"
    if len(lines) > 1:
        others = ", ".join(map(str, lines[1:1 + LISTED_LINES]))
        more = len(lines) - 1 - LISTED_LINES
        sentence += f"; also line(s) {others}" + (f" and {more} more" if more > 0 else "")
    return _fail(label, sentence)


def checked_payload(path: str | Path, limits: InputLimits) -> tuple[bytes, str, list[str]]:
    """The CSV bytes behind ``path`` checked as non-empty UTF-8 text (BOM removed), a label
    for messages, and the header's column names."""
    data, label = read_payload(Path(path), limits)
    data = _check_text(data, label)
    return data, label, _header(data, label)


def read_raw_table(path: str | Path, limits: InputLimits) -> pd.DataFrame:
    """The table in ``path`` as rows x columns of text (pandas ``str``), nothing coerced.

    ``path`` is a UTF-8 comma-separated file with a header row, or a zip holding exactly one
    such file. Empty cells stay ``""``; blank lines are skipped; the index is 0..rows-1.
    Raises InputError when the file cannot be read as such a table.
    """
    data, label, names = checked_payload(path, limits)
    bad: list[tuple[int, int]] = []

    def on_bad_row(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as err:
        raise _fail(label, f"it is not a well-formed CSV table ({err})") from None
    if bad:
        raise _field_count_error(data, label, bad, len(names))
    if table.num_rows == 0:
        raise _fail(label, "it has a header but no data rows")
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype(na_value=np.nan)}.get)


# --------------------------------------------------------------------------------------------
# Typing: string frame -> typed frame + cell errors
# --------------------------------------------------------------------------------------------

def _coerce_column(text: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """(typed column in the kind's nullable dtype, mask of non-empty cells that do not parse)."""
    present = text.notna() & text.ne("")
    pattern = PATTERNS[kind]
    if pattern is None:
        return text.where(present), pd.Series(False, index=text.index)
    ok = text.str.fullmatch(pattern).fillna(False).astype(bool)
    if kind == "bool":
        typed = text.eq("True").astype(NULLABLE_DTYPES[kind]).mask(~ok)
    else:
        typed = text.where(ok).astype(NULLABLE_DTYPES[kind])
    return typed, present & ~ok


def coerce_types(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type a text frame by the schema's kinds; bad or empty cells become <NA>.

    Returns ``(typed, errors)``: ``typed`` has raw's index and columns, schema columns in
    nullable dtypes (Int64 / Float64 / boolean / str; columns not in the schema stay text);
    ``errors`` has one row per non-empty cell that does not parse, with columns
    ``row`` (raw's index label), ``column``, ``value`` (the text) and ``expected`` (the kind).
    Empty cells are missing values, not type errors (the validation suite reports them).
    """
    typed: dict[str, pd.Series] = {}
    errors: list[pd.DataFrame] = []
    for name in raw.columns:
        kind = COLUMNS.get(name, "str")
        typed[name], bad = _coerce_column(raw[name].astype("str"), kind)
        if bad.any():
            errors.append(pd.DataFrame({"row": raw.index[bad.to_numpy()], "column": name,
                                        "value": raw[name][bad].to_numpy(), "expected": kind}))
    error_table = (pd.concat(errors, ignore_index=True) if errors
                   else pd.DataFrame({c: pd.Series(dtype=object) for c in ERROR_COLUMNS}))
    return pd.DataFrame(typed, index=raw.index), error_table


def to_numpy_dtypes(typed: pd.DataFrame) -> pd.DataFrame:
    """Schema columns without a missing cell converted to NumPy dtypes (int64/float64/bool)."""
    return typed.astype({name: NUMPY_DTYPES[COLUMNS[name]] for name in typed.columns
                         if name in COLUMNS and not typed[name].isna().any()})


def load_users(path: str | Path, limits: InputLimits) -> pd.DataFrame:
    """Read and type the user table for later stages: rows x columns, NumPy dtypes when clean.

    A column keeps its nullable dtype only if some of its cells are empty or do not parse;
    run ``c2c validate`` first to learn which.
    """
    typed, _ = coerce_types(read_raw_table(path, limits))
    return to_numpy_dtypes(typed)
