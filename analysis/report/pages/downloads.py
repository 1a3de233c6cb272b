"""The Downloads page: per-tier user lists (compressed CSV) and the model."""

from __future__ import annotations

import os
from pathlib import Path

from IPython.display import HTML

from analysis.config import PROJECT_ROOT
from analysis.report import formats as f
from analysis.report.charts.present import load
from analysis.report.pages.html import badge, block, esc, paragraphs
from analysis.vocabulary import TIERS, solution_name


def intro() -> HTML:
    """Which solution and input the lists come from."""
    m = load("manifest")
    name = solution_name(m["chosen"]["algorithm"], m["chosen"]["k"])
    return block(paragraphs([
        "One compressed CSV file per tier lists its users with their segment and the reason "
        f"(identifierHash, tier, segment, reason), from {name} "
        f"over all {f.count(m['rows_clustered'])} users of the input with sha256 "
        f"{m['input_sha256'][:12]}…. Every table on this site also has its own CSV download."]))


def files() -> HTML:
    """The per-tier files with their users and sizes."""
    generated = Path(os.environ.get("C2C_SITE_GENERATED",
                                    PROJECT_ROOT / "site" / "_build" / "generated"))
    tiers = load("manifest")["tiers"]
    rows = []
    for tier in TIERS:
        name = f"users-{tier}.csv.gz"
        path = generated / "downloads" / name
        size = f"{path.stat().st_size / 1024:,.0f} KiB" if path.exists() else "–"
        rows.append(f"<tr><td>{badge(tier)}</td><td>{esc(f.count(tiers[tier]))}</td>"
                    f"<td>{esc(size)}</td><td><a href=\"_static/downloads/{esc(name)}\" "
                    f"download>{esc(name)}</a></td></tr>")
    return block('<div class="c2c-table-wrap"><table class="c2c-table table">'
                 "<caption>Users per tier, one file each</caption><thead><tr><th>Tier</th>"
                 "<th>Users</th><th>Size</th><th>File</th></tr></thead><tbody>"
                 + "".join(rows) + "</tbody></table></div>")
