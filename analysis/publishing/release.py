"""Releases: the artifacts, the site and the snapshot of one input, published as one unit.

Layout of a project's home (the project root, or ``$C2C_HOME``)::

    releases/
      .lock                          the build lock (analysis.publishing.lock)
      0007-20261201T101500Z-be0de68a18e2/
        artifacts/  campaigns/  site/  snapshot/  release.json   (release.json last: whole)
      0006-.../snapshot/             older releases keep only their snapshot (the history)
      current -> 0007-...            THE published release: one symlink, switched atomically
    artifacts -> releases/current/artifacts          stable links readers use
    _site     -> releases/current/site
    campaigns -> releases/current/campaigns          one CSV per segment, beside the site
    work/                            unpublished outputs (c2c segment, c2c validate)

A build writes everything into ``releases/.staging-*``, marks it complete, renames it to its
final name and only then switches ``current``: a kill at any point leaves either the old or the
new release published, never a mix. :func:`recover` (run under the lock before every build)
deletes staging folders, incomplete releases and releases that were never switched to.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis.catalog import json_bytes, read_json
from analysis.config import PROJECT_ROOT, Settings
from analysis.history.snapshots import load_snapshot
from analysis.processes import checkpoint
from analysis.publishing.folders import STAGING, point_symlink, remove_stale_staging

HOME_ENV = "C2C_HOME"
RELEASE_FILE = "release.json"
CURRENT = "current"
#: ``0007-20261201T101500Z-be0de68a18e2``: sequence, UTC time, input sha256[:12].
NAME = re.compile(r"^(?P<seq>\d{4,})-(?P<time>\d{8}T\d{6}Z)-(?P<sha>[0-9a-f]{1,64})$")
SHA_CHARS = 12


@dataclass(frozen=True)
class Home:
    """Where releases are published and read."""

    root: Path
    site_name: str = "_site"

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def current(self) -> Path:
        return self.releases / CURRENT

    @property
    def artifacts(self) -> Path:
        """The published artifacts (a link into the current release)."""
        return self.root / "artifacts"

    @property
    def site(self) -> Path:
        """The published site (a link into the current release)."""
        return self.root / self.site_name

    @property
    def campaigns(self) -> Path:
        """The published campaign files (a link into the current release)."""
        return self.root / "campaigns"

    @property
    def work(self) -> Path:
        """Unpublished outputs: ``c2c segment`` artifacts, ``c2c validate`` reports."""
        return self.root / "work"


def home_for(settings: Settings, root: Path | None = None) -> Home:
    """The home of this project: ``root``, else ``$C2C_HOME``, else the project root."""
    chosen = root or (Path(os.environ[HOME_ENV]) if os.environ.get(HOME_ENV) else PROJECT_ROOT)
    return Home(Path(chosen).resolve(), settings.site.output_dir)


def release_name(sequence: int, when: datetime, input_sha256: str) -> str:
    """``<sequence:04d>-<UTC YYYYmmddTHHMMSSZ>-<sha256[:12]>``."""
    return (f"{sequence:04d}-{when.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-"
            f"{input_sha256[:SHA_CHARS]}")


def _sequence(path: Path) -> int:
    return int(NAME.match(path.name)["seq"])


def all_releases(home: Home) -> list[Path]:
    """Release folders (complete or not) by sequence."""
    if not home.releases.is_dir():
        return []
    found = [p for p in home.releases.iterdir()
             if NAME.match(p.name) and p.is_dir() and not p.is_symlink()]
    return sorted(found, key=_sequence)


def current_release(home: Home) -> Path | None:
    """The published release folder, or None before the first publish."""
    if not home.current.is_symlink():
        return None
    target = home.releases / os.readlink(home.current)
    return target if (target / RELEASE_FILE).is_file() else None


def published(home: Home) -> list[Path]:
    """Complete releases up to the current one, oldest first."""
    current = current_release(home)
    if current is None:
        return []
    return [p for p in all_releases(home)
            if (p / RELEASE_FILE).is_file() and _sequence(p) <= _sequence(current)]


def history(home: Home) -> list[dict[str, Any]]:
    """The snapshots of the published releases, newest first (what "What changed" reads)."""
    return [load_snapshot(p / "snapshot") for p in reversed(published(home))
            if (p / "snapshot" / "meta.json").is_file()]


def previous_release(home: Home) -> dict[str, Any] | None:
    """The published release a new build follows: its input's sha256 and its labels file
    (what the campaign measurement reads); None before the first release."""
    current = current_release(home)
    manifest = current / "artifacts" / "manifest.json" if current is not None else None
    if manifest is None or not manifest.is_file():
        return None
    return {"input_sha256": read_json(manifest.parent, manifest.name)["input_sha256"],
            "labels": str(current / "artifacts" / "labels.parquet")}


def next_name(home: Home, input_sha256: str, now: datetime) -> tuple[int, str]:
    """The sequence and folder name of the next release."""
    existing = all_releases(home)
    sequence = _sequence(existing[-1]) + 1 if existing else 1
    return sequence, release_name(sequence, now, input_sha256)


# --------------------------------------------------------------------------------------------
# recovery, links, publishing, pruning (call with the build lock held)


def ensure_links(home: Home) -> None:
    """Make ``artifacts`` and the site folder links into ``releases/current``.

    A real folder in their place (the layout before releases) is moved aside and deleted.
    """
    for link, part in ((home.artifacts, "artifacts"), (home.site, "site"),
                       (home.campaigns, "campaigns")):
        target = os.path.relpath(home.current / part, link.parent)
        aside = link.with_name(f"{STAGING}{link.name}-legacy")
        shutil.rmtree(aside, ignore_errors=True)  # left by a kill during an earlier move
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.exists() and not link.is_symlink():
            os.rename(link, aside)
            shutil.rmtree(aside, ignore_errors=True)
        point_symlink(link, target)


def recover(home: Home) -> list[str]:
    """Undo what killed builds left: staging folders, incomplete or never-published releases.

    Returns the names removed. The published release is never touched.
    """
    removed = [p.name for p in remove_stale_staging(home.releases)]
    current = current_release(home)
    for path in all_releases(home):
        complete = (path / RELEASE_FILE).is_file()
        if not complete or current is None or _sequence(path) > _sequence(current):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    if current is not None:
        ensure_links(home)
    return removed


def remove_release(path: Path) -> None:
    """Delete a release folder: renamed to a staging name first (one atomic step), so that a
    kill in the middle of deleting leaves a staging folder that :func:`recover` removes, never
    a release that still counts as published with part of its snapshot gone."""
    doomed = path.with_name(f"{STAGING}removed-{path.name}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(path, doomed)
    except FileNotFoundError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


def prune(home: Home, keep: int) -> None:
    """Keep the newest ``keep`` published snapshots (one per key) and one whole release."""
    current = current_release(home)
    if current is None:
        return
    key = read_json(current / "snapshot", "meta.json").get("key")
    kept = 1
    for path in reversed(published(home)):
        if path == current:
            continue
        meta = path / "snapshot" / "meta.json"
        same = meta.is_file() and read_json(path / "snapshot", "meta.json").get("key") == key
        if same or kept >= keep:
            remove_release(path)
            continue
        kept += 1
        for heavy in ("artifacts", "site"):
            shutil.rmtree(path / heavy, ignore_errors=True)


def publish(home: Home, staging: Path, name: str, keep: int) -> Path:
    """Publish the finished ``staging`` folder (artifacts, site, snapshot) as release ``name``.

    Marks it complete, renames it into place, switches ``current`` to it, then prunes.
    """
    (staging / RELEASE_FILE).write_bytes(json_bytes({
        "name": name, "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parts": sorted(p.name for p in staging.iterdir())}))
    final = home.releases / name
    os.rename(staging, final)
    checkpoint("release renamed")
    point_symlink(home.current, name)
    checkpoint("release switched")
    ensure_links(home)
    prune(home, keep)
    return final
