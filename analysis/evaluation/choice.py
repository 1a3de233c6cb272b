"""The stated rule that picks one (algorithm, k) among every evaluated solution."""

from __future__ import annotations

from typing import Any

from analysis.config import SelectionConfig


def choose(metrics: list[dict[str, Any]], sel: SelectionConfig) -> dict[str, Any]:
    """Pick the best (algorithm, k) by the stated rule; returns {algorithm, k, reason, rule}.

    Rule: among solutions with k >= ``k_min_choice`` that are not degenerate and whose least
    stable cluster has mean bootstrap Jaccard >= ``min_stability``, take the highest silhouette
    (ties: smaller k, then K-Means). If none is stable, relax stability and say so.
    """
    rule = (f"Among solutions with k >= {sel.k_min_choice}, no cluster under "
            f"{sel.min_cluster_share:.1%} of users and every cluster stable (mean bootstrap "
            f"Jaccard >= {sel.min_stability}), take the highest exact silhouette; ties go to "
            f"the smaller k, then K-Means.")
    eligible = [m for m in metrics if m["k"] >= sel.k_min_choice and not m["degenerate"]]
    stable = [m for m in eligible if m["stability_min"] >= sel.min_stability]
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
