"""One record per segment: who, how many, their profile, what they hold, what to do and why."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.segments.assign import label_and_action, short_name
from analysis.segments.profiles import group_profiles

#: Units whose share of the whole marketplace each segment reports.
SHARE_COLUMNS = {"sold": "productsSold", "bought": "productsBought",
                 "listed": "productsListed", "liked": "socialProductsLiked",
                 "wished": "productsWished"}


def unit_shares(users: pd.DataFrame, segments: np.ndarray) -> dict[str, dict[str, float]]:
    """Per segment, its share of all units sold, bought, listed, liked and wished (0..1)."""
    out: dict[str, dict[str, float]] = {}
    for key, column in SHARE_COLUMNS.items():
        values = users[column].to_numpy(np.int64)
        total = max(int(values.sum()), 1)
        sums = pd.Series(values).groupby(segments).sum()
        for segment, held in sums.items():
            out.setdefault(str(segment), {})[key] = round(int(held) / total, 6)
    return out


UNIT_WORDS = (("sold", "units sold"), ("bought", "units bought"), ("listed", "listed stock"),
              ("liked", "likes"), ("wished", "wish-list entries"))


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def evidence(name: str, record: dict[str, Any], censor_days: int | None) -> str:
    """The numbers behind a segment's action, in one sentence."""
    days = record["stats"]["daysSinceLastLogin"]
    base = f"{record['size']:,} users ({_pct(record['share'])} of all)"
    seen = (f"last login a median {days['median']:,.0f} days ago (middle half "
            f"{days['q1']:,.0f}–{days['q3']:,.0f})")
    if name == "dormant":
        return (f"{base}; none ever listed, sold, bought, liked or wished; "
                f"{_pct(record['placeholder_share'])} sit on the login placeholder and none "
                f"logged in during the last {censor_days:,} days; "
                f"{_pct(record['any_app_share'])} have the app.")
    if name in ("idle", "visitors", "no_history"):
        return (f"{base}; no product history at all; {seen}; "
                f"{_pct(record['any_app_share'])} have the app.")
    units = record["unit_shares"]
    held = [f"{_pct(units[key])} of {what}" for key, what in UNIT_WORDS if units[key] > 0]
    holds = ", ".join(held[:-1]) + f" and {held[-1]}" if len(held) > 1 else "".join(held)
    return f"{base} hold {holds or 'no units'}; {seen}."


def segment_records(users: pd.DataFrame, segments: np.ndarray, table: list[dict[str, Any]],
                    placeholder: np.ndarray, censor_days: int | None, recent_days: int,
                    stability: dict[str, float], top_n: int) -> list[dict[str, Any]]:
    """JSON-ready records in tier order: the :func:`segment_table` row plus label, profile
    (:func:`group_profiles`, days censored), unit shares, placeholder share, bootstrap
    stability (mean Jaccard), action and evidence. ``users`` n rows with recency censored,
    ``segments`` object[n], ``placeholder`` bool[n]."""
    profiles = group_profiles(users, segments, len(users), top_n)
    shares = unit_shares(users, segments)
    on_placeholder = pd.Series(placeholder.astype(float)).groupby(segments).mean()
    out = []
    for row in table:
        name = row["segment"].split("/", 1)[1]
        label, action, short = label_and_action(row["segment"], row["tier"], censor_days,
                                                recent_days)
        record = {"segment": row["segment"], "tier": row["tier"], "members": row["members"],
                  "label": label, "short_name": short_name(row["segment"]),
                  **profiles[row["segment"]],
                  "unit_shares": shares[row["segment"]],
                  "placeholder_share": round(float(on_placeholder[row["segment"]]), 6),
                  "stability": round(float(stability.get(row["segment"], float("nan"))), 6),
                  "action": action, "short_action": short}
        record["evidence"] = evidence(name, record, censor_days)
        out.append(record)
    return out
