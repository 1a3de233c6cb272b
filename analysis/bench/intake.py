"""The intake's polars swaps measured against the pyarrow + pandas / NumPy path, same file, same
process, one after the other (``c2c bench``'s ``intake`` entry; per export in the scale runs).

Four steps, each timed both ways and checked for identical output:

- ``read``: the export's bytes to the text table the validation gate needs (a pandas frame):
  pyarrow's CSV reader (:func:`analysis.intake.reader.read_raw_table`) against polars'
  ``read_csv`` plus its conversion to pandas;
- ``typing``: text table to typed users: ``to_numpy_dtypes(coerce_types(raw))`` (pandas)
  against :func:`analysis.intake.columnar.typed_users` (polars);
- ``distinct``: feature matrix to distinct rows with counts and the inverse:
  :func:`analysis.clustering.fastward.distinct_rows` (one ``np.lexsort``) against a polars
  dense rank of the rows;
- ``value_counts``: the drift snapshot's per-column value counts,
  :func:`analysis.history.snapshots.value_counts` (``np.unique``) against polars'.

``pipeline_uses`` names the path the pipeline runs for each step. Run as a module
(``python -m analysis.bench.intake FILE``) it prints the result as one JSON line, so that the
scale runs measure each export in a fresh process.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from analysis.clustering.distinct import distinct_rows_polars
from analysis.clustering.fastward import distinct_rows
from analysis.config import Settings, load_config
from analysis.features.transform import fit_transform_params, transform
from analysis.history.snapshots import DISTRIBUTION_COLUMNS, value_counts
from analysis.intake import reader
from analysis.intake.columnar import typed_users
from analysis.pipeline.nodes import find_placeholder

#: The path the pipeline runs for each step: the faster at 6M users (analysis/bench/measured/
#: scale.json), except ``read``: polars read 1.7x faster at 1M users but ties at 6M (10.1 vs
#: 10.2 s in the committed run; 1.2-1.5x faster in two other 6M runs), and pyarrow's parse
#: errors name the line the validation gate reports; the saving is under 1 % of the build.
PIPELINE_USES = {"read": "pyarrow", "typing": "polars", "distinct": "polars",
                 "value_counts": "numpy"}


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return round(time.perf_counter() - start, 3), out


def read_polars(path: Path, limits: reader.InputLimits) -> pd.DataFrame:
    """The text table through polars: the reader's own checks of the bytes, then
    ``pl.read_csv`` (every column text, empty cells "") and the conversion to pandas."""
    data, _, names = reader.checked_payload(path, limits)
    table = pl.read_csv(data, has_header=True, new_columns=names, infer_schema=False,
                        empty_string_is_null=False)
    return table.to_pandas()


def value_counts_polars(users: pd.DataFrame) -> dict[str, Any]:
    """:func:`analysis.history.snapshots.value_counts` computed by polars."""
    frame = pl.from_pandas(users[list(DISTRIBUTION_COLUMNS)])
    out: dict[str, Any] = {"rows": len(users), "columns": {}}
    for column in DISTRIBUTION_COLUMNS:
        counts = frame[column].drop_nulls().value_counts().sort(column)
        out["columns"][column] = {"values": counts[column].to_list(),
                                  "counts": counts["count"].to_list()}
    return out


def _compare(reference: Callable[[], Any], candidate: Callable[[], Any],
             same: Callable[[Any, Any], bool], names: tuple[str, str]) -> tuple[dict, Any]:
    """Time both (the reference first), check they agree; the entry and the reference's result."""
    first, ours = _timed(reference)
    second, theirs = _timed(candidate)
    return {f"{names[0]}_seconds": first, f"{names[1]}_seconds": second,
            "speedup": round(first / second, 2) if second else None,
            "identical": bool(same(ours, theirs))}, ours


def _same_distinct(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _read_and_type(path: Path, settings: Settings) -> tuple[dict, dict, pd.DataFrame]:
    """The ``read`` and ``typing`` entries, and the typed users."""
    limits = reader.InputLimits.of(settings.validation)
    read, raw = _compare(lambda: reader.read_raw_table(path, limits),
                         lambda: read_polars(path, limits), lambda a, b: a.equals(b),
                         ("pyarrow", "polars"))
    typing, users = _compare(lambda: reader.to_numpy_dtypes(reader.coerce_types(raw)[0]),
                             lambda: typed_users(raw), lambda a, b: a.equals(b),
                             ("pandas", "polars"))
    return read, typing, users


def intake_bench(path: Path, settings: Settings) -> dict[str, Any]:
    """Every step both ways on the export at ``path``; see the module docstring."""
    read, typing, users = _read_and_type(Path(path), settings)
    censor = find_placeholder(users, settings.placeholder)["censor_days"]
    X = transform(users, fit_transform_params(users, settings.features, censor))
    distinct, rows = _compare(lambda: distinct_rows(X), lambda: distinct_rows_polars(X),
                              _same_distinct, ("numpy", "polars"))
    counts, _ = _compare(lambda: value_counts(users), lambda: value_counts_polars(users),
                         lambda a, b: a == b, ("numpy", "polars"))
    return {"users": len(users), "distinct_rows": len(rows[1]), "read": read,
            "typing": typing, "distinct": distinct, "value_counts": counts,
            "pipeline_uses": PIPELINE_USES}


if __name__ == "__main__":
    print(json.dumps(intake_bench(Path(sys.argv[1]), load_config())))
