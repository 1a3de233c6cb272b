"""analysis.intake.columnar: the polars typing gives exactly the pandas reference's frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.intake.columnar import typed_users
from analysis.intake.reader import coerce_types, to_numpy_dtypes
from analysis.intake.schema import COLUMNS

INT64 = np.iinfo(np.int64)


def reference(raw: pd.DataFrame) -> pd.DataFrame:
    return to_numpy_dtypes(coerce_types(raw)[0])


def same(raw: pd.DataFrame) -> None:
    """typed_users(raw) equals the reference exactly: values, dtypes, index, columns."""
    ours, theirs = typed_users(raw), reference(raw)
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    for column in raw.columns:  # -0.0 and 0.0 compare equal: check the sign bits too
        if theirs[column].dtype == np.float64:
            np.testing.assert_array_equal(np.signbit(ours[column]), np.signbit(theirs[column]))


def text(users: pd.DataFrame) -> pd.DataFrame:
    return users.astype(str)


def test_clean_users_type_identically(users):
    same(text(users))


@pytest.mark.parametrize("column, value", [
    ("identifierHash", "-1.0979E+18"), ("identifierHash", str(INT64.max + 1)),
    ("identifierHash", str(INT64.min)), ("identifierHash", "-0"), ("identifierHash", "000123"),
    ("socialNbFollowers", "3.0"), ("socialNbFollowers", " 3"), ("socialNbFollowers", ""),
    ("productsPassRate", "abc"), ("productsPassRate", "nan"), ("productsPassRate", "+.5e1"),
    ("productsPassRate", "-0.0"), ("productsPassRate", "5."), ("productsPassRate", ""),
    ("hasAnyApp", "true"), ("hasAnyApp", "1"), ("hasAnyApp", ""), ("country", ""),
    ("daysSinceLastLogin", "12\n"),
])
def test_bad_and_odd_cells_type_identically(users, column, value):
    raw = text(users)
    raw.loc[7, column] = value
    same(raw)


def test_extra_columns_a_shuffled_order_and_an_index_are_kept(users):
    raw = text(users).assign(note="x")
    raw = raw[list(reversed(raw.columns))]
    raw.index = raw.index + 100
    raw.loc[105, "note"] = ""
    same(raw)


def test_a_column_of_empty_cells_and_a_frame_without_typed_columns(users):
    raw = text(users)
    raw["productsSold"] = ""
    same(raw)
    same(raw[["country", "type"]])


CELLS = st.one_of(st.text(alphabet="0123456789-+.eE", max_size=22),
                  st.integers(min_value=int(INT64.min) - 5, max_value=int(INT64.max) + 5)
                  .map(str),
                  st.floats(allow_nan=False).map(repr), st.sampled_from(["True", "False", ""]))


@settings(deadline=None, max_examples=60)
@given(st.lists(CELLS, min_size=1, max_size=30))
def test_any_cells_type_identically_in_every_kind(cells):
    kinds = {"int64": "identifierHash", "int": "productsSold", "float": "productsPassRate",
             "bool": "hasAnyApp"}
    assert set(kinds) <= set(COLUMNS.values())
    same(pd.DataFrame({column: cells for column in kinds.values()}, dtype=str))
