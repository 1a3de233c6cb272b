"""Nodes of the campaigns: each user's channel and group, the plans and sizing aggregates,
and the result of the previous release's campaign on this export (adapters around
:mod:`analysis.campaigns`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from analysis.campaigns.groups import channels, control_groups
from analysis.campaigns.plan import campaigns_doc
from analysis.campaigns.uplift import measure
from analysis.config import CampaignsConfig
from analysis.intake.schema import ID_COLUMN

#: Columns of the previous release's labels.parquet the measurement reads.
PREVIOUS_COLUMNS = [ID_COLUMN, "tier", "segment", "group", "daysSinceLastLogin", "seniority"]


def campaign_groups(users: pd.DataFrame, recent_days: int, cfg: CampaignsConfig
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Every user's channel and group (object[n] each)."""
    recent = users["daysSinceLastLogin"].to_numpy() <= recent_days
    return (channels(users["hasAnyApp"].to_numpy(bool), recent),
            control_groups(users[ID_COLUMN].to_numpy(np.int64), cfg.salt, cfg.control_share))


def campaigns_json(users: pd.DataFrame, section: dict[str, Any], segments: np.ndarray,
                   chans: np.ndarray, groups: np.ndarray, cfg: CampaignsConfig
                   ) -> dict[str, Any]:
    """``campaigns.json`` (aggregates only)."""
    return campaigns_doc(users, section, segments, chans, groups, cfg)


def campaign_result(previous: dict[str, Any] | None, source: dict[str, Any],
                    users: pd.DataFrame, tiers: np.ndarray) -> dict[str, Any]:
    """The previous release's campaign measured on this export: nothing on a first build, on a
    rebuild of the same input, or when the previous labels predate campaign groups."""
    if previous is None:
        return {"measured": False, "why": "no previous release", "matched": 0}
    if previous["input_sha256"] == source["sha256"]:
        return {"measured": False, "why": "the previous release holds the same export",
                "matched": 0}
    path = Path(previous["labels"])
    names = set(pq.read_schema(path).names) if path.is_file() else set()
    if not set(PREVIOUS_COLUMNS) <= names:
        return {"measured": False, "why": "the previous release has no campaign groups",
                "matched": 0}
    labels = pd.read_parquet(path, columns=PREVIOUS_COLUMNS)
    result = {**measure(labels, users, tiers), "previous_input": previous["input_sha256"]}
    records = path.with_name("segments.json")
    known = (json.loads(records.read_text(encoding="utf-8"))["records"]
             if records.is_file() else [])
    names = {r["segment"]: (r["label"], r.get("short_name", r["label"])) for r in known}
    for row in result.get("segments", []):  # the previous release's own names
        row["name"], row["short_name"] = names.get(row["segment"], (row["segment"],) * 2)
    return result
