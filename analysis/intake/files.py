"""Small file helpers shared by the input edge and the CLI: display paths, hash files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from analysis.errors import clip

#: Chunk size for hashing and copying files (bytes).
CHUNK = 1 << 20
#: Longest path a message quotes whole.
PATH_CHARS = 240


def display_path(path: str | Path) -> str:
    """``path`` relative to the working directory when it lies below it, else as given."""
    path = Path(path)
    try:
        return clip(str(path.resolve().relative_to(Path.cwd().resolve())), PATH_CHARS)
    except (ValueError, OSError, RuntimeError):  # outside the cwd, or a symlink loop
        return clip(str(path), PATH_CHARS)


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words ("a named pipe (FIFO)", ...); None when regular."""
    import stat

    if stat.S_ISREG(mode):
        return None
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a regular file"


def writable_target(target: Path, inputs: tuple[Path, ...] = ()) -> str | None:
    """Why ``target`` must not be replaced by an output (None: it may): it exists and is not a
    regular file (a device such as /dev/null, a pipe, a folder), or it is one of ``inputs``
    under another name (the same file, a hard link or a symbolic link to it)."""
    import os

    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as err:
        return err.strerror or str(err)
    kind = file_kind(st.st_mode)
    if kind is not None:
        return f"it is {kind}, not a regular file; refusing to replace it"
    for source in inputs:
        try:
            if os.path.samefile(target, source):
                return (f"it is the input {display_path(source)} under another name (the same "
                        "file or a link to it); refusing to overwrite it")
        except OSError:
            continue
    return None
