"""Writing what ``c2c score`` produced: complete-or-absent CSV files, formula cells neutralised.

Outputs go to a temporary file in the target folder, then are renamed into place. Cells that a
spreadsheet would run as a formula (starting with ``= + - @``, tab or CR and not a plain number,
so that negative ids stay numbers) are prefixed with a single quote.
"""

from __future__ import annotations

import csv
import os
import re
import stat
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.intake.files import display_path, writable_target
from analysis.scoring.score import SCORED_COLUMNS, ScoreResult

#: A plain number: left alone by the CSV-injection guard even when it starts with - or +.
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """CSV-injection guard: prefix ``'`` to a cell a spreadsheet would run as a formula.

    Cells starting with ``= + - @``, tab or CR are neutralised unless they are a plain number,
    so that negative ids such as -1097895247965112460 stay numbers.
    """
    if cell.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


#: Rows formatted and written per step (bounded memory on big inputs).
WRITE_CHUNK = 100_000


def _text_columns(frame: pd.DataFrame) -> list[list[str]]:
    """Each column of ``frame`` as text: floats as ``repr`` (what pandas writes), the rest str."""
    columns = []
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        if pd.api.types.is_float_dtype(series.dtype):
            columns.append([repr(v) for v in series.to_numpy(dtype=np.float64).tolist()])
        else:
            columns.append([str(v) for v in series.to_numpy(dtype=object).tolist()])
    return columns


def _write_csv_atomic(frame: pd.DataFrame, path: Path, guard: bool) -> None:
    """Write ``frame`` as CSV next to ``path``, then rename it into place.

    Lines end with CRLF (RFC 4180): with a bare LF terminator the csv writer would leave a
    cell holding a lone CR unquoted, and readers would split the row there. ``guard``
    neutralises formula-like cells (header included).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    clean = neutralise if guard else str
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow([clean(str(c)) for c in frame.columns])
            for start in range(0, len(frame), WRITE_CHUNK):
                columns = _text_columns(frame.iloc[start:start + WRITE_CHUNK])
                if guard:
                    columns = [[neutralise(v) for v in col] for col in columns]
                writer.writerows(zip(*columns, strict=True))
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The mode an output gets: the file's own when it replaces one (never widened), else
    0666 minus the umask (mkstemp makes 0600 whatever the umask says)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_outputs(result: ScoreResult, out: Path, rejects: Path | None = None) -> None:
    """Write the scored rows to ``out`` and, when asked, the rejected rows to ``rejects``.

    Each file is complete or absent: written to a temporary file, then renamed. Scored cells
    are numbers, tiers and the model's algorithm name: nothing to neutralise there.
    """
    _write_csv_atomic(result.scored[SCORED_COLUMNS], Path(out), guard=False)
    if rejects is not None:
        _write_csv_atomic(result.rejected, Path(rejects), guard=True)


def check_paths(input_path: Path, out: Path, rejects: Path | None) -> None:
    """Refuse outputs that would overwrite the input or each other."""
    def same(a: Path, b: Path) -> bool:
        return os.path.realpath(a) == os.path.realpath(b)  # no error on a symlink loop

    if same(out, input_path) or (rejects is not None and same(rejects, input_path)):
        raise InputError(f"Refusing to overwrite the input {display_path(input_path)}; "
                         "choose another output path.")
    if rejects is not None and same(out, rejects):
        raise InputError("-o and --rejects name the same file; choose two paths.")
    for target in (out, rejects):
        if target is not None and target.is_dir():
            raise InputError(f"Cannot write {display_path(target)}: it is a folder; give a "
                             "file name.")
        why = None if target is None else writable_target(target, (input_path,))
        if why is not None:
            raise InputError(f"Cannot write {display_path(target)}: {why}. Choose another "
                             "output path.")


def summary_lines(result: ScoreResult, show: int = 5, rejects_path: Path | None = None
                  ) -> list[str]:
    """The human summary: rows in, accepted, rejected, users per tier, a few reasons."""
    lines = [
        f"solution: {result.algorithm}, k = {result.k}",
        f"rows in:  {result.rows_in:,}",
        f"accepted: {len(result.scored):,}",
        f"rejected: {len(result.rejected):,}",
    ]
    for tier, count in result.tier_counts().items():
        lines.append(f"  {tier:<9} {count:,}")
    if len(result.rejected):
        lines.append("first rejected rows:")
        for row in result.rejected.head(show).itertuples(index=False):
            lines.append(f"  line {row[-2]}: {row[-1]}")
        if rejects_path is None:
            lines.append("(use --rejects PATH to save every rejected row with its reason)")
    return lines
