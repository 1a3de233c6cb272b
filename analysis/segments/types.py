"""What kind of user each one is: role (from product history) x recency band.

* **Role**, first match wins: ``supply`` (listed or sold anything), ``buyer`` (bought),
  ``liker`` (liked or wished), ``none`` (no product history at all). Definitions, not tuned
  thresholds: the only cut is zero vs non-zero. ``productsListed`` is current stock, so a
  seller whose items are gone still counts through ``productsSold``.
* **Recency band**: ``unseen`` when days since the last login reach the login placeholder's
  bound (no login recorded for at least that long), ``recent`` up to the natural break of the
  measured recency (:func:`recent_cut_days`), ``lapsed`` in between.

Role x band gives nine types in three groups (no history / lapsed with history / recent with
history); :mod:`analysis.segments.assign` turns tier x type into segments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.features.activity import PRODUCT_COLUMNS

#: Segment types: (id, group, label). ``{B}`` is the placeholder bound, ``{R}`` the recent cut.
SEGMENT_TYPES: tuple[tuple[str, str, str], ...] = (
    ("dormant", "no_history", "never engaged, no login recorded for {B}+ days"),
    ("idle", "no_history", "never engaged, last seen {R}–{B} days ago"),
    ("visitors", "no_history", "recent visitors without product activity"),
    ("lapsed_sellers", "lapsed", "lapsed sellers (supply win-back)"),
    ("lapsed_buyers", "lapsed", "lapsed buyers (win-back)"),
    ("lapsed_likers", "lapsed", "lapsed likers (win-back)"),
    ("sellers", "recent", "recent sellers (supply)"),
    ("buyers", "recent", "recent buyers"),
    ("likers", "recent", "recent browsers and likers"),
)
GROUP_LABELS = {"no_history": "no product history",
                "lapsed": "lapsed users with product history (win-back)",
                "recent": "recent users with product history"}
TYPE_IDS: tuple[str, ...] = tuple(t[0] for t in SEGMENT_TYPES)
TYPE_GROUP: dict[str, str] = {t[0]: t[1] for t in SEGMENT_TYPES}
ROLES = ("none", "supply", "buyer", "liker")
DAYS = "daysSinceLastLogin"


def jenks_two_classes(values: np.ndarray, weights: np.ndarray) -> float:
    """Exact two-class natural break of weighted 1-D data: the largest value of the lower class.

    ``values`` float64[v] distinct and ascending, ``weights`` float64[v] > 0 (v >= 2). Minimises
    the weighted within-class sum of squares over the v - 1 splits in O(v); ties go lower.
    """
    w = np.asarray(weights, dtype=np.float64)
    x = np.asarray(values, dtype=np.float64)
    cw, cx, cx2 = np.cumsum(w), np.cumsum(w * x), np.cumsum(w * x * x)
    left = cx2[:-1] - cx[:-1] ** 2 / cw[:-1]
    rest = cw[-1] - cw[:-1]
    right = (cx2[-1] - cx2[:-1]) - (cx[-1] - cx[:-1]) ** 2 / rest
    return float(x[int(np.argmin(left + right))])


def recent_cut_days(days: np.ndarray, censor_days: int | None,
                    weights: np.ndarray | None = None) -> int:
    """The "recent" cut in days: the two-class natural break of log1p(days) over the users
    whose recency is measured (days below ``censor_days``); days <= cut is recent.

    ``days`` int64[n], optional ``weights`` float64[n] (users per entry, e.g. a resample).
    """
    days = np.asarray(days, dtype=np.int64)
    weights = np.ones(len(days)) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = weights > 0
    if censor_days is not None:
        keep &= days < censor_days
    values, inverse = np.unique(days[keep], return_inverse=True)
    if len(values) < 2:
        return int(values[0]) if len(values) else 0
    counts = np.bincount(inverse.ravel(), weights=weights[keep])
    logged = np.log1p(values.astype(np.float64))
    return int(values[np.searchsorted(logged, jenks_two_classes(logged, counts))])


def role_codes(history: np.ndarray) -> np.ndarray:
    """Role index into ROLES per row: int64[n] from ``history`` int64[n, 5] holding the
    PRODUCT_COLUMNS (liked, listed, sold, wished, bought) in that order."""
    liked, listed, sold, wished, bought = (history[:, j] > 0 for j in range(5))
    return np.select([listed | sold, bought, liked | wished], [1, 2, 3], 0).astype(np.int64)


def type_codes(roles: np.ndarray, days: np.ndarray, censor_days: int | None,
               recent_days: int) -> np.ndarray:
    """Index into TYPE_IDS per row: int64[n] from role codes and days since the last login."""
    days = np.asarray(days)
    recent = days <= recent_days
    unseen = np.zeros(len(days), bool) if censor_days is None else days >= censor_days
    none = roles == 0
    no_history = np.where(recent, 2, np.where(unseen, 0, 1))
    with_history = np.where(recent, 5, 2) + roles  # 3..5 lapsed, 6..8 recent
    return np.where(none, no_history, with_history).astype(np.int64)


def segment_types(users: pd.DataFrame, censor_days: int | None, recent_days: int
                  ) -> np.ndarray:
    """Type id per user (object[n], from TYPE_IDS); ``users`` needs PRODUCT_COLUMNS and days."""
    roles = role_codes(users[PRODUCT_COLUMNS].to_numpy(np.int64))
    codes = type_codes(roles, users[DAYS].to_numpy(), censor_days, recent_days)
    return np.asarray(TYPE_IDS, dtype=object)[codes]
