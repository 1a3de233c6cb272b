"""The Downloads page: the campaign files of this release (where they are, rows, target and
control, size) and the model; which mode the site was built in."""

from __future__ import annotations

from IPython.display import HTML

from analysis.campaigns.files import read_index
from analysis.report import formats as f
from analysis.report.charts.present import artifacts_dir, load
from analysis.report.charts.score import json_block
from analysis.report.pages.html import badge, block, esc, paragraphs
from analysis.vocabulary import solution_name


def _in_site() -> bool:
    return bool(load("manifest")["config"]["campaigns"]["rows_in_site"])


def intro() -> HTML:
    """What the files hold, where they are, and whether this site carries them."""
    m, plans = load("manifest"), load("campaigns")
    name = solution_name(m["chosen"]["algorithm"], m["chosen"]["k"])
    where = ("This is an internal build: the files are also inside this site (links below)."
             if _in_site() else
             "This site holds aggregates only and is safe to share: the files are not inside "
             "it. They sit in the release beside it (the campaigns/ folder of the project, "
             "campaigns.zip holds them all); set [campaigns] rows_in_site = true in "
             "config.toml to publish them inside the site for an internal deployment.")
    return block(paragraphs([
        "One campaign file per segment, from " + name + f" over all "
        f"{f.count(m['rows_clustered'])} users of the input with sha256 "
        f"{m['input_sha256'][:12]}…. Each row: identifierHash, the segment's name, tier, action, "
        "channel (in-app for app owners seen recently, app push for other app owners, e-mail "
        "for the rest), reason, country, language and group: "
        f"{f.share(plans['control_share'])} of every segment is held out as control (chosen "
        "from the id, so a user keeps its group in every release). The files are UTF-8 CSV "
        "that a spreadsheet opens on a double click.", where,
        "Every table on this site also has its own CSV download."]))


def files() -> HTML:
    """One row per campaign file: segment, users, target, control, size (link when inside)."""
    plans = {p["segment"]: p for p in load("campaigns")["plans"]}
    index = read_index(artifacts_dir().parent / "campaigns")
    inside = _in_site()
    rows = []
    entries = index["files"] if index else [
        {"file": None, "segment": s, "rows": p["users"], "target": p["target"],
         "control": p["control"], "bytes": None} for s, p in plans.items()]
    for e in entries:
        plan = plans[e["segment"]]
        size = "–" if e["bytes"] is None else f"{e['bytes'] / 1024:,.0f} KiB"
        name = e["file"] or "written with the release"
        link = (f'<a href="_static/downloads/{esc(name)}" download>{esc(name)}</a>'
                if inside and e["file"] else esc(name))
        rows.append(f"<tr><td>{badge(plan['tier'])} {esc(plan['name'])}</td>"
                    f"<td>{esc(f.count(e['rows']))}</td><td>{esc(f.count(e['target']))}</td>"
                    f"<td>{esc(f.count(e['control']))}</td><td>{esc(size)}</td>"
                    f"<td>{link}</td></tr>")
    if index:
        z = index["zip"]
        name = (f'<a href="_static/downloads/{esc(z["file"])}" download>{esc(z["file"])}</a>'
                if inside else esc(z["file"]))
        total = sum(e["rows"] for e in entries)
        size = f"{z['bytes'] / 1024:,.0f} KiB"
        rows.append(f"<tr><td>All segments</td><td>{esc(f.count(total))}</td><td></td>"
                    f"<td></td><td>{esc(size)}</td><td>{name}</td></tr>")
    return block('<div class="c2c-table-wrap"><table class="c2c-table table">'
                 "<caption>Campaign files, one per segment</caption><thead><tr>"
                 "<th>Segment</th><th>Users</th><th>Target</th><th>Control</th>"
                 "<th>Size</th><th>File</th></tr></thead><tbody>" + "".join(rows)
                 + "</tbody></table></div>")


#: The sizing filters: (dimension in campaigns.json, label).
FILTERS = (("country", "Country"), ("language", "Language"), ("app", "App"),
           ("gender", "Gender"))


def sizing() -> HTML:
    """The campaign-sizing tool: filters over the pipeline's sizing cube, the per-segment
    target / control counts and detectable uplift, a CSV export (c2c-sizing.js)."""
    doc = load("campaigns")
    data = {"dimensions": doc["dimensions"], "base_rate": doc["base_rate"], "z": doc["z"],
            "max_uplift_pp": doc["max_uplift_pp"],
            "plans": [{"segment": p["segment"], "name": p["name"], "tier": p["tier"]}
                      for p in doc["plans"]],
            "cells": doc["sizing"]}
    selects = "".join(
        f'<span class="c2c-pair"><label for="c2c-sizing-{d}">{esc(label)}</label>'
        f'<select id="c2c-sizing-{d}" name="{d}"><option value="all">all</option></select>'
        "</span>" for d, label in FILTERS if d in doc["dimensions"])
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in (
        "Segment", "Users", "Target", "Control", "Detectable uplift", "Testable?"))
    text = paragraphs([
        "How many users would a campaign reach? Pick a country, language, app ownership or "
        "gender: the table counts each segment's users, its target and control groups, and "
        "the smallest uplift the split can detect (two-sided test at "
        f"{f.share(doc['alpha'])} significance with {f.share(doc['power'])} power, for a base "
        f"rate of {f.share(doc['base_rate'])}). Segments whose split cannot detect "
        f"{doc['max_uplift_pp']:g} percentage points are too small to test. Countries and "
        "languages beyond the largest ones are grouped as \u201cother\u201d. Counts come from "
        "the pipeline's aggregates: no user's row is in this page."])
    return block(
        text + f'<form id="c2c-sizing-form" class="c2c-filters">{selects}</form>'
        '<div class="c2c-table-wrap">'
        '<table id="c2c-sizing-table" class="c2c-table table c2c-own-csv">'
        f"<caption>Campaign sizing: users per segment for the filters above</caption><thead>"
        f"<tr>{head}</tr></thead><tbody></tbody></table></div>"
        '<p><button type="button" id="c2c-sizing-csv" class="c2c-export-button">Download '
        "this sizing as CSV</button></p>"
        + json_block("c2c-sizing", data) + '<script src="_static/c2c-sizing.js"></script>')
