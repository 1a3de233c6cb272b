"""``c2c build`` and ``c2c render``: make a release and publish it, one build at a time;
``c2c segment``: the artifacts alone, written atomically into a folder, published nowhere.

Both take the build lock, recover from killed builds, then fill a staging folder (artifacts,
site, snapshot) and publish it with :func:`analysis.publishing.release.publish`. Any failure
leaves the published release exactly as it was; a kill also leaves no process running (the
children's children included: :func:`analysis.processes.descendants_die_with_me`).
"""

from __future__ import annotations

import gc
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from analysis import catalog
from analysis.campaigns.files import write_release_campaigns
from analysis.config import Settings
from analysis.history.snapshots import write_snapshot
from analysis.pipeline import PipelineResult, run_pipeline, write_artifacts
from analysis.pipeline.runner import release_unused_memory
from analysis.processes import checkpoint, descendants_die_with_me
from analysis.publishing.folders import replace_folder, staging_folder
from analysis.publishing.lock import build_lock
from analysis.publishing.release import (
    Home,
    history,
    next_name,
    previous_release,
    publish,
    recover,
)
from analysis.publishing.render import render_site


def segment(data_path: Path, out_dir: Path, settings: Settings,
            history: list[dict[str, Any]] | None = None, console: Console | None = None
            ) -> dict[str, Any]:
    """Run the pipeline and replace ``out_dir`` with its artifacts atomically; the manifest.

    A failure leaves ``out_dir`` exactly as it was.
    """
    result = run_pipeline(data_path, settings, history, console)
    with staging_folder(Path(out_dir)) as tmp:
        manifest = write_artifacts(tmp / "artifacts", result)
        replace_folder(tmp / "artifacts", Path(out_dir))
    return manifest


#: Artifacts a site needs: everything the catalog lists.
REQUIRED = tuple(a.name for a in catalog.ARTIFACTS)


def _release(home: Home, settings: Settings, fill: Callable[[Path], dict[str, Any]],
             log: Callable[[str], None]) -> Path:
    """Stage a release (``fill`` writes its artifacts and returns the manifest), render its
    site, add its snapshot, publish it; returns the published release folder."""
    with staging_folder(home.releases / "release") as staging:
        manifest = fill(staging / "artifacts")
        checkpoint("artifacts written")
        write_release_campaigns(staging / "artifacts", staging / "campaigns")
        checkpoint("campaign files written")
        render_site(staging / "artifacts", staging / "site", settings.site,
                    home.work / "site-build-error.log", home_root=home.root, log=log)
        checkpoint("site rendered")
        now = datetime.now(UTC)
        sequence, name = next_name(home, manifest["input_sha256"], now)
        write_snapshot(staging / "artifacts", staging / "snapshot", sequence, now)
        return publish(home, staging, name, settings.history.keep)


def _written_then_dropped(result: PipelineResult) -> Callable[[Path], dict[str, Any]]:
    """``fill`` for :func:`_release`: writes ``result``'s artifacts, then lets the result go and
    gives its memory back, so that the site renders without the pipeline's frames resident
    (at 6 million users they held several GB while Sphinx and its kernels ran)."""
    held = [result]

    def fill(dest: Path) -> dict[str, Any]:
        manifest = write_artifacts(dest, held.pop())
        gc.collect()
        release_unused_memory()
        return manifest
    return fill


def build(data_path: Path, settings: Settings, home: Home, *, wait: bool = False,
          console: Console | None = None, log: Callable[[str], None] = print) -> Path:
    """Validate, segment, render and publish ``data_path`` as a new release."""
    with descendants_die_with_me(), build_lock(home.releases, wait):
        for name in recover(home):
            log(f"recovered: removed {name} left by an interrupted build")
        started = time.perf_counter()
        result = run_pipeline(Path(data_path), settings, history(home), console,
                              previous=previous_release(home))
        log(f"pipeline: {time.perf_counter() - started:.1f} s")
        for sentence in result.documents["changes.json"]["summary"]:
            log(f"what changed: {sentence}")
        fill = _written_then_dropped(result)
        del result
        release = _release(home, settings, fill, log)
    log(f"published {release.name}: {home.site}/index.html")
    return release


def render(settings: Settings, home: Home, artifacts: Path | None = None, *,
           wait: bool = False, log: Callable[[str], None] = print) -> Path:
    """Publish a new release with the site rendered again from ``artifacts`` (default: the
    published artifacts), after checking every file against its manifest."""
    with descendants_die_with_me(), build_lock(home.releases, wait):
        for name in recover(home):
            log(f"recovered: removed {name} left by an interrupted build")
        source = Path(artifacts) if artifacts is not None else home.artifacts
        catalog.verify(source.resolve(), REQUIRED)

        def copy(dest: Path) -> dict[str, Any]:
            shutil.copytree(source.resolve(), dest)
            return catalog.verify(dest, REQUIRED)

        release = _release(home, settings, copy, log)
    log(f"published {release.name}: {home.site}/index.html")
    return release
