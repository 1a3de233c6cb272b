"""The site's generated static files: offline Vega bundle, the model, the tier colours, and
(only for an internal deployment) the campaign files.

``site/conf.py`` calls :func:`prepare_static` when Sphinx starts: it writes into a folder that
``conf.py`` adds to ``html_static_path``, so the files land in ``_static/`` of the site. The
model the browser scorer loads is the release's own ``model.json``, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from analysis.config import PROJECT_ROOT
from analysis.intake.files import file_sha256
from analysis.publishing.folders import write_bytes_atomic
from analysis.vocabulary import TIERS

#: Source files whose change must re-execute the pages (pages import analysis.* modules).
CODE_GLOBS = ("analysis/**/*.py",)


def artifacts_fingerprint(artifacts: Path, site_source: Path) -> str:
    """sha256 over every artifact file, the analysis package's code and the site config.

    The pages' text is not included: MyST-NB's cache already keys each page by its code.
    """
    digest = hashlib.sha256()
    files = sorted(p for p in Path(artifacts).iterdir() if p.is_file())
    code = sorted(p for pattern in CODE_GLOBS for p in PROJECT_ROOT.glob(pattern))
    code.append(site_source / "conf.py")
    for path in files + code:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + file_sha256(path).encode() + b"\n")
    return digest.hexdigest()


def vega_bundle(cache_dir: Path | None = None) -> str:
    """Vega + Vega-Lite + Vega-Embed in one offline script, exposing ``window.vegaEmbed``.

    Made by ``vl_convert.javascript_bundle()`` (~0.9 MB, a few seconds), kept in ``cache_dir``
    per vl-convert version. Wrapped in a function so that its top-level names do not leak into
    the page's global scope (other scripts, e.g. the scorer, may use the same short names).
    """
    import vl_convert

    version = getattr(vl_convert, "__version__", "unknown")
    cached = cache_dir / f"vega-bundle-{version}.js" if cache_dir else None
    if cached and cached.exists():
        return cached.read_text(encoding="utf-8")
    text = (f"/* Vega, Vega-Lite, Vega-Embed: vl_convert {version} javascript_bundle() */\n"
            "(function () {\n" + vl_convert.javascript_bundle() + "\n})();\n")
    if cached:
        _write_if_changed(cached, text.encode("utf-8"))
    return text


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, data)


def rows_in_site(artifacts: Path) -> bool:
    """Whether this release publishes its campaign files inside the site (config
    ``[campaigns].rows_in_site``, as the manifest recorded it): an internal deployment."""
    manifest = json.loads((artifacts / "manifest.json").read_text(encoding="utf-8"))
    return bool(manifest["config"].get("campaigns", {}).get("rows_in_site", False))


def _luminance(color: str) -> float:
    """Relative luminance of a ``#rrggbb`` colour (WCAG)."""
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def tier_css(colors: dict[str, str]) -> str:
    """The tier colours as CSS (one definition: config -> model.json -> charts, CSS, scorer):
    a custom property per tier and badge colours with readable text (black or white)."""
    lines = ["/* Generated from model.json tier_colors (config [tiers.colors]). */", ":root {"]
    lines += [f"  --c2c-tier-{t}: {colors[t]};" for t in TIERS]
    lines.append("}")
    for t in TIERS:
        text = "#000" if _luminance(colors[t]) > 0.25 else "#fff"
        lines.append(f".c2c-tier-{t} {{ background: var(--c2c-tier-{t}); color: {text}; }}")
        lines.append(f".c2c-card-{t} {{ border-top-color: var(--c2c-tier-{t}); }}")
    return "\n".join(lines) + "\n"


def prepare_static(artifacts: Path, dest: Path, cache_dir: Path | None = None) -> None:
    """Write the generated static files into ``dest`` (served as ``_static/`` of the site).

    ``vega-bundle.js`` (offline Vega), ``model.json`` (the release's model), ``c2c-tiers.css``
    (the tier colours); ``downloads/`` (the campaign files beside the artifacts) only when the
    release publishes rows inside the site. By default the site holds aggregates only.
    """
    dest.mkdir(parents=True, exist_ok=True)
    _write_if_changed(dest / "vega-bundle.js", vega_bundle(cache_dir).encode("utf-8"))
    model = (artifacts / "model.json").read_bytes()
    _write_if_changed(dest / "model.json", model)
    colors = json.loads(model)["tier_colors"]
    _write_if_changed(dest / "c2c-tiers.css", tier_css(colors).encode("utf-8"))
    downloads = dest / "downloads"
    campaigns = artifacts.parent / "campaigns"
    if rows_in_site(artifacts) and campaigns.is_dir():
        for path in sorted(campaigns.iterdir()):
            if path.is_file() and path.suffix in (".csv", ".zip"):
                _write_if_changed(downloads / path.name, path.read_bytes())
    elif downloads.is_dir():
        shutil.rmtree(downloads)  # an earlier internal build's rows must not linger
