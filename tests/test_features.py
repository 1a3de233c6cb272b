"""Feature transform: defaults removed, scaled to [0, 1], oriented so higher = more active."""

import numpy as np

from analysis.config import load_config
from analysis.features.transform import (
    FEATURE_NAMES,
    feature_decisions,
    fit_transform_params,
    transform,
)

CONFIG = load_config()


def test_scaled_features_in_unit_interval_and_fitted_extremes_reach_bounds(users):
    params = fit_transform_params(users, CONFIG.features, None)
    X = transform(users, params)
    assert X.shape == (len(users), len(FEATURE_NAMES))
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert np.allclose(X.max(axis=0), 1.0)


def test_platform_defaults_count_as_no_social_activity(users):
    params = fit_transform_params(users, CONFIG.features, None)
    at_default = users.assign(socialNbFollowers=3, socialNbFollows=8)
    X = transform(at_default, params)
    assert (X[:, FEATURE_NAMES.index("followers_excess")] == 0).all()
    assert (X[:, FEATURE_NAMES.index("follows_excess")] == 0).all()


def test_recency_stays_out_of_the_distance(users):
    """Clusters describe what users do; the tiers read recency inside every cluster."""
    params = fit_transform_params(users, CONFIG.features, None)
    assert "daysSinceLastLogin" not in [p["column"] for p in params]
    recent = transform(users.assign(daysSinceLastLogin=12), params)
    old = transform(users.assign(daysSinceLastLogin=700), params)
    assert (recent == old).all()


def test_new_users_outside_fitted_range_are_clipped(users):
    params = fit_transform_params(users, CONFIG.features, None)
    extreme = users.assign(productsSold=10**9, daysSinceLastLogin=0)
    X = transform(extreme, params)
    assert X.min() >= 0.0 and X.max() <= 1.0


def test_decisions_name_every_feature_and_exclusion(users):
    params = fit_transform_params(users, CONFIG.features, None)
    doc = feature_decisions(params, CONFIG.features)
    assert [u["name"] for u in doc["used"]] == list(FEATURE_NAMES)
    excluded = {e["column"] for e in doc["excluded"]}
    assert {"seniority", "hasAnyApp", "seniorityAsMonths", "countryCode"} <= excluded
    assert all(u["reason"] for u in doc["used"])


def test_recency_is_censored_at_the_placeholder_bound(users):
    """Design (a)'s recency feature (analysis/segments/designs.py): beyond the bound every user
    reads "no login for at least that long": one value."""
    from analysis.segments.designs import recency_param

    bound = int(users["daysSinceLastLogin"].quantile(0.6))
    params = [*fit_transform_params(users, CONFIG.features, bound),
              recency_param(users, CONFIG.features, bound)]
    recency = [p for p in params if p["column"] == "daysSinceLastLogin"][0]
    assert recency["censor"] == bound
    assert all(p["censor"] is None for p in params if p is not recency)
    X = transform(users, params)
    j = params.index(recency)
    old = users["daysSinceLastLogin"].to_numpy() >= bound
    assert len(np.unique(X[old, j])) == 1 and X[old, j].min() == X[:, j].min()
    moved = users.assign(daysSinceLastLogin=np.where(old, bound + 500,
                                                     users["daysSinceLastLogin"]))
    np.testing.assert_array_equal(transform(moved, params), X)
