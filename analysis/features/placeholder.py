"""The login placeholder: "last login" dates that are a fixed offset after sign-up.

For every user ``offset = seniority - daysSinceLastLogin`` is the day, counted from sign-up,
of the recorded last login. In the real export one offset per sign-up cohort holds 55.8 % of
the users (2,161 days for one cohort, 2,496 for the other): a placeholder or backfill date,
not a login. Their true recency is unknown and at least the placeholder's age: a
right-censored value. Nothing here knows those numbers; the rule is data-driven:

Within a cohort (seniority values closer than ``cohort_gap_days``), an offset is a placeholder
when (1) it holds at least ``min_share`` of the cohort, (2) its count is at least
``spike_ratio`` times the median count of the integer offsets within ``window_days`` on either
side (a smooth distribution has a ratio near 1; the median ignores one neighbouring spike), and
(3) it is such a spike inside at least ``min_seniorities`` distinct seniority values of the
cohort: a shared offset *after sign-up*. A popular login *day* gives a different offset for
every seniority value and fails (3); a cohort with one seniority value is never flagged, since
there the two cannot be told apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.config import PlaceholderConfig


def sign_up_cohorts(seniority: np.ndarray, gap_days: int) -> np.ndarray:
    """Cohort id per user, int64[n] numbered 0.. by seniority: the distinct ``seniority``
    values (days since sign-up) split wherever two consecutive ones are > ``gap_days`` apart."""
    values = np.unique(seniority)
    cohort_of_value = np.concatenate([[0], np.cumsum(np.diff(values) > gap_days)])
    return cohort_of_value[np.searchsorted(values, seniority)].astype(np.int64)


def neighbour_median(lookup: dict[int, int], value: int, window: int) -> float:
    """Median count of the integers within ``window`` of ``value`` (itself excluded; an
    integer nobody holds counts 0)."""
    return float(np.median([lookup.get(value + j, 0)
                            for j in range(-window, window + 1) if j != 0]))


def spikes(values: np.ndarray, counts: np.ndarray, cfg: PlaceholderConfig) -> set[int]:
    """The distinct ``values`` (int64[v], with ``counts``) that pass test (2) of the module."""
    lookup = dict(zip(values.tolist(), counts.tolist(), strict=True))
    return {v for v, c in lookup.items()
            if c >= cfg.spike_ratio * max(neighbour_median(lookup, v, cfg.window_days), 1.0)}


def _cohort_placeholders(offset: np.ndarray, seniority: np.ndarray, cfg: PlaceholderConfig
                         ) -> list[tuple[int, int, int]]:
    """(offset, users, seniority values with the spike) of every placeholder of one cohort."""
    values, counts = np.unique(offset, return_counts=True)
    candidates = spikes(values, counts, cfg) & set(
        values[counts >= cfg.min_share * len(offset)].tolist())
    if not candidates:
        return []
    per_value = []
    for s in np.unique(seniority):
        v_s, c_s = np.unique(offset[seniority == s], return_counts=True)
        per_value.append(spikes(v_s, c_s, cfg))
    found = []
    for v in sorted(candidates):
        recurring = sum(v in seen for seen in per_value)
        if recurring >= cfg.min_seniorities:
            found.append((int(v), int(counts[values == v][0]), recurring))
    return found


def _describe(offset: np.ndarray, days: np.ndarray, seniority: np.ndarray, value: int,
              users: int, recurring: int, cfg: PlaceholderConfig) -> dict[str, Any]:
    """The JSON record of one placeholder of one cohort (``offset``/``days``/``seniority``
    hold that cohort's users)."""
    values, counts = np.unique(offset, return_counts=True)
    lookup = dict(zip(values.tolist(), counts.tolist(), strict=True))
    hit = offset == value
    w = cfg.window_days
    return {
        "seniority_min": int(seniority.min()), "seniority_max": int(seniority.max()),
        "offset": value, "users": users,
        "days_min": int(days[hit].min()), "days_max": int(days[hit].max()),
        "share_of_cohort": round(users / len(offset), 6),
        "spike_ratio": round(users / max(neighbour_median(lookup, value, w), 1.0), 1),
        "seniorities_with_spike": recurring, "seniorities": int(len(np.unique(seniority))),
        # users 1..w days after the placeholder: reported, not flagged (distinct dates, so
        # possibly real logins), with the median count further out for scale
        "after_counts": [int(lookup.get(value + j, 0)) for j in range(1, w + 1)],
        "after_level": float(np.median([lookup.get(value + j, 0)
                                        for j in range(w + 1, 3 * w + 1)])),
    }


def detect_login_placeholder(seniority: np.ndarray, days: np.ndarray, cfg: PlaceholderConfig
                             ) -> dict[str, Any]:
    """Placeholder offsets of every sign-up cohort (see the module doc for the rule).

    ``seniority``, ``days`` int64[n] (days since sign-up, since the last login). Returns a
    JSON-ready dict: ``placeholders`` (per cohort and offset: seniority range, offset, users,
    days range, share of the cohort, spike ratio, seniority values with the spike, the counts
    1..window days after), ``flagged`` users, their ``share``, ``censor_days`` (the smallest
    ``days`` of a flagged user: every one of them has had no login recorded for at least that
    many days; None when nothing is flagged) and ``cohorts``.
    """
    seniority = np.asarray(seniority, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    offset = seniority - days
    cohort = sign_up_cohorts(seniority, cfg.cohort_gap_days) if len(days) else days
    found = []
    for c in np.unique(cohort):
        inside = cohort == c
        for value, users, recurring in _cohort_placeholders(offset[inside], seniority[inside],
                                                            cfg):
            found.append(_describe(offset[inside], days[inside], seniority[inside], value,
                                   users, recurring, cfg))
    flagged = placeholder_mask(seniority, days, found)
    return {"placeholders": found, "flagged": int(flagged.sum()),
            "share": round(float(flagged.mean()) if len(days) else 0.0, 6),
            "censor_days": int(days[flagged].min()) if flagged.any() else None,
            "cohorts": int(len(np.unique(cohort)))}


def placeholder_mask(seniority: np.ndarray, days: np.ndarray,
                     placeholders: list[dict[str, Any]]) -> np.ndarray:
    """bool[n]: the users whose last login is one of ``placeholders`` (each a seniority range
    and an offset, as :func:`detect_login_placeholder` lists them; the scorers apply the same
    test to new users)."""
    seniority = np.asarray(seniority, dtype=np.int64)
    offset = seniority - np.asarray(days, dtype=np.int64)
    mask = np.zeros(len(offset), dtype=bool)
    for p in placeholders:
        mask |= ((seniority >= p["seniority_min"]) & (seniority <= p["seniority_max"])
                 & (offset == p["offset"]))
    return mask
