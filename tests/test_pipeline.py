"""End-to-end `segment`: rows conserved, deterministic, order-invariant, failures keep artifacts."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from analysis.catalog import ARTIFACTS, MANIFEST, RUN, verify
from analysis.config import load_config
from analysis.errors import ValidationFailed
from analysis.features.activity import PRODUCT_COLUMNS, product_activity
from analysis.intake.files import file_sha256
from analysis.intake.reader import load_users
from analysis.publishing.build import segment
from tests.conftest import REAL_DATA as REAL
from tests.limits import LIMITS
from tests.synthetic import make_users, write_csv


@pytest.fixture(scope="module")
def synthetic_file(synthetic_run):
    return synthetic_run[0]


@pytest.fixture(scope="module")
def first_run(synthetic_run):
    return synthetic_run[1], synthetic_run[2]


def tree_hashes(folder):
    return {p.name: file_sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}


def test_rows_conserved_and_tiers_sum(first_run):
    out, manifest = first_run
    assert manifest["rows_in"] == manifest["rows_clustered"] == 1500
    assert manifest["hierarchical_rows"] == 1500
    assert sum(manifest["tiers"].values()) == 1500
    labels = pd.read_parquet(out / "labels.parquet")
    assert len(labels) == 1500 and labels["identifierHash"].is_unique
    assert set(labels["tier"].unique()) <= {"inactive", "moderate", "active"}
    assert (labels["tier"].value_counts().reindex(list(manifest["tiers"])).fillna(0).astype(int)
            .to_dict() == manifest["tiers"])


def test_the_manifest_lists_every_catalog_artifact_with_its_checksum(first_run):
    out, manifest = first_run
    catalog_names = {a.name for a in ARTIFACTS}
    assert set(manifest["files"]) == catalog_names
    assert {p.name for p in out.iterdir()} == catalog_names | {MANIFEST, RUN}
    assert verify(out, tuple(catalog_names)) == manifest
    for key in ["input_sha256", "rows_in", "rows_clustered", "hierarchical_rows", "chosen",
                "tiers", "versions", "config"]:
        assert key in manifest
    assert manifest["chosen"]["reason"]


def test_two_runs_are_byte_identical_except_run_json(first_run, synthetic_file, fast_config,
                                                     tmp_path):
    out, _ = first_run
    segment(synthetic_file, tmp_path / "b", fast_config)
    first, second = tree_hashes(out), tree_hashes(tmp_path / "b")
    first.pop("run.json"), second.pop("run.json")
    assert first == second


def test_shuffled_input_gives_the_same_labels_per_user(first_run, fast_config, tmp_path):
    out, _ = first_run
    shuffled = make_users(1500, seed=5).sample(frac=1.0, random_state=1)
    segment(write_csv(shuffled, tmp_path / "shuffled.csv"), tmp_path / "s", fast_config)
    a = pd.read_parquet(out / "labels.parquet").set_index("identifierHash").sort_index()
    b = pd.read_parquet(tmp_path / "s" / "labels.parquet").set_index("identifierHash").sort_index()
    pd.testing.assert_frame_equal(a, b)


def test_active_tier_is_the_most_active(first_run):
    out, _ = first_run
    users = make_users(1500, seed=5)
    tiers = pd.read_parquet(out / "labels.parquet")["tier"].astype(str).to_numpy()
    activity = product_activity(users)
    days = users["daysSinceLastLogin"].to_numpy()
    med = {t: np.median(activity[tiers == t]) for t in ("inactive", "moderate", "active")}
    rec = {t: np.median(days[tiers == t]) for t in ("inactive", "moderate", "active")}
    assert med["active"] >= med["moderate"] >= med["inactive"]
    assert med["active"] > med["inactive"]
    assert rec["active"] < rec["inactive"]


def test_degenerate_solutions_are_flagged_and_never_chosen(first_run, fast_config):
    out, manifest = first_run
    metrics = json.loads((out / "metrics.json").read_text())["rows"]
    chosen = next(m for m in metrics if (m["algorithm"], m["k"]) ==
                  (manifest["chosen"]["algorithm"], manifest["chosen"]["k"]))
    assert not chosen["degenerate"]
    for m in metrics:
        assert m["degenerate"] == (m["min_share"] < fast_config.selection.min_cluster_share)


def test_failed_run_leaves_previous_artifacts_untouched(first_run, fast_config, tmp_path):
    out, _ = first_run
    before = tree_hashes(out)
    broken = make_users(300, seed=1).drop(columns="productsSold")
    with pytest.raises(ValidationFailed, match="productsSold"):
        segment(write_csv(broken, tmp_path / "broken.csv"), out, fast_config)
    assert tree_hashes(out) == before


@pytest.mark.realdata
@pytest.mark.slow
def test_real_data_end_to_end(real_artifacts, real_data):
    out, manifest = real_artifacts
    with zipfile.ZipFile(real_data) as archive:  # data lines of the export, counted here
        rows = archive.read(archive.namelist()[0]).count(b"\n") - 1
    assert manifest["rows_in"] == manifest["rows_clustered"] == rows
    assert manifest["hierarchical_rows"] == rows
    assert sum(manifest["tiers"].values()) == rows
    assert manifest["validation_status"] in ("pass", "warn")
    solutions = 2 * len(load_config().kmeans.ks)  # both algorithms, every k
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["rows"]) == solutions
    model = json.loads((out / "model.json").read_text())
    assert len(model["solutions"]) == solutions


def test_scoring_training_users_gives_back_their_kmeans_clusters(first_run):
    out, _ = first_run
    from analysis.scoring.score import load_model, score_frame

    model = load_model(out / "model.json")
    users = make_users(1500, seed=5)
    labels = pd.read_parquet(out / "labels.parquet")
    for sol in model["solutions"]:
        if sol["algorithm"] == "kmeans":
            scored = score_frame(users, model, "kmeans", sol["k"])
            assert (scored["cluster"].to_numpy() == labels[f"kmeans_k{sol['k']}"]).all()


@pytest.mark.realdata
@pytest.mark.slow
def test_real_segments_answer_the_marketing_questions(real_artifacts):
    """Acceptance of the segments issue on the real export: sizes add up; every tier holding
    over 1 % of users has two segments or more; inactive users with product history are never
    in a never-engaged segment; every user has a reason."""
    out, manifest = real_artifacts
    labels = pd.read_parquet(out / "labels.parquet")
    segments = json.loads((out / "segments.json").read_text())
    assert sum(manifest["segments"].values()) == manifest["rows_clustered"] == len(labels)
    assert sum(r["size"] for r in segments["records"]) == len(labels)
    per_tier = labels.groupby("tier", observed=True)["segment"].nunique()
    shares = labels["tier"].value_counts(normalize=True)
    assert all(per_tier[t] >= 2 for t in shares.index if shares[t] > 0.01)
    users = load_users(REAL, LIMITS)
    history = (users[PRODUCT_COLUMNS] > 0).any(axis=1).to_numpy()
    no_history = {r["segment"] for r in segments["records"]
                  if {segments["groups"][m] for m in r["members"]} == {"no_history"}}
    assert not labels["segment"].isin(no_history).to_numpy()[history].any()
    assert labels["reason"].str.len().gt(0).all()


@pytest.mark.realdata
@pytest.mark.slow
def test_every_training_user_gets_its_own_cluster_back_for_every_solution(real_artifacts):
    from analysis.scoring.score import load_model, score_frame

    out, _ = real_artifacts
    model = load_model(out / "model.json")
    labels = pd.read_parquet(out / "labels.parquet")
    users = load_users(REAL, LIMITS)
    for sol in model["solutions"]:
        got = score_frame(users, model, sol["algorithm"], sol["k"])
        own = labels[f"{sol['algorithm']}_k{sol['k']}"].to_numpy()
        assert (got["cluster"].to_numpy() == own).all(), (sol["algorithm"], sol["k"])
    chosen = score_frame(users, model, seniority=users["seniority"].to_numpy())
    assert (chosen["segment"].to_numpy() == labels["segment"].astype(str).to_numpy()).all()
    assert (chosen["reason"].to_numpy() == labels["reason"].to_numpy()).all()
