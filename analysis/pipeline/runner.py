"""A small runner for a declarative pipeline: named inputs and outputs, timed stages.

A :class:`Stage` is a pure function with named inputs and outputs (Kedro's node). Inputs are
names of earlier outputs, ``params:<section>`` for a section of the typed configuration, or
``progress`` for a callback that advances the stage's progress bar. The runner checks the wiring
before running anything (every input produced earlier, no output produced twice), times each
stage and prints one line per stage.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analysis.config import Settings
from analysis.processes import checkpoint

PARAMS = "params:"
PROGRESS = "progress"


@dataclass(frozen=True)
class Stage:
    """One step of the flow: ``func(*inputs)`` returns its ``outputs`` (a tuple if several).

    ``steps`` gives the number of progress ticks from the settings (a progress bar instead of
    a spinner), for stages that take ``progress`` as an input.
    """

    name: str
    func: Callable[..., Any]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    steps: Callable[[Settings], int] | None = None
    quiet: bool = False


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Reads VmHWM from /proc (reset when the process execs, unlike ``ru_maxrss``, which Linux
    carries over from the parent at fork); falls back to ``ru_maxrss`` elsewhere.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Start a new peak of resident memory for this process (Linux: ``clear_refs`` 5 resets
    VmHWM to the current VmRSS); elsewhere nothing happens and peaks stay cumulative."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def release_unused_memory() -> None:
    """Give memory that the allocators keep after values are dropped back to the system:
    Arrow's pool (mimalloc and jemalloc hold it for reuse otherwise: 1.4 GB after the text
    table of a 6-million-user export is dropped) and glibc's heap (``malloc_trim``; freed
    NumPy and Python objects otherwise stay resident as fragments, where glibc is the C
    library)."""
    import pyarrow

    pyarrow.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc():
    """glibc through ctypes when this process runs on it (it has ``malloc_trim``), else None."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _glibc()


def check_wiring(stages: Sequence[Stage], given: Sequence[str]) -> None:
    """Raise ValueError when a stage needs a name no earlier stage (or ``given``) provides,
    or when two stages produce the same name."""
    known = set(given)
    for stage in stages:
        missing = [n for n in stage.inputs
                   if not n.startswith(PARAMS) and n != PROGRESS and n not in known]
        if missing:
            raise ValueError(f"stage {stage.name!r} needs {missing}, produced by no earlier stage")
        twice = known.intersection(stage.outputs)
        if twice:
            raise ValueError(f"stage {stage.name!r} produces {sorted(twice)} again")
        known.update(stage.outputs)


@contextmanager
def _progress_bar(console: Console, label: str, total: int) -> Iterator[Callable[[], None]]:
    """A transient rich progress bar; yields the function that advances it by one."""
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


@contextmanager
def _spinner(console: Console, label: str) -> Iterator[None]:
    """A spinner while a stage without a progress bar runs."""
    with console.status(f"{label} ..."):
        yield None


def last_use(stages: Sequence[Stage]) -> dict[str, int]:
    """Index of the last stage that reads each name (values can be dropped after it)."""
    return {name: i for i, stage in enumerate(stages) for name in stage.inputs}


def run(stages: Sequence[Stage], given: dict[str, Any], settings: Settings, console: Console,
        keep: set[str]) -> tuple[dict[str, Any], dict[str, float], dict[str, float]]:
    """Run ``stages`` in order on the ``given`` named values.

    Returns the values named in ``keep``, the seconds each stage took and the peak resident
    memory (MiB) of this process during each stage (cumulative where it cannot be reset).
    Every other value is dropped as soon as no later stage reads it, so that big intermediate
    frames do not pile up.
    """
    check_wiring(stages, list(given))
    data = dict(given)
    seconds: dict[str, float] = {}
    peaks: dict[str, float] = {}
    drop_after = last_use(stages)
    for index, stage in enumerate(stages):
        checkpoint(stage.name)
        reset_peak_rss()
        start = time.perf_counter()
        show = (_progress_bar(console, stage.name, stage.steps(settings)) if stage.steps
                else _spinner(console, stage.name))
        with show as tick:
            args = [getattr(settings, name.removeprefix(PARAMS)) if name.startswith(PARAMS)
                    else tick if name == PROGRESS else data[name] for name in stage.inputs]
            result = stage.func(*args)
        values = result if len(stage.outputs) > 1 else (result,)
        data.update(zip(stage.outputs, values, strict=True))
        seconds[stage.name] = round(time.perf_counter() - start, 3)
        peaks[stage.name] = round(peak_rss_mb(), 1)
        if not stage.quiet:
            console.print(f"[green]done[/] {stage.name:<32} {seconds[stage.name]:7.1f} s")
        dropped = [n for n in data if n not in keep and drop_after.get(n, -1) <= index]
        for name in dropped:
            del data[name]
        if dropped:
            release_unused_memory()
    return data, seconds, peaks
