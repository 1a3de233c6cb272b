"""The design comparison's pieces: v2's cluster tiers, the order check at its boundary, and the
comparison as the pipeline writes it (synthetic run)."""

import json

import numpy as np
import pandas as pd

from analysis.features.activity import PRODUCT_COLUMNS
from analysis.segments.designs import cluster_activity_tiers, monotone_violations


def _rows(days, sold, tiers):
    frame = pd.DataFrame({c: [0] * len(days) for c in PRODUCT_COLUMNS})
    frame["daysSinceLastLogin"] = days
    frame["productsSold"] = sold
    frame["socialNbFollowers"] = 3
    frame["socialNbFollows"] = 8
    return frame, np.array(tiers, dtype=object)


def test_v2_cluster_tiers_follow_natural_breaks_of_the_centres():
    centres = np.array([[0.9, 0.8], [0.0, 0.1], [0.05, 0.1], [0.5, 0.4]])
    assert cluster_activity_tiers(centres) == ["active", "inactive", "inactive", "moderate"]
    assert cluster_activity_tiers(centres[:2]) == ["active", "inactive"]


def test_order_is_broken_only_by_a_dominating_user_in_a_lower_tier():
    # user 0 is as recent as user 1 and sold more, yet sits lower: one broken pair
    frame, tiers = _rows([10, 10, 11], [2, 1, 1], ["moderate", "active", "inactive"])
    assert monotone_violations(frame, tiers)["pairs"] == 1
    # one day less recent (11 > 10) and user 0 no longer dominates user 1
    frame, tiers = _rows([11, 10, 12], [2, 1, 1], ["moderate", "active", "inactive"])
    assert monotone_violations(frame, tiers)["pairs"] == 0
    # equal rows in different tiers: a split row, not a pair
    frame, tiers = _rows([10, 10], [1, 1], ["moderate", "active"])
    got = monotone_violations(frame, tiers)
    assert got["split_rows"] == 1 and got["pairs"] == 0


def test_the_pipeline_writes_the_three_designs(synthetic_run):
    _, out, _ = synthetic_run
    doc = json.loads((out / "segments.json").read_text())["designs"]
    assert [r["design"] for r in doc["rows"]] == ["a", "b", "c"]
    assert doc["chosen"] in ("a", "b", "c", None)
    assert sum(r["chosen"] for r in doc["rows"]) == (doc["chosen"] is not None)
    b = doc["rows"][1]
    assert b["broken_promises"] == 0 and b["monotone"]["pairs"] == 0
    assert b["types_in_several_tiers"] == 0
    for r in doc["rows"]:
        assert 0 <= r["cluster_tier_nmi"] <= 1 and 0 < r["tree_fidelity"] <= 1
        assert sum(r["tier_sizes"].values()) == sum(doc["rows"][0]["tier_sizes"].values())
