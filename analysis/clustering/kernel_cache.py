"""numba's on-disk cache for kernels that call kernels of other modules, kept fresh.

numba (``@njit(cache=True)``) stores a kernel's machine code *with the code of every kernel it
calls compiled in*, and reloads it while the kernel's own source file is unchanged (file time
and size): a change to a called kernel in *another* file is not seen, and the old code keeps
running (numba's documentation, "Cache invalidation fails to recognize changes in functions
defined in a different file"). The Ward kernels are split over several modules that call each
other, so each of them calls :func:`drop_stale` when imported: if the sources of its group
differ from the ones the cache was built from (sha256 of the files, kept beside the cache),
the cache indexes of every module in the group are deleted and numba recompiles them on the
next call. Modules whose kernels only call kernels of the same file need no group.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from numba import njit

#: Modules of analysis/clustering whose kernels call each other's, by group.
GROUPS: dict[str, tuple[str, ...]] = {
    "ward": ("ward_blocks", "ward_search", "ward_lists", "ward_chain"),
}

_checked: set[str] = set()  # groups already checked in this process


@njit(cache=True)
def _anchor():
    """Never called: its cache path is numba's cache folder for this package's files."""
    return 0


def drop_stale(group: str) -> None:
    """Delete the cache indexes of ``group``'s modules if any of their sources changed.

    Runs once per process and group; safe when several processes start at once (at worst a
    kernel is compiled twice). Does nothing if the cache folder cannot be written (then numba
    cannot cache there either). Not covered: a process started before an edit that compiles
    a kernel for the first time after it (it writes old code under the new digest); after
    editing kernels, restart long-running processes or delete ``__pycache__``.
    """
    if group in _checked:
        return
    _checked.add(group)
    here = Path(__file__).parent
    sources = [here / f"{name}.py" for name in GROUPS[group]]
    drop_stale_in(Path(_anchor._cache.cache_path), group, sources)


def drop_stale_in(cache_dir: Path, tag: str, sources: list[Path]) -> bool:
    """Delete ``<module>.*.nbi`` in ``cache_dir`` for every source file unless the sha256 of
    all ``sources`` equals the one stored in ``cache_dir / f"{tag}.sources.sha256"``; then
    store it. Returns whether indexes were deleted."""
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    stamp = cache_dir / f"{tag}.sources.sha256"
    try:
        if stamp.read_text(encoding="ascii") == digest.hexdigest():
            return False
    except OSError:
        pass  # no stamp yet
    try:
        for path in sources:
            for index in cache_dir.glob(f"{path.stem}.*.nbi"):
                index.unlink(missing_ok=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cache_dir / f"{tag}.sources.sha256.{os.getpid()}"
        partial.write_text(digest.hexdigest(), encoding="ascii")
        partial.replace(stamp)
    except OSError:
        return False
    return True
