"""The "Score users" page: the in-browser scorer's markup, with the model it scores with.

The page fetches nothing: the release's ``model.json`` and the scorer's contract travel in the
page as JSON data blocks (never executed), the scripts and the styles are the site's own files
(``_static/scorer-core.js``, ``scorer-worker.js``, ``scorer-page.js``, ``scorer.css``), which the
pages' Content-Security-Policy allows. The markup has no inline script, no ``<style>`` and no
``style=`` or ``on*=`` attribute; the settings come from the manifest's copy of the config.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np

from analysis.features.activity import PRODUCT_COLUMNS
from analysis.intake.schema import COLUMNS
from analysis.report.charts.present import load
from analysis.scoring.score import SCORED_COLUMNS
from analysis.segments.types import role_codes

#: The scripts of the page, in the order they must run (core first, the page last).
SCRIPTS = ("scorer-core.js", "scorer-worker.js", "scorer-page.js")
STYLESHEET = "scorer.css"


def scorer_contract() -> dict[str, Any]:
    """What the browser needs beyond model.json, from the package's own definitions.

    ``schema_columns``: the export's columns (others are named as ignored, as ``c2c score``
    warns); ``scored_columns``: the scored file's columns in order; ``role_of_column``: the
    role code :func:`analysis.segments.types.role_codes` gives a user who has only that product
    column above 0 (a user's role is the smallest code among their columns above 0).
    """
    codes = role_codes(np.eye(len(PRODUCT_COLUMNS), dtype=np.int64))
    return {"schema_columns": list(COLUMNS), "scored_columns": list(SCORED_COLUMNS),
            "role_of_column": {c: int(code) for c, code in
                               zip(PRODUCT_COLUMNS, codes, strict=True)}}


def json_block(element_id: str, data: Any) -> str:
    """``data`` as a ``<script type="application/json">`` block that no text can end early."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    text = text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _left_out(model: dict[str, Any]) -> str:
    """The solutions whose training users are placed by nearest centroid, as a clause."""
    left = model["label_table"].get("left_out", [])
    if not left:
        return ""
    names = model["algorithm_names"]
    shown = ", ".join(html.escape(f"{names[a]} k = {k}") for a, k in
                      (name.rsplit("_k", 1) for name in left))
    return (f" (except under {shown}: giving those users back their own clusters would have "
            "made the table of exceptions this page carries larger than configured, "
            "[scoring].label_table_max_rows, so they are placed like new users)")


def explanation(model: dict[str, Any], max_mb: float) -> str:
    """The collapsed "How a user is placed" section (HTML), its numbers from the model."""
    features = len(model["features"])
    tolerance = model["scoring"]["tie_tolerance"]
    digits = model["scoring"]["round_digits"]
    id_column = html.escape(model["required_columns"][0])
    return f"""<details class="c2c-explain">
  <summary>How a user is placed</summary>
  <p>Each user's numbers go through the same steps as in the analysis: the platform's default
  followers and follows are subtracted, each count is log-scaled, capped and scaled to 0&ndash;1,
  and days since the last login are turned round so that recent users score high. A user who
  was part of the analysis gets their own cluster back{_left_out(model)}. Anyone else joins the
  cluster whose centre (centroid) is nearest: <strong>a new user joins the Ward cluster with the
  nearest centroid</strong>, because Ward itself has no rule for users outside its tree. The
  cluster's tier is the user's tier; the segment adds what they did and how recently.</p>
  <p><strong>Distance</strong> is how far the user is from that centre, in scaled units: 0 is
  exactly typical of the cluster, and with {features} features each between 0 and 1 it is at
  most &radic;{features} &asymp; {math.sqrt(features):.2f}. A large distance means the user is
  unusual even for their cluster. Distances are shown with {digits} decimals.</p>
  <p><strong>Margin</strong> is how much farther the next nearest centre is. Near 0 the user sits
  between two clusters and a small change in behaviour could move them; a large margin is a
  clear-cut placement. Two centres within {tolerance:g} of each other count as a
  <strong>tie</strong>: the lower-numbered cluster wins and the row's <code>tied</code> column
  says so.</p>
  <p>Rows the scorer cannot use are set aside with their reason: an empty or non-numeric cell,
  a negative count, more days since the last login than since sign-up, an
  <code>{id_column}</code> that a spreadsheet turned into something like
  <code>-1.0979E+18</code>, or an id already seen on an earlier line. Columns the model does not
  use are ignored. This page reads files up to {max_mb:g} MB; <code>c2c score INPUT -o
  OUT</code> applies the same rules to files of any size.</p>
</details>"""


#: Where results appear (hidden until a file is scored) and the one-user form; static markup.
_RESULTS_AND_FORM = """<div class="c2c-message" data-part="message" role="alert" hidden></div>
  <section class="c2c-results" data-part="results" aria-label="Results" hidden>
    <p class="c2c-summary" data-part="summary"></p>
    <p class="c2c-downloads">
      <button type="button" data-part="downloadScored" disabled>Download scored.csv</button>
      <button type="button" data-part="downloadRejected" disabled>Download rejected.csv</button>
    </p>
    <h2>Users per tier</h2>
    <div class="c2c-bars" data-part="tierBars"></div>
    <h2>Users per segment</h2>
    <div class="c2c-bars" data-part="segmentBars"></div>
    <h2>Scored users</h2>
    <div data-part="scored"></div>
    <h2>Rejected rows</h2>
    <div data-part="rejected"></div>
  </section>
  <form class="c2c-one" data-part="one" autocomplete="off">
    <fieldset>
      <legend>Score one user</legend>
      <div class="c2c-one-fields" data-part="oneFields"></div>
      <button type="submit" disabled>Score this user</button>
      <div class="c2c-one-result" data-part="oneResult" aria-live="polite"></div>
    </fieldset>
  </form>"""


def scorer_markup(model: dict[str, Any], scoring: dict[str, Any], max_unzip_ratio: float
                  ) -> str:
    """The scorer's HTML: controls (disabled until the scripts start), result areas, the form,
    the explanation, the model and contract blocks, the stylesheet and the scripts."""
    max_bytes = int(scoring["browser_max_bytes"])
    max_mb = max_bytes / 1048576
    controls = f"""<div id="c2c-scorer" class="c2c-scorer" data-state="loading"
     data-max-bytes="{max_bytes}" data-page-size="{int(scoring["page_size"])}"
     data-max-unzip-ratio="{float(max_unzip_ratio):g}">
  <noscript><p>The scorer needs JavaScript; <code>c2c score</code> does the same.</p></noscript>
  <fieldset class="c2c-pick">
    <legend>Score a file</legend>
    <div class="c2c-row">
      <label for="c2c-file">CSV or zipped CSV file, up to {max_mb:g} MB</label>
      <input id="c2c-file" data-part="file" type="file"
             accept=".csv,.zip,text/csv,application/zip" disabled>
    </div>
    <div class="c2c-row">
      <span class="c2c-pair"><label for="c2c-algorithm">Algorithm</label>
        <select id="c2c-algorithm" data-part="algorithm" disabled></select></span>
      <span class="c2c-pair"><label for="c2c-k">Clusters (k)</label>
        <select id="c2c-k" data-part="k" disabled></select></span>
    </div>
    <p class="c2c-status" data-part="status" role="status" aria-live="polite">
      Loading the scorer&hellip;</p>
    <div class="c2c-progress" data-part="progressBox" hidden>
      <progress data-part="progress" max="1" value="0" aria-label="Scoring progress"></progress>
      <button type="button" data-part="cancel" disabled>Cancel</button>
    </div>
    <p class="c2c-private">Your file never leaves your browser: it is read and scored on this
    computer and nothing is uploaded.</p>
  </fieldset>
  {_RESULTS_AND_FORM}
  {explanation(model, max_mb)}
</div>"""
    scripts = "\n".join(f'<script src="_static/{name}"></script>' for name in SCRIPTS)
    return "\n".join([f'<link rel="stylesheet" href="_static/{STYLESHEET}">', controls,
                      json_block("c2c-model", model),
                      json_block("c2c-scorer-contract", scorer_contract()), scripts])


def scorer_block():
    """The Score users page's cell: the scorer for this release's model (an IPython HTML
    object that MyST-NB writes verbatim)."""
    from IPython.display import HTML

    config = load("manifest")["config"]
    return HTML(scorer_markup(load("model"), config["scoring"],
                              config["validation"]["max_unzip_ratio"]))
