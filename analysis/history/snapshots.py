"""Snapshot history: what each successful build looked like, in aggregates only.

After every successful ``c2c build`` the build's manifest, model, validation report (without its
example rows), tier counts and per-feature value counts are recorded into a small folder of the
history (config ``[history]``: ``dir`` relative to the project root, ``keep`` newest kept)::

    history/
      0007-20250101T120000Z-be0de68a18e2/   <sequence>-<UTC time>-<input sha256[:12]>
        meta.json                  sequence, time, input, key, chosen solution, tier counts
        manifest.json              the build's manifest (input sha256, row counts, config, ...)
        model.json                 the fitted model (transform parameters and centroids)
        validation_report.json     the report minus ``examples`` / ``example_values``
        distributions.json         counts of each distinct value of each model feature column
        changes.json               what the build's "What changed" page showed (if written)

Nothing per user is ever stored: no rows, no identifiers (the validation report's example
``identifierHash`` values are dropped), only counts and fitted parameters — a few thousand
numbers per snapshot.

**Repeated builds of the same release.** A snapshot's *key* is the input sha256 plus the sha256
of its ``model.json`` and ``validation_report.json`` (as listed in the manifest): the same data
under the same model-shaping config gives the same key. Recording a snapshot whose key equals
the newest snapshot's *replaces* that snapshot (de-duplicated), so ``keep`` counts distinct
releases; and :func:`previous_snapshot` called with the current build's key skips snapshots of
the same release, so rebuilding unchanged data keeps comparing with the release before it
instead of with itself.

Pure helpers (:func:`value_counts`, :func:`snapshot_key`, :func:`snapshot_name`,
:func:`public_report`) do no I/O; :func:`record_snapshot`, :func:`previous_snapshot`,
:func:`load_snapshot` and :func:`prune` are the file edges. Every write goes to a hidden
temporary folder first and is renamed into place.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.publishing.writer import write_json
from analysis.features.transform import FEATURE_COLUMNS

#: Columns whose value counts are recorded: every model feature column (daysSinceLastLogin is
#: the recency feature's column and is listed explicitly in case the feature list changes).
DISTRIBUTION_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys([*FEATURE_COLUMNS,
                                                             "daysSinceLastLogin"]))
#: Files copied from the artifacts folder into a snapshot (when present).
COPIED = ("manifest.json", "model.json", "changes.json")
#: Keys of a validation report entry that name or show individual users.
PER_USER_KEYS = ("examples", "example_values")
#: ``0007-20250101T120000Z-be0de68a18e2``
NAME = re.compile(r"^(?P<seq>\d{4,})-(?P<time>\d{8}T\d{6}Z)-(?P<sha>[0-9a-f]{1,64})$")
SHA_CHARS = 12


# --------------------------------------------------------------------------------------------
# pure helpers


def value_counts(users: pd.DataFrame, columns: Iterable[str] = DISTRIBUTION_COLUMNS
                 ) -> dict[str, Any]:
    """Counts of each distinct value of each column: ``{"rows": n, "columns": {column:
    {"values": [ascending], "counts": [same length]}}}`` (plain ints / floats, JSON-ready).

    Missing cells are not counted (validated data has none). Integral columns give ints.
    """
    out: dict[str, Any] = {"rows": int(len(users)), "columns": {}}
    for column in columns:
        series = users[column].dropna()
        values = series.to_numpy(np.float64)
        uniq, counts = np.unique(values, return_counts=True)
        integral = bool(np.all(np.mod(uniq, 1) == 0)) and series.dtype.kind in "iub"
        out["columns"][column] = {
            "values": [int(v) for v in uniq] if integral else [float(v) for v in uniq],
            "counts": [int(c) for c in counts],
        }
    return out


def snapshot_key(manifest: dict[str, Any]) -> str:
    """What makes two builds the same release: input sha256 + model.json + validation report."""
    files = manifest.get("files", {})
    return "|".join([manifest["input_sha256"], files.get("model.json", ""),
                     files.get("validation_report.json", "")])


def snapshot_name(sequence: int, when: datetime, input_sha256: str) -> str:
    """Folder name ``<sequence:04d>-<UTC YYYYmmddTHHMMSSZ>-<sha256[:12]>``."""
    return (f"{sequence:04d}-{when.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-"
            f"{input_sha256[:SHA_CHARS]}")


def public_report(report: dict[str, Any]) -> dict[str, Any]:
    """The validation report without per-user content (example ids and their cells).

    Counts, percentages, rules, statuses and the offending rows' most common values (value
    combinations with their counts) are kept.
    """
    out = {k: v for k, v in report.items() if k != "expectations"}
    out["expectations"] = [{k: v for k, v in e.items() if k not in PER_USER_KEYS}
                           for e in report.get("expectations", [])]
    return out


def history_dir(config: dict[str, Any]) -> Path:
    """The history folder: ``[history].dir``, relative to the project root unless absolute."""
    from analysis.config import PROJECT_ROOT

    folder = Path(config["history"]["dir"])
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


# --------------------------------------------------------------------------------------------
# reading


def list_snapshots(history_dir: Path) -> list[Path]:
    """Snapshot folders in ``history_dir``, oldest first (by sequence); [] if none."""
    history_dir = Path(history_dir)
    if not history_dir.is_dir():
        return []
    found = [(int(m["seq"]), p) for p in history_dir.iterdir()
             if p.is_dir() and (m := NAME.match(p.name)) and (p / "meta.json").exists()]
    return [p for _, p in sorted(found)]


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def previous_snapshot(history_dir: Path, exclude_key: str | None = None) -> Path | None:
    """The newest snapshot, or None when there is none.

    With ``exclude_key`` (the current build's :func:`snapshot_key`), the newest snapshot of a
    *different* release: rebuilding the same data compares with the release before it.
    """
    for path in reversed(list_snapshots(history_dir)):
        if exclude_key is None or _read_json(path / "meta.json").get("key") != exclude_key:
            return path
    return None


def load_snapshot(path: Path) -> dict[str, Any]:
    """A snapshot as one dict: ``path``, ``meta``, ``manifest``, ``model``, ``validation``,
    ``distributions`` (the parsed files; ``changes`` too when it was recorded)."""
    path = Path(path)
    snap: dict[str, Any] = {
        "path": str(path),
        "meta": _read_json(path / "meta.json"),
        "manifest": _read_json(path / "manifest.json"),
        "model": _read_json(path / "model.json"),
        "validation": _read_json(path / "validation_report.json"),
        "distributions": _read_json(path / "distributions.json"),
    }
    if (path / "changes.json").exists():
        snap["changes"] = _read_json(path / "changes.json")
    return snap


# --------------------------------------------------------------------------------------------
# writing


def prune(history_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` snapshots (at least one is kept); returns the deleted.

    Leftover temporary folders of interrupted recordings are removed too.
    """
    history_dir = Path(history_dir)
    snapshots = list_snapshots(history_dir)
    doomed = snapshots[:max(len(snapshots) - max(int(keep), 1), 0)]
    for path in doomed:
        shutil.rmtree(path)
    if history_dir.is_dir():
        for tmp in history_dir.glob(".tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)
    return doomed


def record_snapshot(artifacts_dir: Path, history_dir: Path, keep: int,
                    distributions: dict[str, Any] | None = None,
                    now: datetime | None = None) -> Path:
    """Record the build in ``artifacts_dir`` as the newest snapshot; returns its folder.

    ``distributions`` is :func:`value_counts` of the build's users; None reads the artifacts'
    ``distributions.json`` (written by ``segment``). The snapshot is written into a temporary
    folder and renamed into place; if the newest snapshot is the same release (same
    :func:`snapshot_key`) it is replaced; then only the newest ``keep`` are kept.
    """
    artifacts_dir, history_dir = Path(artifacts_dir), Path(history_dir)
    manifest = _read_json(artifacts_dir / "manifest.json")
    if distributions is None:
        distributions = _read_json(artifacts_dir / "distributions.json")
    now = now or datetime.now(UTC)
    key = snapshot_key(manifest)
    existing = list_snapshots(history_dir)
    sequence = int(NAME.match(existing[-1].name)["seq"]) + 1 if existing else 1
    same = existing[-1] if existing and \
        _read_json(existing[-1] / "meta.json").get("key") == key else None

    history_dir.mkdir(parents=True, exist_ok=True)
    tmp = history_dir / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        for name in COPIED:
            if (artifacts_dir / name).exists():
                shutil.copyfile(artifacts_dir / name, tmp / name)
        write_json(tmp / "validation_report.json",
                   public_report(_read_json(artifacts_dir / "validation_report.json")))
        write_json(tmp / "distributions.json", distributions)
        write_json(tmp / "meta.json", {
            "sequence": sequence,
            "recorded_at": now.astimezone(UTC).isoformat(timespec="seconds"),
            "key": key,
            "replaces": same.name if same else None,
            "input": manifest.get("input", {}),
            "input_sha256": manifest["input_sha256"],
            "rows_in": manifest.get("rows_in"),
            "rows_clustered": manifest.get("rows_clustered"),
            "chosen": {k: manifest.get("chosen", {}).get(k) for k in ("algorithm", "k")},
            "tiers": manifest.get("tiers", {}),
            "validation_status": manifest.get("validation_status"),
        })
        target = history_dir / snapshot_name(sequence, now, manifest["input_sha256"])
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if same is not None:
        shutil.rmtree(same)
    prune(history_dir, keep)
    return target


def record_build(artifacts_dir: Path, config: dict[str, Any]) -> Path:
    """``c2c build``'s last step: :func:`record_snapshot` into ``[history].dir`` / ``keep``."""
    return record_snapshot(artifacts_dir, history_dir(config), int(config["history"]["keep"]))
