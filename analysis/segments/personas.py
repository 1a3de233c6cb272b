"""Each cluster (persona) named by what is true of every one of its members.

A cluster's name is built from its members' smallest and largest raw values, so every word
holds for every member: "sold 1+" when no member sold nothing, "never bought" when no member
bought, "seen within 121 days" when no member was seen later, and so on. Clusters with no such
trait beyond their range are named "mixed behaviour" with the range of their most varied
column. Days since the last login are censored at the placeholder bound (B): "no login
recorded for B+ days" is all such a user's row can say.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Product columns in naming order, with the verb a fact uses.
PRODUCT_VERBS = (("productsSold", "sold"), ("productsListed", "listed"),
                 ("productsBought", "bought"), ("socialProductsLiked", "liked"),
                 ("productsWished", "wished"))
DAYS = "daysSinceLastLogin"
#: At most this many "has done" facts in a name (the rest stay in ``facts``).
MAX_POSITIVE = 3


def _recency_fact(low: int, high: int, recent_days: int, censor_days: int | None) -> str | None:
    if high <= recent_days:
        return f"seen within {recent_days:,} days"
    if censor_days is not None and low >= censor_days:
        return f"no login recorded for {censor_days:,}+ days"
    if low > recent_days:
        return f"not seen within {recent_days:,} days"
    return None


def persona_facts(lows: dict[str, int], highs: dict[str, int], recent_days: int,
                  censor_days: int | None) -> list[str]:
    """Every fact true of all members of one cluster, from their per-column minimum ``lows``
    and maximum ``highs`` (raw units, days censored): what they did, what none did, when seen."""
    done = [f"{verb} {lows[c]:,}+" for c, verb in PRODUCT_VERBS if lows[c] > 0]
    never = [verb for c, verb in PRODUCT_VERBS if highs[c] == 0]
    facts = list(done)
    if len(never) == len(PRODUCT_VERBS):
        facts.append("no product history")
    elif never:
        facts.append("never " + ", ".join(never[:-1]) + (" or " if len(never) > 1 else "")
                     + never[-1])
    seen = _recency_fact(lows[DAYS], highs[DAYS], recent_days, censor_days)
    if seen:
        facts.append(seen)
    return facts


def persona_name(facts: list[str]) -> str:
    """A short name from the facts: up to MAX_POSITIVE "has done" facts, then the others."""
    done = [f for f in facts if f[-1] == "+" and not f.startswith("no login")]
    rest = [f for f in facts if f not in done]
    words = done[:MAX_POSITIVE] + rest
    return "; ".join(words) if words else "mixed behaviour (no trait shared by every member)"


def personas(users: pd.DataFrame, labels: np.ndarray, k: int, recent_days: int,
             censor_days: int | None) -> list[dict[str, Any]]:
    """Name and facts of every cluster 0..k-1: ``users`` n rows (raw columns, days censored),
    ``labels`` int[n]. An empty cluster gets no facts."""
    columns = [c for c, _ in PRODUCT_VERBS] + [DAYS]
    grouped = users[columns].groupby(np.asarray(labels), sort=True)
    lows, highs = grouped.min(), grouped.max()
    out = []
    for c in range(k):
        if c not in lows.index:
            out.append({"name": "empty", "facts": []})
            continue
        facts = persona_facts({col: int(lows.at[c, col]) for col in columns},
                              {col: int(highs.at[c, col]) for col in columns},
                              recent_days, censor_days)
        out.append({"name": persona_name(facts), "facts": facts})
    return out
