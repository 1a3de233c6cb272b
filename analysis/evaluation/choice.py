"""The stated rule that picks one (algorithm, k), and why every other solution lost.

1. *Eligible*: k >= ``k_min_choice`` (the tiers already separate users with and without
   product history; the personas are there to say more than that), no cluster under
   ``min_cluster_share`` of users, every cluster stable (mean bootstrap Jaccard >=
   ``min_stability``) and every tier holding >= ``min_tier_share`` of users.
2. Among the eligible, the lowest sum of ranks over silhouette (higher is better),
   Calinski-Harabasz (higher), Davies-Bouldin (lower) and least-stable Jaccard (higher); ties
   go to the higher silhouette, then the smaller k, then K-Means.
3. Clusters of the choice with a negative mean silhouette are flagged, never hidden. The
   elbow's knee and the gap statistic are reported in words, not used: on a continuum both are
   weak evidence of a "natural" k.
If no solution is eligible, stability is relaxed first, then the tier share, and the reason
says so.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.config import SelectionConfig
from analysis.vocabulary import ALGORITHM_NAMES, solution_key, solution_name

#: Criteria of the rank sum: (metrics key, True when larger is better).
CRITERIA = (("silhouette", True), ("calinski_harabasz", True), ("davies_bouldin", False),
            ("stability_min", True))


def rule_text(sel: SelectionConfig) -> str:
    """The rule in one paragraph, with the configured thresholds."""
    return (f"Eligible solutions have k >= {sel.k_min_choice}, no cluster under "
            f"{sel.min_cluster_share:.1%} of users, every cluster stable (mean bootstrap "
            f"Jaccard >= {sel.min_stability}) and every tier holding at least "
            f"{sel.min_tier_share:.0%} of users. Among them the lowest sum of ranks over "
            "silhouette, Calinski-Harabasz, Davies-Bouldin and least-stable Jaccard wins; ties "
            "go to the higher silhouette, then the smaller k, then K-Means.")


def verdicts(rows: list[dict[str, Any]], sel: SelectionConfig,
             checks: tuple[str, ...] = ("k", "size", "stability", "tiers")
             ) -> dict[str, list[str]]:
    """Why each solution is not eligible (an empty list: eligible), keyed by solution key."""
    out = {}
    for r in rows:
        why = []
        if "k" in checks and r["k"] < sel.k_min_choice:
            why.append(f"k < {sel.k_min_choice}: fewer personas than the configured minimum")
        if "size" in checks and r["min_share"] < sel.min_cluster_share:
            why.append(f"its smallest cluster holds {r['min_share']:.2%} of users, under "
                       f"{sel.min_cluster_share:.1%}")
        if "stability" in checks and r["stability_min"] < sel.min_stability:
            why.append(f"its least stable cluster keeps a mean Jaccard of "
                       f"{r['stability_min']:.2f}, under {sel.min_stability}")
        small = [t for t, share in r["tier_shares"].items() if share < sel.min_tier_share]
        if "tiers" in checks and small:
            why.append(f"tier {', '.join(small)} holds under {sel.min_tier_share:.0%} of users")
        out[solution_key(r["algorithm"], r["k"])] = why
    return out


def rank_sums(pool: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each eligible solution's rank per criterion (1 = best, ties share the mean) and sum."""
    ranks: dict[str, dict[str, float]] = {solution_key(r["algorithm"], r["k"]): {}
                                          for r in pool}
    for key, larger in CRITERIA:
        values = pd.Series([r[key] for r in pool], dtype=float)
        for r, rank in zip(pool, values.rank(ascending=not larger, method="average"),
                           strict=True):
            ranks[solution_key(r["algorithm"], r["k"])][key] = float(rank)
    for per in ranks.values():
        per["sum"] = sum(per[c] for c, _ in CRITERIA)
    return ranks


def _pool(rows: list[dict[str, Any]], sel: SelectionConfig
          ) -> tuple[list[dict[str, Any]], dict[str, list[str]], str | None]:
    """The eligible solutions, every verdict, and what was relaxed (None: nothing)."""
    for relaxed, checks in ((None, ("k", "size", "stability", "tiers")),
                            ("stability", ("k", "size", "tiers")), ("stability and tier share",
                                                                    ("k", "size"))):
        found = verdicts(rows, sel, checks)
        pool = [r for r in rows if not found[solution_key(r["algorithm"], r["k"])]]
        if pool:
            return pool, verdicts(rows, sel), relaxed
    return list(rows), verdicts(rows, sel), "every requirement"


def _knee_sentence(best: dict[str, Any], knee: int | None, found: dict[str, list[str]],
                   ranks: dict[str, dict[str, float]]) -> str:
    if knee is None:
        return "The elbow curve has no clear knee."
    if knee == best["k"]:
        return f"The elbow's knee is at k = {knee}, the chosen k."
    why = found.get(solution_key(best["algorithm"], knee))
    if why:
        return (f"The elbow's knee is at k = {knee}; it is not taken because "
                f"{'; '.join(why)}.")
    rank = ranks.get(solution_key(best["algorithm"], knee), {}).get("sum")
    mine = ranks[solution_key(best["algorithm"], best["k"])]["sum"]
    return (f"The elbow's knee is at k = {knee}; it is eligible but ranks worse "
            f"(rank sum {rank:g} against {mine:g}).")


def _gap_sentence(gap: dict[str, Any] | None) -> str:
    if gap is None:
        return "The gap statistic was not computed."
    if gap["k_hat"] is None:
        return ("The gap statistic rises at every k: no number of groups is natural here (the "
                "users form a continuum), so the choice rests on the rule.")
    return f"The gap statistic's one-standard-error rule points at k = {gap['k_hat']}."


def _others_sentences(rows: list[dict[str, Any]], best: dict[str, Any],
                      found: dict[str, list[str]], sel: SelectionConfig) -> dict[str, str]:
    """Why not k = 2 (which every internal index prefers), and why the other algorithm lost."""
    out = {}
    two = [r for r in rows if r["k"] < sel.k_min_choice]
    if two:
        top = max(two, key=lambda r: r["silhouette"])
        out["small_k"] = (f"{solution_name(top['algorithm'], top['k'])} has the highest "
                          f"silhouette of all ({top['silhouette']:.2f}), but the personas "
                          f"need at least {sel.k_min_choice} groups ([selection] "
                          "k_min_choice): the tiers already split users with and without "
                          "product history, and the personas are to say more than that.")
    for algo in sorted({r["algorithm"] for r in rows} - {best["algorithm"]}):
        mine = [r for r in rows if r["algorithm"] == algo and r["k"] >= sel.k_min_choice]
        if mine and all(found[solution_key(algo, r["k"])] for r in mine):
            top = max(mine, key=lambda r: r["stability_min"])
            out[algo] = (f"{ALGORITHM_NAMES[algo]} is not eligible at any k >= "
                         f"{sel.k_min_choice}: its least stable cluster keeps a mean Jaccard "
                         f"of at most {top['stability_min']:.2f} (k = {top['k']}), so its "
                         "groups change when the users are resampled.")
        elif mine:
            out[algo] = f"{ALGORITHM_NAMES[algo]} has eligible solutions but ranks lower."
    return out


def choose(rows: list[dict[str, Any]], sel: SelectionConfig, knee: dict[str, int | None],
           gap: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Pick (algorithm, k) from the metrics ``rows`` (silhouette, silhouette_per_cluster,
    calinski_harabasz, davies_bouldin, min_share, stability_min, tier_shares) by the rule.

    ``knee`` and ``gap`` are per algorithm. Returns algorithm, k, reason, rule, verdicts,
    ranks, flags (negative-silhouette clusters), relaxed and the sentences on the knee, the
    gap and the solutions that lost.
    """
    pool, found, relaxed = _pool(rows, sel)
    ranks = rank_sums(pool)
    best = min(pool, key=lambda r: (ranks[solution_key(r["algorithm"], r["k"])]["sum"],
                                    -r["silhouette"], r["k"], r["algorithm"] != "kmeans"))
    key = solution_key(best["algorithm"], best["k"])
    flags = [{"cluster": c, "silhouette": round(float(v), 6)}
             for c, v in enumerate(best["silhouette_per_cluster"]) if v < 0]
    reason = (f"{solution_name(best['algorithm'], best['k'])} has the best rank sum "
              f"({ranks[key]['sum']:g}) of the {len(pool)} eligible solutions: silhouette "
              f"{best['silhouette']:.2f}, least stable cluster {best['stability_min']:.2f}, "
              f"smallest cluster {best['min_share']:.1%} of users.")
    if relaxed:
        reason += f" No solution met every requirement, so {relaxed} was relaxed."
    return {"algorithm": best["algorithm"], "k": int(best["k"]), "reason": reason,
            "rule": rule_text(sel), "eligible": len(pool), "relaxed": relaxed,
            "verdicts": found, "ranks": ranks, "flags": flags,
            "knee": _knee_sentence(best, knee.get(best["algorithm"]), found, ranks),
            "gap": _gap_sentence(gap.get(best["algorithm"])),
            "others": _others_sentences(rows, best, found, sel)}
