"""Three designs of clusters and tiers, measured side by side with the same criteria.

* **(a) v2**: K-Means on the behaviour features plus login recency (inverted, censored at the
  placeholder bound); each cluster's tier from its centre's activity score, cut by natural
  breaks (the design this project published before).
* **(b) behaviour clusters, tiers inside** (published): clusters on what users do (recency out
  of the distance); inactive / moderate / active identified inside every cluster by one rule on
  recency band x product history (:mod:`analysis.segments.types`).
* **(c) recency in the distance, tiers inside**: the clusters of (a) with the tiers of (b).

Criteria, per design at the chosen k: tier promises broken (:func:`band_violations`) and
monotonicity violations (pairs of distinct raw rows where a user at least as recent, with at
least every behaviour count, sits in a lower tier), agreement with the strong rule (kappa),
share of units sold and bought in "active", behaviour types whose users span several tiers (the
tier changes nothing the CRM team does for them), silhouette with and without the all-zero
point mass, the weakest cluster's silhouette and bootstrap Jaccard, and how well a threshold
tree names the clusters (fidelity). :data:`DESIGN_RULE` picks the design.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import normalized_mutual_info_score

from analysis.clustering.distinct import Distinct
from analysis.clustering.kmeans import kmeans_fit
from analysis.clustering.silhouette import silhouette_weighted_detail
from analysis.clustering.threshold_tree import apply_tree, fit_threshold_tree
from analysis.config import FeaturesConfig, KMeansConfig
from analysis.evaluation.stability import ABSENT, Bootstrap, jaccard_best_match, resample_weights
from analysis.features.activity import PRODUCT_COLUMNS
from analysis.features.transform import key_limit, transform
from analysis.segments.invariants import band_violations, compare_tiers, trade_shares
from analysis.vocabulary import TIERS

DAYS = "daysSinceLastLogin"
#: Raw columns of the monotonicity check: recency, then every behaviour count.
MONOTONE_COLUMNS = [DAYS, *PRODUCT_COLUMNS, "socialNbFollowers", "socialNbFollows"]
#: Distinct raw rows compared pairwise; beyond this many the most populous rows are compared.
MONOTONE_MAX_ROWS = 40_000

DESIGN_RULE = ("A design qualifies only if no tier breaks its promise, no pair of users breaks "
               "the order (at least as recent with at least every count is never a lower tier) "
               "and its weakest cluster is stable (bootstrap Jaccard >= {stable}). Among those, "
               "the clusters must say what the tiers do not: the design whose clusters share the "
               "least information with the tiers (normalised mutual information) wins, then the "
               "more stable weakest cluster.")


def recency_param(users: pd.DataFrame, feats: FeaturesConfig, censor_days: int | None
                  ) -> dict[str, Any]:
    """The login-recency feature of design (a), fitted like every feature: log1p of the days
    (censored at the bound), capped at ``feats.cap_quantile``, scaled, inverted."""
    days = users[DAYS].to_numpy(np.float64)
    logged = np.log1p(days if censor_days is None else np.minimum(days, censor_days))
    cap = float(np.quantile(logged, feats.cap_quantile, method="linear"))
    capped = np.minimum(logged, cap)
    return {"name": "login_recency", "column": DAYS, "offset": 0.0, "censor": censor_days,
            "cap": cap, "key_limit": key_limit(cap), "lo": float(capped.min()),
            "hi": float(capped.max()), "invert": True}


def cluster_activity_tiers(centroids: np.ndarray) -> list[str]:
    """Design (a)'s tier per cluster: natural breaks (Jenks, exact) of the centres' mean scaled
    feature, cut into three tiers (two when k = 2); ties go to the earliest cuts."""
    scores = centroids.mean(axis=1)
    k = len(scores)
    order = np.argsort(scores, kind="stable")
    ranked = scores[order]
    names = ["inactive", "active"] if k == 2 else list(TIERS)
    best, best_ss = None, np.inf
    for cuts in itertools.combinations(range(1, k), len(names) - 1):
        bounds = [0, *cuts, k]
        ss = sum(((g - g.mean()) ** 2).sum()
                 for g in (ranked[a:b] for a, b in itertools.pairwise(bounds)))
        if ss < best_ss - 1e-15:
            best, best_ss = bounds, ss
    tiers = np.empty(k, dtype=object)
    for name, (a, b) in zip(names, itertools.pairwise(best), strict=True):
        tiers[order[a:b]] = name
    return [str(t) for t in tiers]


def monotone_violations(users: pd.DataFrame, tiers: np.ndarray) -> dict[str, int]:
    """Pairs of distinct raw rows (days censored) where row A is at least as recent as row B,
    has at least every one of B's counts, and sits in a lower tier: {"pairs", "split_rows"
    (raw rows whose users sit in different tiers), "rows_compared", "rows"}. Only rows of a
    lower tier are compared with rows of a higher one (the pairs that can break the order)."""
    frame = users[MONOTONE_COLUMNS].copy()
    frame["rank"] = pd.Series(np.asarray(tiers, dtype=object)).map(
        {t: i for i, t in enumerate(TIERS)}).to_numpy()
    grouped = frame.groupby(MONOTONE_COLUMNS, sort=True)["rank"]
    low, high, size = grouped.min(), grouped.max(), grouped.size()
    order = np.argsort(-size.to_numpy(), kind="stable")[:MONOTONE_MAX_ROWS]
    rows = np.array(low.index.tolist(), dtype=np.int64)[order].astype(np.int32)
    lo, hi = low.to_numpy()[order], high.to_numpy()[order]
    pairs = 0
    for rank in range(len(TIERS) - 1):
        lower, upper = rows[lo == rank], rows[hi > rank]
        for start in range(0, len(lower), 256):
            a = lower[start:start + 256]
            dominates = ((a[:, None, 0] <= upper[None, :, 0])
                         & (a[:, None, 1:] >= upper[None, :, 1:]).all(axis=2))
            pairs += int(dominates.sum())
    split = int((low != high).sum())
    return {"pairs": pairs - split, "split_rows": split,  # a split row dominates itself once
            "rows_compared": int(len(rows)), "rows": int(len(low))}


def _silhouettes(distinct: Distinct, labels: np.ndarray) -> dict[str, float]:
    detail = silhouette_weighted_detail(distinct.rows, distinct.counts, labels)
    w = distinct.counts.astype(np.float64)
    rest = distinct.rows.any(axis=1)  # off the all-zero point mass
    samples = detail.samples[0]
    return {"silhouette": round(float(detail.scores[0]), 6),
            "silhouette_without_zero": round(float((w * samples)[rest].sum() / w[rest].sum()), 6),
            "weakest_cluster_silhouette": round(float(detail.cluster_means[0].min()), 6),
            "zero_share": round(float(w[~rest].sum() / w.sum()), 6)}


def _stability(distinct: Distinct, labels: np.ndarray, k: int, boot: Bootstrap, resamples: int,
               cfg: KMeansConfig) -> float:
    """The weakest cluster's mean bootstrap Jaccard over the first ``resamples`` seeds."""
    total = np.zeros(k)
    for seed in boot.seeds[:resamples]:
        w = resample_weights(distinct, seed, boot.size)
        present = w > 0
        refit = np.full(len(w), ABSENT, dtype=np.int64)
        refit[present] = kmeans_fit(distinct.rows[present], w[present].astype(float), k, cfg)[0]
        total += jaccard_best_match(labels, refit, present, distinct.counts.astype(float), k, k)
    return round(float((total / min(resamples, len(boot.seeds))).min()), 6)


def _fidelity(distinct: Distinct, labels: np.ndarray, centroids: np.ndarray) -> float:
    nodes = fit_threshold_tree(distinct.rows, distinct.counts.astype(np.float64), labels,
                               centroids)
    same = apply_tree(nodes, distinct.rows) == labels
    return round(float(distinct.counts[same].sum() / distinct.n_users), 6)


def _tier_criteria(users: pd.DataFrame, tiers: np.ndarray, strong: np.ndarray,
                   types: np.ndarray, recent_days: int, censor_days: int | None
                   ) -> dict[str, Any]:
    trade = trade_shares(users, tiers)
    spans = pd.Series(tiers).groupby(np.asarray(types, dtype=str)).nunique()
    return {"broken_promises": int(sum(band_violations(tiers, users, recent_days,
                                                       censor_days).values())),
            "monotone": monotone_violations(users, tiers),
            "kappa_strong_rule": compare_tiers(strong, tiers)["kappa"],
            "active_sold": trade["active"]["sold"], "active_bought": trade["active"]["bought"],
            "types_in_several_tiers": int((spans > 1).sum()),
            "tier_sizes": {t: int((tiers == t).sum()) for t in TIERS}}


def _cluster_tier_nmi(user_labels: np.ndarray, tiers: np.ndarray) -> float:
    """Normalised mutual information (0..1) between users' clusters and tiers: 1 when the
    clusters are the tiers again, 0 when they say nothing about them."""
    return round(float(normalized_mutual_info_score(np.asarray(tiers, dtype=str),
                                                    user_labels)), 6)


def compare_designs(users: pd.DataFrame, published: dict[str, Any], tiers: np.ndarray,
                    strong: np.ndarray, types: np.ndarray, params: list[dict[str, Any]],
                    feats: FeaturesConfig, kmeans: KMeansConfig, boot: Bootstrap,
                    resamples: int, min_stability: float, recent_days: int,
                    censor_days: int | None) -> dict[str, Any]:
    """The three designs measured at the chosen k, and the one :data:`DESIGN_RULE` picks.

    ``users`` n rows (days censored), ``published`` {"distinct", "labels", "centroids",
    "stability_min"} of the chosen solution, ``tiers``/``strong``/``types`` object[n] the
    published tiers, the strong rule's and every user's type."""
    k = len(published["centroids"])
    with_recency = Distinct.of(transform(users, [*params, recency_param(users, feats,
                                                                       censor_days)]))
    labels_r, centroids_r, _ = kmeans_fit(with_recency.rows, with_recency.counts, k, kmeans)
    v2_tiers = np.asarray(cluster_activity_tiers(centroids_r),
                          dtype=object)[labels_r[with_recency.inverse]]
    recency_clusters = {**_silhouettes(with_recency, labels_r),
                        "stability_min": _stability(with_recency, labels_r, k, boot, resamples,
                                                    kmeans),
                        "tree_fidelity": _fidelity(with_recency, labels_r, centroids_r)}
    behaviour_clusters = {**_silhouettes(published["distinct"], published["labels"]),
                          "stability_min": published["stability_min"],
                          "tree_fidelity": _fidelity(published["distinct"], published["labels"],
                                                     published["centroids"])}
    rule_tiers = _tier_criteria(users, tiers, strong, types, recent_days, censor_days)
    recency_users = labels_r[with_recency.inverse]
    behaviour_users = published["labels"][published["distinct"].inverse]
    rows = [
        {"design": "a", "name": "v2: recency in the distance, tiers from each cluster's "
                               "activity score", **recency_clusters,
         "cluster_tier_nmi": _cluster_tier_nmi(recency_users, v2_tiers),
         **_tier_criteria(users, v2_tiers, strong, types, recent_days, censor_days)},
        {"design": "b", "name": "behaviour clusters, tiers by one rule inside each cluster",
         **behaviour_clusters, "cluster_tier_nmi": _cluster_tier_nmi(behaviour_users, tiers),
         **rule_tiers},
        {"design": "c", "name": "recency in the distance, tiers by the same rule inside each "
                               "cluster", **recency_clusters,
         "cluster_tier_nmi": _cluster_tier_nmi(recency_users, tiers), **rule_tiers},
    ]
    qualified = [r for r in rows if r["broken_promises"] == 0 and r["monotone"]["pairs"] == 0
                 and r["stability_min"] >= min_stability]
    best = min(qualified, key=lambda r: (r["cluster_tier_nmi"], -r["stability_min"]),
               default=None)
    for r in rows:
        r["qualifies"] = r in qualified
        r["chosen"] = r is best
    return {"k": k, "rule": DESIGN_RULE.format(stable=min_stability), "rows": rows,
            "chosen": None if best is None else best["design"]}
