"""The Segments page: each tier's segments with profile, action and evidence; who holds the
trade; tier profiles; the users on a map; tiers by country and app ownership."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
from IPython.display import HTML

from analysis.intake.schema import COLUMN_LABELS
from analysis.report import formats as f
from analysis.report.charts.present import load
from analysis.report.charts.render import _title, show, tier_scale
from analysis.report.charts.segments import loadings_chart, pca_scatter, tier_share_bars
from analysis.report.pages.html import badge, block, bullet_list, esc, paragraphs, table
from analysis.vocabulary import TIERS

#: Raw columns a segment card shows (median and middle half).
CARD_COLUMNS = ("daysSinceLastLogin", "socialProductsLiked", "productsSold", "productsBought")
UNITS = (("sold", "Units sold"), ("bought", "Units bought"), ("listed", "Listed stock"),
         ("liked", "Likes"))


def rule() -> HTML:
    """How personas, tiers and segments are made, with this build's cut points."""
    seg = load("segments")
    bound = seg["censor_days"]
    unseen = (f"no login recorded for {f.count(bound)}+ days (the login placeholder's bound)"
              if bound is not None else "not seen for a long time")
    return block(paragraphs([
        "The clusters describe what users do (likes, wishes, listings, sales, purchases, "
        "followers and follows; when they last logged in is left out). Inside every cluster the "
        "same rule finds the active, moderate and inactive users: " + seg["tier_rule"],
        "Inside each tier, segments group users a CRM team would treat differently: what they "
        "have done (sold, listed without selling yet, bought, only liked or wished, nothing at "
        f"all) and when they were last seen (recent: within {f.count(seg['recent_days'])} days, "
        f"the natural break in measured recency; unseen: {unseen}; lapsed: in between). Every "
        "kind of user sits in exactly one tier, so a segment's name never contradicts its tier.",
        "A segment too small to run a campaign on is merged with the other segments of its kind "
        "in the same tier, never with users of another kind: nobody who ever liked, listed, sold, "
        "wished or bought sits in a never-engaged segment."]))


def personas() -> HTML:
    """The chosen clustering's personas: what every member has in common, and its tiers."""
    doc = load("segments")["personas"]
    labels = {r["segment"]: r["label"] for r in load("segments")["records"]}
    rows, inside = [], []
    for r in sorted(doc["records"], key=lambda r: -r["users"]):
        biggest = sorted(r["segments"].items(), key=lambda kv: -kv[1])[:3]
        rows.append([f"P{r['persona']}", r["name"], f.count(r["users"]),
                     *(f.count(r["tiers"][t]) for t in ("active", "moderate", "inactive"))])
        inside.append(f"P{r['persona']}, largest segments: " + "; ".join(
            f"{labels.get(name, name)} ({f.count(n)})" for name, n in biggest) + ".")
    intro = paragraphs([
        "Each persona is one cluster of the chosen solution, described by the few tests of a "
        "threshold tree (Dasgupta et al., 2020) that sends the cluster's users to it; every "
        "word of its name holds for every member. The tree places "
        f"{f.share(doc['fidelity'])} of users in their own cluster; the others sit in the persona "
        "whose tests they meet. Inside every persona the same tier rule applies, and each tier's "
        "segments carry their own action (below)."])
    shared = [f"P{r['persona']}: " + "; ".join(r["actions"]["shared"])
              for r in doc["records"] if r["actions"]["shared"]]
    note = paragraphs(["Within every persona each tier's segments get actions of their own: no "
                       "action is shared by two tiers."] if not shared else
                      ["Within these personas two tiers share an action (the tier changes "
                       "nothing there): " + " | ".join(shared)])
    return block(intro + table(
        ["Persona", "What every member has in common", "Users", "Active", "Moderate",
         "Inactive"], rows, "Personas of the chosen clustering and the tiers inside each")
        + bullet_list(inside) + note)


def persona_profiles() -> HTML:
    """Median (middle half) of each raw column by persona, in raw units."""
    doc, prof = load("segments")["personas"], load("profiles")
    ranked = sorted((r for r in doc["records"] if r["profile"]), key=lambda r: -r["users"])
    rows = [[COLUMN_LABELS.get(c, c)] + [
        f"{f.days(r['profile']['stats'][c]['median'])} "
        f"({f.days(r['profile']['stats'][c]['q1'])}–{f.days(r['profile']['stats'][c]['q3'])})"
        for r in ranked] for c in prof["profile_columns"] if c != "productsPassRate"]
    rows.append(["Uses an app"] + [f.share(r["profile"]["any_app_share"]) for r in ranked])
    rows.append(["Ever listed, sold or bought"] + [f.share(r["profile"]["traded_share"])
                                                   for r in ranked])
    return block(table(["Column", *(f"P{r['persona']}" for r in ranked)], rows,
                       "Persona profiles: median (middle half) in raw units; days since the "
                       "last login stop at the placeholder bound"))


def _profile_rows(record: dict[str, Any]) -> str:
    cells = []
    for column in CARD_COLUMNS:
        stat = record["stats"][column]
        cells.append(f"<dt>{esc(COLUMN_LABELS.get(column, column))}</dt><dd>median "
                     f"{esc(f.days(stat['median']))} (middle half {esc(f.days(stat['q1']))}–"
                     f"{esc(f.days(stat['q3']))})</dd>")
    return "<dl>" + "".join(cells) + "</dl>"


def _premises(record: dict[str, Any]) -> str:
    """What the action assumes, and whether it holds for every member (flagged when not)."""
    if record.get("premise_flag"):
        return f'<p class="c2c-flag"><strong>Check:</strong> {esc(record["premise_flag"])}</p>'
    words = ", ".join(p["words"] for p in record.get("premises", []))
    return f'<p class="c2c-muted">Assumes (true of every member): {esc(words)}.</p>'


def segment_cards(tier: str) -> HTML:
    """One card per segment of ``tier``: who, how many, profile, action, evidence, stability."""
    seg, findings = load("segments"), load("findings")
    plain = {s["segment"]: s["stability_text"] for s in findings["segments"]}
    cards = []
    for r in (r for r in seg["records"] if r["tier"] == tier):
        cards.append(
            f'<div class="c2c-segment c2c-segment-{esc(tier)}"><h3>{esc(r["label"])}</h3>'
            f"<p>{badge(tier)} <strong>{esc(f.count(r['size']))}</strong> users "
            f"({esc(f.share(r['share']))})</p>"
            f"<p><strong>Do:</strong> {esc(r['action'])}</p>"
            f"<p><strong>Why:</strong> {esc(r['evidence'])}</p>{_premises(r)}{_profile_rows(r)}"
            f'<p class="c2c-muted">Stable? {esc(plain[r["segment"]])}</p></div>')
    return block('<div class="c2c-segments">' + "".join(cards) + "</div>")


def units_chart():
    """Which segments hold the sales, purchases, stock and likes."""
    seg = load("segments")
    rows = [{"unit": label, "segment": r["label"], "tier": r["tier"],
             "share": r["unit_shares"][key]}
            for r in seg["records"] for key, label in UNITS if r["unit_shares"][key] > 0]
    frame = pd.DataFrame(rows)
    chart = alt.Chart(frame).mark_bar(stroke="white", strokeWidth=0.5).encode(
        y=alt.Y("unit:N", sort=[label for _, label in UNITS], title=None),
        x=alt.X("share:Q", stack="zero", title="Share of all units",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("tier:N", scale=tier_scale(), sort=list(TIERS), title="Tier",
                        legend=alt.Legend(orient="top")),
        order=alt.Order("share:Q", sort="descending"),
        tooltip=[alt.Tooltip("segment:N", title="Segment"), alt.Tooltip("unit:N", title="What"),
                 alt.Tooltip("share:Q", title="Share of all", format=f.d3("share"))],
    ).properties(width=600, height=170, title=_title("Who holds the trade"))
    top = max(rows, key=lambda r: r["share"] if r["unit"] == UNITS[0][1] else -1)
    return show(chart, f"Stacked bars of each segment's share of all units sold, bought, listed "
                       f"and liked; {top['segment']} holds {f.share(top['share'])} of units sold.")


def tier_profiles() -> HTML:
    """Median (middle half) of each raw column by tier."""
    prof = load("profiles")
    tiers = {p["tier"]: p for p in prof["tiers"]}
    present = [t for t in TIERS if t in tiers]
    rows = [[COLUMN_LABELS.get(c, c)] + [
        f"{f.days(tiers[t]['stats'][c]['median'])} ({f.days(tiers[t]['stats'][c]['q1'])}–"
        f"{f.days(tiers[t]['stats'][c]['q3'])})" for t in present]
        for c in prof["profile_columns"] if c != "productsPassRate"]
    rows.append(["Uses an app"] + [f.share(tiers[t]["any_app_share"]) for t in present])
    rows.append(["Ever listed, sold or bought"] + [f.share(tiers[t]["traded_share"])
                                                   for t in present])
    return block(table(["Column", *present], rows,
                       "Tier profiles: median (middle half) in raw units; days since the last "
                       "login stop at the placeholder bound"))


def users_map():
    """A fixed-size sample of users on the first two principal components, by tier."""
    manifest, pca = load("manifest"), load("pca")
    chosen = manifest["chosen"]
    return show(*pca_scatter(pca, chosen["algorithm"], chosen["k"]))


def map_axes():
    """What the two principal components measure."""
    return show(*loadings_chart(load("pca")))


def by_country():
    """Tier shares in the largest countries."""
    seg = load("segments")
    return show(*tier_share_bars(seg["tiers_by_country"], "country", "Country",
                                 "Tier shares in the largest countries"))


def by_app():
    """Tier shares by app ownership (not used to form the groups)."""
    seg = load("segments")
    rows = [{**r, "has_any_app": "uses an app" if r["has_any_app"] else "no app"}
            for r in seg["tiers_by_app"]]
    return show(*tier_share_bars(rows, "has_any_app", "App", "Tier shares by app ownership",
                                 order=["uses an app", "no app"]))
