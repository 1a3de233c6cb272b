"""Small file helpers shared by the input edge and the CLI: display paths, hash files."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Chunk size for hashing and copying files (bytes).
CHUNK = 1 << 20


def display_path(path: str | Path) -> str:
    """``path`` relative to the working directory when it lies below it, else as given."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
