"""Did the action work? On the next export, target against control inside every segment.

The previous release's labels (id, tier, segment, days since the last login, sign-up age) are
matched by id with the new export's users. The days between the two exports, ``elapsed``, are
the median growth of the matched users' sign-up age (``seniority`` counts days since sign-up,
so it grows by exactly the elapsed days). A matched user *logged in since* the previous export
when its days since the last login grew by less than ``elapsed``; it *moved up* when its new
tier ranks above its previous one. Per previous segment, each outcome's share in target and in
control, their difference and a 95 % interval (normal approximation, unpooled variance), and the
users matched; the tier transitions of all matched users.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis.vocabulary import TIERS

DAYS = "daysSinceLastLogin"
SENIORITY = "seniority"
OUTCOMES = ("logged_in", "moved_up")


def difference(hit_t: int, n_t: int, hit_c: int, n_c: int, level: float = 0.95
               ) -> dict[str, Any]:
    """Share of target and control with the outcome, the difference (target - control) and its
    ``level`` interval; None where a group is empty."""
    if n_t == 0 or n_c == 0:
        return {"target_share": None, "control_share": None, "difference": None,
                "low": None, "high": None}
    p_t, p_c = hit_t / n_t, hit_c / n_c
    half = norm.ppf(0.5 + level / 2) * np.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    d = p_t - p_c
    return {"target_share": round(p_t, 6), "control_share": round(p_c, 6),
            "difference": round(d, 6), "low": round(d - half, 6), "high": round(d + half, 6)}


def matched(previous: pd.DataFrame, users: pd.DataFrame, tiers: np.ndarray) -> pd.DataFrame:
    """Previous labels joined with the new users by id: the previous columns, ``new_days``,
    ``new_seniority`` and ``new_tier``; one row per id present in both."""
    now = pd.DataFrame({"identifierHash": users["identifierHash"].to_numpy(np.int64),
                        "new_days": users[DAYS].to_numpy(np.int64),
                        "new_seniority": users[SENIORITY].to_numpy(np.int64),
                        "new_tier": np.asarray(tiers, dtype=object)})
    return previous.merge(now, on="identifierHash", how="inner", validate="one_to_one")


def measure(previous: pd.DataFrame | None, users: pd.DataFrame, tiers: np.ndarray
            ) -> dict[str, Any]:
    """The campaign result on this export against ``previous`` (None: nothing to measure)."""
    if previous is None or previous.empty:
        return {"measured": False, "matched": 0}
    both = matched(previous, users, tiers)
    if both.empty:
        return {"measured": False, "matched": 0}
    elapsed = float(np.median(both["new_seniority"] - both[SENIORITY]))
    if elapsed <= 0:  # an older or the same export: nothing could have moved since
        return {"measured": False, "matched": int(len(both)), "elapsed_days": elapsed,
                "why": "this export is not later than the previous one (the matched users' "
                       "sign-up ages did not grow)"}
    rank = {t: i for i, t in enumerate(TIERS)}
    old_rank = both["tier"].astype(str).map(rank).to_numpy()
    new_rank = both["new_tier"].astype(str).map(rank).to_numpy()
    outcome = {"logged_in": (both["new_days"] - both[DAYS]).to_numpy() < elapsed,
               "moved_up": new_rank > old_rank}
    target = (both["group"].astype(str) == "target").to_numpy()
    segments = []
    for segment, idx in both.groupby(both["segment"].astype(str), sort=True).indices.items():
        t, c = target[idx], ~target[idx]
        segments.append({"segment": segment, "matched": int(len(idx)),
                         "target": int(t.sum()), "control": int(c.sum()),
                         **{name: difference(int(hit[idx][t].sum()), int(t.sum()),
                                             int(hit[idx][c].sum()), int(c.sum()))
                            for name, hit in outcome.items()}})
    table = pd.crosstab(pd.Categorical(both["tier"].astype(str), TIERS),
                        pd.Categorical(both["new_tier"].astype(str), TIERS), dropna=False)
    return {"measured": True, "matched": int(len(both)), "elapsed_days": elapsed,
            "segments": segments, "transitions": {"tiers": list(TIERS),
                                                  "counts": table.to_numpy().tolist()}}
