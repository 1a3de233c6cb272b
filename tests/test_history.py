"""Snapshots: aggregates only, never a user; the key that tells two releases apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.features.transform import FEATURE_COLUMNS
from analysis.history import snapshots as history
from tests.synthetic import make_users, write_csv

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def fake_artifacts(folder: Path, sha: str, model_sha: str = "m" * 64,
                   tiers: dict[str, int] | None = None) -> Path:
    """The artifact files a snapshot reads, written by hand (no pipeline run)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"input": {"name": "users.csv", "sha256": sha}, "input_sha256": sha,
                "rows_in": 10, "rows_clustered": 10, "chosen": {"algorithm": "kmeans", "k": 3},
                "tiers": tiers or {"inactive": 7, "moderate": 2, "active": 1},
                "validation_status": "warn",
                "files": {"model.json": model_sha, "validation_report.json": "v" * 64}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "model.json").write_text(json.dumps({"schema_version": 1}))
    report = {"status": "warn", "rows": 10, "counts": {"expectations": 1, "passed": 0},
              "expectations": [{"id": "sold_with_pass_rate", "success": False,
                                "severity": "warning", "unexpected_count": 1,
                                "examples": ["-1234567890123"],
                                "example_values": [{"productsSold": "2"}],
                                "common_values": [{"values": {"productsSold": "2"},
                                                   "count": 1}]}]}
    (folder / "validation_report.json").write_text(json.dumps(report))
    return folder


DIST = {"rows": 3, "columns": {"productsSold": {"values": [0, 2], "counts": [2, 1]}}}


# --------------------------------------------------------------------------------------------
# pure helpers


def test_value_counts_are_exact_aggregates():
    users = make_users(500, seed=1)
    dist = history.value_counts(users)
    assert dist["rows"] == 500
    assert list(dist["columns"]) == list(history.DISTRIBUTION_COLUMNS)
    assert set(FEATURE_COLUMNS) | {"daysSinceLastLogin"} == set(dist["columns"])
    for column, vc in dist["columns"].items():
        assert sum(vc["counts"]) == 500
        assert vc["values"] == sorted(vc["values"])
        assert all(type(v) is int for v in vc["values"])
        expected = users[column].value_counts().sort_index()
        assert vc["values"] == expected.index.tolist()
        assert vc["counts"] == expected.tolist()
    json.dumps(dist)  # plain JSON types


def test_public_report_drops_example_rows_only(tmp_path):
    report = json.loads((fake_artifacts(tmp_path, "a" * 64) / "validation_report.json")
                        .read_text())
    public = history.public_report(report)
    entry = public["expectations"][0]
    assert "examples" not in entry and "example_values" not in entry
    assert entry["unexpected_count"] == 1 and entry["common_values"]
    assert report["expectations"][0]["examples"]  # the input is not modified


# --------------------------------------------------------------------------------------------
# with a real pipeline run on synthetic users


@pytest.fixture(scope="module")
def warned_run(tmp_path_factory, fast_config):
    from analysis.publishing.build import segment

    config = fast_config
    folder = tmp_path_factory.mktemp("hist-run")
    users = make_users(1200, seed=21)
    # one warning, so that the report has example identifierHash values to strip
    users.loc[3, ["productsSold", "productsPassRate"]] = [2, 0.0]
    data = write_csv(users, folder / "users.csv")
    segment(data, folder / "artifacts", config)
    return folder / "artifacts", users


def test_segment_writes_distributions_and_a_snapshot_holds_no_user(warned_run, tmp_path):
    artifacts, users = warned_run
    written = json.loads((artifacts / "distributions.json").read_text())
    assert written == json.loads(json.dumps(history.value_counts(users)))
    snap = history.write_snapshot(artifacts, tmp_path / "snapshot", 7, T0)
    assert sorted(p.name for p in snap.iterdir()) == [
        "changes.json", "distributions.json", "manifest.json", "meta.json", "model.json",
        "validation_report.json"]
    text = "".join(p.read_text() for p in snap.iterdir())
    ids = {str(i) for i in users["identifierHash"]}
    leaked = [i for i in ids if i in text]
    assert leaked == [], f"user ids in the snapshot: {leaked[:3]}"
    meta = json.loads((snap / "meta.json").read_text())
    manifest = json.loads((artifacts / "manifest.json").read_text())
    assert meta["tiers"] == manifest["tiers"] and meta["key"] == history.snapshot_key(manifest)
    assert sum(p.stat().st_size for p in snap.iterdir()) < 500_000
    labels = pd.read_parquet(artifacts / "labels.parquet")
    assert np.array_equal(labels["identifierHash"], users["identifierHash"])
