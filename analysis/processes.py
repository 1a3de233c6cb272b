"""Process helpers: children that die with their parent, and the test hook that kills a build.

``C2C_KILL_AT=<point>[:<seconds>]`` makes :func:`checkpoint` send SIGKILL to the process when it
reaches ``<point>`` (after ``<seconds>``, from a timer thread, so that a kill can land in the
middle of the work that follows). Points are the pipeline's stage names and the publishing
steps (``artifacts written``, ``site rendered``, ``release renamed``, ``release switched``).
Unset, it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "C2C_KILL_AT"


def checkpoint(point: str) -> None:
    """SIGKILL this process at ``point`` when ``$C2C_KILL_AT`` names it (see module doc)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, delay = wanted.partition(":")
    if name != point:
        return
    seconds = float(delay or 0)
    if seconds <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGKILL))
    timer.daemon = True
    timer.start()


def die_with_parent(parent_pid: int | None = None) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG).

    Called in worker processes and child commands, so that a killed build leaves nothing
    running. ``parent_pid``: exit at once if the parent is already gone (the request only
    covers deaths after it). A no-op where prctl does not exist.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)
