"""What each segment's action takes for granted, and for how many of its members it holds.

An action is only right for a segment when its premises hold for every member: "seller tools"
for users who sold, "from their likes" for users who liked, an in-app prompt for users who have
the app. :data:`PREMISES` names the premises of each action (keyed like
:data:`analysis.segments.assign.ACTIONS`: a type, a merged group, or (tier, name)); every
segment record reports the share of its members for whom each holds, and a segment where one
holds for fewer than all is flagged in words on the site.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analysis.features.activity import PRODUCT_COLUMNS

DAYS = "daysSinceLastLogin"

#: Premise id -> (its words, the test on the users frame: bool[n]). ``R``: the recent cut,
#: ``B``: the placeholder bound (None when there is none).
Test = Callable[[pd.DataFrame, int, "int | None"], np.ndarray]
PREMISE_TESTS: dict[str, tuple[str, Test]] = {
    "sold": ("sold something", lambda u, r, b: u["productsSold"].to_numpy() > 0),
    "listed_or_sold": ("listed or sold something",
                       lambda u, r, b: (u["productsListed"].to_numpy() > 0)
                       | (u["productsSold"].to_numpy() > 0)),
    "listed": ("has items listed", lambda u, r, b: u["productsListed"].to_numpy() > 0),
    "never_sold": ("never sold anything", lambda u, r, b: u["productsSold"].to_numpy() == 0),
    "bought": ("bought something", lambda u, r, b: u["productsBought"].to_numpy() > 0),
    "never_bought": ("never bought anything",
                     lambda u, r, b: u["productsBought"].to_numpy() == 0),
    "liked": ("liked something", lambda u, r, b: u["socialProductsLiked"].to_numpy() > 0),
    "liked_or_wished": ("liked or wished something",
                        lambda u, r, b: (u["socialProductsLiked"].to_numpy() > 0)
                        | (u["productsWished"].to_numpy() > 0)),
    "traded": ("bought or sold something (value)",
               lambda u, r, b: (u["productsBought"].to_numpy() > 0)
               | (u["productsSold"].to_numpy() > 0)),
    "history": ("did something with products",
                lambda u, r, b: u[PRODUCT_COLUMNS].to_numpy().sum(axis=1) > 0),
    "no_history": ("never did anything with products",
                   lambda u, r, b: u[PRODUCT_COLUMNS].to_numpy().sum(axis=1) == 0),
    "has_app": ("has the app (for an in-app message)",
                lambda u, r, b: u["hasAnyApp"].to_numpy().astype(bool)),
    "recent": ("seen within the recent cut", lambda u, r, b: u[DAYS].to_numpy() <= r),
    "not_recent": ("last seen after the recent cut", lambda u, r, b: u[DAYS].to_numpy() > r),
    "seen": ("seen within the placeholder bound (a real recent-enough login)",
             lambda u, r, b: (np.ones(len(u), bool) if b is None
                              else u[DAYS].to_numpy() < b)),
    "unseen": ("no login recorded since the placeholder bound",
               lambda u, r, b: (np.zeros(len(u), bool) if b is None
                                else u[DAYS].to_numpy() >= b)),
}

#: The premises of each action of :data:`analysis.segments.assign.ACTIONS`.
PREMISES: dict[str, tuple[str, ...]] = {
    "visitors": ("no_history", "recent"),
    "recent_sellers": ("sold", "recent"),
    "recent_listers": ("listed", "never_sold", "recent"),
    "recent_buyers": ("bought", "recent"),
    "recent_likers": ("liked_or_wished", "never_bought", "recent"),
    "recent": ("history", "recent"),
    "idle": ("no_history", "not_recent", "seen"),
    "lapsed_sellers": ("sold", "not_recent", "seen"),
    "lapsed_listers": ("listed", "never_sold", "not_recent", "seen"),
    "lapsed_buyers": ("bought", "not_recent", "seen"),
    "lapsed_likers": ("liked_or_wished", "not_recent", "seen"),
    "lapsed": ("history", "not_recent", "seen"),
    "dormant": ("no_history", "unseen"),
    "unseen_sellers": ("sold", "unseen"),
    "unseen_listers": ("listed", "never_sold", "unseen"),
    "unseen_buyers": ("bought", "unseen"),
    "unseen_likers": ("liked_or_wished", "unseen"),
    "unseen": ("history", "unseen"),
    "no_history": ("no_history",),
}


def premises_of(tier: str, name: str) -> tuple[str, ...]:
    """The premise ids of the action of segment ``tier/name`` (the tier is implied by it)."""
    return PREMISES[name]


def premise_coverage(users: pd.DataFrame, segments: np.ndarray, records: list[dict[str, Any]],
                     recent_days: int, censor_days: int | None) -> dict[str, list[dict[str, Any]]]:
    """Per segment id, each premise of its action with the share (0..1) and number of members
    for whom it holds. ``users`` n rows (raw or censored days), ``segments`` object[n]."""
    tests = {pid: test(users, recent_days, censor_days)
             for pid, (_, test) in PREMISE_TESTS.items()}
    out = {}
    for record in records:
        tier, name = record["segment"].split("/", 1)
        members = segments == record["segment"]
        size = int(members.sum())
        out[record["segment"]] = [
            {"premise": pid, "words": PREMISE_TESTS[pid][0],
             "holds": int((tests[pid] & members).sum()),
             "share": round(float((tests[pid] & members).sum() / max(size, 1)), 6)}
            for pid in premises_of(tier, name)]
    return out


def flag_sentence(coverage: list[dict[str, Any]], size: int) -> str | None:
    """None when every premise holds for every member, else the sentence that flags it."""
    broken = [c for c in coverage if c["holds"] < size]
    if not broken:
        return None
    parts = [f"{c['words']} holds for {c['holds']:,} of {size:,} members" for c in broken]
    return "The action assumes what is not true of every member: " + "; ".join(parts) + "."
