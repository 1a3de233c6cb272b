"""Snapshot history: aggregates only, newest `keep` kept, same release de-duplicated."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.config import load_config
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


def test_snapshot_name_sorts_by_sequence_and_names_the_input():
    name = history.snapshot_name(7, T0, "be0de68a18e2dd5c593e9b50")
    assert name == "0007-20250101T120000Z-be0de68a18e2"
    assert history.NAME.match(name)


def test_history_dir_is_relative_to_the_project_root():
    from analysis.config import PROJECT_ROOT

    assert history.history_dir({"history": {"dir": "history"}}) == PROJECT_ROOT / "history"
    assert history.history_dir({"history": {"dir": "/x/h"}}) == Path("/x/h")


# --------------------------------------------------------------------------------------------
# recording, pruning, de-duplication


def test_first_build_has_no_previous_snapshot(tmp_path):
    assert history.previous_snapshot(tmp_path / "history") is None
    assert history.list_snapshots(tmp_path / "nothing") == []


def test_only_the_newest_keep_snapshots_are_kept(tmp_path):
    hist = tmp_path / "history"
    recorded = []
    for i in range(7):
        art = fake_artifacts(tmp_path / f"a{i}", f"{i:x}" * 64)
        recorded.append(history.record_snapshot(art, hist, keep=5, distributions=DIST,
                                                now=T0 + timedelta(days=i)))
    kept = history.list_snapshots(hist)
    assert [p.name for p in kept] == [p.name for p in recorded[2:]]
    assert [json.loads((p / "meta.json").read_text())["sequence"] for p in kept] == [3, 4, 5,
                                                                                     6, 7]
    assert history.previous_snapshot(hist) == recorded[-1]
    assert not list(hist.glob(".tmp-*"))
    snap = history.load_snapshot(recorded[-1])
    assert snap["meta"]["input_sha256"] == "6" * 64
    assert snap["distributions"] == DIST
    assert "examples" not in snap["validation"]["expectations"][0]


def test_same_release_twice_is_replaced_and_skipped_as_previous(tmp_path):
    hist = tmp_path / "history"
    a = fake_artifacts(tmp_path / "a", "a" * 64)
    b = fake_artifacts(tmp_path / "b", "b" * 64)
    first = history.record_snapshot(a, hist, 5, DIST, now=T0)
    second = history.record_snapshot(b, hist, 5, DIST, now=T0 + timedelta(days=1))
    again = history.record_snapshot(b, hist, 5, DIST, now=T0 + timedelta(days=2))
    # The same release (same input, model and report) replaces its snapshot ...
    assert history.list_snapshots(hist) == [first, again]
    assert not second.exists()
    assert json.loads((again / "meta.json").read_text())["replaces"] == second.name
    # ... and rebuilding it compares with the release before, not with itself.
    key_b = json.loads((again / "meta.json").read_text())["key"]
    assert history.previous_snapshot(hist) == again
    assert history.previous_snapshot(hist, exclude_key=key_b) == first
    # Same input but another model (config changed) is another release.
    b2 = fake_artifacts(tmp_path / "b2", "b" * 64, model_sha="n" * 64)
    third = history.record_snapshot(b2, hist, 5, DIST, now=T0 + timedelta(days=3))
    assert history.list_snapshots(hist) == [first, again, third]


def test_interrupted_recording_leaves_no_snapshot(tmp_path, monkeypatch):
    hist = tmp_path / "history"
    art = fake_artifacts(tmp_path / "a", "a" * 64)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(history, "write_json", boom)
    with pytest.raises(OSError):
        history.record_snapshot(art, hist, 5, DIST, now=T0)
    assert history.list_snapshots(hist) == []
    assert not list(hist.iterdir())


# --------------------------------------------------------------------------------------------
# with a real pipeline run on synthetic users


@pytest.fixture(scope="module")
def warned_run(tmp_path_factory):
    from analysis.pipeline.run import segment

    config = copy.deepcopy(load_config())
    config["stability"]["resamples"] = 4
    config["stability"]["n_jobs"] = 1
    config["pca"]["sample_size"] = 300
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
    snap = history.record_snapshot(artifacts, tmp_path / "history", keep=5)
    assert sorted(p.name for p in snap.iterdir()) == [
        "distributions.json", "manifest.json", "meta.json", "model.json",
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
