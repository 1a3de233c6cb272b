"""Behavioural features: from raw user columns to a matrix in [0, 1] that K-Means and Ward share.

Every feature is oriented so that higher = more active:

    x = clip((min(log1p(max(min(value, censor) - offset, 0)), cap) - lo) / (hi - lo), 0, 1)
    x = 1 - x   for features marked ``invert`` (none today)

Recency (days since the last login) is not a feature: clusters describe what users do, and the
tiers read recency inside every cluster (:mod:`analysis.segments.types`). ``censor`` would apply
to a recency feature only (the login placeholder bound, :mod:`.placeholder`); with none in
:data:`FEATURE_SPECS` every ``censor`` is None. The mechanism stays for the design comparison,
which measures the clustering with recency in the distance (:mod:`analysis.segments.designs`).

``offset`` removes platform defaults (config ``[features]``); ``cap`` is a high quantile of the
log1p values (config ``features.cap_quantile``) so that a handful of power sellers cannot stretch
the scale; ``lo``/``hi`` are the min/max of the capped values. The fitted parameters are plain
numbers, saved in ``model.json`` so that the browser scorer applies the very same transform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.config import FeaturesConfig


@dataclass(frozen=True)
class FeatureSpec:
    """One clustering feature: its source column, default to subtract, orientation and reason."""

    name: str
    column: str
    offset_key: str | None  # config [features] key holding the platform default, if any
    invert: bool
    reason: str


FEATURE_SPECS: tuple[FeatureSpec, ...] = (
    FeatureSpec("followers_excess", "socialNbFollowers", "default_followers", False,
                "Followers beyond the {offset:g} every new account gets: others care about this "
                "seller."),
    FeatureSpec("follows_excess", "socialNbFollows", "default_follows", False,
                "Follows beyond the {offset:g} every new account gets: the user builds a network."),
    FeatureSpec("products_liked", "socialProductsLiked", None, False,
                "Likes: the lightest form of engagement with the catalogue."),
    FeatureSpec("products_listed", "productsListed", None, False,
                "Products on sale now: supply-side activity."),
    FeatureSpec("products_sold", "productsSold", None, False,
                "Products sold: completed supply-side transactions."),
    FeatureSpec("products_wished", "productsWished", None, False,
                "Wish-list entries: purchase intent."),
    FeatureSpec("products_bought", "productsBought", None, False,
                "Products bought: completed demand-side transactions."),
)
RECENCY_COLUMN = "daysSinceLastLogin"
FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURE_SPECS)
FEATURE_COLUMNS: tuple[str, ...] = tuple(spec.column for spec in FEATURE_SPECS)

#: Columns deliberately kept out of the distance, and why (shown on the site).
EXCLUDED_COLUMNS: dict[str, str] = {
    "daysSinceLastLogin": "Recency: kept out of the distance so that clusters describe what "
                          "users do; the tiers read it inside every cluster, at the recent cut "
                          "and the login placeholder's bound.",
    "seniority": "Sign-up cohort (two cohorts, 19 values): clustering on it would split users by "
                 "when they joined, not by what they do.",
    "seniorityAsMonths": "Redundant: seniority / 30.",
    "seniorityAsYears": "Redundant: seniority / 360.",
    "hasAnyApp": "App ownership: a public attempt's 'activity' clusters turned out to be app "
                 "ownership x cohort; kept for profiles only.",
    "hasAndroidApp": "App ownership (see hasAnyApp); profiles only.",
    "hasIosApp": "App ownership (see hasAnyApp); profiles only.",
    "hasProfilePicture": "Profile completeness, not activity (almost every user has one).",
    "productsPassRate": "Quality of listings, not activity; 0 for 99% of users and undefined "
                        "without listings.",
    "gender": "Demographic, not behaviour; profiles only.",
    "civilityGenderId": "Redundant with gender.",
    "civilityTitle": "Redundant with gender.",
    "country": "Geography, not behaviour; profiles only.",
    "countryCode": "Redundant with country.",
    "language": "Geography, not behaviour; profiles only.",
    "type": "Constant ('user').",
    "identifierHash": "Identifier.",
}


def offsets(feats: FeaturesConfig) -> list[float]:
    """The platform default subtracted from each feature's column (0 where there is none)."""
    return [float(getattr(feats, s.offset_key)) if s.offset_key else 0.0 for s in FEATURE_SPECS]


def log_excess(values: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """log1p(max(values - offset, 0)), column-wise; values float64[n, f], offset float64[f]."""
    return np.log1p(np.maximum(values - offset, 0.0))


def censors(censor_days: int | None) -> list[float | None]:
    """The censoring bound of each feature's column: ``censor_days`` for recency, else None."""
    return [censor_days if spec.column == RECENCY_COLUMN else None for spec in FEATURE_SPECS]


def censored_values(values: np.ndarray, bounds: list[float | None]) -> np.ndarray:
    """``values`` float64[n, f] with column j capped at ``bounds[j]`` (None: untouched)."""
    out = np.array(values, dtype=np.float64, copy=True)
    for j, bound in enumerate(bounds):
        if bound is not None:
            np.minimum(out[:, j], float(bound), out=out[:, j])
    return out


def fit_transform_params(users: pd.DataFrame, feats: FeaturesConfig,
                         censor_days: int | None) -> list[dict[str, Any]]:
    """Fit per-feature ``offset``, ``cap``, ``lo``, ``hi`` (log1p units) on ``users`` [n rows].

    Returns one plain dict per feature (JSON-ready, the ``features`` entry of model.json).
    """
    offset = np.asarray(offsets(feats))
    bounds = censors(censor_days)
    logged = log_excess(censored_values(users[list(FEATURE_COLUMNS)].to_numpy(np.float64),
                                        bounds), offset)
    caps = np.quantile(logged, feats.cap_quantile, axis=0, method="linear")
    capped = np.minimum(logged, caps)
    params = []
    for j, spec in enumerate(FEATURE_SPECS):
        params.append({
            "name": spec.name,
            "column": spec.column,
            "offset": float(offset[j]),
            "censor": bounds[j],
            "cap": float(caps[j]),
            "key_limit": key_limit(float(caps[j])),
            "lo": float(capped[:, j].min()),
            "hi": float(capped[:, j].max()),
            "invert": spec.invert,
        })
    return params


def key_limit(cap: float) -> int:
    """The smallest integer excess x >= 0 with log1p(x) >= ``cap``: above it every value maps
    to the same capped feature, so ``min(excess, key_limit)`` identifies the feature exactly."""
    x = max(int(np.floor(np.expm1(cap))), 0)
    while np.log1p(x) < cap:
        x += 1
    while x > 0 and np.log1p(x - 1) >= cap:
        x -= 1
    return x


def transform(users: pd.DataFrame, params: list[dict[str, Any]]) -> np.ndarray:
    """Apply fitted ``params`` to ``users``: float64[n, f] in [0, 1], higher = more active."""
    values = censored_values(users[[p["column"] for p in params]].to_numpy(np.float64),
                             [p.get("censor") for p in params])
    offset = np.array([p["offset"] for p in params])
    cap = np.array([p["cap"] for p in params])
    lo = np.array([p["lo"] for p in params])
    span = np.array([p["hi"] - p["lo"] for p in params])
    span[span <= 0] = 1.0  # a constant feature maps to 0 instead of dividing by zero
    scaled = np.clip((np.minimum(log_excess(values, offset), cap) - lo) / span, 0.0, 1.0)
    invert = np.array([p["invert"] for p in params])
    scaled[:, invert] = 1.0 - scaled[:, invert]
    return scaled


def feature_decisions(params: list[dict[str, Any]], feats: FeaturesConfig) -> dict[str, Any]:
    """What went into the distance and why, and what stayed out (for the artifacts and the site)."""
    used = [
        {**p, "reason": spec.reason.format(offset=p["offset"])}
        for p, spec in zip(params, FEATURE_SPECS, strict=True)
    ]
    return {
        "formula": "x = clip((min(log1p(max(min(value, censor) - offset, 0)), cap) - lo) / "
                   "(hi - lo), 0, 1); x = 1 - x when invert",
        "cap_quantile": feats.cap_quantile,
        "used": used,
        "excluded": [{"column": c, "reason": r} for c, r in EXCLUDED_COLUMNS.items()],
    }
