"""The login placeholder: planted offsets are found whatever their numbers; nothing is flagged
in data without one (a popular login day, sparse or single-day cohorts)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.config import load_config
from analysis.features.placeholder import (
    detect_login_placeholder,
    placeholder_mask,
    sign_up_cohorts,
)

CFG = load_config().placeholder


def synth_logins(n: int, cohorts: list[tuple[int, int]], planted: dict[int, tuple[int, float]],
                 day_spike: float = 0.15, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seniority and days of ``n`` users in sign-up ``cohorts`` [(min, max) days]: a smooth mix
    of logins (exponential recency and uniform) plus a share ``day_spike`` who logged in on the
    export day; ``planted`` {cohort: (offset, share)} moves that share of the cohort onto a
    fixed offset after sign-up. Returns seniority, days (int64[n]) and the planted mask."""
    rng = np.random.default_rng(seed)
    ci = rng.integers(0, len(cohorts), n)
    lo, hi = np.array([c[0] for c in cohorts]), np.array([c[1] for c in cohorts])
    seniority = rng.integers(lo[ci], hi[ci] + 1)
    smooth = np.where(rng.random(n) < 0.5, rng.exponential(120, n), rng.uniform(0, seniority))
    days = np.clip(np.round(smooth).astype(np.int64) + 5, 5, seniority)
    days[rng.random(n) < day_spike] = 5
    mask = np.zeros(n, dtype=bool)
    for c, (offset, share) in planted.items():
        hit = (ci == c) & (rng.random(n) < share)
        days[hit] = seniority[hit] - offset
        mask |= hit
    return seniority.astype(np.int64), days.astype(np.int64), mask


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_offsets_are_found_with_their_users(seed):
    cohorts = [(1000, 1006), (1500, 1520), (2400, 2403)]
    seniority, days, planted = synth_logins(60_000, cohorts, {0: (700, 0.3), 1: (1100, 0.1)},
                                            seed=seed)
    found = detect_login_placeholder(seniority, days, CFG)
    assert sorted(p["offset"] for p in found["placeholders"]) == [700, 1100]
    mask = placeholder_mask(seniority, days, found["placeholders"])
    assert not (planted & ~mask).any()  # every planted user is flagged
    assert (mask & ~planted).sum() < 0.01 * planted.sum()  # smooth logins on the same day
    assert found["flagged"] == mask.sum()
    assert found["censor_days"] == int(days[mask].min())
    assert found["cohorts"] == len(cohorts)


@pytest.mark.parametrize("cohorts", [[(1000, 1006), (1500, 1520), (2400, 2403)],
                                     [(1000, 1000), (1002, 1002), (1500, 1500)], [(800, 900)]])
@pytest.mark.parametrize("seed", [0, 1])
def test_without_a_placeholder_nothing_is_flagged(cohorts, seed):
    seniority, days, _ = synth_logins(60_000, cohorts, {}, day_spike=0.3, seed=seed)
    found = detect_login_placeholder(seniority, days, CFG)
    assert found["flagged"] == 0 and found["placeholders"] == []
    assert found["censor_days"] is None


def test_a_one_day_cohort_is_never_flagged():
    """With one seniority value an offset and a login day cannot be told apart."""
    seniority, days, _ = synth_logins(20_000, [(1000, 1000)], {0: (700, 0.4)}, seed=3)
    assert detect_login_placeholder(seniority, days, CFG)["flagged"] == 0


def test_cohorts_split_where_sign_up_days_are_far_apart():
    seniority = np.array([5, 6, 7, 100, 101, 300])
    assert sign_up_cohorts(seniority, 30).tolist() == [0, 0, 0, 1, 1, 2]


def test_the_same_offset_in_another_cohort_is_a_real_login():
    placeholders = [{"seniority_min": 1000, "seniority_max": 1006, "offset": 700}]
    seniority = np.array([1003, 1003, 1500])
    days = np.array([303, 302, 800])  # offsets 700, 701, 700 (the last in another cohort)
    assert placeholder_mask(seniority, days, placeholders).tolist() == [True, False, False]
