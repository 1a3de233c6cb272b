"""The segmentation pipeline: raw export -> validated users -> features -> clusters -> artifacts.

:data:`analysis.pipeline.stages.STAGES` is the flow; :func:`run_pipeline` executes it and
:func:`write_artifacts` writes what it made through the catalog (manifest sealed last).
Writing them into a folder that is replaced atomically (``c2c segment``) and publishing a
release (artifacts + site + snapshot) are :mod:`analysis.publishing`'s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from analysis import catalog
from analysis.config import Settings
from analysis.pipeline.runner import peak_rss_mb, run
from analysis.pipeline.stages import STAGES


@dataclass(frozen=True)
class PipelineResult:
    """What one run made: artifact documents by catalog name, the manifest's body, timings."""

    documents: dict[str, Any]
    summary: dict[str, Any]
    run_info: dict[str, Any]


def run_pipeline(data_path: Path, settings: Settings,
                 history: list[dict[str, Any]] | None = None,
                 console: Console | None = None,
                 previous: dict[str, Any] | None = None) -> PipelineResult:
    """Run every stage on ``data_path``; ``history`` holds the published releases' snapshots,
    newest first (what "What changed" compares with; none on a first build); ``previous`` the
    published release's input sha256 and labels file (the campaign measurement's input).

    Raises InputError (unreadable input, exit 2) or ValidationFailed (exit 1) before anything
    is written anywhere.
    """
    console = console or Console(stderr=True)
    started, t0 = datetime.now(UTC), time.perf_counter()
    keep = {a.name for a in catalog.ARTIFACTS} | {"summary", "chosen"}
    given = {"data_path": Path(data_path), "history": history or [], "settings": settings,
             "previous": previous}
    data, seconds, peaks = run(STAGES, given, settings, console, keep)
    documents = {name: data[name] for name in (a.name for a in catalog.ARTIFACTS)}
    summary = data["summary"]
    peak = max([*peaks.values(), round(peak_rss_mb(), 1)])
    console.print(f"[bold]segment[/]: {summary['rows_clustered']:,} users -> "
                  f"{summary['chosen']['algorithm']} k={summary['chosen']['k']}; tiers "
                  f"{summary['tiers']}; {time.perf_counter() - t0:.1f} s, peak memory "
                  f"{peak:.0f} MiB")
    return PipelineResult(documents, summary, {
        "started_at": started.isoformat(timespec="seconds"),
        "seconds_total": round(time.perf_counter() - t0, 3),
        "stage_seconds": seconds,
        "stage_peak_rss_mb": peaks,
        "peak_rss_mb": peak})


def write_artifacts(folder: Path, result: PipelineResult) -> dict[str, Any]:
    """Write ``result`` into the new empty ``folder`` (manifest last); returns the manifest."""
    folder.mkdir(parents=True, exist_ok=False)
    run_info = {**result.run_info, "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}
    return catalog.write_folder(folder, result.documents, result.summary, run_info)
