"""The What changed page: this release against the previous one, or, on a first build, what
the page will show and how to publish the next release. Every file name and sentence from the
data is escaped."""

from __future__ import annotations

from typing import Any

from IPython.display import HTML

from analysis.report import formats as f
from analysis.report.charts.changes import (
    agreement_heatmap,
    bins_chart,
    drift_table,
    psi_chart,
    tier_shift_chart,
    tier_table,
    validation_counts,
    validation_table,
)
from analysis.report.charts.models import matrix_heatmap
from analysis.report.charts.present import load
from analysis.report.charts.render import chart_html
from analysis.report.pages.html import block, bullet_list, esc, paragraphs, table
from analysis.vocabulary import solution_name


def _frame_html(frame, caption: str) -> str:
    from analysis.report.charts.render import table

    return table(frame, caption, escape=False).data


def first_build(m: dict[str, Any]) -> HTML:
    """One paragraph: nothing to compare yet, what the page will show, how to publish more."""
    keep = m["config"]["history"]["keep"]
    return block(
        "<p>This is the first release: there is nothing to compare with yet. When a new export "
        "arrives, run <code>c2c build --data NEW_FILE</code> (or replace <code>data/raw/</code> "
        "and run <code>make site</code>): the build validates it, refits the segments and "
        "publishes a new release whose What changed page compares it with this one: validation "
        "results, how each behaviour column shifted (PSI, KS), how tier shares moved (with "
        "bootstrap intervals), and how this release's model places the new users. The last "
        f"{esc(keep)} releases are kept for it.</p>")


def _header(ch: dict[str, Any]) -> str:
    p, n = ch["previous"], ch["current"]
    return paragraphs([
        f"Compared with release {p.get('snapshot') or '–'} recorded "
        f"{str(p.get('recorded_at') or 'unknown')[:10]} (input {p['input_name']}, sha256 "
        f"{p['input_sha256'][:12]}…, {f.count(p['rows_clustered'])} users); this release read "
        f"{n['input_name']} (sha256 {n['input_sha256'][:12]}…, {f.count(n['rows_clustered'])} "
        "users)."]) + bullet_list(ch["summary"])


def _validation(ch: dict[str, Any]) -> str:
    rows = validation_table(ch)
    out = "<h2>Validation</h2>" + _frame_html(validation_counts(ch), "Validation results, "
                                                                     "previous and now")
    if len(rows):
        return out + _frame_html(rows, "Expectations not met in either release, or changed")
    return out + paragraphs(["Every expectation was met in both releases."])


def _drift(ch: dict[str, Any]) -> str:
    t = ch["thresholds"]
    out = ("<h2>Feature drift</h2>" + paragraphs([
        f"PSI below {t['psi_moderate']:g} reads as stable, up to {t['psi_major']:g} as a "
        f"moderate shift, above as a major one; a Kolmogorov–Smirnov D of {t['ks_threshold']:g} "
        "or more is a notable shift (with this many users every difference is 'significant', so "
        "the verdict rests on the size of the shift)."])
        + chart_html(*psi_chart(ch)) + _frame_html(drift_table(ch), "Drift per feature"))
    if ch["drift"]["columns"]:
        out += chart_html(*bins_chart(ch))
    return out


def _tiers(ch: dict[str, Any]) -> str:
    level = float(ch["thresholds"]["ci_level"])
    out = ("<h2>Tier shares</h2>" + paragraphs([
        f"Intervals are {level:.0%} bootstrap intervals of each release's tier counts: a "
        "difference whose interval excludes zero is beyond sampling noise (refitting noise is "
        "not included)."]) + chart_html(*tier_shift_chart(ch["tiers"]["refit"], level))
        + _frame_html(tier_table(ch["tiers"]["refit"], level), "Tier shares, previous and now"))
    model = ch["model"]
    if model.get("error"):
        return out + paragraphs([model["error"]])
    return (out + "<h2>The previous model on the new users</h2>" + paragraphs([
        f"{f.share(model['tier_agreement'])} of the new users keep their tier when the previous "
        f"model ({solution_name(**model['previous_solution'])}) scores them; adjusted Rand index "
        f"of the clusters {f.index(model['ari'])} (1 = identical, 0 = chance)."])
        + chart_html(*agreement_heatmap(ch))
        + _frame_html(tier_table(ch["tiers"]["previous_model"], level),
                      "Tier shares with the previous model as a fixed ruler"))


def _interval(d: dict[str, Any]) -> str:
    if d["difference"] is None:
        return "–"
    mid, low, high = (f.minus(f"{100 * d[key]:+.1f}") for key in ("difference", "low", "high"))
    return f"{mid} pp ({low} to {high})"


def _share(value: float | None) -> str:
    return "–" if value is None else f.share(value)


def campaign_section(ch: dict[str, Any]) -> str:
    """The previous release's campaign on this export: target against control per segment,
    and the tier transitions of the matched users."""
    result = ch.get("campaign") or {"measured": False, "why": "no previous release"}
    out = "<h2>Did the campaign work?</h2>"
    if not result["measured"]:
        return out + paragraphs([
            f"Not measured on this build ({result.get('why', 'nothing to match')}). When the "
            "next export arrives, the users of this release's campaign files are matched by id "
            "and, per segment, target and control are compared: who logged in since and who "
            "moved up a tier, with 95 % intervals."])
    tables = ""
    for key, what in (("logged_in", "Logged in since"), ("moved_up", "Moved up a tier")):
        rows = [[r.get("short_name", r["segment"]), f.count(r["target"]), f.count(r["control"]),
                 _share(r[key]["target_share"]), _share(r[key]["control_share"]),
                 _interval(r[key])] for r in result["segments"]]
        tables += table(["Segment (previous release)", "Target", "Control", "Target share",
                         "Control share", "Target − control (95 % interval)"], rows,
                        f"{what}: target against control, per segment")
    trans = result["transitions"]
    counts = [[name, *(f.count(c) for c in row)]
              for name, row in zip(trans["tiers"], trans["counts"], strict=True)]
    return (out + paragraphs([
        f"{f.count(result['matched'])} users of the previous release are in this export, "
        f"{result['elapsed_days']:g} days later (the median growth of their sign-up age). "
        "Per segment of the previous release: the share of target and of control users who "
        "logged in since, and who moved up a tier, and target minus control with its 95 % "
        "interval; an interval that excludes zero is an effect beyond chance."])
        + tables + chart_html(*matrix_heatmap(
            trans["counts"], trans["tiers"], trans["tiers"], "Tier in the previous release",
            "Tier now", "Tier transitions of the matched users",
            "Rows: the previous tier; the diagonal kept its tier"))
        + table(["Previous tier", *(f"Now {t}" for t in trans["tiers"])], counts,
                "Tier transitions of the matched users (rows: previous tier)"))


def changes() -> HTML:
    """The whole page body."""
    m, ch = load("manifest"), load("changes")
    if ch.get("previous") is None:
        return block(first_build(m).data + campaign_section(ch))
    return block(_header(ch) + _validation(ch) + _drift(ch) + _tiers(ch)
                 + campaign_section(ch))


def snapshot_note() -> HTML:
    """What a history snapshot holds (aggregates only)."""
    return block(paragraphs([
        "A release keeps a snapshot of aggregates only: the manifest, the model, the validation "
        "report without example rows, tier counts and how many users have each value of each "
        "behaviour column. A file that fails a critical check stops the build before anything "
        "is published, so this page always describes data that passed."]))

