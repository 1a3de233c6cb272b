"""What a tier name promises, checked against every user, and a strong transparent rule.

A tier's name must be true of every user in it (issue 18). The promises, in days since the last
login (``recent_days`` = R, the natural break of measured recency; ``censor_days`` = B, the login
placeholder's bound) and product history (any like, listing, sale, wish or purchase):

* ``active_not_recent``: an "active" user was last seen more than R days ago;
* ``recent_history_inactive``: a user seen within R days who did something with products is
  "inactive";
* ``unseen_active``: a user with no login recorded for B days or more is "active".

Each count is a number of users that contradicts its tier's name; 0 is the promise kept.

The **strong rule** is a one-sentence recency x transaction rule with the same data-driven cuts:
active = seen within R days and bought or sold; moderate = the other users seen within R days,
plus users seen less than B days ago with any product history; inactive = everyone else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, cohen_kappa_score

from analysis.features.activity import product_activity
from analysis.vocabulary import TIERS

DAYS = "daysSinceLastLogin"
#: Units whose share each tier holds (the trade a tier's name should follow).
TRADE_COLUMNS = {"sold": "productsSold", "bought": "productsBought", "listed": "productsListed"}


def strong_rule_text(recent_days: int, censor_days: int | None) -> str:
    """The strong rule in one sentence, with its cuts."""
    bound = "the placeholder bound" if censor_days is None else f"{censor_days:,} days"
    return (f"active: seen within {recent_days:,} days and bought or sold something; moderate: "
            f"the other users seen within {recent_days:,} days, plus users seen less than "
            f"{bound} ago with any product history; inactive: everyone else.")


def strong_rule_tiers(users: pd.DataFrame, recent_days: int, censor_days: int | None
                      ) -> np.ndarray:
    """The strong rule's tier of every user: object[n]. ``users`` needs the raw (uncensored)
    days since the last login and the product columns."""
    days = users[DAYS].to_numpy(np.int64)
    recent = days <= recent_days
    seen = np.ones(len(days), bool) if censor_days is None else days < censor_days
    traded = (users["productsSold"].to_numpy() > 0) | (users["productsBought"].to_numpy() > 0)
    history = product_activity(users) > 0
    tiers = np.full(len(days), "inactive", dtype=object)
    tiers[(recent | seen) & history] = "moderate"
    tiers[recent & ~history] = "moderate"
    tiers[recent & traded] = "active"
    return tiers


def band_violations(tiers: np.ndarray, users: pd.DataFrame, recent_days: int,
                    censor_days: int | None) -> dict[str, int]:
    """Users whose tier contradicts its name, per promise (see the module): {promise: users}."""
    days = users[DAYS].to_numpy(np.int64)
    tiers = np.asarray(tiers, dtype=object)
    history = product_activity(users) > 0
    unseen = np.zeros(len(days), bool) if censor_days is None else days >= censor_days
    return {"active_not_recent": int(((tiers == "active") & (days > recent_days)).sum()),
            "recent_history_inactive": int(((tiers == "inactive") & (days <= recent_days)
                                            & history).sum()),
            "unseen_active": int(((tiers == "active") & unseen).sum())}


def trade_shares(users: pd.DataFrame, tiers: np.ndarray) -> dict[str, dict[str, float]]:
    """Per tier, its share (0..1) of all units sold, bought and listed: {tier: {unit: share}}."""
    tiers = np.asarray(tiers, dtype=object)
    out: dict[str, dict[str, float]] = {t: {} for t in TIERS}
    for key, column in TRADE_COLUMNS.items():
        values = users[column].to_numpy(np.int64)
        total = max(int(values.sum()), 1)
        for tier in TIERS:
            out[tier][key] = round(int(values[tiers == tier].sum()) / total, 6)
    return out


def compare_tiers(tiers: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Agreement of two tierings of the same users: share agreeing, Cohen's kappa, ARI."""
    a, b = np.asarray(tiers, dtype=str), np.asarray(other, dtype=str)
    return {"agreement_share": round(float((a == b).mean()), 6),
            "kappa": round(float(cohen_kappa_score(a, b, labels=list(TIERS))), 6),
            "ari": round(float(adjusted_rand_score(a, b)), 6)}


def tiering_row(name: str, rule: str, tiers: np.ndarray, reference: np.ndarray,
                users: pd.DataFrame, recent_days: int, censor_days: int | None
                ) -> dict[str, Any]:
    """One tiering's line of the comparison: sizes, agreement with ``reference`` (the published
    tiers), trade shares per tier and its broken promises."""
    values, counts = np.unique(np.asarray(tiers, dtype=str), return_counts=True)
    found = dict(zip(values.tolist(), counts.tolist(), strict=True))
    return {"name": name, "rule": rule,
            "sizes": {t: int(found.get(t, 0)) for t in TIERS},
            **compare_tiers(reference, tiers),
            "trade": trade_shares(users, tiers),
            "violations": band_violations(tiers, users, recent_days, censor_days)}
