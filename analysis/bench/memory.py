"""Peak memory of a process tree, sampled from /proc while it runs (Linux).

:class:`TreeMemory` polls ``/proc`` every ``interval`` seconds for the root process and all
its descendants and keeps two peaks:

- ``peak_tree_mb``: the largest *sum* of resident memory (``VmRSS``) of the processes alive at
  one sample: what the machine had to hold at once (the pipeline, its bootstrap workers, the
  site's Sphinx readers and notebook kernels). Sampling can miss a spike shorter than the
  interval, so this is a lower bound of the true peak.
- ``peak_process_mb``: the largest ``VmHWM`` (the kernel's own high-water mark of resident
  memory) of any one process seen, exact for every process alive at a sample.

After the root has exited, ``os.wait4``'s ``ru_maxrss`` adds the largest high-water mark of the
root and every descendant it waited for (the kernel's figure, not sampled).
"""

from __future__ import annotations

import threading
from pathlib import Path

PROC = Path("/proc")
KIB_PER_MIB = 1024


def _status_kib(pid: int, fields: tuple[str, ...]) -> dict[str, int]:
    """The ``fields`` (kB values) of /proc/<pid>/status; {} when the process is gone."""
    out = {}
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in fields:
                out[name] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        return {}
    return out


def _parents() -> dict[int, int]:
    """Parent pid of every process alive now (from /proc/<pid>/stat)."""
    out = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it
        out[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return out


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants alive now."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


class TreeMemory:
    """Sample the memory of ``pid``'s process tree in a background thread until stopped."""

    def __init__(self, pid: int, interval: float):
        self.pid, self.interval = pid, interval
        self.peak_tree_kib = 0
        self.peak_process_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        """One sample of the tree: update both peaks."""
        total = 0
        for pid in tree(self.pid):
            status = _status_kib(pid, ("VmRSS", "VmHWM"))
            total += status.get("VmRSS", 0)
            self.peak_process_kib = max(self.peak_process_kib, status.get("VmHWM", 0))
        self.peak_tree_kib = max(self.peak_tree_kib, total)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_tree_mb(self) -> float:
        return round(self.peak_tree_kib / KIB_PER_MIB, 1)

    @property
    def peak_process_mb(self) -> float:
        return round(self.peak_process_kib / KIB_PER_MIB, 1)
