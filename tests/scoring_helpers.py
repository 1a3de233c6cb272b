"""Build a small model.json for the scoring tests (no artifacts needed): fit the feature
transform on some users, fit K-Means and Ward, and assemble it with
analysis.scoring.model.build_model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering, KMeans

from analysis.config import load_config
from analysis.features.transform import feature_decisions, fit_transform_params, transform
from analysis.scoring.model import build_model
from analysis.vocabulary import TIERS


def _tiers(centroids: np.ndarray) -> list[str]:
    """Tier of each cluster by its centroid's mean (a simple rule; the tests need any rule)."""
    order = np.argsort(centroids.mean(axis=1), kind="stable")
    tiers = [""] * len(order)
    for rank, c in enumerate(order):
        if rank == 0:
            tiers[c] = TIERS[0]
        elif rank == len(order) - 1:
            tiers[c] = TIERS[2]
        else:
            tiers[c] = TIERS[1]
    return tiers


def _solution(algorithm: str, labels: np.ndarray, X: np.ndarray, k: int,
              centroids: np.ndarray | None = None) -> dict[str, Any]:
    if centroids is None:
        centroids = np.vstack([X[labels == c].mean(axis=0) for c in range(k)])
    return {"algorithm": algorithm, "k": k, "centroids": centroids.tolist(),
            "tier_of_cluster": _tiers(centroids),
            "activity_score": [float(v) for v in centroids.mean(axis=1)],
            "sizes": [int((labels == c).sum()) for c in range(k)]}


def build_test_model(users: pd.DataFrame, kmeans_ks: tuple[int, ...] = (3, 4),
                     ward_ks: tuple[int, ...] = (3, 4), chosen: tuple[str, int] = ("kmeans", 4),
                     ward_rows: int = 2000, seed: int = 0) -> dict[str, Any]:
    """A model.json dict fitted on ``users`` (typed, raw schema): K-Means on all rows, Ward on
    at most ``ward_rows`` of them (its centroids are the cluster means)."""
    config = load_config()
    params = fit_transform_params(users, config.features)
    X = transform(users, params)
    solutions = []
    for k in kmeans_ks:
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(X)
        solutions.append(_solution("kmeans", km.labels_, X, k, km.cluster_centers_))
    rng = np.random.default_rng(seed)
    sample = X[rng.choice(len(X), size=min(ward_rows, len(X)), replace=False)]
    for k in ward_ks:
        labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(sample)
        solutions.append(_solution("ward", labels, sample, k))
    formula = feature_decisions(params, config.features)["formula"]
    return build_model(params, formula, solutions, {"algorithm": chosen[0], "k": chosen[1]})


def write_model(model: dict[str, Any], path: Path) -> Path:
    """Write ``model`` as JSON (as the pipeline does: plain floats, round-trip exact)."""
    path.write_text(json.dumps(model), encoding="utf-8")
    return path


#: Largest |difference| accepted between two scorers' distances or margins. Both compute the
#: same sums of squares in the same order, but libm's log1p/sqrt and the CPU's fused
#: multiply-add may differ in the last bit between machines (measured gap: 2e-16); ids,
#: clusters, tiers and reasons are compared exactly.
FLOAT_TOLERANCE = 1e-9


def _as_float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def assert_same_csv(got: str, expected: str, tolerance: float = FLOAT_TOLERANCE) -> None:
    """Two CSV texts hold the same table: same header, rows and cells; cells that both parse as
    non-integral numbers may differ by ``tolerance``, every other cell must be identical."""
    import csv
    import io
    import math

    rows_got = list(csv.reader(io.StringIO(got, newline="")))
    rows_exp = list(csv.reader(io.StringIO(expected, newline="")))
    assert len(rows_got) == len(rows_exp), (len(rows_got), len(rows_exp))
    for line, (a, b) in enumerate(zip(rows_got, rows_exp, strict=True), start=1):
        assert len(a) == len(b), (line, a, b)
        for cell_a, cell_b in zip(a, b, strict=True):
            if cell_a == cell_b:
                continue
            x, y = _as_float(cell_a), _as_float(cell_b)
            integral = any(c.lstrip("+-").isdigit() for c in (cell_a, cell_b))
            assert x is not None and y is not None and not integral and \
                math.isclose(x, y, rel_tol=0.0, abs_tol=tolerance), \
                f"line {line}: {cell_a!r} != {cell_b!r}"
