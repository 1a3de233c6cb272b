"""How active a point of the feature space is, and whether a user has any product history.

The activity score orders clusters (their ids, :mod:`analysis.clustering.solution`) and maps them
to tiers (:mod:`analysis.segments.tiers`): one definition serves both.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.features.transform import FEATURE_NAMES

#: Raw columns that count as product history (a user with any of them above 0 has some).
PRODUCT_COLUMNS = ["socialProductsLiked", "productsListed", "productsSold", "productsWished",
                   "productsBought"]


def score_weights(weights: Mapping[str, float]) -> np.ndarray:
    """Activity weights float64[f] in FEATURE_NAMES order (config ``[tiers].weights``)."""
    return np.array([float(weights[name]) for name in FEATURE_NAMES])


def activity_scores(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of each point's scaled features: float64[k] in [0, 1] for ``points``
    float64[k, f] (all features oriented so that higher = more active)."""
    return points @ weights / weights.sum()


def product_activity(users: pd.DataFrame) -> np.ndarray:
    """Total product interactions per user (liked + listed + sold + wished + bought): int64[n].

    Each count is validated to lie below a per-user ceiling, so the sum cannot overflow.
    """
    return users[PRODUCT_COLUMNS].to_numpy(np.int64).sum(axis=1)
