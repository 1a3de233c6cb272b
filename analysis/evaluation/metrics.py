"""How good is each clustering: internal metrics, agreement, bootstrap stability, the choice.

All metrics are exact over all users, computed on the distinct rows with their user counts as
weights (equal to scikit-learn's metrics on the expanded n-row matrix; see the tests).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from joblib import Parallel, delayed
from kneed import KneeLocator
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from analysis.clustering.fastward import ward_flat_labels, ward_linkage
from analysis.clustering.solutions import Distinct, Solution, kmeans_fit


def within_sse(rows: np.ndarray, w: np.ndarray, labels: np.ndarray, centroids: np.ndarray
               ) -> np.ndarray:
    """Weighted sum of squared distances to the own centroid, per cluster: float64[k]."""
    sq = ((rows - centroids[labels]) ** 2).sum(axis=1) * w
    return np.bincount(labels, weights=sq, minlength=len(centroids))


def calinski_harabasz(rows, w, labels, centroids) -> float:
    """CH index = [between SS / (k-1)] / [within SS / (n-k)], n = sum(w) users."""
    n, k = w.sum(), len(centroids)
    mass = np.bincount(labels, weights=w, minlength=k)
    mean = (rows * w[:, None]).sum(axis=0) / n
    between = float((mass * ((centroids - mean) ** 2).sum(axis=1)).sum())
    within = float(within_sse(rows, w, labels, centroids).sum())
    return between * (n - k) / (within * (k - 1)) if within > 0 else float("inf")


def davies_bouldin(rows, w, labels, centroids) -> float:
    """DB index: mean over clusters of max_j (s_i + s_j) / ||c_i - c_j||.

    s_i is the mean distance of cluster i's users to its centroid."""
    k = len(centroids)
    dist = np.sqrt(((rows - centroids[labels]) ** 2).sum(axis=1))
    mass = np.bincount(labels, weights=w, minlength=k)
    spread = np.bincount(labels, weights=dist * w, minlength=k) / mass
    gaps = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    ratio = (spread[:, None] + spread[None, :]) / gaps
    return float(ratio.max(axis=1).mean())


def cluster_sizes(w: np.ndarray, labels: np.ndarray, k: int) -> list[int]:
    """Users per cluster 0..k-1."""
    return [int(x) for x in np.bincount(labels, weights=w, minlength=k).round()]


def internal_metrics(distinct: Distinct, sol: Solution, silhouette: float,
                     silhouette_per_cluster: list[float], min_share: float) -> dict[str, Any]:
    """Metrics row for one (algorithm, k): inertia, silhouette, CH, DB, sizes, degeneracy."""
    rows, w = distinct.rows, distinct.counts.astype(np.float64)
    sizes = cluster_sizes(w, sol.labels, sol.k)
    smallest = min(sizes) / w.sum()
    degenerate = smallest < min_share
    return {
        "algorithm": sol.algorithm,
        "k": sol.k,
        "inertia": float(within_sse(rows, w, sol.labels, sol.centroids).sum()),
        "silhouette": float(silhouette),
        "silhouette_per_cluster": [float(s) for s in silhouette_per_cluster],
        "calinski_harabasz": calinski_harabasz(rows, w, sol.labels, sol.centroids),
        "davies_bouldin": davies_bouldin(rows, w, sol.labels, sol.centroids),
        "sizes": sizes,
        "min_share": round(float(smallest), 8),
        "degenerate": bool(degenerate),
        "degenerate_reason": (f"smallest cluster holds {smallest:.2%} of users, under the "
                              f"{min_share:.1%} minimum") if degenerate else None,
    }


def find_knee(ks: list[int], inertia: list[float]) -> int | None:
    """The elbow of a decreasing, convex inertia curve (Kneedle); None when there is none."""
    knee = KneeLocator(ks, inertia, curve="convex", direction="decreasing").knee
    return int(knee) if knee is not None else None


def agreement(labels_a: np.ndarray, labels_b: np.ndarray) -> dict[str, Any]:
    """ARI, NMI and the contingency table (rows a, cols b) of two labellings of the same users."""
    return {
        "ari": float(adjusted_rand_score(labels_a, labels_b)),
        "nmi": float(normalized_mutual_info_score(labels_a, labels_b)),
        "contingency": contingency_matrix(labels_a, labels_b).tolist(),
    }


def jaccard_best_match(orig: np.ndarray, boot: np.ndarray, present: np.ndarray,
                       weight: np.ndarray, k: int, k_boot: int) -> np.ndarray:
    """For each original cluster, the best Jaccard with any bootstrap cluster: float64[k].

    Sets are taken over the distinct rows ``present`` in the resample, each counted with its
    users ``weight`` (Hennig's clusterboot, on the users the resample contains).
    """
    o, b, w = orig[present], boot[present], weight[present]
    inter = np.zeros((k, k_boot))
    np.add.at(inter, (o, b), w)
    size_o = inter.sum(axis=1)
    size_b = inter.sum(axis=0)
    union = size_o[:, None] + size_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, inter / union, 0.0)
    return jac.max(axis=1)


def resample_jaccards(distinct: Distinct, solutions: dict[tuple[str, int], Solution],
                      kmeans_cfg: dict[str, Any], seed: np.random.SeedSequence
                      ) -> dict[tuple[str, int], np.ndarray]:
    """One bootstrap resample: refit every solution's algorithm, best Jaccard per cluster.

    The resample draws n users with replacement (multinomial counts over the distinct rows).
    Ward builds one tree and cuts every k from it; K-Means refits each k exactly as the main fit.
    """
    rng = np.random.default_rng(seed)
    n = int(distinct.counts.sum())
    boot_w = rng.multinomial(n, distinct.counts / n)
    present = boot_w > 0
    rows, w = distinct.rows[present], boot_w[present]
    ward_ks = sorted(k for algo, k in solutions if algo == "ward")
    flat = ward_flat_labels(ward_linkage(rows, w), ward_ks) if ward_ks else {}
    weight = distinct.counts.astype(np.float64)
    out = {}
    for (algo, k), sol in solutions.items():
        boot = (np.asarray(flat[k]) if algo == "ward"
                else kmeans_fit(rows, w, k, kmeans_cfg)[0])
        full = np.zeros(len(distinct.counts), dtype=np.int64)
        full[present] = boot
        out[(algo, k)] = jaccard_best_match(sol.labels, full, present, weight, sol.k, k)
    return out


def bootstrap_stability(distinct: Distinct, solutions: dict[tuple[str, int], Solution],
                        kmeans_cfg: dict[str, Any], stability_cfg: dict[str, Any],
                        progress=None) -> list[dict[str, Any]]:
    """Hennig-style bootstrap stability of every solution: per-cluster mean Jaccard.

    ``stability_cfg``: resamples, random_state, n_jobs. Resample i uses the i-th
    child of SeedSequence(random_state), so results do not depend on the number of workers.
    Clusters with mean Jaccard >= 0.75 count as stable (Hennig 2007).
    """
    seeds = np.random.SeedSequence(stability_cfg["random_state"]).spawn(
        stability_cfg["resamples"])
    jobs = (delayed(resample_jaccards)(distinct, solutions, kmeans_cfg, seed) for seed in seeds)
    totals = {key: np.zeros(sol.k) for key, sol in solutions.items()}
    for result in Parallel(n_jobs=stability_cfg["n_jobs"], return_as="generator")(jobs):
        for key, jac in result.items():
            totals[key] += jac
        if progress:
            progress()
    out = []
    for (algo, k), total in sorted(totals.items()):
        per_cluster = total / len(seeds)
        out.append({"algorithm": algo, "k": k,
                    "per_cluster_jaccard": [round(float(j), 6) for j in per_cluster],
                    "mean": round(float(per_cluster.mean()), 6),
                    "min": round(float(per_cluster.min()), 6)})
    return out


def choose(metrics: list[dict[str, Any]], sel: dict[str, Any]) -> dict[str, Any]:
    """Pick the best (algorithm, k) by the stated rule; returns {algorithm, k, reason, rule}.

    Rule: among solutions with k >= ``k_min_choice`` that are not degenerate and whose least
    stable cluster has mean bootstrap Jaccard >= ``min_stability``, take the highest silhouette
    (ties: smaller k, then K-Means). If none is stable, relax stability and say so.
    """
    rule = (f"Among solutions with k >= {sel['k_min_choice']}, no cluster under "
            f"{sel['min_cluster_share']:.1%} of users and every cluster stable (mean bootstrap "
            f"Jaccard >= {sel['min_stability']}), take the highest exact silhouette; ties go to "
            f"the smaller k, then K-Means.")
    eligible = [m for m in metrics if m["k"] >= sel["k_min_choice"] and not m["degenerate"]]
    stable = [m for m in eligible if m["stability_min"] >= sel["min_stability"]]
    pool, relaxed = (stable, False) if stable else (eligible, True)
    if not pool:
        pool, relaxed = metrics, True
    best = min(pool, key=lambda m: (-round(m["silhouette"], 9), m["k"], m["algorithm"] != "kmeans"))
    runner_up = [m for m in pool if m is not best]
    reason = (f"{best['algorithm']} with k = {best['k']} has the highest silhouette "
              f"({best['silhouette']:.3f}) of the {len(pool)} eligible solutions; its least "
              f"stable cluster keeps a mean Jaccard of {best['stability_min']:.2f} over the "
              f"bootstrap resamples and its smallest cluster holds {best['min_share']:.1%} of "
              f"users.")
    if runner_up:
        second = max(runner_up, key=lambda m: m["silhouette"])
        reason += (f" Next best: {second['algorithm']} k = {second['k']} "
                   f"(silhouette {second['silhouette']:.3f}).")
    if relaxed:
        reason += " No solution met every stability requirement, so stability was relaxed."
    return {"algorithm": best["algorithm"], "k": int(best["k"]), "reason": reason, "rule": rule,
            "eligible": len(pool), "relaxed": relaxed}
