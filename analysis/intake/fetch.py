"""Obtain the raw export: copy it from a local mirror or download it, always sha256-verified.

The file lands in ``[data].raw_dir`` (or ``dest``) only once its checksum matches
``[data].sha256``: it is written to a temporary file in the destination folder, verified,
then renamed into place, so a failure never leaves a partial file behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from analysis.config import PROJECT_ROOT, DataConfig
from analysis.errors import InputError
from analysis.intake.files import CHUNK, display_path, file_sha256

MIRROR_ENV = "C2C_DATA_MIRROR"


def mirror_dirs(data: DataConfig) -> list[Path]:
    """Folders that may hold a copy: ``$C2C_DATA_MIRROR``, then ``[data].mirrors``
    (relative to the project root)."""
    env = os.environ.get(MIRROR_ENV)
    return ([Path(env)] if env else []) + [PROJECT_ROOT / m for m in data.mirrors]


def _mismatch(source: str, actual: str, expected: str) -> InputError:
    return InputError(f"Cannot use {source}: its sha256 is {actual}, but [data].sha256 in the "
                      f"config expects {expected}; nothing was written.")


def _copy_verified(source: Path, target: Path, expected: str) -> None:
    """Copy ``source`` to ``target`` through a verified temporary file in ``target``'s folder."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected:
            raise _mismatch(display_path(source), digest.hexdigest(), expected)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _progress_available() -> bool:
    """pooch draws download progress with tqdm, which is optional."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def _download_verified(url: str, target: Path, expected: str, searched: list[Path]) -> None:
    """Download ``url`` to ``target`` with pooch (temporary file, sha256 check, then move)."""
    import pooch
    import requests

    try:
        pooch.retrieve(url, known_hash=f"sha256:{expected}", fname=target.name,
                       path=target.parent, progressbar=_progress_available())
    except ValueError as err:  # pooch: hash mismatch (the temporary file is already removed)
        raise InputError(f"Cannot use the download from {url}: its sha256 does not match "
                         f"[data].sha256 in the config ({err}); nothing was written.") from None
    except (requests.RequestException, OSError) as err:
        looked = ", ".join(display_path(d) for d in searched) or "none configured"
        raise InputError(f"Cannot obtain {target.name}: no local mirror has it (looked in "
                         f"{looked}) and downloading {url} failed "
                         f"({type(err).__name__}: {err}).") from None


def fetch_data(data: DataConfig, dest: Path | None = None) -> tuple[Path, str]:
    """Put the verified raw export into ``dest`` (default ``[data].raw_dir``).

    Returns ``(path, how)`` where ``how`` says whether it was already present, copied from a
    mirror or downloaded. Raises InputError (exit 2) when no source yields the right bytes.
    """
    expected = data.sha256.lower()
    folder = Path(dest) if dest is not None else PROJECT_ROOT / data.raw_dir
    target = folder / data.filename
    stale = target.is_file()
    if stale and file_sha256(target) == expected:
        return target, "already present with the expected sha256"
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    searched = mirror_dirs(data)
    try:
        for mirror in searched:
            source = mirror / data.filename
            if source.is_file() and source.resolve() != target.resolve():
                _copy_verified(source, target, expected)
                how = f"copied from {display_path(source)}, sha256 verified"
                break
        else:
            _download_verified(data.url, target, expected, searched)
            how = f"downloaded from {data.url}, sha256 verified"
    except BaseException:
        if created and not any(folder.iterdir()):
            folder.rmdir()
        raise
    return target, how + (" (replaced a copy with the wrong sha256)" if stale else "")
