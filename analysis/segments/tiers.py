"""Activity tiers: a monotone rule on recency and product history, applied inside every cluster.

The tiers are identified inside each cluster (persona) with the same data-driven cut points for
every cluster: the recent cut R (the natural break of measured recency) and the login
placeholder's bound B. One rule for all clusters keeps the tiers monotone across clusters: a
user at least as recent as another, with at least every one of the other's behaviour counts, is
never in a lower tier, whatever cluster either sits in (cluster-specific cuts would break this).
The rule itself lives with the types (:data:`analysis.segments.types.TIER_OF_TYPE`): each type
(role x band) belongs to exactly one tier.
"""

from __future__ import annotations

import numpy as np

from analysis.segments.types import TIER_RULE as _RULE
from analysis.vocabulary import TIERS


def tier_rule(recent_days: int | None = None, censor_days: int | None = None) -> str:
    """The tier rule in one sentence, with its cut points when known."""
    r = "R" if recent_days is None else f"{recent_days:,}"
    b = "B" if censor_days is None else f"{censor_days:,}"
    return _RULE.format(R=r, B=b)


def tier_counts(tiers: np.ndarray) -> dict[str, int]:
    """Users per tier, every tier present (0 when empty)."""
    values, counts = np.unique(np.asarray(tiers, dtype=str), return_counts=True)
    found = dict(zip(values.tolist(), counts.tolist(), strict=True))
    return {t: int(found.get(t, 0)) for t in TIERS}
