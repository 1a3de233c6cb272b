"""The Exploration page: the raw export before any grouping (defaults, skew, correlations,
recency, sign-up cohorts, places)."""

from __future__ import annotations

from IPython.display import HTML

from analysis.intake.schema import COUNT_COLUMNS
from analysis.report import formats as f
from analysis.report.charts.exploration import (
    correlation_heatmap,
    counts_bar,
    distributions_chart,
    histogram_chart,
    seniority_chart,
    shares_chart,
)
from analysis.report.charts.present import load
from analysis.report.charts.render import show
from analysis.report.pages.html import block, paragraphs


def defaults_text() -> HTML:
    """How many users never moved from the platform defaults or touched a product."""
    expl, m = load("exploration"), load("manifest")
    d, cfg = expl["defaults"], m["config"]["features"]
    return block(paragraphs([
        f"Every new account starts with {cfg['default_followers']} followers and "
        f"{cfg['default_follows']} follows. {f.share(d['followers_at_default_share'])} of the "
        f"{f.count(expl['n_users'])} users still have exactly the default followers, "
        f"{f.share(d['follows_at_default_share'])} the default follows and "
        f"{f.share(d['both_default_share'])} both; {f.share(d['no_product_activity_share'])} "
        "never liked, listed, sold, wished for or bought a product."]))


def defaults_chart():
    """Shares of users still at the starting point."""
    d = load("exploration")["defaults"]
    return show(*shares_chart(
        [("Followers at the default", d["followers_at_default_share"]),
         ("Follows at the default", d["follows_at_default_share"]),
         ("Both at the default", d["both_default_share"]),
         ("No product activity", d["no_product_activity_share"])],
        "Users who never moved from the starting point", "Share of all users"))


def skew_text() -> HTML:
    """Zero shares and the long tail of the counts."""
    cols, m = load("exploration")["columns"], load("manifest")
    liked = cols["socialProductsLiked"]
    return block(paragraphs([
        f"Each count is mostly zeros with a long tail: {f.share(liked['zero_share'])} liked "
        f"nothing, {f.share(cols['productsListed']['zero_share'])} list nothing, "
        f"{f.share(cols['productsSold']['zero_share'])} sold nothing and "
        f"{f.share(cols['productsBought']['zero_share'])} bought nothing, while the keenest user "
        f"liked {f.count(liked['max'])} products (99th percentile: {f.count(liked['p99'])}). "
        "The clustering therefore works on log-transformed, capped values. Behaviour repeats a "
        f"lot: only {f.count(m['distinct_feature_rows'])} distinct combinations exist."]))


def distributions():
    """A histogram per count column, on log axes."""
    expl = load("exploration")
    return show(*distributions_chart(expl, [c for c in COUNT_COLUMNS if c in expl["columns"]]))


def correlations():
    """Rank correlations of the behaviour columns."""
    return show(*correlation_heatmap(load("exploration")["correlations"]))


def recency_text() -> HTML:
    """The recorded recency, with the placeholder's spike pointed out."""
    expl, effect = load("exploration"), load("findings")["censoring"]
    median = expl["columns"]["daysSinceLastLogin"]["median"]
    text = f"The median recorded last login is {f.days(median)} days before the export."
    if effect["applied"]:
        found = effect["placeholder"]
        text += (f" The tall bars at the right are the login placeholder: "
                 f"{f.count(found['flagged'])} users whose 'last login' is a fixed date after "
                 "sign-up, not a login (see Data & quality).")
    return block(paragraphs([text]))


def recency():
    """Histogram of days since the last login, as recorded."""
    return show(*histogram_chart(load("exploration")["recency"], "Days since the last login",
                                 "Days since last login (bins of equal width)"))


def cohorts():
    """Users per seniority value (sign-up cohorts)."""
    return show(*seniority_chart(load("exploration")["seniority"]))


def places_text() -> HTML:
    """How concentrated the users are by country."""
    expl = load("exploration")
    shown = [r for r in expl["countries"] if r["country"] != "other"]
    other = next((r["share"] for r in expl["countries"] if r["country"] == "other"), 0.0)
    return block(paragraphs([
        f"Users come from {expl['n_countries']} countries; {shown[0]['country']} alone has "
        f"{f.share(shown[0]['share'])} of them. The chart shows the {len(shown)} largest; all "
        f"others together hold {f.share(other)}."]))


def countries():
    """Users per country (the largest, then 'other')."""
    expl = load("exploration")
    shown = [r for r in expl["countries"] if r["country"] != "other"]
    return show(*counts_bar(shown, "country", "Users per country", "Country", len(shown)))


def languages():
    """Users per interface language."""
    expl = load("exploration")
    return show(*counts_bar(expl["languages"], "language", "Users per interface language",
                            "Language", len(expl["languages"])))
