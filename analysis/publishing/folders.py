"""Folder primitives: staging beside a target, atomic replacement, atomic files and symlinks.

Everything is staged on the same file system as its target, so that the final step is one
``rename`` (files, symlinks) or one ``renameat2(RENAME_EXCHANGE)`` (folders: Linux swaps the two
names atomically, so no reader ever sees the target missing).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STAGING = ".staging-"
#: renameat2 flag: exchange the two paths atomically (Linux >= 3.15).
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def _renameat2():
    """libc's renameat2, or None where it does not exist."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` atomically; False where the system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
        return False
    raise OSError(errno, os.strerror(errno), str(b))


def replace_folder(new: Path, target: Path) -> None:
    """Put the finished folder ``new`` at ``target`` (same file system); the old one is deleted.

    With an existing ``target`` the two are exchanged atomically where the system allows it
    (else renamed away first, a window in which ``target`` is missing).
    """
    new, target = Path(new), Path(target)
    if not target.exists() and not target.is_symlink():
        os.rename(new, target)
        return
    if exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)
        return
    old = target.with_name(f"{STAGING}{target.name}-old-{uuid.uuid4().hex[:8]}")
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """A fresh empty folder beside ``target``, removed on exit (whatever was left in it)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{STAGING}{target.name}-{uuid.uuid4().hex[:12]}")
    tmp.mkdir()
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_stale_staging(parent: Path) -> list[Path]:
    """Delete staging folders left in ``parent`` by killed runs; returns what was removed.

    Only call while holding the build lock (no live run owns them then).
    """
    parent = Path(parent)
    if not parent.is_dir():
        return []
    stale = sorted(p for p in parent.iterdir() if p.name.startswith(STAGING))
    for path in stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    path = Path(path)
    tmp = path.with_name(f"{STAGING}{path.name}-{uuid.uuid4().hex[:12]}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def point_symlink(link: Path, target: str) -> None:
    """Make ``link`` a symlink to ``target`` (relative text), replacing it atomically."""
    link = Path(link)
    tmp = link.with_name(f"{STAGING}{link.name}-{uuid.uuid4().hex[:12]}")
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
