"""From clusters to activity tiers, the rule-based baseline, and per-cluster / per-tier profiles.

Tier rule (documented on the site): the activity score of a cluster is the weighted mean of its
centroid's scaled features (config ``tiers.weights``; every feature is in [0, 1] and oriented so
that higher = more active). Clusters sorted by score are cut into inactive / moderate / active by
natural breaks (Jenks: least within-tier squared deviation of scores). With k = 2: inactive, active.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.features.transform import FEATURE_NAMES
from analysis.scoring.model import TIERS

TIER_RULE = (
    "Each cluster's activity score is the weighted mean of its centroid's scaled features "
    "(all in [0, 1], higher = more active; recency counts as 1 - scaled days since last login). "
    "Clusters sorted by score are split into inactive / moderate / active by natural breaks "
    "(the split that keeps each tier's scores closest to the tier's mean score), so the tiers "
    "follow the data's own breaks, never cluster numbers. With k = 2: inactive and active."
)

#: Raw columns profiled per cluster and per tier.
PROFILE_COLUMNS = [
    "socialNbFollowers", "socialNbFollows", "socialProductsLiked", "productsListed",
    "productsSold", "productsPassRate", "productsWished", "productsBought",
    "daysSinceLastLogin", "seniority",
]
PRODUCT_COLUMNS = ["socialProductsLiked", "productsListed", "productsSold", "productsWished",
                   "productsBought"]


def score_weights(config: dict[str, Any]) -> np.ndarray:
    """Tier weights float64[f] in FEATURE_NAMES order."""
    weights = config["tiers"]["weights"]
    return np.array([float(weights[name]) for name in FEATURE_NAMES])


def activity_scores(centroids: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of each centroid's scaled features: float64[k] in [0, 1]."""
    return centroids @ weights / weights.sum()


def tiers_from_scores(scores: np.ndarray) -> list[str]:
    """Tier per cluster by natural breaks of the activity scores (Jenks, exact for k <= 10).

    The sorted scores are cut into three contiguous groups (two when k = 2) so that the sum of
    squared deviations from each group's mean score is smallest; ties go to the earliest cuts.
    """
    k = len(scores)
    if k == 1:
        return ["moderate"]
    order = np.argsort(scores, kind="stable")
    ranked = np.asarray(scores, dtype=np.float64)[order]
    names = ["inactive", "active"] if k == 2 else list(TIERS)
    best_cuts, best_ss = None, np.inf
    for cuts in itertools.combinations(range(1, k), len(names) - 1):
        bounds = [0, *cuts, k]
        ss = sum(((g - g.mean()) ** 2).sum()
                 for g in (ranked[a:b] for a, b in itertools.pairwise(bounds)))
        if ss < best_ss - 1e-15:
            best_cuts, best_ss = bounds, ss
    tiers = np.empty(k, dtype=object)
    for name, (a, b) in zip(names, itertools.pairwise(best_cuts), strict=True):
        tiers[order[a:b]] = name
    return [str(t) for t in tiers]


def product_activity(users: pd.DataFrame) -> np.ndarray:
    """Total product interactions per user (likes + listed + sold + wished + bought): int64[n]."""
    return users[PRODUCT_COLUMNS].sum(axis=1).to_numpy(np.int64)


def baseline_tiers(users: pd.DataFrame, cfg: dict[str, Any]) -> np.ndarray:
    """Transparent rule (config ``baseline``): object[n] of inactive / moderate / active."""
    days = users["daysSinceLastLogin"].to_numpy()
    any_product = product_activity(users) > 0
    tiers = np.full(len(users), "moderate", dtype=object)
    tiers[(days <= cfg["active_days"]) & any_product] = "active"
    tiers[(days > cfg["inactive_days"]) & ~any_product] = "inactive"
    return tiers


def baseline_rule(cfg: dict[str, Any]) -> str:
    """The baseline rule in words, with the configured thresholds."""
    return (f"active: logged in within {cfg['active_days']} days and any product activity; "
            f"inactive: no login for more than {cfg['inactive_days']} days and no product "
            f"activity; moderate: everyone else.")


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


def tier_counts(tiers: np.ndarray) -> dict[str, int]:
    """Users per tier, every tier present (0 when empty)."""
    values, counts = np.unique(np.asarray(tiers, dtype=str), return_counts=True)
    found = dict(zip(values.tolist(), counts.tolist(), strict=True))
    return {t: int(found.get(t, 0)) for t in TIERS}


def confusion(rows: np.ndarray, cols: np.ndarray) -> dict[str, Any]:
    """Tier x tier confusion table (rows: clustering, cols: baseline) and the share agreeing."""
    table = pd.crosstab(pd.Categorical(rows, TIERS), pd.Categorical(cols, TIERS), dropna=False)
    counts = table.to_numpy().astype(int)
    return {"rows": list(TIERS), "cols": list(TIERS), "counts": counts.tolist(),
            "agreement_share": float(np.trace(counts) / max(counts.sum(), 1))}


def group_profiles(users: pd.DataFrame, groups: np.ndarray, n_total: int, top_n: int
                   ) -> dict[Any, dict[str, Any]]:
    """Profile of every group of users (raw columns), keyed by group value.

    ``groups`` is one value per row of ``users``. Each profile: size, share of ``n_total``,
    median / mean / quartiles of PROFILE_COLUMNS, share with any app, share with no product
    activity, top ``top_n`` countries and languages (share within the group).
    """
    frame = users[PROFILE_COLUMNS].assign(
        _group=groups, _app=users["hasAnyApp"].to_numpy(dtype=float),
        _idle=(product_activity(users) == 0).astype(float))
    grouped = frame.groupby("_group", sort=True, observed=True)
    quart = grouped[PROFILE_COLUMNS].quantile([0.25, 0.5, 0.75])
    q1, median, q3 = (quart.xs(q, level=1).to_dict("index") for q in (0.25, 0.5, 0.75))
    means = grouped[PROFILE_COLUMNS + ["_app", "_idle"]].mean().to_dict("index")
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
