"""What kind of user each one is: role (from product history) x recency band, and its tier.

* **Role**, first match wins: ``seller`` (sold anything), ``lister`` (has items listed but never
  sold), ``buyer`` (bought), ``liker`` (liked or wished), ``none`` (no product history at all).
  Definitions, not tuned thresholds: the only cut is zero vs non-zero. ``productsListed`` is
  current stock, so a seller whose items are gone still counts through ``productsSold``.
* **Recency band**: ``recent`` up to the natural break of the measured recency
  (:func:`recent_cut_days`, R), ``unseen`` when days since the last login reach the login
  placeholder's bound (B: no login recorded for at least that long), ``lapsed`` in between.
* **Tier**, a monotone rule on the band and whether the user has any product history:
  ``active`` = recent with product history; ``moderate`` = recent without product history, or
  lapsed with product history; ``inactive`` = everyone else (lapsed without product history,
  and every unseen user). A user at least as recent as another, with at least every one of the
  other's counts, is never in a lower tier; every tier's name holds for every member.

Band x role gives fifteen types (index ``band * len(ROLES) + role``) in four groups (no
history / recent / lapsed / unseen with history); each type sits in exactly one tier, so a
segment's band never contradicts its tier. :mod:`analysis.segments.assign` turns the types of
each tier into segments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.features.activity import PRODUCT_COLUMNS
from analysis.vocabulary import TIERS

ROLES = ("none", "seller", "lister", "buyer", "liker")
BANDS = ("recent", "lapsed", "unseen")
#: Segment types in index order: (id, group, label, tier). ``{B}`` is the placeholder bound,
#: ``{R}`` the recent cut.
SEGMENT_TYPES: tuple[tuple[str, str, str, str], ...] = (
    ("visitors", "no_history", "recent visitors without product activity", "moderate"),
    ("recent_sellers", "recent", "recent sellers (sold at least one item)", "active"),
    ("recent_listers", "recent", "recent listers who have not sold yet", "active"),
    ("recent_buyers", "recent", "recent buyers", "active"),
    ("recent_likers", "recent", "recent browsers and likers (no purchase yet)", "active"),
    ("idle", "no_history", "never engaged, last seen more than {R} but fewer than {B} days "
     "ago", "inactive"),
    ("lapsed_sellers", "lapsed", "lapsed sellers (supply win-back)", "moderate"),
    ("lapsed_listers", "lapsed", "lapsed listers who never sold", "moderate"),
    ("lapsed_buyers", "lapsed", "lapsed buyers (win-back)", "moderate"),
    ("lapsed_likers", "lapsed", "lapsed likers (win-back)", "moderate"),
    ("dormant", "no_history", "never engaged, no login recorded for {B}+ days", "inactive"),
    ("unseen_sellers", "unseen", "sellers with no login recorded for {B}+ days", "inactive"),
    ("unseen_listers", "unseen", "listers with no login recorded for {B}+ days", "inactive"),
    ("unseen_buyers", "unseen", "buyers with no login recorded for {B}+ days", "inactive"),
    ("unseen_likers", "unseen", "likers with no login recorded for {B}+ days", "inactive"),
)
GROUP_LABELS = {"no_history": "no product history",
                "recent": "recent users with product history",
                "lapsed": "lapsed users with product history (win-back)",
                "unseen": "users with product history and no login recorded for {B}+ days"}
TYPE_IDS: tuple[str, ...] = tuple(t[0] for t in SEGMENT_TYPES)
TYPE_GROUP: dict[str, str] = {t[0]: t[1] for t in SEGMENT_TYPES}
TIER_OF_TYPE: dict[str, str] = {t[0]: t[3] for t in SEGMENT_TYPES}
DAYS = "daysSinceLastLogin"

TIER_RULE = ("active: seen within {R} days and did something with products (listed, sold, "
             "bought, liked or wished); moderate: seen within {R} days without product "
             "history, or last seen more than {R} but fewer than {B} days ago with product "
             "history; inactive: everyone else (never did anything with products and not seen "
             "within {R} days, or no login recorded for {B}+ days).")


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
    return np.select([sold, listed, bought, liked | wished], [1, 2, 3, 4], 0).astype(np.int64)


def band_codes(days: np.ndarray, censor_days: int | None, recent_days: int) -> np.ndarray:
    """Index into BANDS per row: int64[n] (0 recent: days <= R; 2 unseen: days >= B; 1 between)."""
    days = np.asarray(days)
    unseen = np.zeros(len(days), bool) if censor_days is None else days >= censor_days
    return np.where(days <= recent_days, 0, np.where(unseen, 2, 1)).astype(np.int64)


def type_codes(roles: np.ndarray, days: np.ndarray, censor_days: int | None,
               recent_days: int) -> np.ndarray:
    """Index into TYPE_IDS per row: int64[n] from role codes and days since the last login."""
    return (band_codes(days, censor_days, recent_days) * len(ROLES) + roles).astype(np.int64)


def tier_codes(type_index: np.ndarray) -> np.ndarray:
    """Index into TIERS per row: int64[n] from type indices (:data:`TIER_OF_TYPE`)."""
    lookup = np.array([TIERS.index(TIER_OF_TYPE[t]) for t in TYPE_IDS], dtype=np.int64)
    return lookup[np.asarray(type_index, dtype=np.int64)]


def segment_types(users: pd.DataFrame, censor_days: int | None, recent_days: int
                  ) -> np.ndarray:
    """Type id per user (object[n], from TYPE_IDS); ``users`` needs PRODUCT_COLUMNS and days."""
    roles = role_codes(users[PRODUCT_COLUMNS].to_numpy(np.int64))
    codes = type_codes(roles, users[DAYS].to_numpy(), censor_days, recent_days)
    return np.asarray(TYPE_IDS, dtype=object)[codes]


def tiers_of_types(types: np.ndarray) -> np.ndarray:
    """Tier per user (object[n]) from type ids (object[n])."""
    out = np.empty(len(types), dtype=object)
    for type_id, tier in TIER_OF_TYPE.items():
        out[types == type_id] = tier
    return out
