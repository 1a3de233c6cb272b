"""Build the stakeholder site: artifacts -> Sphinx + MyST-NB -> ``_site/``, swapped in atomically.

``render`` runs ``sphinx-build -W`` (every warning and every failing page cell is an error) into a
fresh folder next to the published one, then swaps it in: rename the old site away, rename the new
one in, delete the old. Any failure leaves the published site exactly as it was and raises
:class:`RenderFailed` naming the page and the error. ``build`` runs the pipeline first.

What the Sphinx configuration (``site/conf.py``) asks of this module at build time:

* :func:`prepare_static` writes the build-generated static files (the offline Vega bundle,
  ``model.json`` for the scorer page, the per-tier CSV downloads) into a folder that ``conf.py``
  adds to ``html_static_path``, so that they land in ``_static/`` of the built site;
* :func:`artifacts_fingerprint` keys the MyST-NB execution cache: a change in any artifact (or in
  the chart code the pages import) gives a new cache folder, so stale numbers are never published.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.config import PROJECT_ROOT
from analysis.errors import C2CError, InputError
from analysis.intake.files import file_sha256
from analysis.scoring.model import TIERS

SITE_SOURCE = PROJECT_ROOT / "site"
#: Artifacts the pages read; the build refuses to start without them.
REQUIRED_ARTIFACTS = (
    "manifest.json", "validation_report.json", "features.json", "exploration.json",
    "metrics.json", "stability.json", "agreement.json", "segments.json", "profiles.json",
    "pca.json", "dendrogram.json", "labels.parquet", "model.json", "run.json",
)
#: Source files whose change must re-execute the pages (pages import analysis.* modules).
CODE_GLOBS = ("analysis/**/*.py",)



class RenderFailed(C2CError):
    """The site could not be rendered (a page cell failed or Sphinx warned); exit 1."""

    exit_code = 1


@dataclass(frozen=True)
class RenderResult:
    """What a render produced: where, how long, and the heaviest page."""

    site_dir: Path
    seconds: float
    pages: int
    heaviest_page: str
    heaviest_bytes: int
    total_bytes: int


# --------------------------------------------------------------------------------------------
# inputs


def check_artifacts(artifacts: Path) -> None:
    """Raise InputError naming the folder and the missing files if any artifact is absent."""
    if not artifacts.is_dir():
        raise InputError(f"artifacts folder {artifacts} does not exist: run `c2c segment` first")
    missing = [name for name in REQUIRED_ARTIFACTS if not (artifacts / name).exists()]
    if missing:
        raise InputError(f"artifacts folder {artifacts} lacks {', '.join(missing)}: "
                         "run `c2c segment` first")


def artifacts_fingerprint(artifacts: Path, site_source: Path = SITE_SOURCE) -> str:
    """sha256 over every artifact file, the analysis package's code and the site config.

    The pages' text is not included: MyST-NB's cache already keys each page by its code.
    """
    digest = hashlib.sha256()
    files = sorted(p for p in artifacts.iterdir() if p.is_file())
    code = sorted(p for pattern in CODE_GLOBS for p in PROJECT_ROOT.glob(pattern))
    code.append(site_source / "conf.py")
    for path in files + code:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + file_sha256(path).encode() + b"\n")
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# generated static files


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
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def tier_downloads(labels_path: Path) -> dict[str, bytes]:
    """Per-tier CSV files (``downloads/tier-<tier>.csv``: identifierHash, tier), by file name."""
    import pandas as pd

    labels = pd.read_parquet(labels_path, columns=["identifierHash", "tier"])
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


def prune_cache(cache_root: Path, keep_key: str, keep: int) -> None:
    """Keep the ``keep`` most recently used execution-cache folders (always ``keep_key``)."""
    if not cache_root.is_dir():
        return
    folders = sorted((p for p in cache_root.iterdir() if p.is_dir() and p.name != keep_key),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[max(keep - 1, 0):]:
        if not (old / "global.db").exists() and not (old / "__version__.txt").exists():
            continue  # not an execution cache folder
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# render


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERROR_LINE = re.compile(r"^(?P<err>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)"
                         r"(?::.*)?)$")
_CELL = re.compile(r"An error occurred while executing the following cell:\n-+\n(?P<code>.*?)"
                   r"\n-+\n", re.S)


def explain_failure(output: str) -> str:
    """One clear sentence from sphinx-build's output: the failing page, cell and error."""
    text = _ANSI.sub("", output)
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    page = None
    m = re.search(r"([^\s:]+)\.(?:md|ipynb)(?::\d+)?: WARNING: Executing notebook failed", text)
    if m:
        page = Path(m.group(1)).name
    cell = _CELL.search(text)
    if cell:
        code = [ln for ln in cell.group("code").splitlines() if ln.strip()]
        where = f"page '{page or '?'}', cell `{code[0].strip()[:80] if code else '?'}`"
        after = text[cell.end():].splitlines()
        error = next((ln.strip() for ln in after if _ERROR_LINE.match(ln.strip())
                      and "Traceback" not in ln), None)
        if error is None:
            error = "the cell raised an error"
        return f"site build failed in {where}: {error[:400]}"
    warnings = [ln.strip() for ln in lines if "WARNING:" in ln or "ERROR:" in ln]
    warnings = [w for w in warnings if "IPKernelApp" not in w]
    if warnings:
        return f"site build failed (warnings are errors): {warnings[0][:400]}"
    errors = [ln.strip() for ln in lines if _ERROR_LINE.match(ln.strip())]
    error = errors[-1] if errors else (lines[-1].strip() if lines else "unknown error")
    return f"site build failed: {error[:400]}"


def _site_config(config: dict[str, Any]) -> dict[str, Any]:
    site = dict(config.get("site", {}))
    site.setdefault("output_dir", "_site")
    site.setdefault("cache_dir", "site/_build/.jupyter_cache")
    site.setdefault("cache_keep", 2)
    site.setdefault("jobs", 1)
    return site


def _page_sizes(site_dir: Path) -> tuple[int, str, int, int]:
    pages = sorted(site_dir.glob("*.html"))
    sizes = {p.name: p.stat().st_size for p in pages}
    heaviest = max(sizes, key=sizes.get) if sizes else ""
    total = sum(p.stat().st_size for p in site_dir.rglob("*") if p.is_file())
    return len(pages), heaviest, sizes.get(heaviest, 0), total


def swap_in(new_dir: Path, site_dir: Path) -> None:
    """Publish ``new_dir`` as ``site_dir``: rename the old away, the new in, delete the old."""
    old = site_dir.with_name(f"{site_dir.name}.old-{uuid.uuid4().hex[:8]}")
    had_old = site_dir.exists()
    if had_old:
        os.rename(site_dir, old)
    try:
        os.rename(new_dir, site_dir)
    except OSError:
        if had_old:
            os.rename(old, site_dir)
        raise
    if had_old:
        shutil.rmtree(old, ignore_errors=True)


def _sphinx(source: Path, work: Path, env: dict[str, str], jobs: int
            ) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sphinx", "-W", "-b", "html", "-q", "-E",
           "-d", str(work / "doctrees"), "-j", str(jobs), str(source), str(work / "html")]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(PROJECT_ROOT))


def render(artifacts: Path, site_dir: Path | None = None, config: dict[str, Any] | None = None,
           *, source: Path = SITE_SOURCE, jobs: int | None = None, log=print) -> RenderResult:
    """Render the site from ``artifacts`` into ``site_dir`` (default ``<project>/_site``).

    Runs ``sphinx-build -W -b html`` in a subprocess with ``C2C_ARTIFACTS`` set (the pages read
    it). Everything is written inside ``<site_dir>.new-<id>/`` next to ``site_dir`` (same file
    system; MyST-NB also puts its ``jupyter_execute/`` beside the HTML folder): the HTML in
    ``html/``, which is swapped in as ``site_dir`` on success. On failure the work folder is
    deleted, ``site_dir`` is left untouched and RenderFailed names the page and the error.
    """
    from analysis.config import load_config

    config = config if config is not None else load_config()
    site_cfg = _site_config(config)
    artifacts = Path(artifacts).resolve()
    check_artifacts(artifacts)
    site_dir = Path(site_dir or PROJECT_ROOT / site_cfg["output_dir"]).resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    work = site_dir.with_name(f"{site_dir.name}.new-{uuid.uuid4().hex[:8]}")
    cache_root = Path(os.environ.get("C2C_SITE_CACHE") or PROJECT_ROOT / site_cfg["cache_dir"])
    key = artifacts_fingerprint(artifacts, source)[:20]
    jobs = max(int(jobs or site_cfg["jobs"]), 1)
    started = time.perf_counter()
    env = dict(os.environ)
    env.update({
        "C2C_ARTIFACTS": str(artifacts),
        "C2C_SITE_GENERATED": str(work / "generated"),
        "C2C_SITE_CACHE_PATH": str(cache_root / key),
        "PYTHONPATH": os.pathsep.join(
            [str(PROJECT_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    try:
        work.mkdir()
        if jobs > 1:  # parallel readers would race to create the cache database
            from jupyter_cache import get_cache

            get_cache(cache_root / key).list_cache_records()
        try:
            proc = _sphinx(source, work, env, jobs)
            if proc.returncode != 0 and jobs > 1:
                # A parallel build loses the failing cell's traceback: rerun serially (pages
                # that succeeded are cached, so only the failing one executes again).
                shutil.rmtree(work / "html", ignore_errors=True)
                proc = _sphinx(source, work, env, 1)
        except OSError as err:
            raise RenderFailed(f"could not start sphinx-build: {err}") from err
        if proc.returncode != 0:
            output = proc.stdout + "\n" + proc.stderr
            log_path = site_dir.with_name(f"{site_dir.name}.build-error.log")
            try:
                log_path.write_text(output, encoding="utf-8")
            except OSError:
                log_path = None
            message = explain_failure(output)
            if log_path:
                message += f" (full log: {log_path})"
            raise RenderFailed(message)
        html_dir = work / "html"
        for junk in (".buildinfo", ".buildinfo.bak"):
            (html_dir / junk).unlink(missing_ok=True)
        shutil.rmtree(html_dir / ".doctrees", ignore_errors=True)
        shutil.rmtree(html_dir / "_sources", ignore_errors=True)
        try:
            swap_in(html_dir, site_dir)
        except OSError as err:
            raise RenderFailed(f"could not publish the site into {site_dir}: {err}") from err
    finally:
        shutil.rmtree(work, ignore_errors=True)
    prune_cache(cache_root, key, int(site_cfg["cache_keep"]))
    seconds = time.perf_counter() - started
    pages, heaviest, heaviest_bytes, total = _page_sizes(site_dir)
    result = RenderResult(site_dir, seconds, pages, heaviest, heaviest_bytes, total)
    log(f"site: {pages} pages rendered into {site_dir} in {seconds:.1f} s; heaviest page "
        f"{heaviest} {heaviest_bytes / 1024:.0f} KiB; whole site {total / 1024 / 1024:.1f} MiB")
    return result


def build(data_path: Path, artifacts: Path | None = None, site_dir: Path | None = None,
          config: dict[str, Any] | None = None, *, log=print) -> RenderResult:
    """``c2c build``: pipeline -> compare with the previous snapshot -> render -> record.

    The pipeline validates first and raises ValidationFailed (exit 1) / InputError (exit 2);
    either way the published site and artifacts are not touched. ``changes.json`` (what changed
    since the previous snapshot) is written into the artifacts before rendering; the snapshot
    of this build is recorded in the history only once the site rendered.
    """
    from analysis.config import load_config
    from analysis.history.drift import build_changes
    from analysis.history.snapshots import record_build
    from analysis.pipeline.run import segment

    config = config if config is not None else load_config()
    artifacts = Path(artifacts or PROJECT_ROOT / "artifacts")
    started = time.perf_counter()
    segment(Path(data_path), artifacts, config)
    log(f"pipeline: artifacts written to {artifacts} in {time.perf_counter() - started:.1f} s")
    for sentence in build_changes(artifacts, Path(data_path), config)["summary"]:
        log(f"what changed: {sentence}")
    result = render(artifacts, site_dir, config, log=log)
    record_build(artifacts, config)
    return result
