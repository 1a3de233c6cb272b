"""The Summary page: the answer on the first screen (who, what it means, what to do, how we
know), then the segments chart and the key findings in plain words."""
from __future__ import annotations

import json
from typing import Any

import altair as alt
import pandas as pd
from IPython.display import HTML

from analysis.report import formats as f
from analysis.report import readings
from analysis.report.charts.present import load
from analysis.report.charts.render import _title, show, tier_scale
from analysis.report.pages.html import badge, block, esc, paragraphs
from analysis.vocabulary import TIERS, counted


def _cards(findings: dict[str, Any]) -> str:
    cards = []
    for card in findings["tiers"]:
        cards.append(
            f'<div class="c2c-card c2c-card-{esc(card["tier"])}">'
            f'<div class="c2c-card-head">{badge(card["tier"])} '
            f'<span class="c2c-card-count">{esc(card["users_text"])}</span> '
            f'<span class="c2c-card-share">{esc(card["share_text"])}</span></div>'
            f'<p class="c2c-card-text">{esc(card["definition"])}</p></div>')
    return f'<div class="c2c-cards">{"".join(cards)}</div>'


def _csv(*values: Any) -> str:
    """A cell's ``data-csv`` attribute: its values for the table's CSV download, one column
    each (numbers stay numbers)."""
    return f' data-csv="{esc(json.dumps(list(values)))}"'


def _actions(findings: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td{_csv(s['tier'], s['label'])}>{badge(s['tier'])} {esc(s['label'])}</td>"
        f'<td class="c2c-num"{_csv(s["users"], s["share"])}>{esc(s["users_text"])} '
        f'<span class="c2c-muted">{esc(s["share_text"])}</span></td>'
        f"<td>{esc(s['short_action'])}</td></tr>"
        for s in findings["segments"])
    return ('<div class="c2c-table-wrap"><table class="c2c-table table c2c-todo">'
            "<caption>What to do, segment by segment</caption><thead><tr>"
            f'<th scope="col"{_csv("tier", "segment")}>Who</th>'
            f'<th scope="col"{_csv("users", "share")}>Users</th>'
            f'<th scope="col">What to do</th></tr></thead><tbody>{rows}</tbody></table></div>')


def first_screen() -> HTML:
    """Who (tiers, segments, counts, shares), what each tier means, what to do, how we know."""
    findings = load("findings")
    return block(
        f'<div class="c2c-answer"><p class="c2c-lead">{esc(findings["headline"])}</p>'
        f"{_cards(findings)}"
        f'<p class="c2c-how"><strong>How we know.</strong> {esc(findings["how_we_know"])} '
        '<a href="comparison.html">How the groups were chosen</a> · '
        '<a href="segments.html">Segment evidence</a> · '
        '<a href="limitations.html">Limits</a></p>'
        f"{_actions(findings)}</div>")


def segments_chart():
    """Users per segment, coloured by tier."""
    findings = load("findings")
    frame = pd.DataFrame([{"key": s["segment"], "segment": s["label"], "tier": s["tier"],
                           "users": s["users"], "text": f"{s['users_text']} ({s['share_text']})"}
                          for s in findings["segments"]])
    # One bar per segment: the same label can occur in two tiers, so bars are keyed by the
    # segment id and the axis shows its label, or its short type name when the plot is narrow.
    labels = json.dumps(dict(zip(frame["key"], frame["segment"], strict=True)))
    short = json.dumps({s["segment"]: s["short_name"] for s in findings["segments"]})
    base = alt.Chart(frame).encode(
        y=alt.Y("key:N", sort=frame["key"].tolist(), title=None, axis=alt.Axis(
            labelLimit=320,
            labelExpr=f"width < 300 ? {short}[datum.value] : {labels}[datum.value]")),
        x=alt.X("users:Q", title="Users", axis=alt.Axis(format=f.d3("count"), tickCount=4),
                scale=alt.Scale(domain=[0, float(frame["users"].max()) * 1.35], nice=False)),
        tooltip=[alt.Tooltip("segment:N", title="Segment"), alt.Tooltip("tier:N", title="Tier"),
                 alt.Tooltip("users:Q", title="Users", format=f.d3("count"))])
    bars = base.mark_bar().encode(
        color=alt.Color("tier:N", scale=tier_scale(), sort=list(TIERS), title="Tier",
                        legend=alt.Legend(orient="top")))
    counts = base.mark_text(align="left", dx=3, fontSize=11).encode(text="text:N")
    chart = alt.layer(bars, counts).properties(
        width=600, height=22 * len(frame), title=_title("Users per segment"))
    biggest = frame.loc[frame["users"].idxmax()]
    return show(chart, f"Bar chart of users in each of {len(frame)} segments; the largest is "
                       f"{biggest['segment']} with {biggest['text']} users.")


def placeholder_sentence(effect: dict) -> str:
    """The login placeholder in words, and why the dormant count differs from it."""
    place, never = effect["placeholder"], effect["never_engaged"]["by_type"]
    dormant = never["dormant"]
    on_it = dormant.get("on_placeholder", dormant["users"])
    elsewhere = place["flagged"] - on_it
    days = f.count(place["censor_days"])
    return (f"{f.count(place['flagged'])} users ({f.share(place['share'])}) have a placeholder "
            f"date instead of a real last login, so we only know they have not logged in for "
            f"at least {days} days. {f.count(dormant['users'])} users never did anything with "
            f"products and have not logged in for {days}+ days (dormant): "
            f"{f.count(on_it)} of them sit on the placeholder and "
            f"{f.count(dormant['users'] - on_it)} really last logged in that long ago; the "
            f"other {f.count(elsewhere)} placeholder users did something with products and sit "
            f"in other segments. The never-engaged users seen more recently "
            f"({f.count(never['idle']['users'])} idle, {f.count(never['visitors']['users'])} "
            "recent visitors) need different handling.")


def strong_rule_sentence() -> str:
    """The tiers as the rule they are, against the stricter one-sentence rule, in plain words."""
    seg = load("segments")
    published, strong = seg["tierings"][:2]
    broken = sum(published["violations"].values())
    return ("The tiers are one transparent rule applied inside every cluster, so "
            + ("every user's tier is true to its name. " if not broken else
               f"{f.count(broken)} users' tiers contradict their names (see Comparison). ")
            + f"A stricter rule that also asks a sale or a purchase of active users agrees for "
            f"{f.share(strong['agreement_share'])} of users; "
            + _trade_words(published["trade"]["active"], strong["trade"]["active"]))


def _trade_words(ours: dict, strict: dict) -> str:
    """How much of the trade "active" holds under the tiers and under the stricter rule."""
    mine = f"{f.share(ours['sold'])} of sales and {f.share(ours['bought'])} of purchases"
    if (f.share(ours["sold"]), f.share(ours["bought"])) == (f.share(strict["sold"]),
                                                             f.share(strict["bought"])):
        return f"under both, active users make {mine}."
    return (f"its active users make {f.share(strict['sold'])} of sales and "
            f"{f.share(strict['bought'])} of purchases (the tiers' active users: {mine}).")


def personas_sentence() -> str:
    """What the clustering adds to the rule: the personas, named by what all members share."""
    doc = load("segments")["personas"]
    ranked = sorted(doc["records"], key=lambda r: -r["users"])
    listed = "; ".join(f"{r['name']} ({f.count(r['users'])})" for r in ranked)
    return (f"What the clustering adds is who the users are: {counted(len(ranked), 'persona')} "
            f"by what they do, each named by what every member has in common — {listed}. Inside "
            "each persona the same rule finds its active, moderate and inactive users.")


def key_findings() -> HTML:
    """The main findings, each a statistic with its plain reading."""
    findings = load("findings")
    effect = findings["censoring"]
    metrics = {(r["algorithm"], r["k"]): r for r in load("metrics")["rows"]}
    chosen = metrics[(findings["choice"]["algorithm"], findings["choice"]["k"])]
    baseline = findings["agreement"]["baseline"]
    items = [readings.plain_silhouette(chosen["silhouette"],
                                       min(chosen["silhouette_per_cluster"])),
             readings.plain_stability(chosen["stability_min"],
                                      load("manifest")["config"]["selection"]["min_stability"]),
             readings.plain_agreement(baseline["agreement"], baseline["kappa"],
                                      "The tiers and a simple rule"),
             strong_rule_sentence(), personas_sentence()]
    if effect["applied"]:
        items.insert(0, placeholder_sentence(effect))
    return block('<ul class="c2c-findings">' + "".join(f"<li>{esc(i)}</li>" for i in items)
                 + "</ul>")


def data_line() -> HTML:
    """Which file and which run these pages describe."""
    manifest, run = load("manifest"), load("run")
    return block(paragraphs([
        f"Input {manifest['input']['name']} (sha256 {manifest['input_sha256'][:12]}…), "
        f"{f.count(manifest['rows_in'])} rows, validation {manifest['validation_status']}; "
        f"built {str(run['finished_at'])[:10]}. Fingerprints, versions and the configuration are "
        "on the Method page."], "c2c-muted"))
