"""Sphinx configuration of the stakeholder site (Sphinx + MyST-NB + PyData theme).

Pages are MyST Markdown notebooks that only read artifacts (``$C2C_ARTIFACTS``, default
``<project>/artifacts``). Build with ``c2c render`` / ``c2c build`` (see analysis/publishing/), or
by
hand: ``sphinx-build -W -b html site _site``. Nothing on a page loads from outside the site.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path.insert(0, str(ROOT))

from analysis.catalog import ARTIFACTS as CATALOG  # noqa: E402
from analysis.catalog import verify  # noqa: E402
from analysis.config import load_config  # noqa: E402
from analysis.publishing.static import artifacts_fingerprint, prepare_static  # noqa: E402

SITE_CONFIG = load_config().site
ARTIFACTS = Path(os.environ.get("C2C_ARTIFACTS", ROOT / "artifacts")).resolve()
verify(ARTIFACTS, tuple(a.name for a in CATALOG))
os.environ["C2C_ARTIFACTS"] = str(ARTIFACTS)  # the page kernels inherit it
GENERATED = Path(os.environ.get("C2C_SITE_GENERATED", SITE / "_build" / "generated")).resolve()
GENERATED.mkdir(parents=True, exist_ok=True)
os.environ["C2C_SITE_GENERATED"] = str(GENERATED)

project = "C2C user segments"
author = "c2c-segments"
copyright = "c2c-segments contributors"  # noqa: A001
language = "en"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "README.md"]
suppress_warnings: list[str] = []

# --- MyST-NB: execute pages, fail on any error, cache per artifacts fingerprint -------------
nb_execution_mode = "cache"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = SITE_CONFIG.cell_timeout
nb_execution_cache_path = os.environ.get("C2C_SITE_CACHE_PATH") or str(
    ROOT / SITE_CONFIG.cache_dir / artifacts_fingerprint(ARTIFACTS, SITE)[:20])
nb_merge_streams = True
nb_output_stderr = "remove-warn"
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# --- HTML: PyData theme, nothing loaded from outside the site ------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "C2C user segments"
html_static_path = ["_static", str(GENERATED)]
html_css_files = ["c2c.css", "c2c-tiers.css"]
html_favicon = "_static/favicon.svg"  # a local icon: browsers ask for /favicon.ico otherwise
# The offline Vega bundle and c2c-charts.js are added by the pages that draw charts (see
# analysis/report/charts/render.py): pages without a chart load no Vega at all.
html_js_files = [("c2c-tables.js", {"defer": "defer"})]  # a CSV download under every table
html_use_index = False  # no empty index page
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_context = {"default_mode": "auto"}
html_theme_options = {
    "navbar_end": ["theme-switcher"],  # light / dark / auto; charts redraw in the new theme
    "navbar_persistent": ["search-button"],
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": {"**": ["page-toc"], "index": []},  # the answer gets the width
    "navbar_align": "left",
    "show_prev_next": True,
    "header_links_before_dropdown": 9,
    "navigation_with_keys": False,
    "icon_links": [],
    "show_toc_level": 2,
}
html_sidebars = {"**": []}
# MathJax is only added to pages with maths; the pages have none. Point it at nothing remote
# anyway, so that a stray formula fails the offline browser test instead of calling a CDN.
mathjax_path = "mathjax-not-vendored.js"


def _generate_static(app) -> None:
    prepare_static(ARTIFACTS, GENERATED, cache_dir=Path(nb_execution_cache_path).parent)


def setup(app):
    app.connect("builder-inited", _generate_static)
