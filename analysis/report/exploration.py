"""Aggregates that describe the raw data (distributions, defaults, correlations, places, recency).

The exploration page draws only these numbers: no page ever embeds user rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.config import FeaturesConfig
from analysis.features.activity import product_activity
from analysis.features.transform import FEATURE_COLUMNS
from analysis.intake.schema import COUNT_COLUMNS
from analysis.segments.profiles import shares

#: Width of the recency histogram's bins, in days.
RECENCY_BIN_DAYS = 30
NUMERIC_COLUMNS = [*COUNT_COLUMNS, "productsPassRate", "daysSinceLastLogin", "seniority"]


def log_histogram(values: np.ndarray, bins: int = 20) -> list[dict[str, float]]:
    """Histogram of log1p(values) in ``bins`` equal bins, edges given back in raw units."""
    logged = np.log1p(values.astype(np.float64))
    counts, edges = np.histogram(logged, bins=bins)
    raw_edges = np.expm1(edges)
    return [{"bin_start": round(float(a), 4), "bin_end": round(float(b), 4), "count": int(c)}
            for a, b, c in zip(raw_edges[:-1], raw_edges[1:], counts, strict=True)]


def column_summary(values: pd.Series) -> dict[str, Any]:
    """Zero share, median, mean, p99, max, skewness and log-scale histogram of one column."""
    v = values.to_numpy(np.float64)
    return {
        "zero_share": round(float((v == 0).mean()), 6),
        "min": float(v.min()),
        "median": float(np.median(v)),
        "mean": round(float(v.mean()), 6),
        "p99": float(np.quantile(v, 0.99)),
        "max": float(v.max()),
        "skew": round(float(pd.Series(v).skew()), 6),
        "histogram": log_histogram(v),
    }


def explore(users: pd.DataFrame, params: list[dict[str, Any]], feats: FeaturesConfig,
            top_countries: int) -> dict[str, Any]:
    """All exploration aggregates of ``users`` (typed raw table, n rows).

    ``params`` are the fitted feature transform (:func:`fit_transform_params`), ``feats`` the
    platform defaults, ``top_countries`` how many countries are listed before "other".
    """
    followers_default = users["socialNbFollowers"] == feats.default_followers
    follows_default = users["socialNbFollows"] == feats.default_follows
    corr = users[NUMERIC_COLUMNS].corr(method="spearman").fillna(0.0)
    days = users["daysSinceLastLogin"].to_numpy()
    top = int(days.max()) + RECENCY_BIN_DAYS if len(days) else RECENCY_BIN_DAYS
    recency_counts, recency_edges = np.histogram(days, bins=np.arange(0, top, RECENCY_BIN_DAYS))
    logged = np.log1p(np.maximum(users[list(FEATURE_COLUMNS)].to_numpy(np.float64)
                                 - np.array([p["offset"] for p in params]), 0))
    above_cap = (logged > np.array([p["cap"] for p in params]) + 1e-12).sum(axis=0)
    seniority = users["seniority"].value_counts().sort_index()
    return {
        "n_users": int(len(users)),
        "columns": {c: column_summary(users[c]) for c in NUMERIC_COLUMNS},
        "defaults": {
            "default_followers": feats.default_followers,
            "default_follows": feats.default_follows,
            "followers_at_default_share": round(float(followers_default.mean()), 6),
            "follows_at_default_share": round(float(follows_default.mean()), 6),
            "both_default_share": round(float((followers_default & follows_default).mean()), 6),
            "no_product_activity_share": round(float((product_activity(users) == 0).mean()), 6),
        },
        "correlations": {"method": "spearman", "columns": NUMERIC_COLUMNS,
                         "matrix": np.round(corr.to_numpy(), 6).tolist()},
        "countries": shares(users["country"], "country", top_n=top_countries),
        "n_countries": int(users["country"].nunique()),
        "n_country_codes": int(users["countryCode"].nunique()),
        "languages": shares(users["language"], "language"),
        "recency": [{"bin_start": int(a), "bin_end": int(b), "count": int(c)} for a, b, c in
                    zip(recency_edges[:-1], recency_edges[1:], recency_counts, strict=True)],
        "seniority": [{"seniority": int(s), "users": int(n)} for s, n in seniority.items()],
        "any_app_share": round(float(users["hasAnyApp"].mean()), 6),
        "outliers": {p["name"]: int(n) for p, n in zip(params, above_cap, strict=True)},
        "distinct_behaviour_rows": int(len(users[list(FEATURE_COLUMNS)].drop_duplicates())),
        "duplicate_rows_without_id": int(users.drop(columns="identifierHash").duplicated().sum()),
        # productsListed is current stock: sellers whose items are all gone list 0
        "sold_without_listing": int(((users["productsSold"] > 0)
                                     & (users["productsListed"] == 0)).sum()),
    }
