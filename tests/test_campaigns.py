"""Campaigns: channels, control groups that stay put, what a split can detect, spreadsheet-ready
files, and the measurement on the next export (planted uplift found, none planted covers 0)."""

import importlib.util
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from analysis.campaigns.files import (
    BOM,
    CAMPAIGN_COLUMNS,
    campaign_rows,
    csv_bytes,
    file_name,
    write_campaigns,
)
from analysis.campaigns.groups import channels, control_groups, detectable_uplift, unit_draws
from analysis.campaigns.uplift import difference, measure
from analysis.segments.types import segment_types, tiers_of_types
from tests.synthetic import make_users

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "next_release.py"
R, B = 121, 691


def _next_release():
    spec = importlib.util.spec_from_file_location("next_release", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_channel_follows_app_ownership_and_recency():
    got = channels(np.array([True, True, False, False]), np.array([True, False, True, False]))
    assert got.tolist() == ["in-app", "app push", "e-mail", "e-mail"]


def test_control_group_depends_only_on_id_and_salt():
    ids = np.arange(-10_000, 10_000, dtype=np.int64) * 7_919
    groups = control_groups(ids, "salt", 0.1)
    order = np.random.default_rng(0).permutation(len(ids))
    assert (control_groups(ids[order], "salt", 0.1) == groups[order]).all()  # order-free
    share = (groups == "control").mean()
    assert abs(share - 0.1) < 4 * np.sqrt(0.1 * 0.9 / len(ids))
    other = control_groups(ids, "another salt", 0.1)
    assert 0.1 < (other != groups).mean() < 0.3  # a new salt is a new draw
    draws = unit_draws(ids, "salt")
    assert ((draws < 0.1) == (groups == "control")).all()  # the cut is strict: draw < share


def test_detectable_uplift_is_the_two_proportion_formula():
    z = norm.ppf(0.975) + norm.ppf(0.8)
    expected = z * np.sqrt(0.1 * 0.9 * (1 / 900 + 1 / 100))
    assert detectable_uplift(900, 100, 0.1, 0.05, 0.8) == pytest.approx(expected)
    assert detectable_uplift(9_000, 1_000, 0.1, 0.05, 0.8) < expected  # more users, smaller
    assert detectable_uplift(10, 0, 0.1, 0.05, 0.8) is None


def _labels(n=400, seed=1):
    users = make_users(n, seed=seed)
    types = segment_types(users, B, R)
    return pd.DataFrame({
        "identifierHash": users["identifierHash"], "tier": tiers_of_types(types),
        "segment": [f"{t}/{k}" for t, k in zip(tiers_of_types(types), types, strict=True)],
        "reason": ["=HYPERLINK(\"x\")" if i == 0 else "sold 2; last login 3 days ago"
                   for i in range(n)],
        "channel": "e-mail", "group": control_groups(users["identifierHash"], "s", 0.2),
        "country": "Côte d'Ivoire", "language": "fr"})


def test_campaign_files_are_spreadsheet_ready_and_deterministic(tmp_path):
    labels = _labels()
    records = [{"segment": s, "label": f"name of {s}", "action": "+do something"}
               for s in sorted(set(labels["segment"]))]
    rows = campaign_rows(labels, records)
    data = csv_bytes(rows)
    text = data.decode("utf-8")
    assert text.startswith(BOM) and "\r\n" in text and "Côte d'Ivoire" in text
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(table.columns) == CAMPAIGN_COLUMNS and len(table) == len(labels)
    assert "'=HYPERLINK" in text and "'+do something" in text  # formulas neutralised
    assert (table["identifierHash"] < 0).any()  # negative ids stay numbers
    first = write_campaigns(rows, tmp_path / "a")
    second = write_campaigns(rows.sample(frac=1, random_state=3), tmp_path / "b")
    assert first == second  # same rows, any order: the same files
    assert (tmp_path / "a" / "campaigns.zip").read_bytes() == \
        (tmp_path / "b" / "campaigns.zip").read_bytes()
    assert sum(e["rows"] for e in first) == len(labels)
    assert all(e["rows"] == e["target"] + e["control"] for e in first)
    with zipfile.ZipFile(tmp_path / "a" / "campaigns.zip") as archive:
        assert sorted(archive.namelist()) == sorted(e["file"] for e in first)
    assert file_name("moderate/lapsed_buyers") == "moderate-lapsed_buyers.csv"


def _previous_and_next(uplift: float, seed: int):
    """A previous release's labels over synthetic users, and their next export."""
    users = make_users(30_000, seed=seed)
    types = segment_types(users, B, R)
    labels = pd.DataFrame({
        "identifierHash": users["identifierHash"], "tier": tiers_of_types(types),
        "segment": [f"{t}/all" for t in tiers_of_types(types)],
        "group": control_groups(users["identifierHash"], "s", 0.3),
        "daysSinceLastLogin": users["daysSinceLastLogin"], "seniority": users["seniority"]})
    module = _next_release()
    nxt = module.advance(users.astype(str), labels, 30, 0.10, uplift, seed)
    for column in ("identifierHash", "daysSinceLastLogin", "seniority", *[
            c for c in users.columns if c.startswith("products") and c != "productsPassRate"],
            "socialProductsLiked"):
        nxt[column] = nxt[column].astype(np.int64)
    tiers = tiers_of_types(segment_types(nxt, B, R))
    return labels, nxt, tiers


def test_a_planted_uplift_is_found_within_its_interval():
    labels, nxt, tiers = _previous_and_next(uplift=0.15, seed=4)
    result = measure(labels, nxt, tiers)
    assert result["measured"] and result["matched"] == len(labels)
    assert result["elapsed_days"] == 30
    for seg in result["segments"]:
        d = seg["logged_in"]
        if seg["control"] >= 500:  # enough users for the interval to be tight
            assert d["low"] <= 0.15 <= d["high"] and d["low"] > 0, (seg["segment"], d)
    counts = np.asarray(result["transitions"]["counts"])
    assert counts.sum() == result["matched"]


def test_no_uplift_gives_an_interval_that_covers_zero():
    labels, nxt, tiers = _previous_and_next(uplift=0.0, seed=5)
    result = measure(labels, nxt, tiers)
    for seg in result["segments"]:
        d = seg["logged_in"]
        assert d["low"] <= 0 <= d["high"], (seg["segment"], d)


def test_difference_interval_and_empty_groups():
    d = difference(60, 100, 40, 100)
    assert d["difference"] == pytest.approx(0.2)
    half = norm.ppf(0.975) * np.sqrt(0.6 * 0.4 / 100 + 0.4 * 0.6 / 100)
    assert d["low"] == pytest.approx(0.2 - half, abs=1e-6)
    assert difference(1, 10, 0, 0)["difference"] is None
    assert measure(None, pd.DataFrame(), np.array([]))["measured"] is False


def test_an_export_older_than_the_previous_one_is_not_measured():
    labels, nxt, tiers = _previous_and_next(uplift=0.0, seed=6)
    older = labels.rename(columns={"daysSinceLastLogin": "d", "seniority": "s"})
    back = nxt.assign(seniority=older["s"].to_numpy() - 30)  # sign-up ages shrank: time ran back
    result = measure(labels, back, tiers)
    assert result["measured"] is False and "not later" in result["why"]
