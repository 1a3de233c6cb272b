"""What the numbers cannot say, each limitation with the numbers behind it (from the build)."""

from __future__ import annotations

from typing import Any

from analysis.report import formats as f
from analysis.vocabulary import ALGORITHM_NAMES, TIERS

#: Days per year used to turn account ages in days into years (calendar average).
DAYS_PER_YEAR = 365.25
#: Days after a placeholder date counted as a possible tail of the backfill (the excess over the
#: background level of the logins 1..AFTER_DAYS days after it).
AFTER_DAYS = 4


def _placeholder(documents: dict[str, Any], effect: dict[str, Any]) -> dict[str, str]:
    found = effect["placeholder"]
    offsets = "; ".join(f"{f.count(p['offset'])} days after sign-up for the accounts "
                        f"{f.count(p['seniority_min'])}–{f.count(p['seniority_max'])} days old "
                        f"({f.count(p['users'])} users)" for p in found["placeholders"])
    tail = sum(sum(p["after_counts"][:AFTER_DAYS]) - AFTER_DAYS * p["after_level"]
               for p in found["placeholders"])
    return {"title": "Most 'last logins' are a placeholder date",
            "text": f"For {f.count(found['flagged'])} users ({f.share(found['share'])}) the "
                    f"recorded last login sits at a fixed offset after sign-up: {offsets}. It is "
                    "a placeholder or a backfill, not a login: we only know that they have not "
                    f"logged in for at least {f.count(found['censor_days'])} days, and every "
                    "number here treats their recency as exactly that (censored). About "
                    f"{f.count(max(tail, 0))} more users logged in 1–{AFTER_DAYS} days after "
                    "those dates; the data cannot tell a real return from part of the "
                    "backfill."}


def _dates_and_survivors(documents: dict[str, Any], cohorts: int) -> list[dict[str, str]]:
    """The unknown export date, and the accounts' ages (``cohorts`` sign-up windows: seniority
    values closer than the placeholder's cohort gap)."""
    expl = documents["exploration.json"]
    seniority = [row["seniority"] for row in expl["seniority"]]
    first = expl["columns"]["daysSinceLastLogin"]["min"]
    young, old = min(seniority) / DAYS_PER_YEAR, max(seniority) / DAYS_PER_YEAR
    windows = "one sign-up window" if cohorts == 1 else f"{f.count(cohorts)} sign-up windows"
    return [
        {"title": "The export date is unknown",
         "text": f"The most recent login in the file was {f.days(first)} days before the export, "
                 "so 'days ago' counts from a date the data does not give; the cut points "
                 "(recent, lapsed, unseen) are relative to it."},
        {"title": f"Only surviving accounts of {windows}",
         "text": f"Every account is {f.count(min(seniority))}–{f.count(max(seniority))} days old "
                 f"({young:.1f}–{old:.1f} years): {windows}, and deleted accounts are "
                 "absent. The results describe the accounts that survived, not the platform's "
                 "users at large."},
    ]


def _models(documents: dict[str, Any]) -> list[dict[str, str]]:
    metrics = documents["metrics.json"]
    choice = metrics["choice"]
    ward = [r for r in metrics["rows"] if r["algorithm"] == "ward"]
    best = max(ward, key=lambda r: r["stability_min"]) if ward else None
    out = []
    if best is not None:
        out.append({"title": f"{ALGORITHM_NAMES['ward']} is unstable here",
                    "text": f"At every k its least stable group keeps at most "
                            f"{f.index(best['stability_min'])} of its users together under "
                            "resampling: its merges flip on this data, so it is shown for "
                            "comparison only."})
    weak = ", ".join(f"cluster {x['cluster']} ({f.minus(f.index(x['silhouette']))})"
                     for x in choice["flags"])
    gap = metrics["gap"].get(choice["algorithm"], {})
    out.append({"title": "Groups are bands of a continuum",
                "text": ("The chosen solution's " + (f"{weak} has" if weak else "clusters have")
                         + (" a negative mean silhouette" if weak else " positive silhouettes")
                         + ("; the gap statistic finds no natural number of groups"
                            if gap.get("k_hat") is None else "")
                         + ": tier and segment borders are cuts through a continuum, and users "
                           "near a border could sit on either side.")})
    return out


def _columns(documents: dict[str, Any]) -> list[dict[str, str]]:
    expl = documents["exploration.json"]
    tiers = {p["tier"]: p for p in documents["profiles.json"]["tiers"]}
    apps = ", ".join(f"{t} {f.share(tiers[t]['any_app_share'])}" for t in TIERS if t in tiers)
    report = documents["validation_report.json"]
    shared = next((e for e in report["expectations"] if e["id"] == "one_country_per_code"),
                  None)
    out = [{"title": "App ownership goes with activity; it is not shown to cause it",
            "text": f"Users with an app by tier: {apps}. Active users may install the app, or "
                    "the app may make users active: this data cannot tell."},
           {"title": "Listed products are current stock",
            "text": f"productsListed counts what is on sale now, not what was ever listed: "
                    f"{f.count(expl['sold_without_listing'])} users who sold have nothing listed. "
                    "Sellers are therefore users who listed or sold."}]
    if shared is not None and not shared["success"]:
        pairs = "; ".join(f"{v['values']['countryCode']} = {v['values']['country']} "
                          f"({f.count(v['count'])})" for v in shared["common_values"])
        out.append({"title": "One country code stands for two countries",
                    "text": f"{pairs}: country-level figures use the country name."})
    out.append({"title": "Reasons explain segments, not tiers",
                "text": "A user's reason lists what they did and when they were last seen (what "
                        "places them in a segment); the tier also weighs followers and follows, "
                        "so two users with the same reason can sit in different tiers near a "
                        "border."})
    return out


def _snapshot(documents: dict[str, Any], summary: dict[str, Any]) -> list[dict[str, str]]:
    defaults = documents["exploration.json"]["defaults"]
    n = summary["rows_clustered"]
    return [
        {"title": "One snapshot, no history",
         "text": "The export is one picture of each account on one day: no dates of likes, sales "
                 "or purchases. It cannot tell a user who is becoming active from one who is "
                 "fading, nor measure churn; the last login is the only time signal."},
        {"title": "Most users carry almost no information",
         "text": f"{f.share(defaults['both_default_share'])} still have the followers and "
                 "follows every new account starts with and "
                 f"{f.share(defaults['no_product_activity_share'])} never touched a product; "
                 f"the {f.count(n)} users share only "
                 f"{f.count(summary['distinct_feature_rows'])} distinct behaviour profiles."},
        {"title": "Counts, not money",
         "text": "There are no prices or order values: 'active' means doing things, not bringing "
                 "revenue."},
    ]


def limitations(documents: dict[str, Any], summary: dict[str, Any], effect: dict[str, Any]
                ) -> list[dict[str, str]]:
    """Every limitation as {title, text}; the numbers come from this build's documents."""
    out = []
    if effect["placeholder"]["flagged"]:
        out.append(_placeholder(documents, effect))
    return (out + _dates_and_survivors(documents, effect["placeholder"]["cohorts"])
            + _snapshot(documents, summary)
            + _models(documents) + _columns(documents))
