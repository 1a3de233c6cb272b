"""One build at a time: an advisory lock on the releases folder.

The lock is ``flock`` on ``<releases>/.lock``, so the kernel releases it when its holder dies,
however it dies: a lock left by a killed build is simply free again (and its stale note is
overwritten). The file holds a note (pid, start time, command) that a refused build quotes.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import C2CError

LOCK_NAME = ".lock"


class BuildBusy(C2CError):
    """Another build holds the lock (exit 2)."""

    exit_code = 2


def _note() -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))
    return f"pid {os.getpid()}, started {started}, {command[:200]}"


#: How long a refused build waits for the holder's note to appear: a build that has just taken
#: the lock writes it a moment later (and one releasing it has just cleared it).
NOTE_SECONDS = 2.0


def _holder(fd: int) -> str:
    """The holder's note, or "" while it is missing or still being written."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace")
    return text.strip() if text.endswith("\n") else ""


@contextmanager
def build_lock(releases: Path, wait: bool = False, poll_seconds: float = 0.5
               ) -> Iterator[None]:
    """Hold the build lock of ``releases`` for the block.

    Raises BuildBusy ("another build is running (pid N, started ...)") when it is held, unless
    ``wait``, which blocks until it is free.
    """
    releases = Path(releases)
    releases.mkdir(parents=True, exist_ok=True)
    fd = os.open(releases / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        note_deadline = time.monotonic() + NOTE_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if wait:
                    time.sleep(poll_seconds)
                    continue
                holder = _holder(fd)
                if not holder and time.monotonic() < note_deadline:
                    time.sleep(0.01)  # taken a moment ago: its note is on its way
                    continue
                raise BuildBusy(f"another build is running ({holder or 'pid unknown'}); wait "
                                "for it to finish or pass --wait") from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, (_note() + "\n").encode("utf-8"))
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
