"""New data: refuse bad releases (naming renamed columns), measure drift, tier and model changes.

Unit tests run on synthetic value counts and users; the real-data test builds two releases in
code (A = the real export, B = a fixed 70% subsample whose users logged in 60 days earlier) in
tmp_path and checks that the comparison reports a major recency shift and a tier change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.config import load_config
from analysis.errors import ValidationFailed
from analysis.history import changes
from analysis.history import snapshots as history
from analysis.history.changes import compare
from analysis.history.drift import (
    FIRST_BUILD,
    bin_shares,
    bootstrap_shares,
    feature_drift,
    ks_from_counts,
    psi,
    psi_edges,
    quantile_from_counts,
    tier_shift,
    validation_changes,
)
from analysis.intake.reader import load_users, read_raw_table
from analysis.intake.schema import COLUMNS
from analysis.publishing.build import segment
from tests.clirun import run_cli
from tests.limits import LIMITS
from tests.synthetic import make_users, to_csv_text, write_csv
from validation.columns import normalise, suggest_renames
from validation.runner import format_summary, validate_users

CONFIG = load_config()
DRIFT = CONFIG.drift


def counts_of(sample) -> dict:
    values, counts = np.unique(np.asarray(sample), return_counts=True)
    return {"values": values.tolist(), "counts": counts.tolist()}


# --------------------------------------------------------------------------------------------
# PSI and KS


def test_identical_distributions_have_psi_0_and_ks_0():
    rng = np.random.default_rng(0)
    sample = np.concatenate([np.zeros(8000, int), rng.geometric(0.05, 2000)])
    dist = {"rows": 10_000, "columns": {"x": counts_of(sample)}}
    row = feature_drift(dist, dist, DRIFT)[0]
    assert row["psi"] == 0.0 and row["verdict"] == "stable"
    assert row["ks"] == 0.0 and row["ks_pvalue"] == 1.0
    assert sum(b["previous_share"] for b in row["bins"]) == pytest.approx(1.0)


def test_a_shift_is_above_the_thresholds():
    rng = np.random.default_rng(1)
    before = rng.integers(400, 700, 20_000)
    after = np.minimum(before + 60, 760)  # everyone logged in 60 days earlier
    prev = {"columns": {"daysSinceLastLogin": counts_of(before)}}
    cur = {"columns": {"daysSinceLastLogin": counts_of(after)}}
    row = feature_drift(prev, cur, DRIFT)[0]
    assert row["psi"] > DRIFT.psi_major and row["verdict"] == "major"
    assert row["ks"] > DRIFT.ks_threshold and row["ks_shift"]
    assert row["current"]["median"] - row["previous"]["median"] == pytest.approx(60, abs=1)
    assert "users last logged in 60 days later on median" in changes.drift_sentence(row)
    # a small shift stays below the moderate threshold
    small = {"columns": {"daysSinceLastLogin": counts_of(before + 2)}}
    assert feature_drift(prev, small, DRIFT)[0]["verdict"] == "stable"


def test_psi_matches_the_formula_and_floors_empty_bins():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])
    eps = DRIFT.psi_epsilon
    expected = sum((b - max(a, eps)) * np.log(b / max(a, eps)) for a, b in zip(p, q, strict=True))
    assert psi(p, q, eps) == pytest.approx(expected)
    assert np.isfinite(psi(p, q, eps)) and psi(p, q, eps) > 0
    assert psi(q, p, eps) > 0  # a bin emptied now is floored too


def test_ks_from_counts_equals_scipy_on_the_expanded_samples():
    rng = np.random.default_rng(2)
    a = rng.poisson(3, 3000)
    b = rng.poisson(3.4, 2000)
    d, p = ks_from_counts(counts_of(a), counts_of(b))
    ref = stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


def test_bins_never_split_a_value_and_give_a_heavy_zero_its_own_bin():
    values = np.array([0, 1, 2, 3, 5, 8, 13, 40])
    counts = np.array([8000, 600, 400, 300, 250, 200, 150, 100])
    edges = psi_edges(values, counts, 10)
    assert edges[0] == 0  # the 80% at zero is one bin
    assert len(edges) + 1 <= 10 and set(edges) <= set(values.tolist())
    assert values.max() not in edges  # the last bin holds previous users
    shares = bin_shares(values, counts, edges)
    assert shares.sum() == pytest.approx(1.0) and (shares > 0).all()
    # values outside the previous range fall into the end bins
    out = bin_shares(np.array([-5, 1000]), np.array([1, 1]), edges)
    assert out[0] == out[-1] == 0.5


def test_quantiles_from_counts_equal_numpy():
    rng = np.random.default_rng(3)
    for sample in (rng.integers(0, 50, 999), rng.integers(0, 50, 1000), np.array([7])):
        vc = counts_of(sample)
        for q in (0.1, 0.5, 0.9):
            assert quantile_from_counts(np.array(vc["values"], float), np.array(vc["counts"]),
                                        q) == pytest.approx(np.quantile(sample, q))


# --------------------------------------------------------------------------------------------
# tier shares: bootstrap intervals


def test_bootstrap_intervals_are_sane():
    same = np.array([8960, 770, 270])
    out = bootstrap_shares(same, same, 2000, 5, 0.95)
    lo, hi = out["diff_ci"].T
    assert ((lo < 0) & (hi > 0)).all()  # no change: every interval covers 0
    assert np.allclose(lo, -hi, atol=0.004)  # and is about symmetric
    share = same / same.sum()
    assert ((out["previous_ci"][:, 0] <= share) & (share <= out["previous_ci"][:, 1])).all()
    # deterministic for a seed
    assert np.array_equal(bootstrap_shares(same, same, 2000, 5, 0.95)["diff_ci"],
                          out["diff_ci"])
    # more users, narrower intervals
    wide = np.diff(bootstrap_shares(same // 10, same // 10, 2000, 5, 0.95)["diff_ci"])
    assert (wide > np.diff(out["diff_ci"])).all()


def test_a_real_change_is_beyond_noise_and_said_in_numbers():
    rows = tier_shift({"inactive": 88596, "moderate": 7638, "active": 2679},
                      {"inactive": 62000, "moderate": 5800, "active": 1300}, DRIFT)
    active = rows[2]
    assert active["significant"] and active["diff_pp"] < 0
    lo, hi = active["diff_pp_ci"]
    assert lo <= active["diff_pp"] <= hi < 0
    sentence = changes.tier_sentence(active, DRIFT.ci_level)
    assert sentence.startswith("The active tier shrank from 2.7% to 1.9% of users (−0.8 pp, "
                               "95% CI −")


# --------------------------------------------------------------------------------------------
# validation differences


def _report(entries, status="warn"):
    return {"status": status, "rows": 10,
            "counts": {"expectations": len(entries),
                       "passed": sum(e["success"] for e in entries),
                       "failed_warning": sum(not e["success"] for e in entries)},
            "expectations": entries}


def _e(eid, success, count=None, severity="warning"):
    return {"id": eid, "rule": eid, "columns": [], "severity": severity, "success": success,
            "unexpected_count": count}


def test_validation_changes_lists_new_resolved_and_changed_counts():
    before = _report([_e("a", True), _e("b", False, 5), _e("c", False, 2), _e("gone", False, 1)])
    after = _report([_e("a", False, 3), _e("b", False, 9), _e("c", True), _e("new", True)])
    diff = validation_changes(before, after)
    by_id = {r["id"]: r for r in diff["expectations"]}
    assert set(by_id) == {"a", "b", "c", "gone"}
    assert diff["new_warnings"] == ["a"]
    assert diff["resolved"] == ["c", "gone"]
    assert diff["changed"] == ["a", "c", "gone"]
    assert (by_id["b"]["previous_unexpected"], by_id["b"]["current_unexpected"]) == (5, 9)
    assert by_id["gone"]["current"] == "absent"


# --------------------------------------------------------------------------------------------
# the document


def test_first_build_says_there_is_nothing_to_compare():
    manifest = {"input": {"name": "u.csv"}, "input_sha256": "a" * 64, "rows_in": 5,
                "rows_clustered": 5, "chosen": {"algorithm": "kmeans", "k": 3},
                "tiers": {"inactive": 5, "moderate": 0, "active": 0}, "files": {}}
    doc = compare(None, manifest, {}, {}, pd.DataFrame(), pd.DataFrame(), DRIFT)
    assert doc["previous"] is None and doc["current"]["input_sha256"] == "a" * 64
    assert doc["summary"] == [FIRST_BUILD]


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def snapshot_of(artifacts, folder, sequence=1) -> dict:
    return history.load_snapshot(history.write_snapshot(artifacts, folder, sequence, T0))


@pytest.fixture(scope="module")
def synthetic_pair(tmp_path_factory, fast_config):
    """Two synthetic releases: B has more active users than A; B compared with A's snapshot."""
    folder = tmp_path_factory.mktemp("pair")
    a = write_csv(make_users(1500, seed=5), folder / "a.csv")
    b = write_csv(make_users(1500, seed=6, shares=(0.6, 0.2, 0.2)), folder / "b.csv")
    segment(a, folder / "A", fast_config)
    snap_a = snapshot_of(folder / "A", folder / "snap-a")
    segment(b, folder / "B", fast_config, history=[snap_a])
    return folder, snap_a, b


def test_compare_synthetic_releases(synthetic_pair):
    folder, snap_a, b = synthetic_pair
    users = load_users(b, LIMITS)
    doc = json.loads((folder / "B" / "changes.json").read_text())
    assert doc["previous"]["input_sha256"] == snap_a["meta"]["input_sha256"]
    assert doc["previous"]["input_sha256"] != doc["current"]["input_sha256"]
    assert {r["column"] for r in doc["drift"]["columns"]} == set(history.DISTRIBUTION_COLUMNS)
    assert doc["drift"]["columns"][0]["verdict"] == "major"
    active = next(r for r in doc["tiers"]["refit"] if r["tier"] == "active")
    assert active["significant"] and active["diff_pp"] > 0
    model = doc["model"]
    assert model["users"] == len(users) == sum(map(sum, model["confusion"]["counts"]))
    assert 0 <= model["tier_agreement"] <= 1 and -1 <= model["ari"] <= 1
    assert sum(model["previous_model_tiers"].values()) == len(users)
    assert any(s.startswith("The active tier grew from") for s in doc["summary"])
    assert any("PSI" in s and "major" in s for s in doc["summary"])


def test_rebuilding_a_release_compares_with_the_one_before_not_with_itself(synthetic_pair,
                                                                            fast_config):
    folder, snap_a, b = synthetic_pair
    snap_b = snapshot_of(folder / "B", folder / "snap-b", 2)
    segment(b, folder / "B-again", fast_config, history=[snap_b, snap_a])
    doc = json.loads((folder / "B-again" / "changes.json").read_text())
    assert doc["previous"]["input_sha256"] == snap_a["meta"]["input_sha256"]
    assert doc["current"]["key"] == snap_b["meta"]["key"]


# --------------------------------------------------------------------------------------------
# refusal: renamed, dropped or reordered columns


RENAMES = {"productsSold": "products_sold", "country": "Country",
           "daysSinceLastLogin": "daysSinceLastLogin ", "productsWished": "productsWished2",
           "identifierHash": "identifier_hash"}


def test_suggestions_ignore_case_underscores_and_spaces():
    assert normalise(" Products_Sold ") == "productssold"
    missing = list(RENAMES) + ["gender"]
    found = suggest_renames(missing, [*RENAMES.values(), "note"],
                            CONFIG.validation.rename_cutoff)
    assert found == RENAMES  # gender has no near match, note is not like anything missing
    assert suggest_renames(["productsSold"], ["sold"], 0.8) == {}
    # one candidate is suggested once, for the closest missing column
    assert suggest_renames(["productsSold", "productsBought"], ["products_sold"], 0.6) == {
        "productsSold": "products_sold"}


def test_renamed_and_dropped_columns_are_named_with_suggestions():
    raw = make_users(200, seed=7).astype(str).rename(columns=RENAMES).drop(columns=["gender"])
    raw["note"] = "x"
    report = validate_users(raw, "x.csv", CONFIG.validation, CONFIG.placeholder)
    assert report["status"] == "fail"
    entry = next(e for e in report["expectations"] if e["id"] == "columns_present")
    assert entry["missing"] == [c for c in COLUMNS if c in RENAMES or c == "gender"]
    assert entry["columns"] == entry["missing"]
    assert entry["suggestions"] == RENAMES
    extra = next(e for e in report["expectations"] if e["id"] == "no_extra_columns")
    assert extra["severity"] == "warning" and extra["extra"][-1] == "note"
    text = format_summary(report)
    assert "productsSold is missing — did you mean 'products_sold'?" in text
    assert "country is missing — did you mean 'Country'?" in text
    assert "daysSinceLastLogin is missing — did you mean 'daysSinceLastLogin '?" in text
    assert "productsWished is missing — did you mean 'productsWished2'?" in text
    assert "identifierHash is missing — did you mean 'identifier_hash'?" in text
    assert "        gender is missing\n" in text
    assert "'note' is not a schema column (ignored)" in text


def test_reordered_columns_pass_and_extra_columns_only_warn():
    raw = make_users(200, seed=8).astype(str)
    raw = raw[raw.columns[::-1]].assign(note="x")
    report = validate_users(raw, "x.csv", CONFIG.validation, CONFIG.placeholder)
    assert report["status"] == "warn"
    failed = [e["id"] for e in report["expectations"] if not e["success"]]
    assert failed == ["no_extra_columns"]


def test_segment_refuses_a_drifted_schema_with_exit_1(tmp_path, fast_config):
    raw = make_users(300, seed=9).astype(str).rename(
        columns={"productsSold": "products_sold", "country": "Country"}).drop(
        columns=["productsBought"])
    data = tmp_path / "drifted.csv"
    data.write_text(to_csv_text(raw), encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        segment(data, tmp_path / "artifacts", fast_config)
    message = str(err.value)
    assert err.value.exit_code == 1
    assert "productsSold is missing — did you mean 'products_sold'?" in message
    assert "country is missing — did you mean 'Country'?" in message
    assert "productsBought is missing" in message
    assert not (tmp_path / "artifacts").exists()
    status, text = run_cli("segment", "--data", data, "--out", tmp_path / "cli-artifacts")
    assert status == 1 and "did you mean 'products_sold'?" in text


# --------------------------------------------------------------------------------------------
# the real data: A = the export, B = a 70% subsample whose users logged in 60 days earlier


@pytest.mark.realdata
@pytest.mark.slow
def test_real_release_with_shifted_recency(real_data, real_artifacts, tmp_path, fast_config):
    raw = read_raw_table(real_data, LIMITS)
    b = raw.sample(frac=0.7, random_state=2024).sort_index()
    days = b["daysSinceLastLogin"].astype(int) + 60
    b["daysSinceLastLogin"] = np.minimum(days, b["seniority"].astype(int)).astype(str)
    b_path = tmp_path / "b.csv"
    b.to_csv(b_path, index=False)
    del raw

    snap_a = snapshot_of(real_artifacts[0], tmp_path / "snap-a")
    segment(b_path, tmp_path / "B", fast_config, history=[snap_a])
    doc = json.loads((tmp_path / "B" / "changes.json").read_text())
    config = fast_config

    recency = next(r for r in doc["drift"]["columns"] if r["column"] == "daysSinceLastLogin")
    assert recency["verdict"] == "major" and recency["psi"] > config.drift.psi_major
    assert recency["ks"] > config.drift.ks_threshold
    assert recency["current"]["median"] - recency["previous"]["median"] == pytest.approx(60,
                                                                                          abs=2)
    # a subsample of the same users: the other columns do not drift
    others = [r for r in doc["drift"]["columns"] if r["column"] != "daysSinceLastLogin"]
    assert all(r["verdict"] == "stable" for r in others)
    assert any(r["significant"] for r in doc["tiers"]["refit"] + doc["tiers"]["previous_model"])
    assert doc["validation"]["current_rows"] == len(b)
    assert any(s.startswith("Recency shifted (PSI") and "major" in s for s in doc["summary"])
    assert any(s.startswith(("The active tier", "The moderate tier", "The inactive tier"))
               and "pp, 95% CI" in s for s in doc["summary"])


def test_sentences_write_plurals_as_words():
    """'1 expectation', '7 features': never '(s)' (issue 21)."""
    from analysis.history.changes import validation_sentence
    from analysis.vocabulary import counted
    assert [counted(1, "expectation"), counted(7, "feature"), counted(0, "warning")] == \
        ["1 expectation", "7 features", "0 warnings"]
    diff = {"current_counts": {"failed_warning": 1, "expectations": 30},
            "previous_counts": {"failed_warning": 0}, "new_warnings": ["a"], "resolved": [],
            "changed": ["a"], "previous_status": "pass", "current_status": "warning"}
    text = validation_sentence(diff)
    assert "1 expectation changed status" in text and "new warning: a" in text
    assert "(s)" not in validation_sentence({**diff, "changed": []})
    assert "1 warning of 30 expectations" in validation_sentence({**diff, "changed": []})
