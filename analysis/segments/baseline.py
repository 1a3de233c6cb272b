"""A transparent rule-based tiering to hold the clustering against (config ``[baseline]``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from analysis.config import BaselineConfig
from analysis.evaluation.agreement import disagreements
from analysis.features.activity import product_activity
from analysis.segments.tiers import tier_counts
from analysis.vocabulary import TIERS


def baseline_tiers(users: pd.DataFrame, cfg: BaselineConfig) -> np.ndarray:
    """Transparent rule (config ``baseline``): object[n] of inactive / moderate / active."""
    days = users["daysSinceLastLogin"].to_numpy()
    any_product = product_activity(users) > 0
    tiers = np.full(len(users), "moderate", dtype=object)
    tiers[(days <= cfg.active_days) & any_product] = "active"
    tiers[(days > cfg.inactive_days) & ~any_product] = "inactive"
    return tiers


def baseline_rule(cfg: BaselineConfig) -> str:
    """The baseline rule in words, with the configured thresholds."""
    return (f"active: logged in within {cfg.active_days} days and any product activity; "
            f"inactive: no login for more than {cfg.inactive_days} days and no product "
            f"activity; moderate: everyone else.")


def confusion(rows: np.ndarray, cols: np.ndarray) -> dict[str, Any]:
    """Tier x tier confusion table (rows: clustering, cols: baseline) and the share agreeing."""
    table = pd.crosstab(pd.Categorical(rows, TIERS), pd.Categorical(cols, TIERS), dropna=False)
    counts = table.to_numpy().astype(int)
    return {"rows": list(TIERS), "cols": list(TIERS), "counts": counts.tolist(),
            "agreement_share": float(np.trace(counts) / max(counts.sum(), 1))}


def baseline_document(tiers: np.ndarray, baseline: np.ndarray, segments: np.ndarray,
                      cfg: BaselineConfig, top: int) -> dict[str, Any]:
    """The rule, its tier sizes, its confusion with the clustering's ``tiers`` (object[n]),
    raw agreement beside Cohen's kappa, and who disagrees (by segment)."""
    table = confusion(tiers, baseline)
    return {"rule": baseline_rule(cfg), "sizes": tier_counts(baseline), "confusion": table,
            "agreement_share": table["agreement_share"],
            "kappa": float(cohen_kappa_score(tiers.astype(str), baseline.astype(str),
                                             labels=list(TIERS))),
            "disagreements": disagreements(tiers, baseline, segments, top)}
