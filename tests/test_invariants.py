"""A tier's name true of its users: the promises counted exactly at the cuts, the strong rule
keeps every one, and the published comparison reports them (synthetic rows made here)."""

import numpy as np
import pandas as pd
import pytest

from analysis.features.activity import PRODUCT_COLUMNS
from analysis.segments.invariants import (
    band_violations,
    compare_tiers,
    strong_rule_tiers,
    trade_shares,
)

R, B = 121, 691


def _users(days, sold=0, bought=0, liked=0):
    n = len(days)
    frame = pd.DataFrame({c: np.zeros(n, dtype=np.int64) for c in PRODUCT_COLUMNS})
    frame["daysSinceLastLogin"] = np.asarray(days, dtype=np.int64)
    frame["productsSold"] = sold
    frame["productsBought"] = bought
    frame["socialProductsLiked"] = liked
    frame["productsListed"] = 0
    return frame


@pytest.mark.parametrize(("days", "expected"), [(R - 1, "active"), (R, "active"),
                                                (R + 1, "moderate"), (B - 1, "moderate"),
                                                (B, "inactive"), (B + 1, "inactive")])
def test_strong_rule_at_the_cuts_for_a_seller(days, expected):
    assert strong_rule_tiers(_users([days], sold=1), R, B)[0] == expected


@pytest.mark.parametrize(("days", "liked", "expected"), [
    (R, 0, "moderate"), (R + 1, 0, "inactive"), (R, 3, "moderate"), (R + 1, 3, "moderate"),
    (B - 1, 3, "moderate"), (B, 3, "inactive"), (B, 0, "inactive")])
def test_strong_rule_without_a_transaction(days, liked, expected):
    assert strong_rule_tiers(_users([days], liked=liked), R, B)[0] == expected


def test_strong_rule_keeps_every_promise_and_is_monotone():
    rng = np.random.default_rng(0)
    n = 4000
    users = _users(rng.integers(0, 1200, n), sold=rng.integers(0, 3, n) * (rng.random(n) < .2),
                   bought=rng.integers(0, 3, n) * (rng.random(n) < .2),
                   liked=rng.integers(0, 5, n) * (rng.random(n) < .4))
    tiers = strong_rule_tiers(users, R, B)
    assert band_violations(tiers, users, R, B) == {
        "active_not_recent": 0, "recent_history_inactive": 0, "unseen_active": 0}
    rank = pd.Series(tiers).map({"inactive": 0, "moderate": 1, "active": 2}).to_numpy()
    days = users["daysSinceLastLogin"].to_numpy()
    counts = users[PRODUCT_COLUMNS].to_numpy()
    pick = rng.choice(n, 400, replace=False)
    for a in pick:
        dominated = (days[a] <= days) & (counts[a] >= counts).all(axis=1)
        assert (rank[a] >= rank[dominated]).all()


def test_violations_are_counted_exactly_at_the_cuts():
    users = _users([R, R + 1, R, B - 1, B], liked=[0, 0, 2, 0, 0])
    tiers = np.array(["active", "active", "inactive", "active", "active"], dtype=object)
    assert band_violations(tiers, users, R, B) == {
        "active_not_recent": 3, "recent_history_inactive": 1, "unseen_active": 1}
    assert band_violations(tiers, users, R, None)["unseen_active"] == 0


def test_trade_shares_and_agreement():
    users = _users([1, 1, 500], sold=[3, 1, 0], bought=[0, 2, 2])
    shares = trade_shares(users, np.array(["active", "active", "inactive"], dtype=object))
    assert shares["active"]["sold"] == pytest.approx(1.0)
    assert shares["active"]["bought"] == pytest.approx(0.5)
    assert shares["moderate"]["sold"] == pytest.approx(0.0)
    same = compare_tiers(np.array(["active", "inactive"]), np.array(["active", "inactive"]))
    assert same["kappa"] == pytest.approx(1.0) and same["ari"] == pytest.approx(1.0)


def test_placeholder_sentence_explains_why_dormant_differs_from_placeholder():
    from analysis.report.pages.summary import placeholder_sentence

    effect = {"placeholder": {"flagged": 10, "share": 0.1, "censor_days": 691},
              "never_engaged": {"by_type": {"dormant": {"users": 8, "on_placeholder": 6},
                                            "idle": {"users": 3}, "visitors": {"users": 2}}}}
    text = placeholder_sentence(effect)
    assert "6 of them sit on the placeholder and 2 really last logged in" in text
    assert "the other 4 placeholder users did something with products" in text


def test_real_tierings_report_the_strong_rule_and_broken_promises(real_artifacts):
    import json

    out, manifest = real_artifacts
    tierings = json.loads((out / "segments.json").read_text())["tierings"]
    published, strong, baseline = tierings
    for t in tierings:
        assert sum(t["sizes"].values()) == manifest["rows_clustered"]
        for unit in ("sold", "bought", "listed"):
            assert sum(t["trade"][tier][unit] for tier in t["trade"]) == pytest.approx(1, abs=1e-5)
    assert published["kappa"] == pytest.approx(1.0)
    assert sum(strong["violations"].values()) == 0
    assert -1 <= strong["kappa"] <= 1 and "bought or sold" in strong["rule"]


def test_premise_coverage_counts_members_and_flags_what_is_not_true_of_all():
    from analysis.segments.premises import flag_sentence, premise_coverage

    users = _users([10, 20, 30], sold=[1, 0, 2], bought=[0, 0, 1], liked=[1, 1, 0])
    users["hasAnyApp"] = [True, False, True]
    segments = np.array(["active/recent_sellers"] * 3, dtype=object)
    records = [{"segment": "active/recent_sellers", "size": 3}]
    coverage = premise_coverage(users, segments, records, R, B)["active/recent_sellers"]
    by_id = {c["premise"]: c for c in coverage}
    assert by_id["sold"]["holds"] == 2 and by_id["sold"]["share"] == pytest.approx(2 / 3)
    assert by_id["recent"]["holds"] == 3
    assert "sold something holds for 2 of 3 members" in flag_sentence(coverage, 3)
    assert flag_sentence([c for c in coverage if c["premise"] == "recent"], 3) is None


def test_real_segments_report_premise_coverage(real_artifacts):
    import json

    records = json.loads((real_artifacts[0] / "segments.json").read_text())["records"]
    for r in records:
        assert r["premises"], r["segment"]
        short = [p for p in r["premises"] if p["holds"] < r["size"]]
        assert (r["premise_flag"] is None) == (not short)
        assert not short, (r["segment"], short)  # every premise holds for every member
        for p in r["premises"]:
            assert 0 <= p["holds"] <= r["size"]
            assert p["share"] == pytest.approx(p["holds"] / r["size"], abs=1e-6)


def test_real_tiers_keep_every_promise_and_are_monotone(real_artifacts, real_data):
    """On the real export: no tier contradicts its name or a segment's band, and a user at least
    as recent as another with at least every behaviour count is never in a lower tier (all
    pairs of distinct (days, counts) rows; zero violations)."""
    import json

    from analysis.intake.reader import load_users
    from analysis.segments.types import TIER_OF_TYPE
    from tests.limits import LIMITS

    out, _ = real_artifacts
    doc = json.loads((out / "segments.json").read_text())
    labels = pd.read_parquet(out / "labels.parquet")
    users = load_users(real_data, LIMITS).set_index("identifierHash").loc[labels["identifierHash"]]
    published = doc["tierings"][0]
    assert sum(published["violations"].values()) == 0
    for r in doc["records"]:  # the segment's types all sit in the segment's tier
        assert {TIER_OF_TYPE[m] for m in r["members"]} == {r["tier"]}
    columns = ["daysSinceLastLogin", *PRODUCT_COLUMNS, "socialNbFollowers", "socialNbFollows"]
    frame = users[columns].reset_index(drop=True)
    frame["rank"] = labels["tier"].map({"inactive": 0, "moderate": 1, "active": 2}).to_numpy()
    rows = frame.drop_duplicates().to_numpy(np.int64)
    assert len(pd.DataFrame(rows[:, :-1]).drop_duplicates()) == len(rows)  # one tier per row
    days, counts, rank = rows[:, 0], rows[:, 1:-1], rows[:, -1]
    for start in range(0, len(rows), 512):
        a = slice(start, start + 512)
        dominates = ((days[a, None] <= days[None, :])
                     & (counts[a, None, :] >= counts[None, :, :]).all(axis=2))
        assert not (dominates & (rank[a, None] < rank[None, :])).any()
