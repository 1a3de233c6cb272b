"""Build a small model.json for the scoring tests (no artifacts needed): fit the feature
transform on some users, fit K-Means and Ward, and assemble the model with the package's own
functions (contract, segment maps, reason templates, label table)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering, KMeans

from analysis.clustering.distinct import Distinct
from analysis.config import load_config
from analysis.features.activity import activity_scores, score_weights
from analysis.features.placeholder import detect_login_placeholder
from analysis.features.transform import feature_decisions, fit_transform_params, transform
from analysis.scoring.keys import integer_keys, label_table
from analysis.scoring.model import build_model, contract
from analysis.segments.assign import segment_map
from analysis.segments.reasons import REASONS
from analysis.segments.types import (
    BANDS,
    ROLES,
    TIER_OF_TYPE,
    TYPE_GROUP,
    TYPE_IDS,
    recent_cut_days,
    segment_types,
    tiers_of_types,
)
from analysis.vocabulary import TIERS, solution_key


def _fit(algorithm: str, k: int, X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels int64[n] and centroids float64[k, f] of one solution on ``X``."""
    if algorithm == "kmeans":
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(X)
        return km.labels_.astype(np.int64), km.cluster_centers_
    labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
    return labels.astype(np.int64), np.vstack([X[labels == c].mean(axis=0) for c in range(k)])


def build_test_model(users: pd.DataFrame, kmeans_ks: tuple[int, ...] = (3, 4),
                     ward_ks: tuple[int, ...] = (3, 4), chosen: tuple[str, int] = ("kmeans", 4),
                     seed: int = 0) -> dict[str, Any]:
    """A model.json dict fitted on ``users`` (typed, raw schema), Ward on every distinct row."""
    return fit_test_model(users, kmeans_ks, ward_ks, chosen, seed)[0]


def fit_test_model(users: pd.DataFrame, kmeans_ks: tuple[int, ...] = (3, 4),
                   ward_ks: tuple[int, ...] = (3, 4), chosen: tuple[str, int] = ("kmeans", 4),
                   seed: int = 0) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The model and every fitted user's cluster per solution key (int64[n])."""
    config = load_config()
    found = detect_login_placeholder(users["seniority"].to_numpy(),
                                     users["daysSinceLastLogin"].to_numpy(), config.placeholder)
    bound = found["censor_days"]
    params = fit_transform_params(users, config.features, bound)
    distinct = Distinct.of(transform(users, params))
    weights = score_weights(config.tiers.weights)
    types = segment_types(users, bound, recent_cut_days(users["daysSinceLastLogin"], bound))
    tiers = tiers_of_types(types)
    solutions, labels, centroids, maps = [], {}, {}, {}
    for algorithm, k in [("kmeans", k) for k in kmeans_ks] + [("ward", k) for k in ward_ks]:
        key = solution_key(algorithm, k)
        labels[key], centroids[key] = _fit(algorithm, k, distinct.rows, seed)
        scores = activity_scores(centroids[key], weights)
        maps[key] = segment_map(tiers, types, config.segments.min_segment_share)
        solutions.append({"algorithm": algorithm, "k": k, "centroids": centroids[key].tolist(),
                          "activity_score": scores.tolist(),
                          "sizes": np.bincount(labels[key][distinct.inverse], minlength=k)
                          .tolist()})
    first = np.empty(len(distinct.counts), dtype=np.int64)
    first[distinct.inverse] = np.arange(len(users))
    keys = integer_keys(users[[p["column"] for p in params]].to_numpy(np.int64)[first], params)
    extras = {
        "contract": contract([p["column"] for p in params], config.validation.max_count,
                             config.validation.max_days),
        "tier_colors": {t: config.tiers.colors[t] for t in TIERS},
        "placeholder": {"censor_days": bound, "offsets": [
            {k: p[k] for k in ("seniority_min", "seniority_max", "offset")}
            for p in found["placeholders"]]},
        "segments": {"recent_days": recent_cut_days(users["daysSinceLastLogin"], bound),
                     "censor_days": bound, "types": list(TYPE_IDS), "groups": dict(TYPE_GROUP),
                     "tier_of_type": dict(TIER_OF_TYPE), "roles": list(ROLES),
                     "bands": list(BANDS), "labels": {}, "maps": maps},
        "reasons": REASONS,
        "scoring": {"tie_tolerance": config.scoring.tie_tolerance,
                    "round_digits": config.scoring.round_digits},
        "label_table": label_table(keys, distinct.rows, labels, centroids,
                                   config.scoring.tie_tolerance),
    }
    formula = feature_decisions(params, config.features)["formula"]
    model = build_model(params, formula, solutions, {"algorithm": chosen[0], "k": chosen[1]},
                        extras)
    return model, {key: lab[distinct.inverse] for key, lab in labels.items()}


def write_model(model: dict[str, Any], path: Path) -> Path:
    """Write ``model`` as JSON (as the pipeline does: plain floats, round-trip exact)."""
    path.write_text(json.dumps(model), encoding="utf-8")
    return path


#: Largest |difference| accepted between two scorers' distances or margins. Both compute the
#: same sums of squares in the same order, but libm's log1p/sqrt and the CPU's fused
#: multiply-add may differ in the last bit between machines (measured gap: 2e-16), and both
#: round to ``[scoring].round_digits`` (a value on a rounding boundary may land one unit
#: apart); ids, clusters, tiers, segments, reasons and ties are compared exactly.
FLOAT_TOLERANCE = 1.5 * 10.0 ** -load_config().scoring.round_digits


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
