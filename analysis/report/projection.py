"""PCA view of the scaled features and the stratified sample of users the site plots."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from analysis.config import PcaConfig
from analysis.features.transform import FEATURE_NAMES
from analysis.vocabulary import solution_key


def stratified_sample(labels: np.ndarray, size: int, seed: int, min_per_group: int = 30
                      ) -> np.ndarray:
    """Sorted row indices: about ``size`` rows, proportional to each label's share, at least
    ``min_per_group`` (or all) of every label so small clusters stay visible."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    if n <= size:
        return np.arange(n)
    picked = []
    groups = np.unique(labels)
    for g in groups:
        idx = np.flatnonzero(labels == g)
        take = min(len(idx), max(min_per_group, int(round(size * len(idx) / n))))
        picked.append(rng.choice(idx, size=take, replace=False))
    out = np.sort(np.concatenate(picked))
    if len(out) > size:  # the minimum per group can overshoot; trim evenly at random
        out = np.sort(rng.choice(out, size=size, replace=False))
    return out


def pca_view(X: np.ndarray, sample: np.ndarray) -> dict[str, Any]:
    """PCA (2 components) fitted on all users ``X`` float64[n, f]; coordinates of ``sample``."""
    pca = PCA(n_components=2, svd_solver="full").fit(X)
    coords = pca.transform(X[sample])
    return {
        "explained_variance_ratio": [round(float(v), 6) for v in pca.explained_variance_ratio_],
        "loadings": [{"feature": f, "pc1": round(float(a), 6), "pc2": round(float(b), 6)}
                     for f, a, b in zip(FEATURE_NAMES, *pca.components_, strict=True)],
        "sample_size": int(len(sample)),
        "pc1": np.round(coords[:, 0], 5).tolist(),
        "pc2": np.round(coords[:, 1], 5).tolist(),
    }


#: Raw columns carried with the PCA sample for the scatter's tooltips.
PCA_TOOLTIP_COLUMNS = ["daysSinceLastLogin", "socialProductsLiked", "productsSold"]


def pca_document(X: np.ndarray, users: pd.DataFrame, user_labels: dict[tuple[str, int], np.ndarray],
                 user_tiers: dict[tuple[str, int], np.ndarray], best: tuple[str, int],
                 cfg: PcaConfig) -> dict[str, Any]:
    """PCA of all users' features ``X`` float64[n, f] and a sample stratified by the chosen
    solution's clusters: coordinates, tooltip columns, every solution's labels and tiers."""
    sample = stratified_sample(user_labels[best], cfg.sample_size, cfg.random_state)
    pca = pca_view(X, sample)
    pca["points"] = {
        "pc1": pca.pop("pc1"), "pc2": pca.pop("pc2"),
        **{c: users[c].to_numpy()[sample].tolist() for c in PCA_TOOLTIP_COLUMNS},
        "labels": {solution_key(*k): v[sample].tolist() for k, v in user_labels.items()},
        "tiers": {solution_key(*k): v[sample].tolist() for k, v in user_tiers.items()},
    }
    return pca
