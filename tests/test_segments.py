"""The tier rule (monotone, true to its names), types, segments, baseline rule, profiles."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.config import load_config
from analysis.features.activity import PRODUCT_COLUMNS, activity_scores
from analysis.segments.assign import assign_segments, segment_map, segment_table
from analysis.segments.baseline import baseline_tiers, confusion
from analysis.segments.profiles import group_profiles, tier_tests
from analysis.segments.reasons import reasons
from analysis.segments.tiers import tier_counts
from analysis.segments.types import (
    TIER_OF_TYPE,
    TYPE_GROUP,
    TYPE_IDS,
    jenks_two_classes,
    recent_cut_days,
    segment_types,
    tiers_of_types,
)
from analysis.vocabulary import TIERS
from tests.synthetic import make_users

CONFIG = load_config()
RANK = {"inactive": 0, "moderate": 1, "active": 2}

R, B = 121, 691  # a recent cut and a placeholder bound (any R < B would do)


def _one_user_each(days: list[int], **counts: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({c: [0] * len(days) for c in PRODUCT_COLUMNS})
    for column, values in counts.items():
        frame[column] = values
    frame["daysSinceLastLogin"] = days
    return frame


def test_tier_rule_at_the_cuts_and_one_day_past_them():
    # no history: recent (R) is moderate, R + 1 is inactive; with history: R active,
    # R + 1 moderate, B - 1 moderate, B inactive
    days = [R, R + 1, B - 1, B, R, R + 1, B - 1, B, 0]
    liked = [0, 0, 0, 0, 1, 1, 1, 1, 0]
    frame = _one_user_each(days, socialProductsLiked=liked)
    tiers = tiers_of_types(segment_types(frame, B, R)).tolist()
    assert tiers == ["moderate", "inactive", "inactive", "inactive",
                     "active", "moderate", "moderate", "inactive", "moderate"]


def test_without_a_placeholder_bound_nobody_is_unseen():
    frame = _one_user_each([10_000, 10_000], productsSold=[1, 0])
    assert segment_types(frame, None, R).tolist() == ["lapsed_sellers", "idle"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 900), *[st.integers(0, 3)] * 5), min_size=2,
                max_size=40))
def test_more_recent_and_more_of_everything_is_never_a_lower_tier(rows):
    frame = pd.DataFrame(rows, columns=["daysSinceLastLogin", *PRODUCT_COLUMNS])
    rank = np.array([RANK[t] for t in tiers_of_types(segment_types(frame, B, R))])
    days = frame["daysSinceLastLogin"].to_numpy()
    counts = frame[PRODUCT_COLUMNS].to_numpy()
    for a in range(len(frame)):
        dominates = (days[a] <= days) & (counts[a] >= counts).all(axis=1)
        assert (rank[a] >= rank[dominates]).all()


def test_every_type_sits_in_exactly_one_tier_and_its_band_agrees():
    assert set(TIER_OF_TYPE) == set(TYPE_IDS) and set(TIER_OF_TYPE.values()) == set(TIERS)
    for type_id, tier in TIER_OF_TYPE.items():
        if tier == "active":
            assert type_id.startswith("recent_")
        if type_id.startswith("unseen_") or type_id == "dormant":
            assert tier == "inactive"
        if type_id.startswith("recent_"):
            assert tier == "active"


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


# --------------------------------------------------------------------------------------------
# segments inside the tiers


def _users_with_history(n=5000, seed=0):
    rng = np.random.default_rng(seed)
    frame = make_users(n, seed=seed)
    for column in PRODUCT_COLUMNS:
        frame[column] = rng.integers(0, 3, n) * (rng.random(n) < 0.2)
    frame["daysSinceLastLogin"] = rng.integers(0, 710, n)
    return frame


def test_every_user_has_one_segment_and_history_never_sits_with_no_history():
    users = _users_with_history()
    tiers = np.random.default_rng(1).choice(list(TIERS), len(users)).astype(object)
    types = segment_types(users, 691, recent_cut_days(users["daysSinceLastLogin"], 691))
    mapping = segment_map(tiers, types, 0.05)
    segments = assign_segments(tiers, types, mapping)
    table = segment_table(mapping, segments)
    assert all(isinstance(s, str) and s.startswith(t + "/")
               for s, t in zip(segments, tiers, strict=True))
    assert sum(r["users"] for r in table) == len(users)
    history = (users[PRODUCT_COLUMNS] > 0).any(axis=1).to_numpy()
    for row in table:
        inside = segments == row["segment"]
        groups = {TYPE_GROUP[m] for m in row["members"]}
        assert len(groups) == 1  # a segment never mixes groups
        if groups == {"no_history"}:
            assert not history[inside].any()
        else:
            assert history[inside].all()


def test_a_small_type_merges_its_whole_group_and_the_name_says_so():
    tiers = np.array(["inactive"] * 100, dtype=object)
    types = np.array(["lapsed_sellers"] * 2 + ["lapsed_buyers"] * 48 + ["dormant"] * 50,
                     dtype=object)
    mapping = segment_map(tiers, types, 0.05)  # 2 sellers < 5 % of users: the group merges
    assert mapping["inactive"] == {"dormant": "inactive/dormant",
                                   "lapsed_sellers": "inactive/lapsed",
                                   "lapsed_buyers": "inactive/lapsed"}


def test_types_follow_role_and_recency_band():
    frame = pd.DataFrame({c: [0] * 10 for c in PRODUCT_COLUMNS})
    frame.loc[[3, 4], "productsSold"] = 2
    frame.loc[5, "productsBought"] = 1
    frame.loc[6, "productsWished"] = 4
    frame.loc[[7, 8], "productsListed"] = 3  # listed, never sold: listers
    frame.loc[9, ["productsListed", "productsSold"]] = 1  # sold: a seller first
    frame["daysSinceLastLogin"] = [700, 300, 10, 700, 10, 300, 10, 10, 691, 121]
    assert segment_types(frame, 691, 121).tolist() == [
        "dormant", "idle", "visitors", "unseen_sellers", "recent_sellers", "lapsed_buyers",
        "recent_likers", "recent_listers", "unseen_listers", "recent_sellers"]


def test_two_class_natural_break_equals_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        v = np.unique(rng.normal(size=30))
        w = rng.integers(1, 50, len(v)).astype(float)

        def within(i, v=v, w=w):
            parts = (slice(0, i + 1), slice(i + 1, None))
            return sum(((v[s] - np.average(v[s], weights=w[s])) ** 2 * w[s]).sum()
                       for s in parts)

        assert jenks_two_classes(v, w) == v[min(range(len(v) - 1), key=within)]


def test_the_recent_cut_ignores_censored_users():
    days = np.array([5] * 50 + [20] * 50 + [300] * 40 + [691] * 500)
    assert recent_cut_days(days, 691) == recent_cut_days(days[days < 691], None) == 20


def test_reasons_are_integers_and_fixed_words():
    frame = pd.DataFrame({"productsSold": [12, 0, 0, 3], "productsListed": [0, 0, 0, 1],
                          "productsBought": [0, 0, 0, 2], "socialProductsLiked": [0, 0, 0, 5],
                          "productsWished": [0, 0, 0, 0], "daysSinceLastLogin": [22, 702, 1, 0]})
    got = reasons(frame, np.array([False, True, False, False]), 691).tolist()
    assert got == ["sold 12; last login 22 days ago",
                   "never listed, sold, bought, liked or wished; no login recorded since the "
                   "placeholder date (702+ days)",
                   "never listed, sold, bought, liked or wished; last login 1 day ago",
                   "sold 3, 1 listed, bought 2; last login today"]
    unknown = reasons(frame.iloc[[1]], None, 691).tolist()
    assert unknown == ["never listed, sold, bought, liked or wished; no login recorded in the "
                       "last 691+ days"]
