"""Render the stakeholder site: artifacts -> Sphinx + MyST-NB -> a folder of static HTML.

:func:`render_site` runs ``sphinx-build -W`` (every warning and every failing page cell is an
error) in a child process that dies with this one, inside a work folder next to ``dest``, and
moves the HTML to ``dest``. Publishing that folder as part of a release is
:mod:`analysis.publishing.build`'s job; a failure raises :class:`RenderFailed` naming the page
and the error, and leaves nothing published.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from analysis.config import PROJECT_ROOT, SiteConfig
from analysis.errors import C2CError
from analysis.processes import die_with_parent
from analysis.publishing.csp import secure_site
from analysis.publishing.static import artifacts_fingerprint

SITE_SOURCE = PROJECT_ROOT / "site"


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


def _page_sizes(site_dir: Path) -> tuple[int, str, int, int]:
    pages = sorted(site_dir.glob("*.html"))
    sizes = {p.name: p.stat().st_size for p in pages}
    heaviest = max(sizes, key=sizes.get) if sizes else ""
    total = sum(p.stat().st_size for p in site_dir.rglob("*") if p.is_file())
    return len(pages), heaviest, sizes.get(heaviest, 0), total


def _sphinx(source: Path, work: Path, env: dict[str, str], jobs: int
            ) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sphinx", "-W", "-b", "html", "-q", "-E",
           "-d", str(work / "doctrees"), "-j", str(jobs), str(source), str(work / "html")]
    parent = os.getpid()
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(PROJECT_ROOT),
                          preexec_fn=lambda: die_with_parent(parent))


def _failure(proc: subprocess.CompletedProcess, log_path: Path) -> RenderFailed:
    """RenderFailed with the sentence from the output; the full log saved to ``log_path``."""
    output = proc.stdout + "\n" + proc.stderr
    message = explain_failure(output)
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(output, encoding="utf-8")
        message += f" (full log: {log_path})"
    except OSError:
        pass
    return RenderFailed(message)


def _environment(artifacts: Path, work: Path, cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "C2C_ARTIFACTS": str(artifacts),
        "C2C_SITE_GENERATED": str(work / "generated"),
        "C2C_SITE_CACHE_PATH": str(cache),
        "PYTHONPATH": os.pathsep.join(
            [str(PROJECT_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    return env


def render_site(artifacts: Path, dest: Path, cfg: SiteConfig, error_log: Path, *,
                source: Path = SITE_SOURCE, home_root: Path = PROJECT_ROOT,
                log=print) -> RenderResult:
    """Render the site from ``artifacts`` (checked already) into the new folder ``dest``.

    Sphinx works in ``<dest>.work/`` (doctrees, executed notebooks, HTML), removed afterwards;
    the execution cache lives under ``<home_root>/[site].cache_dir`` (one cache per home, so
    builds of different homes never prune each other's entries), one folder per fingerprint of
    the artifacts and code; ``$C2C_SITE_CACHE`` overrides it. Raises RenderFailed (exit 1) when
    a page fails or Sphinx warns, with Sphinx's whole output saved in ``error_log``.
    """
    artifacts, dest = Path(artifacts).resolve(), Path(dest).resolve()
    work = dest.with_name(dest.name + ".work")
    cache_root = Path(os.environ.get("C2C_SITE_CACHE") or Path(home_root) / cfg.cache_dir)
    key = artifacts_fingerprint(artifacts, source)[:20]
    started = time.perf_counter()
    env = _environment(artifacts, work, cache_root / key)
    work.mkdir(parents=True)
    try:
        if cfg.jobs > 1:  # parallel readers would race to create the cache database
            from jupyter_cache import get_cache

            get_cache(cache_root / key).list_cache_records()
        proc = _sphinx(source, work, env, cfg.jobs)
        if proc.returncode != 0 and cfg.jobs > 1:
            # A parallel build loses the failing cell's traceback: rerun serially (pages that
            # succeeded are cached, so only the failing one executes again).
            shutil.rmtree(work / "html", ignore_errors=True)
            proc = _sphinx(source, work, env, 1)
        if proc.returncode != 0:
            raise _failure(proc, error_log)
        html_dir = work / "html"
        secure_site(html_dir)
        for junk in (".buildinfo", ".buildinfo.bak", "genindex.html"):
            (html_dir / junk).unlink(missing_ok=True)
        for junk in (".doctrees", "_sources"):
            shutil.rmtree(html_dir / junk, ignore_errors=True)
        os.rename(html_dir, dest)
    except OSError as err:
        raise RenderFailed(f"could not run sphinx-build into {dest}: {err}") from err
    finally:
        shutil.rmtree(work, ignore_errors=True)
    prune_cache(cache_root, key, cfg.cache_keep)
    seconds = time.perf_counter() - started
    pages, heaviest, heaviest_bytes, total = _page_sizes(dest)
    log(f"site: {pages} pages rendered in {seconds:.1f} s; heaviest page {heaviest} "
        f"{heaviest_bytes / 1024:.0f} KiB; whole site {total / 1024 / 1024:.1f} MiB")
    return RenderResult(dest, seconds, pages, heaviest, heaviest_bytes, total)
