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

from analysis.clustering.fastward import distinct_rows


@dataclass(frozen=True)
class Distinct:
    """Users collapsed to distinct feature rows: ``rows`` float64[m, f], ``counts`` int64[m]
    (users per row, sum n) and ``inverse`` int64[n] (the distinct row of each user)."""

    rows: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray) -> Distinct:
        """Collapse ``X`` float64[n, f] (rows sorted lexicographically, deterministic)."""
        rows, counts, inverse = distinct_rows(X)
        return cls(rows, counts.astype(np.int64), inverse.astype(np.int64))

    @property
    def n_users(self) -> int:
        """n, the number of users the rows stand for."""
        return int(self.counts.sum())
