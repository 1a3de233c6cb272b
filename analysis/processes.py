"""Process helpers: children that die with their parent, and the test hook that kills a build.

Two guards make sure a killed build leaves nothing running. :func:`die_with_parent` (in each
child) asks Linux to kill the child when its parent dies; it does not reach what the child
forks (Linux clears the request on fork: sphinx-build's parallel readers, their Jupyter
kernels). :func:`descendants_die_with_me` covers those: while a build runs, every process it
starts, however deep, carries a tag in its environment, and a small watchdog process kills every
tagged process when the build dies before the end of the block.

``C2C_KILL_AT=<point>[:<seconds>]`` makes :func:`checkpoint` send SIGKILL to the process when it
reaches ``<point>`` (after ``<seconds>``, from a timer thread, so that a kill can land in the
middle of the work that follows). Points are the pipeline's stage names and the publishing
steps (``artifacts written``, ``site rendered``, ``release renamed``, ``release switched``).
Unset, it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "C2C_KILL_AT"
#: The environment variable that tags the processes of one build (inherited by every child).
TREE_ENV = "C2C_PROCESS_TREE"

#: The watchdog (``python -I -S -c``, standard library only). argv: the tag ``NAME=value``, the
#: build's pid. It waits on its stdin: ``done`` means the build ended normally (exit at once);
#: end of file or a new parent pid means the build died: kill every process with the tag,
#: repeating until none has appeared for a few rounds (a dying reader may be forking a kernel).
_WATCHDOG = r"""
import os, select, signal, sys, time
tag, parent, me = sys.argv[1].encode(), int(sys.argv[2]), os.getpid()

def tagged():
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open("/proc/" + name + "/environ", "rb") as fh:
                if tag in fh.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            pass
    return found

while True:
    ready = select.select([0], [], [], 0.5)[0]
    if ready:
        data = os.read(0, 64)
        if b"done" in data:
            sys.exit(0)
        if not data:
            break
    elif os.getppid() != parent:
        break
quiet, deadline = 0, time.monotonic() + 60
while quiet < 3 and time.monotonic() < deadline:
    pids = tagged()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    quiet = 0 if pids else quiet + 1
    time.sleep(0.1)
"""


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


@contextmanager
def descendants_die_with_me() -> Iterator[None]:
    """While the block runs, every process started from this one carries a fresh tag
    (``$C2C_PROCESS_TREE``) in its environment, and a watchdog process kills every process with
    the tag if this process dies (SIGKILL included) before the block ends. The tag is removed
    from this process's environment afterwards. Linux only (a no-op elsewhere).
    """
    if not sys.platform.startswith("linux") or not os.path.isdir("/proc"):
        yield
        return
    tag = uuid.uuid4().hex
    previous = os.environ.get(TREE_ENV)
    env = {k: v for k, v in os.environ.items() if k != TREE_ENV}
    watchdog = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _WATCHDOG, f"{TREE_ENV}={tag}", str(os.getpid())],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        start_new_session=True)
    os.environ[TREE_ENV] = tag
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(TREE_ENV, None)
        else:
            os.environ[TREE_ENV] = previous
        try:
            watchdog.stdin.write(b"done")
            watchdog.stdin.close()
        except OSError:
            pass
        try:
            watchdog.wait(timeout=10)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()
