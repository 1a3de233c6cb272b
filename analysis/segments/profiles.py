"""Profiles of groups of users (clusters, tiers) in raw units, and tier cross-tabs and tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.features.activity import product_activity
from analysis.vocabulary import TIERS

#: Raw columns profiled per cluster and per tier.
PROFILE_COLUMNS = [
    "socialNbFollowers", "socialNbFollows", "socialProductsLiked", "productsListed",
    "productsSold", "productsPassRate", "productsWished", "productsBought",
    "daysSinceLastLogin", "seniority",
]


def crosstab_shares(groups: np.ndarray, tiers: np.ndarray, by: str) -> list[dict[str, Any]]:
    """Users and within-group share per (group, tier), every tier listed for every group."""
    counts = pd.crosstab(pd.Series(groups, name=by), pd.Categorical(tiers, list(TIERS)),
                         dropna=False)
    rows = []
    for group, row in counts.iterrows():
        total = max(int(row.sum()), 1)
        value = group.item() if hasattr(group, "item") else group
        rows.extend({by: value, "tier": t, "users": int(row[t]),
                     "share": round(int(row[t]) / total, 6)} for t in TIERS)
    return rows


def group_profiles(users: pd.DataFrame, groups: np.ndarray, n_total: int, top_n: int
                   ) -> dict[Any, dict[str, Any]]:
    """Profile of every group of users (raw columns), keyed by group value.

    ``groups`` is one value per row of ``users``. Each profile: size, share of ``n_total``,
    median / mean / quartiles of PROFILE_COLUMNS, share with any app, share with no product
    activity, share who ever listed, sold or bought, top ``top_n`` countries and languages
    (share within the group).
    """
    traded = users[["productsListed", "productsSold", "productsBought"]].to_numpy() > 0
    frame = users[PROFILE_COLUMNS].assign(
        _group=groups, _app=users["hasAnyApp"].to_numpy(dtype=float),
        _idle=(product_activity(users) == 0).astype(float), _traded=traded.any(axis=1))
    grouped = frame.groupby("_group", sort=True, observed=True)
    quart = grouped[PROFILE_COLUMNS].quantile([0.25, 0.5, 0.75])
    q1, median, q3 = (quart.xs(q, level=1).to_dict("index") for q in (0.25, 0.5, 0.75))
    means = grouped[PROFILE_COLUMNS + ["_app", "_idle", "_traded"]].mean().to_dict("index")
    sizes = grouped.size()
    places = {key: _top_shares(users[key], groups, top_n, key) for key in ("country", "language")}
    out = {}
    for g, size in sizes.items():
        out[g] = {
            "size": int(size),
            "share": round(int(size) / n_total, 6),
            "stats": {c: {"median": float(median[g][c]), "mean": round(float(means[g][c]), 6),
                          "q1": float(q1[g][c]), "q3": float(q3[g][c])} for c in PROFILE_COLUMNS},
            "any_app_share": round(float(means[g]["_app"]), 6),
            "no_product_activity_share": round(float(means[g]["_idle"]), 6),
            "traded_share": round(float(means[g]["_traded"]), 6),
            "top_countries": places["country"].get(g, []),
            "top_languages": places["language"].get(g, []),
        }
    return out


def _top_shares(values: pd.Series, groups: np.ndarray, n: int, key: str
                ) -> dict[Any, list[dict[str, Any]]]:
    """Per group, the ``n`` most frequent values and their share in the group (ties by name)."""
    counts = (pd.DataFrame({"g": groups, "v": values.to_numpy()})
              .value_counts().rename("n").reset_index()
              .sort_values(["g", "n", "v"], ascending=[True, False, True], kind="stable"))
    totals = counts.groupby("g")["n"].transform("sum")
    counts["share"] = (counts["n"] / totals).round(6)
    return {g: [{key: str(v), "share": float(sh)} for v, sh in zip(part["v"], part["share"],
                                                                   strict=True)][:n]
            for g, part in counts.groupby("g", sort=True)}


def tier_tests(users: pd.DataFrame, tiers: np.ndarray) -> list[dict[str, Any]]:
    """Kruskal-Wallis H across tiers per profiled column, with epsilon-squared effect size.

    epsilon^2 = (H - g + 1) / (n - g) for g groups, n users (0 = no effect, 1 = all variance).
    """
    out = []
    present = [t for t in TIERS if (tiers == t).any()]
    n, g = len(users), len(present)
    for column in PROFILE_COLUMNS:
        groups = [users.loc[tiers == t, column].to_numpy() for t in present]
        if g < 2 or np.ptp(users[column].to_numpy()) == 0:
            out.append({"column": column, "H": 0.0, "p_value": 1.0, "epsilon_squared": 0.0})
            continue
        h, p = stats.kruskal(*groups)
        out.append({"column": column, "H": round(float(h), 6), "p_value": float(p),
                    "epsilon_squared": round(float((h - g + 1) / (n - g)), 6)})
    return out


def shares(series: pd.Series, key: str, top_n: int | None = None) -> list[dict[str, Any]]:
    """Users and share per value, most frequent first (ties by name); optional top_n + 'other'."""
    counts = series.value_counts().sort_index(kind="stable").sort_values(ascending=False,
                                                                         kind="stable")
    total = int(counts.sum())
    rows = [{key: str(k), "users": int(v), "share": round(v / total, 6)}
            for k, v in counts.items()]
    if top_n is not None and len(rows) > top_n:
        other = sum(r["users"] for r in rows[top_n:])
        rows = rows[:top_n] + [{key: "other", "users": other, "share": round(other / total, 6)}]
    return rows


def tier_crosstabs(users: pd.DataFrame, tiers: np.ndarray, top_n: int) -> dict[str, Any]:
    """Tier shares within each of the ``top_n`` most common countries and by app ownership."""
    top = [c["country"] for c in shares(users["country"], "country", top_n)
           if c["country"] != "other"]
    in_top = users["country"].isin(top).to_numpy()
    return {
        "tiers_by_country": crosstab_shares(users["country"].to_numpy()[in_top], tiers[in_top],
                                            "country"),
        "tiers_by_app": crosstab_shares(users["hasAnyApp"].to_numpy(), tiers, "has_any_app"),
    }
