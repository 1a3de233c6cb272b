"""The row rules of ``c2c score`` (and of the browser scorer, which repeats them).

Row-level faults reject that row only, with every reason it has, joined with ``"; "`` (see
:mod:`analysis.scoring.score` for the list). ``line`` is the 1-based line of the file on which
the row starts (the header is line 1; ``\\r\\n``, ``\\r`` and ``\\n`` end lines; blank
lines count).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.intake.schema import COLUMNS, ID_COLUMN

DAYS_COLUMN = "daysSinceLastLogin"
SENIORITY_COLUMN = "seniority"
#: A cell value quoted in a reason is cut to this many characters.
REASON_VALUE_CHARS = 40


def shorten(value: str) -> str:
    """A cell value for a reason: at most 40 characters, else the first 37 + '...'."""
    return value if len(value) <= REASON_VALUE_CHARS else value[:REASON_VALUE_CHARS - 3] + "..."


def check_header(header: list[str], model: dict[str, Any], label: str) -> list[str]:
    """Columns outside the schema (ignored); InputError naming the model columns missing."""
    missing = [c for c in model["required_columns"] if c not in header]
    if missing:
        raise InputError(f"Cannot use {label}: it lacks the column(s) the model needs: "
                         f"{', '.join(missing)}.")
    return [c for c in header if c not in COLUMNS]


def _cell_rules(col: str, raw: pd.DataFrame, typed: pd.DataFrame, model: dict[str, Any],
                reasons: dict[int, list[str]]) -> np.ndarray:
    """Append the reasons of column ``col`` (empty, wrong kind, negative, above the maximum);
    returns bool[rows]: the cell is usable."""
    text = raw[col].to_numpy(dtype=object)
    empty = text == ""
    invalid = typed[col].isna().to_numpy() & ~empty
    negative = np.zeros(len(raw), dtype=bool)
    above = np.zeros(len(raw), dtype=bool)
    limits = model["limits"]
    if col in limits["non_negative"]:
        negative = (typed[col] < 0).fillna(False).to_numpy(dtype=bool)
    top = limits["maximum"].get(col)
    if top is not None:
        above = (typed[col] > top).fillna(False).to_numpy(dtype=bool)
    for pos in np.flatnonzero(empty):
        reasons[pos].append(f"{col} is empty")
    for pos in np.flatnonzero(invalid):
        reasons[pos].append(f'{col} "{shorten(text[pos])}" is not '
                            f'{model["kinds"][col]["expected"]}')
    for pos in np.flatnonzero(negative):
        reasons[pos].append(f'{col} "{shorten(text[pos])}" is negative')
    for pos in np.flatnonzero(above):
        reasons[pos].append(f'{col} "{shorten(text[pos])}" is above the plausible maximum '
                            f"{top:,}")
    return ~(empty | invalid | negative | above)


def row_reasons(raw: pd.DataFrame, typed: pd.DataFrame, model: dict[str, Any],
                line_of: Callable[[int], int]) -> dict[int, list[str]]:
    """Reasons per rejected row position (rows without a reason are absent), in rule order.

    ``raw`` the text cells, ``typed`` the same rows coerced by
    :func:`analysis.intake.reader.coerce_types`; ``line_of(position)`` the row's file line
    (for duplicates). Kinds and limits come from the model's contract.
    """
    reasons: dict[int, list[str]] = defaultdict(list)
    ok_cell = {col: _cell_rules(col, raw, typed, model, reasons)
               for col in model["required_columns"]}
    if SENIORITY_COLUMN in typed.columns and DAYS_COLUMN in ok_cell:
        both = ok_cell[DAYS_COLUMN] & usable_seniority(typed, model)
        days, seniority = typed[DAYS_COLUMN], typed[SENIORITY_COLUMN]
        later = np.zeros(len(raw), dtype=bool)
        later[both] = (days[both] > seniority[both]).to_numpy(dtype=bool)
        for pos in np.flatnonzero(later):
            reasons[pos].append(f"{DAYS_COLUMN} {int(days.iat[pos])} is greater than "
                                f"{SENIORITY_COLUMN} {int(seniority.iat[pos])}")
    _duplicates(typed, line_of, reasons)
    return dict(reasons)


def usable_seniority(typed: pd.DataFrame, model: dict[str, Any]) -> np.ndarray:
    """bool[rows]: the optional seniority cell is a valid whole number within its limits (a bad
    seniority is not a reason to reject: it only words the reason and the placeholder test)."""
    if SENIORITY_COLUMN not in typed.columns:
        return np.zeros(len(typed), dtype=bool)
    seniority = typed[SENIORITY_COLUMN]
    top = model["limits"]["maximum"].get(SENIORITY_COLUMN, np.iinfo(np.int64).max)
    return (seniority.notna() & (seniority >= 0) & (seniority <= top)).fillna(False) \
        .to_numpy(dtype=bool)


def _duplicates(typed: pd.DataFrame, line_of: Callable[[int], int],
                reasons: dict[int, list[str]]) -> None:
    """An identifierHash seen on an earlier line: every later row carrying it is rejected."""
    ids = typed[ID_COLUMN]
    present = ids.notna().to_numpy()
    has_id = np.flatnonzero(present)
    # Only the parsed ids, straight to int64: Int64.to_numpy() with <NA> would go via float64
    # and merge ids that differ beyond 2**53.
    id_values = pd.Series(ids[present].to_numpy(dtype=np.int64))
    repeat = id_values.duplicated(keep="first").to_numpy()
    if repeat.any():
        first = pd.Series(has_id).groupby(id_values.to_numpy()).transform("min").to_numpy()
        for pos, first_pos in zip(has_id[repeat], first[repeat], strict=True):
            reasons[pos].append(f"duplicate {ID_COLUMN} (first seen on line {line_of(first_pos)})")


def record_lines(text: str) -> np.ndarray | None:
    """The 1-based line each non-blank CSV record of ``text`` starts on (header included).

    None when Python's csv module cannot split the text (e.g. a cell over its size limit).
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    starts: list[int] = []
    previous = 0
    try:
        for fields in reader:
            if fields:
                starts.append(previous + 1)
            previous = reader.line_num
    except csv.Error:
        return None
    return np.asarray(starts, dtype=np.int64)
