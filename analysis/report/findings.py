"""``findings.json``: everything a page says, computed once from the other documents.

Pages present, they do not compute: every headline number, sentence, eligibility mark and
reading is made here (from the artifacts of the same build) and the pages only show it.
"""

from __future__ import annotations

from typing import Any

from analysis.config import SelectionConfig
from analysis.report import formats as f
from analysis.report import readings
from analysis.report.limitations import limitations
from analysis.vocabulary import ALGORITHM_NAMES, TIERS, solution_key, solution_name


def _tier_definition(tier: str, profile: dict[str, Any], censor: int | None) -> str:
    """Who is in a tier, in plain words, from its profile (days censored at ``censor``)."""
    days = profile["stats"]["daysSinceLastLogin"]
    seen = (f"no login recorded in {f.days(censor)}+ days (median)"
            if censor is not None and days["median"] >= censor
            else f"last login a median {f.days(days['median'])} days ago")
    likes = profile["stats"]["socialProductsLiked"]["median"]
    return (f"{tier.capitalize()}: {seen}; {f.share(profile['traded_share'])} ever listed, sold "
            f"or bought; a median of {f.count(likes)} {'like' if likes == 1 else 'likes'}.")


def tier_units(segments: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each tier's share of all units sold, bought, listed, liked, wished (sum of segments)."""
    out: dict[str, dict[str, float]] = {t: {} for t in TIERS}
    for record in segments["records"]:
        for key, value in record["unit_shares"].items():
            out[record["tier"]][key] = out[record["tier"]].get(key, 0.0) + value
    return out


def headline(manifest: dict[str, Any], segments: dict[str, Any]) -> str:
    """The answer in one sentence: how many are inactive, and what the active few carry."""
    n = manifest["rows_clustered"]
    units = tier_units(segments)["active"]
    active = manifest["tiers"]["active"]
    return (f"{f.share(manifest['tiers']['inactive'] / n)} of the {f.count(n)} accounts are "
            f"inactive; the {f.count(active)} active users ({f.share(active / n)}) make "
            f"{f.share(units.get('sold', 0.0))} of all sales and "
            f"{f.share(units.get('bought', 0.0))} of all purchases.")


def tier_cards(manifest: dict[str, Any], profiles: dict[str, Any], segments: dict[str, Any]
               ) -> list[dict[str, Any]]:
    """One card per tier: users, share, who they are, and their segments."""
    by_tier = {p["tier"]: p for p in profiles["tiers"]}
    n = manifest["rows_clustered"]
    cards = []
    for tier in TIERS:
        users = manifest["tiers"][tier]
        records = [r for r in segments["records"] if r["tier"] == tier]
        cards.append({"tier": tier, "users": users, "users_text": f.count(users),
                      "share": users / n, "share_text": f.share(users / n),
                      "definition": _tier_definition(tier, by_tier[tier],
                                                     segments["censor_days"])
                      if tier in by_tier else f"{tier.capitalize()}: nobody.",
                      "segments": [r["segment"] for r in records]})
    return cards


def segment_rows(segments: dict[str, Any], stability_min: float) -> list[dict[str, Any]]:
    """The segments in tier order with their size, share, action and plain stability."""
    return [{"segment": r["segment"], "tier": r["tier"], "label": r["label"],
             "short_name": r["short_name"], "users": r["size"], "share": r["share"],
             "users_text": f.count(r["size"]), "share_text": f.share(r["share"]),
             "short_action": r["short_action"], "action": r["action"], "evidence": r["evidence"],
             "stability": r["stability"],
             "stability_text": readings.stability(r["stability"], stability_min)}
            for r in segments["records"]]


def how_we_know(manifest: dict[str, Any], metrics: dict[str, Any], chosen_row: dict[str, Any],
                agreement: dict[str, Any]) -> str:
    """One sentence: what was done and why it can be trusted."""
    choice = metrics["choice"]
    return (f"{solution_name(choice['algorithm'], choice['k'])} on all "
            f"{f.count(manifest['rows_clustered'])} users, chosen by a stated rule among "
            f"{len(metrics['rows'])} solutions. When the users are drawn again at random and "
            f"the clustering is refitted, even its least stable group keeps on average "
            f"{f.share(chosen_row['stability_min'])} of its membership (the overlap of the group "
            f"before and after), and the tiers agree with a simple rule for "
            f"{f.share(agreement['agreement_share'])} of users (beyond what chance gives: "
            f"{readings.kappa_band(agreement['kappa'])}).")


def eligibility(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Every solution with its verdict exactly as the choice rule made it."""
    choice = metrics["choice"]
    out = []
    for row in metrics["rows"]:
        key = solution_key(row["algorithm"], row["k"])
        why = choice["verdicts"][key]
        out.append({"key": key, "algorithm": row["algorithm"], "k": row["k"],
                    "name": ALGORITHM_NAMES[row["algorithm"]], "eligible": not why,
                    "why": "; ".join(why), "chosen": (row["algorithm"], row["k"]) ==
                    (choice["algorithm"], choice["k"]),
                    "rank_sum": choice["ranks"].get(key, {}).get("sum")})
    return out


def choice_section(metrics: dict[str, Any], chosen_row: dict[str, Any],
                   sel: SelectionConfig) -> dict[str, Any]:
    """The choice in words: rule, reason, knee, gap, why the others lost, flags."""
    choice = metrics["choice"]
    weakest = min(chosen_row["silhouette_per_cluster"])
    return {"algorithm": choice["algorithm"], "k": choice["k"],
            "name": solution_name(choice["algorithm"], choice["k"]),
            "rule": choice["rule"], "reason": choice["reason"], "knee": choice["knee"],
            "gap": choice["gap"], "others": list(choice["others"].values()),
            "eligible": choice["eligible"], "relaxed": choice["relaxed"],
            "flags": choice["flags"],
            "silhouette_text": readings.silhouette(chosen_row["silhouette"], weakest),
            "stability_text": readings.stability(chosen_row["stability_min"],
                                                 sel.min_stability)}


def agreement_section(baseline: dict[str, Any], algorithms: dict[str, Any],
                      labels: dict[str, str]) -> dict[str, Any]:
    """Tiers vs the rule and K-Means vs Ward: raw agreement, kappa, who disagrees, in words;
    ``labels`` names each segment id (``moderate/lapsed`` -> its reader's label)."""
    def named(segment: str) -> str:
        tier, _ = segment.split("/", 1)
        return f"{labels.get(segment, segment)} ({tier})"

    def who(rows: list[dict[str, Any]], a: str, b: str) -> list[str]:
        return [f"{f.count(r['users'])} users are {r['a']} for {a} but {r['b']} for {b}, "
                "mostly " + "; ".join(f"{named(s['segment'])}: {f.count(s['users'])}"
                                      for s in r["segments"][:3]) + "."
                for r in rows]

    return {
        "baseline": {"agreement": baseline["agreement_share"], "kappa": baseline["kappa"],
                     "reading": readings.kappa(baseline["agreement_share"], baseline["kappa"],
                                               "The tiers and the simple rule"),
                     "rule": baseline["rule"],
                     "who": who(baseline["disagreements"], "the published tiers",
                                         "the simple rule")},
        "algorithms": {"k": algorithms["k"], "agreement": algorithms["agreement"],
                       "kappa": algorithms["kappa"],
                       "reading": readings.kappa(algorithms["agreement"], algorithms["kappa"],
                                                 "K-Means and Ward clusters"),
                       "who": who(algorithms["disagreements"], "K-Means", "Ward")},
    }


def build_findings(documents: dict[str, Any], summary: dict[str, Any],
                   effect: dict[str, Any], sel: SelectionConfig) -> dict[str, Any]:
    """The findings of one build from its ``documents`` (catalog name -> object), manifest
    ``summary`` and the censoring ``effect`` (before/after the placeholder handling)."""
    metrics, segments = documents["metrics.json"], documents["segments.json"]
    choice = metrics["choice"]
    chosen_row = next(r for r in metrics["rows"]
                      if (r["algorithm"], r["k"]) == (choice["algorithm"], choice["k"]))
    agreement = agreement_section(segments["baseline"], documents["agreement.json"],
                                  {r["segment"]: r["label"] for r in segments["records"]})
    return {
        "users": summary["rows_clustered"], "users_text": f.count(summary["rows_clustered"]),
        "headline": headline(summary, segments),
        "tier_units": tier_units(segments),
        "tiers": tier_cards(summary, documents["profiles.json"], segments),
        "segments": segment_rows(segments, sel.min_stability),
        "how_we_know": how_we_know(summary, metrics, chosen_row, segments["baseline"]),
        "choice": choice_section(metrics, chosen_row, sel),
        "eligibility": eligibility(metrics),
        "agreement": agreement,
        "censoring": effect,
        "limitations": limitations(documents, summary, effect),
        "changes": documents["changes.json"]["summary"],
    }
