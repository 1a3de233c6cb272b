"""Scale runs: the real ``c2c build`` on generated N-user exports, one child process per N.

For each N, in a fresh temporary folder:

1. ``scripts/make_export.py N users-N.zip`` writes an N-user export (the real rows resampled
   with small noise, real schema and text formats, unique ids) in its own process;
2. :mod:`analysis.bench.intake` compares the intake's pyarrow + pandas and polars paths on the
   export, in a process of its own;
3. ``python -m analysis.cli build --data users-N.zip`` runs the whole build (validation,
   segmentation, the site, the release) in a child process, with ``C2C_HOME`` and the site's
   execution cache in that folder and ``C2C_CONFIG`` a copy of the settings in force, while
   :class:`analysis.bench.memory.TreeMemory` samples the memory of its process tree;
4. the release is read back: per-stage seconds and the pipeline's own peak from ``run.json``,
   users and distinct feature rows from the manifest, and the bytes of the artifacts, the site
   (downloads apart), the downloads inside it and the campaign files beside it.

The folder is deleted before the next N. Times are wall-clock seconds on a shared machine:
rerun to see the spread.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from analysis.bench.memory import KIB_PER_MIB, TreeMemory
from analysis.config import PROJECT_ROOT, Settings
from analysis.publishing.release import home_for

MAKE_EXPORT = PROJECT_ROOT / "scripts" / "make_export.py"
#: Lines of a failed child's output kept in the result.
TAIL_LINES = 20


def folder_bytes(folder: Path) -> int:
    """Bytes of every file below ``folder`` (links to files are not followed)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()
               and not p.is_symlink())


def output_sizes(artifacts: Path, site: Path) -> dict[str, Any]:
    """Bytes of a release's outputs: artifacts (each file and total), the site without its
    downloads, the downloads inside the site (none unless ``[campaigns].rows_in_site``), the
    campaign files beside it, the largest page; and the model's label-table rows."""
    downloads = site / "_static" / "downloads"
    pages = sorted(site.rglob("*.html"), key=lambda p: (-p.stat().st_size, p.name))
    model = json.loads((artifacts / "model.json").read_text(encoding="utf-8"))
    files = {p.name: p.stat().st_size for p in sorted(artifacts.iterdir()) if p.is_file()}
    download_bytes = folder_bytes(downloads) if downloads.is_dir() else 0
    campaigns = Path(artifacts).parent / "campaigns"  # the release's, beside its artifacts
    return {"artifacts_bytes": sum(files.values()), "artifact_files": files,
            "site_bytes_without_downloads": folder_bytes(site) - download_bytes,
            "downloads_bytes": download_bytes,
            "campaigns_bytes": folder_bytes(campaigns.resolve()) if campaigns.exists() else 0,
            "largest_page": {"name": pages[0].name, "bytes": pages[0].stat().st_size},
            "label_table_rows": len(model["label_table"]["rows"])}


def _tail(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n").splitlines()
    return [line for line in lines if line.strip()][-TAIL_LINES:]


def run_child(argv: list[str], env: dict[str, str], log_path: Path, interval: float
              ) -> dict[str, Any]:
    """Run ``argv`` with its output in ``log_path`` while sampling its tree's memory.

    Returns ``exit_status``, wall ``seconds``, ``peak_tree_rss_mb`` and ``peak_process_mb``
    (sampled, see :mod:`analysis.bench.memory`) and ``maxrss_mb`` (``wait4``'s figure for the
    child and its waited-for descendants).
    """
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=str(PROJECT_ROOT))
        with TreeMemory(proc.pid, interval) as memory:
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"exit_status": proc.returncode, "seconds": round(seconds, 3),
            "peak_tree_rss_mb": memory.peak_tree_mb, "peak_process_mb": memory.peak_process_mb,
            "maxrss_mb": round(usage.ru_maxrss / KIB_PER_MIB, 1), "memory_samples": memory.samples}


def _environment(folder: Path, config_file: Path) -> dict[str, str]:
    return {**os.environ, "C2C_HOME": str(folder / "home"), "C2C_CONFIG": str(config_file),
            "C2C_SITE_CACHE": str(folder / "site-cache")}


def scale_run(n: int, source: Path, settings: Settings, folder: Path) -> dict[str, Any]:
    """Generate an ``n``-user export of ``source`` in ``folder`` and time the real build on it."""
    interval = settings.scale.sample_seconds
    config_file = folder / "config.toml"
    config_file.write_text(tomli_w.dumps(settings.record()), encoding="utf-8")
    env = _environment(folder, config_file)
    export = folder / f"users-{n}.zip"
    made = run_child([sys.executable, str(MAKE_EXPORT), str(n), str(export), "--source",
                      str(source), "--seed", str(settings.scale.seed)], env,
                     folder / "make_export.log", interval)
    result: dict[str, Any] = {"n": n, "export": {**made, "bytes": export.stat().st_size
                                                 if export.exists() else None}}
    if made["exit_status"] != 0:
        return {**result, "error": _tail(folder / "make_export.log")}
    result["intake"] = _module_json("analysis.bench.intake", export, env, folder)
    if n <= settings.scale.reference_max_users:
        result["exactness"] = _module_json("analysis.bench.exactness", export, env, folder)
    build = run_child([sys.executable, "-m", "analysis.cli", "build", "--data", str(export)],
                      env, folder / "build.log", interval)
    result["build"] = build
    if build["exit_status"] != 0:
        return {**result, "error": _tail(folder / "build.log")}
    home = home_for(settings, folder / "home")
    artifacts, site = home.artifacts.resolve(), home.site.resolve()
    run = json.loads((artifacts / "run.json").read_text(encoding="utf-8"))
    manifest = json.loads((artifacts / "manifest.json").read_text(encoding="utf-8"))
    return {**result, "users": manifest["rows_clustered"],
            "distinct_rows": manifest["distinct_feature_rows"],
            "chosen": manifest["chosen"], "pipeline_seconds": run["seconds_total"],
            "pipeline_peak_rss_mb": run["peak_rss_mb"], "stage_seconds": run["stage_seconds"],
            "stage_peak_rss_mb": run.get("stage_peak_rss_mb", {}),
            "render_and_publish_seconds": round(build["seconds"] - run["seconds_total"], 3),
            "sizes": output_sizes(artifacts, site)}


def _module_json(module: str, export: Path, env: dict[str, str], folder: Path
                 ) -> dict[str, Any]:
    """``python -m module export`` in its own process (its memory apart): its JSON line, or
    the tail of its log as ``error``."""
    name = module.rsplit(".", 1)[-1]
    with open(folder / f"{name}.json", "wb") as out, open(folder / f"{name}.log", "wb") as log:
        proc = subprocess.run([sys.executable, "-m", module, str(export)],
                              stdout=out, stderr=log, env=env, cwd=str(PROJECT_ROOT),
                              check=False)
    if proc.returncode != 0:
        return {"error": _tail(folder / f"{name}.log")}
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def machine() -> dict[str, Any]:
    """What the runs ran on: CPUs, their model, memory, Python, the code's git commit."""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    memory = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                   .splitlines() if line.startswith("MemTotal:")), 0) \
        if Path("/proc/meminfo").exists() else 0
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, check=False).stdout.strip() or None
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "memory_mb": memory // KIB_PER_MIB,
            "python": platform.python_version(), "git_commit": commit}


def scale_runs(sizes: list[int], source: Path, settings: Settings,
               log: Callable[[str], None] = print) -> dict[str, Any]:
    """:func:`scale_run` for each size, each in its own temporary folder; with the date and
    the machine. ``source`` is the export resampled (the real data)."""
    runs = []
    for n in sizes:
        log(f"scale: {n:,} users (export, then `c2c build`) ...")
        with tempfile.TemporaryDirectory(prefix=f"c2c-scale-{n}-") as tmp:
            runs.append(scale_run(n, Path(source), settings, Path(tmp)))
    return {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(), "source": Path(source).name, "runs": runs}


#: Columns of the printed scale table.
TABLE_COLUMNS = ("users", "distinct rows", "build s", "pipeline s", "slowest stages",
                 "peak tree MiB", "peak process MiB", "artifacts MiB", "site MiB",
                 "downloads MiB", "label rows")


def table_rows(scale: dict[str, Any], stages: int = 3) -> list[list[str]]:
    """One row of text per scale run (:data:`TABLE_COLUMNS`); a failed run names its error."""
    rows = []
    for run in scale["runs"]:
        if "error" in run:
            rows.append([f"{run['n']:,}", "failed: " + " / ".join(run["error"][-2:])]
                        + [""] * (len(TABLE_COLUMNS) - 2))
            continue
        slow = sorted(run["stage_seconds"].items(), key=lambda kv: -kv[1])[:stages]
        sizes = run["sizes"]
        rows.append([f"{run['users']:,}", f"{run['distinct_rows']:,}",
                     f"{run['build']['seconds']:,.1f}", f"{run['pipeline_seconds']:,.1f}",
                     ", ".join(f"{name} {sec:,.1f}" for name, sec in slow),
                     f"{run['build']['peak_tree_rss_mb']:,.0f}",
                     f"{run['build']['peak_process_mb']:,.0f}",
                     f"{sizes['artifacts_bytes'] / 2**20:,.1f}",
                     f"{sizes['site_bytes_without_downloads'] / 2**20:,.1f}",
                     f"{sizes['downloads_bytes'] / 2**20:,.1f}", f"{sizes['label_table_rows']:,}"])
    return rows
