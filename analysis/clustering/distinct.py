"""Users collapsed to their distinct feature rows, each weighted by how many users share it.

Most users share the platform defaults and zero activity, so the n users collapse to m << n
distinct feature rows. Weighted K-Means on the m rows optimises the same objective as K-Means on
the n rows, and weighted Ward on them builds the same tree above height 0 (identical rows merge
first at height 0). Working on the sorted distinct rows also makes every result independent of
the order of the input rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


def distinct_rows_polars(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`analysis.clustering.fastward.distinct_rows` through a polars dense rank of the
    rows (rows compared column by column, column 0 first: the same lexicographic order).

    Args:
        X: float64[n, d] feature matrix, finite.

    Returns:
        ``U`` float64[m, d] distinct rows in lexicographic order, ``counts`` int64[m],
        ``inverse`` int64[n] with ``U[inverse] == X``; ``-0.0`` counts as ``0.0``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or not np.isfinite(X).all():
        raise ValueError("X must be a non-empty finite float matrix")
    names = [f"f{j}" for j in range(X.shape[1])]
    frame = pl.DataFrame({name: X[:, j] + 0.0 for j, name in enumerate(names)})
    inverse = frame.select(pl.struct(names).rank("dense"))[names[0]].to_numpy().astype(np.int64)
    inverse -= 1
    counts = np.bincount(inverse).astype(np.int64)
    first = np.empty(len(counts), dtype=np.int64)
    first[inverse] = np.arange(len(inverse))
    return X[first] + 0.0, counts, inverse


@dataclass(frozen=True)
class Distinct:
    """Users collapsed to distinct feature rows: ``rows`` float64[m, f], ``counts`` int64[m]
    (users per row, sum n) and ``inverse`` int64[n] (the distinct row of each user)."""

    rows: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray) -> Distinct:
        """Collapse ``X`` float64[n, f] (rows sorted lexicographically, deterministic).

        Through :func:`distinct_rows_polars`: the same result as NumPy's
        :func:`~analysis.clustering.fastward.distinct_rows`, measured faster at 6 million
        users (``c2c bench``, ``intake.distinct``)."""
        rows, counts, inverse = distinct_rows_polars(X)
        return cls(rows, counts.astype(np.int64), inverse.astype(np.int64))

    @property
    def n_users(self) -> int:
        """n, the number of users the rows stand for."""
        return int(self.counts.sum())
