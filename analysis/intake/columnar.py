"""The intake's column-wise work in polars: typing the text table, and counting values.

:func:`typed_users` gives exactly ``to_numpy_dtypes(coerce_types(raw)[0])`` (same values,
dtypes, index and column order) with polars expressions: one regex test and one cast per cell,
on both cores, instead of pandas' per-column passes. ``c2c bench`` measures both paths on the
same file in the same run (``intake``); the pipeline uses this one because it measured faster
(6 million users: see the bench JSON). ``coerce_types`` stays the reference, and the source of
the cell-error table that ``c2c score`` reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

from analysis.intake.kinds import anchored
from analysis.intake.schema import COLUMNS

#: kind -> the polars type a valid cell is cast to ("bool" is compared with "True" instead).
POLARS_TYPES = {"int64": pl.Int64, "int": pl.Int64, "float": pl.Float64}
#: kind -> the pandas masked array that holds a column with missing or bad cells.
MASKED_ARRAYS = {"int64": pd.arrays.IntegerArray, "int": pd.arrays.IntegerArray,
                 "float": pd.arrays.FloatingArray, "bool": pd.arrays.BooleanArray}
#: kind -> the value a missing cell takes under the mask (never shown).
FILL = {"int64": 0, "int": 0, "float": 0.0, "bool": False}


def _parsed(table: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """The typed columns ``names`` of the text ``table``: null where a cell does not match its
    kind's pattern (empty cells included)."""
    exprs = []
    for name in names:
        kind, text = COLUMNS[name], pl.col(name)
        value = text == "True" if kind == "bool" else text.cast(POLARS_TYPES[kind], strict=False)
        exprs.append(pl.when(text.str.contains(anchored(kind))).then(value).alias(name))
    return table.select(exprs)


def _to_pandas(column: pl.Series, kind: str) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """A NumPy array when no cell is missing, else the kind's masked array."""
    if column.null_count() == 0:
        return column.to_numpy()
    values = column.fill_null(FILL[kind]).to_numpy()
    return MASKED_ARRAYS[kind](values, column.is_null().to_numpy())


def typed_users(raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` (the text table as :func:`analysis.intake.reader.read_raw_table` returns it)
    typed by the schema's kinds, as ``to_numpy_dtypes(coerce_types(raw)[0])`` types it.

    Schema columns of a numeric or boolean kind come out as NumPy int64 / float64 / bool when
    every cell parses, else in the nullable dtype with <NA> for empty and bad cells; text
    columns (and columns outside the schema) keep their text with empty cells missing.
    """
    typed_names = [c for c in raw.columns if COLUMNS.get(c, "str") != "str"]
    parsed = _parsed(pl.from_arrow(pa.Table.from_pandas(raw[typed_names], preserve_index=False)),
                     typed_names) if typed_names else pl.DataFrame()
    columns = {}
    for name in raw.columns:
        kind = COLUMNS.get(name, "str")
        if kind != "str":
            columns[name] = _to_pandas(parsed[name], kind)
            continue
        text = raw[name]
        present = text.notna() & text.ne("")
        columns[name] = text if bool(present.all()) else text.where(present)
    return pd.DataFrame(columns, index=raw.index)
