"""Segments inside the tiers: tier x type, small groups merged, one action each.

Every type belongs to one tier (:data:`analysis.segments.types.TIER_OF_TYPE`), so the tier
of a segment is never contradicted by its band, and the types of different tiers get different
actions.

Within a tier every type (:mod:`analysis.segments.types`) of a group is its own segment when
each holds at least ``[segments].min_segment_share`` of all users; otherwise the group's types
in that tier form one segment named after the group, so a name always says exactly who is
inside. Groups never merge: a user with product history never shares a segment with users who
have none. Every user gets exactly one tier and one segment.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.segments.types import GROUP_LABELS, SEGMENT_TYPES, TYPE_GROUP, TYPE_IDS
from analysis.vocabulary import TIERS

#: Action per type or merged group. ``{B}``: the placeholder bound. Channel by app ownership:
#: an app push or in-app message only for users who have the app, e-mail for the rest.
ACTIONS: dict[str, str] = {
    "visitors": "Onboarding to a first like or wish-list entry: an in-app prompt for app owners, "
                "an e-mail for the rest.",
    "recent_sellers": "Seller tools: price suggestions, payout and shipping help, and a boost on "
                      "their next listing.",
    "recent_listers": "First-sale help: price suggestions and a visibility boost on the items "
                      "they have listed.",
    "recent_buyers": "Loyalty and cross-sell: recommendations from what they bought, early "
                     "access to new items.",
    "recent_likers": "Conversion nudge: price-drop alerts on items they liked or wished, and a "
                     "first-purchase incentive.",
    "recent": "Personalised recommendations from their own activity.",
    "idle": "Automated onboarding e-mail (popular items, how to like and save); no paid media.",
    "lapsed_sellers": "Supply win-back: ask them to re-list, with a fee discount on the next "
                      "sale.",
    "lapsed_listers": "Listing win-back: remind them of the items they listed, with price "
                      "suggestions for a first sale.",
    "lapsed_buyers": "Win-back voucher on the next purchase; paid retargeting is allowed here "
                     "(all were seen within the last {B} days).",
    "lapsed_likers": "Automated 'items you liked or wished' and price-drop e-mails; no paid "
                     "media.",
    "lapsed": "Win-back reminder built from their own history (items they liked, bought or "
              "listed).",
    "dormant": "No paid media: one low-cost reactivation e-mail (an app push for app owners), "
               "then suppress from campaigns.",
    "unseen_sellers": "One low-cost e-mail asking them to re-list, then suppress if they do not "
                      "log in.",
    "unseen_listers": "One low-cost e-mail about the items they listed, then suppress if they "
                      "do not log in.",
    "unseen_buyers": "One low-cost 'new arrivals' e-mail, then suppress if they do not log in.",
    "unseen_likers": "One low-cost e-mail about the items they liked or wished, then suppress "
                     "if they do not log in.",
    "unseen": "One low-cost reminder from their own history, then suppress if they do not log "
              "in.",
    "no_history": "Automated onboarding e-mail (an app push for app owners); no paid media.",
}


#: The same actions in a few words (the Summary's one line per segment).
SHORT_ACTIONS: dict[str, str] = {
    "visitors": "First-like prompt (in-app or e-mail)",
    "recent_sellers": "Seller tools: pricing, payouts, a boost",
    "recent_listers": "First-sale help on their listings",
    "recent_buyers": "Loyalty and cross-sell",
    "recent_likers": "Price-drop alerts and a first-purchase offer",
    "recent": "Personalised recommendations",
    "idle": "Automated onboarding e-mail; no paid media",
    "lapsed_sellers": "Win back supply: re-list with a fee discount",
    "lapsed_listers": "Remind them of their listings",
    "lapsed_buyers": "Win-back voucher and retargeting",
    "lapsed_likers": "'Items you liked' and price-drop e-mails",
    "lapsed": "Win-back reminder from their own history",
    "dormant": "No paid media; one reactivation e-mail, then suppress",
    "unseen_sellers": "One re-list e-mail, then suppress",
    "unseen_listers": "One listings e-mail, then suppress",
    "unseen_buyers": "One new-arrivals e-mail, then suppress",
    "unseen_likers": "One liked-items e-mail, then suppress",
    "unseen": "One reminder, then suppress",
    "no_history": "Onboarding e-mail; no paid media",
}


def segment_map(tiers: np.ndarray, types: np.ndarray, min_share: float
                ) -> dict[str, dict[str, str]]:
    """Segment name of every (tier, type) present: {tier: {type: "tier/name"}}.

    ``tiers``, ``types`` object[n] (type ids); merging as the module says.
    """
    n = len(tiers)
    out: dict[str, dict[str, str]] = {}
    for tier in TIERS:
        inside = tiers == tier
        size = {t: int((inside & (types == t)).sum()) for t in TYPE_IDS}
        for group in GROUP_LABELS:
            cells = [t for t in TYPE_IDS if TYPE_GROUP[t] == group and size[t] > 0]
            whole = all(size[t] >= min_share * n for t in cells)
            for t in cells:
                out.setdefault(tier, {})[t] = f"{tier}/{t if whole else group}"
    return out


def assign_segments(tiers: np.ndarray, types: np.ndarray, mapping: dict[str, dict[str, str]]
                    ) -> np.ndarray:
    """Segment of every user: object[n] from ``tiers``, ``types`` and :func:`segment_map`."""
    out = np.empty(len(tiers), dtype=object)
    for tier, by_type in mapping.items():
        for t, name in by_type.items():
            out[(tiers == tier) & (types == t)] = name
    return out


def segment_table(mapping: dict[str, dict[str, str]], segments: np.ndarray
                  ) -> list[dict[str, Any]]:
    """One row per segment in tier order: segment, tier, members (type ids), users."""
    names, counts = np.unique(segments.astype(str), return_counts=True)
    users = dict(zip(names.tolist(), counts.tolist(), strict=True))
    rows: dict[str, dict[str, Any]] = {}
    for tier in TIERS:
        for t, name in mapping.get(tier, {}).items():
            row = rows.setdefault(name, {"segment": name, "tier": tier, "members": [],
                                         "users": int(users.get(name, 0))})
            row["members"].append(t)
    return list(rows.values())


#: Each type's or merged group's name in a few words (narrow charts, a phone's axis).
SHORT_NAMES: dict[str, str] = {
    "visitors": "Recent visitors", "recent_sellers": "Recent sellers",
    "recent_listers": "Recent listers", "recent_buyers": "Recent buyers",
    "recent_likers": "Recent likers", "recent": "Recent, with history",
    "idle": "Idle", "lapsed_sellers": "Lapsed sellers", "lapsed_listers": "Lapsed listers",
    "lapsed_buyers": "Lapsed buyers", "lapsed_likers": "Lapsed likers",
    "lapsed": "Lapsed, with history", "dormant": "Dormant",
    "unseen_sellers": "Unseen sellers", "unseen_listers": "Unseen listers",
    "unseen_buyers": "Unseen buyers", "unseen_likers": "Unseen likers",
    "unseen": "Unseen, with history", "no_history": "Never engaged",
}


def short_name(segment: str) -> str:
    """A segment's name in a few words: ``moderate/lapsed_likers`` -> ``Lapsed likers``."""
    return SHORT_NAMES[segment.split("/", 1)[1]]


def label_and_action(segment: str, tier: str, censor_days: int | None, recent_days: int
                     ) -> tuple[str, str, str]:
    """The reader's label, the recommended action and its short form, of one segment."""
    name = segment.split("/", 1)[1]
    labels = {t[0]: t[2] for t in SEGMENT_TYPES}
    bound = "?" if censor_days is None else f"{censor_days:,}"
    label = (labels.get(name) or GROUP_LABELS[name]).format(B=bound, R=f"{recent_days:,}")
    action = ACTIONS[name].format(B=bound)
    short = SHORT_ACTIONS[name]
    return label, action, short
