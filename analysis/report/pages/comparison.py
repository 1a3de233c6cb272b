"""The Comparison page (and the metrics tables of the K-Means and Hierarchical pages): every
solution judged by every criterion, the choice in words, agreement and stability."""

from __future__ import annotations

from IPython.display import HTML

from analysis.report import formats as f
from analysis.report.charts.models import (
    agreement_chart,
    comparison_metrics,
    matrix_heatmap,
    stability_chart,
)
from analysis.report.charts.present import load
from analysis.report.charts.render import show
from analysis.report.pages.html import block, bullet_list, esc, paragraphs, table


def choice() -> HTML:
    """The chosen solution, the rule, and why the knee, k = 2 and the other algorithm lost."""
    c = load("findings")["choice"]
    flags = (["Flagged: " + c["silhouette_text"]] if c["flags"] else [c["silhouette_text"]])
    return block(f"<p><strong>Chosen: {esc(c['name'])}.</strong> {esc(c['reason'])}</p>"
                 + paragraphs(["The rule: " + c["rule"]])
                 + bullet_list([c["knee"], c["gap"], *c["others"], *flags]))


def eligibility_table(algorithm: str | None = None) -> HTML:
    """Every criterion for every solution (one algorithm's, or all), eligibility marked exactly
    as the rule decided it."""
    findings, metrics = load("findings"), load("metrics")
    verdict = {e["key"]: e for e in findings["eligibility"]}
    rows = []
    for r in metrics["rows"]:
        if algorithm is not None and r["algorithm"] != algorithm:
            continue
        e = verdict[f"{r['algorithm']}_k{r['k']}"]
        mark = ('<span class="c2c-yes">chosen</span>' if e["chosen"] else
                '<span class="c2c-yes">yes</span>' if e["eligible"] else
                f'<span class="c2c-no">no: {esc(e["why"])}</span>')
        rows.append([e["name"], str(r["k"]), f.index(r["silhouette"]),
                     f.minus(f.index(min(r["silhouette_per_cluster"]))),
                     f.count(r["calinski_harabasz"]), f.index(r["davies_bouldin"]),
                     f.index(r["stability_min"]), f.share(r["min_share"]),
                     "–" if e["rank_sum"] is None else f"{e['rank_sum']:g}", mark])
    header = ["Algorithm", "k", "Silhouette", "Weakest cluster", "Calinski–Harabasz",
              "Davies–Bouldin", "Least stable cluster", "Smallest cluster", "Rank sum",
              "Eligible"]
    return block(table(header, rows, "Every solution on every criterion (silhouette and "
                                     "Jaccard 0-1, higher is better; Davies–Bouldin lower is "
                                     "better)", raw_columns=(9,)))


def quality_chart():
    """Silhouette, Calinski-Harabasz and Davies-Bouldin over k, both algorithms."""
    return show(*comparison_metrics(load("metrics")))


def agreement() -> HTML:
    """K-Means vs Ward at the chosen k, in words: raw agreement, kappa, who differs."""
    a = load("findings")["agreement"]["algorithms"]
    return block(paragraphs([a["reading"]]) + bullet_list(a["who"]))


def agreement_over_k():
    """ARI and NMI of K-Means vs Ward for every k."""
    return show(*agreement_chart(load("agreement")))


def contingency():
    """Which K-Means cluster each Ward cluster falls into at the chosen k."""
    agree = load("agreement")
    counts = agree["contingency"]
    return show(*matrix_heatmap(counts, [f"K-Means C{i}" for i in range(len(counts))],
                                [f"Ward C{j}" for j in range(len(counts[0]))], "K-Means cluster",
                                "Ward cluster", f"K-Means and Ward clusters, k = {agree['k']}",
                                "Users in each pair of clusters"))


def stability():
    """Per-cluster bootstrap Jaccard of every solution, with the bar."""
    manifest = load("manifest")
    return show(*stability_chart(load("stability"),
                                 manifest["config"]["selection"]["min_stability"]))


def baseline() -> HTML:
    """The simple rule, agreement beside kappa, and who the tiers and the rule disagree on."""
    b = load("findings")["agreement"]["baseline"]
    return block(paragraphs(["The rule: " + b["rule"], b["reading"]]) + bullet_list(b["who"]))


def baseline_heatmap():
    """The published tiers against the simple rule's tiers."""
    conf = load("segments")["baseline"]["confusion"]
    return show(*matrix_heatmap(conf["counts"], conf["rows"], conf["cols"],
                                "Published tier", "Tier from the simple rule",
                                "Published tiers against the simple rule",
                                "The diagonal is agreement"))


PROMISES = (("active_not_recent", "“active” but last seen after the recent cut"),
            ("recent_history_inactive", "seen recently with product history but “inactive”"),
            ("unseen_active", "no login recorded since the placeholder bound but “active”"))


def tierings_table() -> HTML:
    """The published tiers, the strong rule and the baseline rule side by side: sizes,
    agreement (kappa, ARI), trade held by "active", and users whose tier breaks its name."""
    rows = []
    for t in load("segments")["tierings"]:
        broken = sum(t["violations"].values())
        rows.append([t["name"], *(f.count(t["sizes"][tier]) for tier in ("inactive",
                                                                         "moderate",
                                                                         "active")),
                     f.index(t["kappa"]), f.index(t["ari"]),
                     f.share(t["trade"]["active"]["sold"]),
                     f.share(t["trade"]["active"]["bought"]),
                     f.share(t["trade"]["inactive"]["sold"]), f.count(broken)])
    header = ["Tiering", "Inactive", "Moderate", "Active", "Kappa vs published",
              "ARI vs published", "Units sold by active", "Units bought by active",
              "Units sold by inactive", "Users whose tier contradicts its name"]
    return block(table(header, rows, "Tierings compared (kappa and ARI: 1 = the same tiers as "
                                     "the published ones)"))


def tiering_rules() -> HTML:
    """Each tiering's rule in words and which of its name's promises it breaks, with counts."""
    items = []
    for t in load("segments")["tierings"]:
        broken = [f"{f.count(t['violations'][key])} users {words}" for key, words in PROMISES
                  if t["violations"][key]]
        items.append(f"{t['name'].capitalize()}: {t['rule']} "
                     + ("Breaks: " + "; ".join(broken) + "." if broken
                        else "Every user's tier is true to its name."))
    return block(bullet_list(items))


def _design_verdict(row: dict) -> str:
    if row["chosen"]:
        return "chosen"
    if row["qualifies"]:
        return "qualifies"
    why = []
    if row["broken_promises"]:
        why.append(f"{f.count(row['broken_promises'])} users' tiers contradict their names")
    if row["monotone"]["pairs"]:
        why.append(f"{f.count(row['monotone']['pairs'])} pairs break the order")
    return "fails: " + "; ".join(why or ["its weakest cluster is unstable"])


#: Short column titles of the designs (their full names are in the page's text).
DESIGN_TITLES = {"a": "(a) v2", "b": "(b) behaviour clusters, rule inside",
                 "c": "(c) recency in clusters, rule inside"}


def designs_table() -> HTML:
    """Designs (a), (b), (c) side by side on every criterion (one row each), with the verdict
    of the rule; criteria as rows keep the table as wide as three designs."""
    doc = load("segments")["designs"]
    criteria = [
        ("Users whose tier contradicts its name", lambda r: f.count(r["broken_promises"])),
        ("Pairs of users breaking the order", lambda r: f.count(r["monotone"]["pairs"])),
        ("Kappa against the strong rule", lambda r: f.index(r["kappa_strong_rule"])),
        ("Units sold by active users", lambda r: f.share(r["active_sold"])),
        ("Units bought by active users", lambda r: f.share(r["active_bought"])),
        ("Behaviour types split over several tiers",
         lambda r: f.count(r["types_in_several_tiers"])),
        ("Silhouette", lambda r: f.index(r["silhouette"])),
        ("Silhouette without the all-zero users", lambda r: f.index(r["silhouette_without_zero"])),
        ("Users on the all-zero point", lambda r: f.share(r["zero_share"])),
        ("Weakest cluster's silhouette",
         lambda r: f.minus(f.index(r["weakest_cluster_silhouette"]))),
        ("Weakest cluster's stability (bootstrap Jaccard)",
         lambda r: f.index(r["stability_min"])),
        ("Clusters vs tiers (NMI; 1 = the clusters are the tiers)",
         lambda r: f.index(r["cluster_tier_nmi"])),
        ("Users a threshold tree names in their own cluster",
         lambda r: f.share(r["tree_fidelity"])),
        ("Verdict", _design_verdict)]
    rows = [[name, *(cell(r) for r in doc["rows"])] for name, cell in criteria]
    header = ["Criterion", *(DESIGN_TITLES.get(r["design"], r["design"]) for r in doc["rows"])]
    return block(table(header, rows, f"Three designs at k = {doc['k']}, measured on all users "
                                     "with the same criteria"))


def design_choice() -> HTML:
    """The rule that picks the design, and what the chosen design gives up, in numbers."""
    doc = load("segments")["designs"]
    rows = {r["design"]: r for r in doc["rows"]}
    text = [f"The rule: {doc['rule']}"]
    chosen = rows.get(doc["chosen"]) if doc["chosen"] else None
    if chosen is None:
        text.append("No design qualifies on this data: the published tiers are design (b)'s "
                    "rule, and this page says so.")
        return block(paragraphs(text))
    text.append(f"Design ({chosen['design']}) is chosen: {chosen['name']}.")
    for r in doc["rows"]:
        if r is chosen or not r["qualifies"]:
            continue
        trade = (f"Design ({r['design']}) also keeps every promise; its clusters share more with "
                 f"the tiers (NMI {f.index(r['cluster_tier_nmi'])} against "
                 f"{f.index(chosen['cluster_tier_nmi'])}), so inside its clusters there is less "
                 "left to find")
        if r["silhouette_without_zero"] > chosen["silhouette_without_zero"]:
            trade += (f", although they separate better once the all-zero users are left out "
                      f"(silhouette {f.index(r['silhouette_without_zero'])} against "
                      f"{f.index(chosen['silhouette_without_zero'])})")
        text.append(trade + ".")
    return block(paragraphs(text))
