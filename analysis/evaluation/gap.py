"""The gap statistic (Tibshirani, Walther & Hastie 2001): is any k natural for this data?

Reference sets are drawn uniformly in the bounding box of the distinct feature rows. Dispersion
is per point (``log(W_k / n)`` for the data, ``log(W*_k / n_points)`` for a reference) so that
references smaller than n are comparable; a constant shift between the two does not change
gap(k) - gap(k') nor the 1-SE rule. When the gap keeps rising there is no natural k: the data
is a continuum and the choice rests on the stated rule, not on a "true" number of groups.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from analysis.clustering.distinct import Distinct
from analysis.config import GapConfig


def gap_statistic(distinct: Distinct, inertia: dict[int, float], cfg: GapConfig
                  ) -> dict[str, Any]:
    """Gap(k) of one algorithm from its weighted within-cluster sums of squares ``inertia``
    ({k: W_k in squared scaled units}) against ``cfg.n_refs`` uniform reference sets.

    Returns ``ks``, ``gap``, ``s`` (sd * sqrt(1 + 1/B)) and ``k_hat``: the smallest k with
    gap(k) >= gap(k+1) - s(k+1), or None when the gap rises at every k (no natural k).
    """
    ks = sorted(inertia)
    rows = distinct.rows
    lo, hi = rows.min(axis=0), rows.max(axis=0)
    rng = np.random.default_rng(cfg.random_state)
    ref = np.zeros((cfg.n_refs, len(ks)))
    with threadpool_limits(limits=1, user_api="openmp"):
        for b in range(cfg.n_refs):
            points = lo + (hi - lo) * rng.random((cfg.n_points, rows.shape[1]))
            for i, k in enumerate(ks):
                model = KMeans(n_clusters=k, n_init=1, random_state=cfg.random_state + b)
                ref[b, i] = np.log(model.fit(points).inertia_ / cfg.n_points)
    log_w = np.log(np.array([inertia[k] for k in ks]) / distinct.n_users)
    gap = ref.mean(axis=0) - log_w
    s = ref.std(axis=0) * np.sqrt(1 + 1 / cfg.n_refs)
    k_hat = next((ks[i] for i in range(len(ks) - 1) if gap[i] >= gap[i + 1] - s[i + 1]), None)
    return {"ks": ks, "gap": [round(float(g), 6) for g in gap],
            "s": [round(float(v), 6) for v in s], "k_hat": k_hat,
            "reference": f"uniform in the bounding box, {cfg.n_refs} sets of {cfg.n_points} "
                         "points"}
