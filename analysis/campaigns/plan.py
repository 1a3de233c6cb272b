"""``campaigns.json``: per segment its target and control sizes, channels and the smallest uplift
the split can detect, and the campaign-sizing cube; aggregates only, never a user's row."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis.campaigns.groups import CHANNELS, detectable_uplift
from analysis.config import CampaignsConfig

OTHER = "other"
#: Dimensions of the sizing cube, in the page's filter order.
SIZING_DIMENSIONS = ("country", "language", "app", "gender")


def _top_or_other(values: pd.Series, keep: int) -> np.ndarray:
    """Each value, or "other" beyond the ``keep`` most frequent (ties by name)."""
    counts = values.value_counts()
    top = sorted(counts.index, key=lambda v: (-counts[v], str(v)))[:keep]
    return np.where(values.isin(top), values.astype(str), OTHER).astype(object)


def sizing_cube(users: pd.DataFrame, segments: np.ndarray, groups: np.ndarray,
                cfg: CampaignsConfig) -> list[dict[str, Any]]:
    """Users per (segment, country, language, app, gender, group) cell that holds any:
    countries and languages beyond the configured top ones are "other"."""
    frame = pd.DataFrame({
        "segment": np.asarray(segments, dtype=str),
        "country": _top_or_other(users["country"].astype(str), cfg.sizing_countries),
        "language": _top_or_other(users["language"].astype(str), cfg.sizing_languages),
        "app": np.where(users["hasAnyApp"].to_numpy(bool), "has the app", "no app"),
        "gender": users["gender"].astype(str).to_numpy(),
        "group": np.asarray(groups, dtype=str)})
    cells = frame.groupby(list(frame.columns), sort=True).size().reset_index(name="users")
    return cells.to_dict("records")


def segment_plans(records: list[dict[str, Any]], segments: np.ndarray, channels: np.ndarray,
                  groups: np.ndarray, cfg: CampaignsConfig) -> list[dict[str, Any]]:
    """One plan per segment record: target, control, users per channel, the smallest uplift
    the split detects (percentage points) and whether the segment is too small to test."""
    out = []
    for r in records:
        inside = segments == r["segment"]
        target = int((inside & (groups == "target")).sum())
        control = int((inside & (groups == "control")).sum())
        mde = detectable_uplift(target, control, cfg.base_rate, cfg.alpha, cfg.power)
        out.append({"segment": r["segment"], "name": r["label"], "tier": r["tier"],
                    "action": r["action"], "short_action": r["short_action"],
                    "users": int(inside.sum()), "target": target, "control": control,
                    "channels": {c: int((inside & (channels == c)).sum()) for c in CHANNELS},
                    "detectable_uplift_pp": None if mde is None else round(100 * mde, 4),
                    "testable": mde is not None and 100 * mde <= cfg.max_uplift_pp})
    return out


def campaigns_doc(users: pd.DataFrame, section: dict[str, Any], segments: np.ndarray,
                  channels: np.ndarray, groups: np.ndarray, cfg: CampaignsConfig
                  ) -> dict[str, Any]:
    """``campaigns.json``: the split's settings, one plan per segment, the sizing cube."""
    return {"control_share": cfg.control_share, "base_rate": cfg.base_rate,
            "alpha": cfg.alpha, "power": cfg.power, "max_uplift_pp": cfg.max_uplift_pp,
            "z": round(float(norm.ppf(1 - cfg.alpha / 2) + norm.ppf(cfg.power)), 12),
            "channels": list(CHANNELS), "dimensions": list(SIZING_DIMENSIONS),
            "plans": segment_plans(section["records"], np.asarray(segments, dtype=object),
                                   channels, groups, cfg),
            "sizing": sizing_cube(users, segments, groups, cfg),
            "rows_in_site": cfg.rows_in_site}
