"""Tier assignment by activity score (never by cluster index), baseline rule, profiles."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.config import load_config
from analysis.features.activity import activity_scores
from analysis.segments.baseline import baseline_tiers, confusion
from analysis.segments.profiles import group_profiles, tier_tests
from analysis.segments.tiers import tier_counts, tiers_from_scores

CONFIG = load_config()
RANK = {"inactive": 0, "moderate": 1, "active": 2}

scores_strategy = st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=10, unique=True)


@settings(max_examples=200, deadline=None)
@given(scores_strategy)
def test_higher_score_never_gets_a_lower_tier(scores):
    tiers = tiers_from_scores(np.array(scores))
    order = np.argsort(scores)
    ranks = [RANK[tiers[i]] for i in order]
    assert ranks == sorted(ranks)
    assert tiers[int(np.argmin(scores))] == "inactive"
    assert tiers[int(np.argmax(scores))] == "active"
    if len(scores) >= 3:
        assert set(tiers) == {"inactive", "moderate", "active"}


@settings(max_examples=100, deadline=None)
@given(scores_strategy, st.randoms())
def test_tiers_follow_scores_not_cluster_numbers(scores, rnd):
    perm = list(range(len(scores)))
    rnd.shuffle(perm)
    shuffled = np.array(scores)[perm]
    original = tiers_from_scores(np.array(scores))
    assert tiers_from_scores(shuffled) == [original[i] for i in perm]


def test_natural_breaks_keep_similar_scores_together():
    tiers = tiers_from_scores(np.array([0.005, 0.053, 0.076, 0.141, 0.351, 0.434]))
    assert tiers == ["inactive"] * 3 + ["moderate"] + ["active"] * 2


def test_activity_score_is_weighted_mean_of_centroid():
    centroids = np.array([[0.0, 0.0], [1.0, 0.5]])
    assert np.allclose(activity_scores(centroids, np.array([1.0, 3.0])), [0.0, 0.625])


def test_baseline_rule(users):
    frame = users.head(4).copy()
    rule = CONFIG.baseline  # on each threshold and just past it, whatever the config says
    frame["daysSinceLastLogin"] = [rule.active_days, rule.active_days, rule.inactive_days + 1,
                                   rule.inactive_days]
    frame[["socialProductsLiked", "productsListed", "productsSold", "productsWished",
           "productsBought"]] = 0
    frame.loc[frame.index[0], "productsBought"] = 2
    tiers = baseline_tiers(frame, CONFIG.baseline)
    assert list(tiers) == ["active", "moderate", "inactive", "moderate"]


def test_tier_counts_and_confusion_conserve_users():
    a = np.array(["active", "inactive", "inactive", "moderate"], dtype=object)
    b = np.array(["active", "inactive", "moderate", "moderate"], dtype=object)
    assert tier_counts(a) == {"inactive": 2, "moderate": 1, "active": 1}
    table = confusion(a, b)
    assert np.asarray(table["counts"]).sum() == 4
    assert table["agreement_share"] == 0.75


def test_profile_and_tests(users):
    tiers = np.where(users["daysSinceLastLogin"] < 60, "active",
                     np.where(users["daysSinceLastLogin"] < 500, "moderate", "inactive"))
    prof = group_profiles(users, tiers, len(users), 3)
    assert sum(p["size"] for p in prof.values()) == len(users)
    active = prof["active"]
    assert active["size"] == (tiers == "active").sum()
    assert len(active["top_countries"]) <= 3
    assert active["stats"]["daysSinceLastLogin"]["median"] == np.median(
        users.loc[tiers == "active", "daysSinceLastLogin"])
    expected_top = users.loc[tiers == "active", "country"].value_counts(normalize=True).iloc[0]
    assert active["top_countries"][0]["share"] == round(expected_top, 6)
    tests = {t["column"]: t for t in tier_tests(users, tiers)}
    assert tests["daysSinceLastLogin"]["p_value"] < 1e-10
    assert 0 < tests["daysSinceLastLogin"]["epsilon_squared"] <= 1
    same = tier_tests(users, np.full(len(users), "moderate"))  # one group: no effect at all
    assert all(t["epsilon_squared"] == 0.0 and t["p_value"] == 1.0 for t in same)
