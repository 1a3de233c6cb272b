"""The site's generated static files: offline Vega bundle, the model, per-tier downloads.

``site/conf.py`` calls :func:`prepare_static` when Sphinx starts: it writes into a folder that
``conf.py`` adds to ``html_static_path``, so the files land in ``_static/`` of the site. The
model the browser scorer loads is the release's own ``model.json``, byte for byte.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from analysis import catalog
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


def tier_downloads(labels_path: Path) -> dict[str, bytes]:
    """Per-tier CSV files (``downloads/tier-<tier>.csv``: identifierHash, tier), by file name."""
    labels = catalog.read_labels(labels_path.parent, ["identifierHash", "tier"])
    out = {}
    for tier in TIERS:
        rows = labels.loc[labels["tier"] == tier, ["identifierHash", "tier"]]
        rows = rows.sort_values("identifierHash")
        out[f"tier-{tier}.csv"] = rows.to_csv(index=False, lineterminator="\n").encode()
    return out


def prepare_static(artifacts: Path, dest: Path, cache_dir: Path | None = None) -> None:
    """Write the generated static files into ``dest`` (served as ``_static/`` of the site).

    ``vega-bundle.js`` (offline Vega), ``model.json`` (for the Score users page) and
    ``downloads/tier-*.csv`` (identifierHash lists for the marketing team).
    """
    dest.mkdir(parents=True, exist_ok=True)
    _write_if_changed(dest / "vega-bundle.js", vega_bundle(cache_dir).encode("utf-8"))
    _write_if_changed(dest / "model.json", (artifacts / "model.json").read_bytes())
    for name, data in tier_downloads(artifacts / "labels.parquet").items():
        _write_if_changed(dest / "downloads" / name, data)


