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
