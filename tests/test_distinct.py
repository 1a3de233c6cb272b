"""analysis.clustering.distinct: the polars distinct rows equal NumPy's lexsort reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.clustering.distinct import Distinct, distinct_rows_polars
from analysis.clustering.fastward import distinct_rows

VALUES = st.sampled_from([0.0, -0.0, 0.25, 0.5, 1.0, 1e-300, 0.1 + 0.2, 0.3])


@settings(deadline=None, max_examples=80)
@given(arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(1, 5)), elements=VALUES))
def test_polars_distinct_rows_equal_the_numpy_reference(X):
    ours, theirs = distinct_rows_polars(X), distinct_rows(X)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert not np.signbit(ours[0]).any()  # -0.0 counted as 0.0


def test_distinct_of_collapses_and_expands_back():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, size=(500, 3)) / 4
    d = Distinct.of(X)
    np.testing.assert_array_equal(d.rows[d.inverse], X)
    assert d.n_users == 500 and len(d.rows) == len(np.unique(X, axis=0))


@pytest.mark.parametrize("bad", [np.empty((0, 2)), np.array([[np.nan, 1.0]]), np.ones(3)])
def test_polars_distinct_rows_refuse_what_the_reference_refuses(bad):
    with pytest.raises(ValueError):
        distinct_rows_polars(bad)
