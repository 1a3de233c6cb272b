"""Snapshots: what each published release looked like, in aggregates only.

Every release (:mod:`analysis.publishing.release`) carries a ``snapshot/`` folder, kept after
the release's artifacts and site are pruned, so the snapshots of the last ``[history].keep``
releases form the history that "What changed" compares with::

    snapshot/
      meta.json                  sequence, time, input, key, chosen solution, tier counts
      manifest.json              the build's manifest (input sha256, row counts, config, ...)
      model.json                 the fitted model (transform parameters and centroids)
      validation_report.json     the report minus ``examples`` / ``example_values``
      distributions.json         counts of each distinct value of each model feature column
      changes.json               what the release's "What changed" page showed

Nothing per user is ever stored: no rows, no identifiers (the validation report's example
``identifierHash`` values are dropped), only counts and fitted parameters.

A snapshot's *key* is the input sha256 plus the sha256 of its ``model.json`` and
``validation_report.json``: the same data under the same model-shaping config gives the same
key, so rebuilding unchanged data compares with the release before it, not with itself.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.catalog import json_bytes
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


def public_report(report: dict[str, Any]) -> dict[str, Any]:
    """The validation report without per-user content (example ids and their cells).

    Counts, percentages, rules, statuses and the offending rows' most common values (value
    combinations with their counts) are kept.
    """
    out = {k: v for k, v in report.items() if k != "expectations"}
    out["expectations"] = [{k: v for k, v in e.items() if k not in PER_USER_KEYS}
                           for e in report.get("expectations", [])]
    return out


# --------------------------------------------------------------------------------------------
# reading


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


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


def write_snapshot(artifacts_dir: Path, dest: Path, sequence: int, now: datetime) -> Path:
    """Write the snapshot of the build in ``artifacts_dir`` into the new folder ``dest``.

    ``sequence`` numbers the release; ``now`` is when it is recorded. Returns ``dest``.
    """
    artifacts_dir, dest = Path(artifacts_dir), Path(dest)
    manifest = _read_json(artifacts_dir / "manifest.json")
    dest.mkdir(parents=True)
    for name in COPIED:
        if (artifacts_dir / name).exists():
            shutil.copyfile(artifacts_dir / name, dest / name)
    report = public_report(_read_json(artifacts_dir / "validation_report.json"))
    (dest / "validation_report.json").write_bytes(json_bytes(report))
    shutil.copyfile(artifacts_dir / "distributions.json", dest / "distributions.json")
    (dest / "meta.json").write_bytes(json_bytes({
        "sequence": sequence,
        "recorded_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "key": snapshot_key(manifest),
        "input": manifest.get("input", {}),
        "input_sha256": manifest["input_sha256"],
        "rows_in": manifest.get("rows_in"),
        "rows_clustered": manifest.get("rows_clustered"),
        "chosen": {k: manifest.get("chosen", {}).get(k) for k in ("algorithm", "k")},
        "tiers": manifest.get("tiers", {}),
        "validation_status": manifest.get("validation_status"),
    }))
    return dest
