"""Threshold-tree personas: every leaf's tests hold for its members, mistakes are minimised,
raw thresholds sit exactly at the boundary, and the names say what the tests say."""

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans

from analysis.clustering.distinct import Distinct
from analysis.clustering.threshold_tree import apply_tree, fit_threshold_tree, leaf_paths
from analysis.config import load_config
from analysis.features.transform import fit_transform_params, transform
from analysis.segments.personas import (
    condition_words,
    personas,
    raw_threshold,
    scaled_value,
)
from tests.synthetic import make_users

CONFIG = load_config()


def _holds(rows: np.ndarray, path) -> np.ndarray:
    ok = np.ones(len(rows), bool)
    for j, op, t in path:
        ok &= rows[:, j] <= t if op == "<=" else rows[:, j] > t
    return ok


def test_three_blobs_on_different_features_are_split_without_mistakes():
    rng = np.random.default_rng(0)
    centres = np.array([[0.1, 0.1], [0.9, 0.1], [0.1, 0.9]])
    labels = np.repeat(np.arange(3), 50)
    rows = centres[labels] + rng.normal(0, 0.03, (150, 2))
    nodes = fit_threshold_tree(rows, np.ones(150), labels, centres)
    assert (apply_tree(nodes, rows) == labels).all()
    assert sorted(leaf_paths(nodes)) == [0, 1, 2]


def test_every_leaf_test_holds_for_every_row_it_receives():
    rng = np.random.default_rng(1)
    rows = rng.random((400, 4))
    km = KMeans(5, n_init=2, random_state=0).fit(rows)
    nodes = fit_threshold_tree(rows, rng.integers(1, 9, 400).astype(float), km.labels_,
                               km.cluster_centers_)
    leaf = apply_tree(nodes, rows)
    for cluster, path in leaf_paths(nodes).items():
        assert _holds(rows[leaf == cluster], path).all()
        assert not _holds(rows[leaf != cluster], path).any()  # the leaves partition the rows


def test_the_split_minimises_weighted_mistakes_like_brute_force():
    x = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    centres = np.array([[0.5], [3.5]])
    labels = np.array([0, 0, 1, 0, 1])  # the point at 3 belongs to cluster 0: one mistake
    for weight_of_3 in (1.0, 5.0):
        w = np.array([1, 1, 1, weight_of_3, 1])
        nodes = fit_threshold_tree(x, w, labels, centres)
        t = nodes[0]["threshold"]
        def mistakes(t, w=w):
            return sum(w[i] for i in range(5) if (x[i, 0] <= t) != (centres[labels[i], 0] <= t))
        candidates = [0.5, 1.0, 2.0, 3.0]
        assert mistakes(t) == min(mistakes(c) for c in candidates)
    assert nodes[0]["threshold"] == 3.0  # heavy point at 3 stays with its centre


@pytest.mark.parametrize("column", ["productsSold", "socialNbFollowers", "socialProductsLiked"])
def test_raw_threshold_sits_exactly_at_the_boundary(column):
    users = make_users(3000, seed=2)
    params = fit_transform_params(users, CONFIG.features, None)
    p = next(q for q in params if q["column"] == column)
    for v in range(0, 60):
        t = scaled_value(p, v)
        if t >= 1.0:
            continue
        r = raw_threshold(p, t)
        assert scaled_value(p, r) <= t < scaled_value(p, r + 1)  # r is the last value <= t
        assert r >= v


def test_a_shared_action_across_tiers_is_reported():
    from analysis.segments.personas import actions_by_tier

    segments = {"active/a": 3, "moderate/b": 2, "inactive/c": 1}
    same = actions_by_tier(segments, {"active/a": "X", "moderate/b": "X", "inactive/c": "Y"})
    assert same["shared"] == ["X"] and same["by_tier"]["inactive"] == ["Y"]
    apart = actions_by_tier(segments, {"active/a": "X", "moderate/b": "Z", "inactive/c": "Y"})
    assert apart["shared"] == []


def test_condition_words():
    assert condition_words("products_sold", None, 0) == "never sold"
    assert condition_words("products_sold", 2, None) == "sold 3+"
    assert condition_words("products_bought", 0, 4) == "bought 1–4"
    assert condition_words("followers_excess", None, 7) == "at most 7 followers"
    assert condition_words("follows_excess", 9, None) == "10+ follows"


def test_every_persona_name_holds_for_every_member():
    users = make_users(4000, seed=3)
    params = fit_transform_params(users, CONFIG.features, None)
    distinct = Distinct.of(transform(users, params))
    km = KMeans(4, n_init=2, random_state=0).fit(distinct.rows, sample_weight=distinct.counts)
    tiers = np.where(users["daysSinceLastLogin"].to_numpy() < 100, "active", "inactive"
                     ).astype(object)
    segments = np.array([f"{t}/x" for t in tiers], dtype=object)
    actions = {"active/x": "do this", "inactive/x": "do that"}
    got = personas(distinct, km.labels_, km.cluster_centers_, params, tiers, segments, users,
                   actions, 3)
    who = got["user_personas"]
    assert sum(r["users"] for r in got["records"]) == len(users)
    assert 0 < got["fidelity"] <= 1
    for r in got["records"]:
        members = users[who == r["persona"]]
        for b in r["bounds"]:
            values = members[b["column"]].to_numpy()
            if b["above"] is not None:
                assert (values > b["above"]).all(), (r["name"], b)
            if b["at_most"] is not None:
                assert (values <= b["at_most"]).all(), (r["name"], b)
        assert len(r["tests"]) == len(r["bounds"])
        assert r["profile"]["size"] == r["users"]
        assert r["actions"]["shared"] == []


def test_real_personas_hold_for_every_member(real_artifacts, real_data):
    import json

    from analysis.intake.reader import load_users
    from tests.limits import LIMITS

    out, _ = real_artifacts
    doc = json.loads((out / "segments.json").read_text())["personas"]
    users = load_users(real_data, LIMITS)
    assert sum(r["users"] for r in doc["records"]) == len(users)
    assert doc["fidelity"] >= 0.9  # the tree mostly agrees with the clustering (0.97 today)
    frame = pd.DataFrame({c: users[c] for c in users.columns})
    for r in doc["records"]:
        inside = np.ones(len(frame), bool)
        for b in r["bounds"]:
            v = frame[b["column"]].to_numpy()
            inside &= (v > (b["above"] if b["above"] is not None else -1)) & (
                v <= (b["at_most"] if b["at_most"] is not None else np.iinfo(np.int64).max))
        assert int(inside.sum()) == r["users"]  # the tests pick out exactly its members
        assert r["actions"]["shared"] == []  # each tier of the persona has its own actions
