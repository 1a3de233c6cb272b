"""Nodes of the second level: segments inside the tiers, each user's reason, and how stable
the segments are (adapters around :mod:`analysis.segments` and the bootstrap refits)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.clustering.distinct import Distinct
from analysis.clustering.solution import Solution
from analysis.config import (
    DesignsConfig,
    FeaturesConfig,
    KMeansConfig,
    ProfilesConfig,
    SegmentsConfig,
    SelectionConfig,
)
from analysis.evaluation.stability import Bootstrap
from analysis.features.activity import PRODUCT_COLUMNS
from analysis.features.placeholder import placeholder_mask
from analysis.features.transform import RECENCY_COLUMN
from analysis.segments.assign import assign_segments, segment_map, segment_table
from analysis.segments.describe import Described
from analysis.segments.designs import compare_designs
from analysis.segments.invariants import strong_rule_tiers
from analysis.segments.personas import personas
from analysis.segments.premises import flag_sentence, premise_coverage
from analysis.segments.reasons import reasons
from analysis.segments.records import segment_records
from analysis.segments.stability import segment_stability
from analysis.segments.tiers import tier_rule
from analysis.segments.types import (
    BANDS,
    GROUP_LABELS,
    ROLES,
    TIER_OF_TYPE,
    TYPE_GROUP,
    TYPE_IDS,
    recent_cut_days,
    role_codes,
    segment_types,
    tiers_of_types,
)
from analysis.vocabulary import TIERS, solution_key


def user_types(users: pd.DataFrame, placeholder: dict[str, Any]
               ) -> tuple[np.ndarray, int, np.ndarray]:
    """Each user's type (object[n]), the recent cut (days) and who is on the placeholder."""
    bound = placeholder["censor_days"]
    recent = recent_cut_days(users[RECENCY_COLUMN].to_numpy(), bound)
    mask = placeholder_mask(users["seniority"].to_numpy(), users[RECENCY_COLUMN].to_numpy(),
                            placeholder["placeholders"])
    return segment_types(users, bound, recent), recent, mask


def segment_maps(described: Described, types: np.ndarray, cfg: SegmentsConfig
                 ) -> dict[str, dict[str, dict[str, str]]]:
    """Every solution's segment map ({tier: {type: segment}}), by solution key."""
    return {solution_key(*key): segment_map(tiers, types, cfg.min_segment_share)
            for key, tiers in sorted(described.tiers.items())}


def chosen_segments(maps: dict[str, dict[str, dict[str, str]]], chosen: dict[str, Any],
                    tiers: np.ndarray, types: np.ndarray) -> np.ndarray:
    """The segment of every user under the chosen solution: object[n]."""
    return assign_segments(tiers, types, maps[solution_key(chosen["algorithm"], chosen["k"])])


def persona_section(distinct: Distinct, solutions: dict[tuple[str, int], Solution],
                    chosen: dict[str, Any], params: list[dict[str, Any]], tiers: np.ndarray,
                    segments: np.ndarray, censored: pd.DataFrame, section: dict[str, Any],
                    profiles: ProfilesConfig) -> dict[str, Any]:
    """The chosen clustering's personas (threshold-tree leaves named by their tests), with
    the tiers, segments, actions and profile of each; ``user_personas`` int64[n] stays off
    the artifact."""
    sol = solutions[(chosen["algorithm"], chosen["k"])]
    actions = {r["segment"]: r["action"] for r in section["records"]}
    return personas(distinct, sol.labels, sol.centroids, params, tiers, segments, censored,
                    actions, profiles.top_n)


def design_comparison(censored: pd.DataFrame, distinct: Distinct,
                      solutions: dict[tuple[str, int], Solution], chosen: dict[str, Any],
                      boot: Bootstrap, tiers: np.ndarray, types: np.ndarray,
                      params: list[dict[str, Any]], recent: int, placeholder: dict[str, Any],
                      feats: FeaturesConfig, kmeans: KMeansConfig, cfg: DesignsConfig,
                      selection: SelectionConfig) -> dict[str, Any]:
    """Designs (a), (b), (c) at the chosen k (:mod:`analysis.segments.designs`)."""
    key = (chosen["algorithm"], chosen["k"])
    sol = solutions[key]
    weakest = next(r["min"] for r in boot.rows if (r["algorithm"], r["k"]) == key)
    bound = placeholder["censor_days"]
    published = {"distinct": distinct, "labels": sol.labels, "centroids": sol.centroids,
                 "stability_min": weakest}
    return compare_designs(censored, published, tiers, strong_rule_tiers(censored, recent, bound),
                           types, params, feats, kmeans, boot, cfg.resamples,
                           selection.min_stability, recent, bound)


def user_reasons(users: pd.DataFrame, mask: np.ndarray, placeholder: dict[str, Any]
                 ) -> np.ndarray:
    """Every user's reason (object[n])."""
    return reasons(users, mask, placeholder["censor_days"])


def stability_of_segments(boot: Bootstrap, censored: pd.DataFrame, placeholder: dict[str, Any],
                          chosen: dict[str, Any], maps: dict[str, dict[str, dict[str, str]]]
                          ) -> dict[str, float]:
    """Mean bootstrap Jaccard of every segment of the chosen solution (same resample seeds)."""
    return segment_stability(censored[RECENCY_COLUMN].to_numpy(np.int64),
                             role_codes(censored[PRODUCT_COLUMNS].to_numpy(np.int64)), boot,
                             placeholder["censor_days"],
                             maps[solution_key(chosen["algorithm"], chosen["k"])])


def with_premises(records: list[dict[str, Any]], users: pd.DataFrame, segments: np.ndarray,
                  recent: int, bound: int | None) -> list[dict[str, Any]]:
    """The records with each action's premises, the share of members for whom each holds, and
    the sentence that flags a premise not true of every member (None: all hold)."""
    coverage = premise_coverage(users, segments, records, recent, bound)
    return [{**r, "premises": coverage[r["segment"]],
             "premise_flag": flag_sentence(coverage[r["segment"]], r["size"])} for r in records]


def segments_section(censored: pd.DataFrame, segments: np.ndarray,
                     maps: dict[str, dict[str, dict[str, str]]], chosen: dict[str, Any],
                     mask: np.ndarray, placeholder: dict[str, Any], recent: int,
                     stability: dict[str, float], profiles: ProfilesConfig) -> dict[str, Any]:
    """The segments part of ``segments.json``: cut points, the rule, one record per segment."""
    mapping = maps[solution_key(chosen["algorithm"], chosen["k"])]
    table = segment_table(mapping, segments)
    bound = placeholder["censor_days"]
    return {
        "recent_days": recent, "censor_days": bound,
        "types": list(TYPE_IDS), "groups": dict(TYPE_GROUP), "group_labels": GROUP_LABELS,
        "tier_of_type": dict(TIER_OF_TYPE), "roles": list(ROLES), "bands": list(BANDS),
        "tier_rule": tier_rule(recent, bound),
        "records": with_premises(segment_records(censored, segments, table, mask, bound,
                                                 recent, stability, profiles.top_n),
                                 censored, segments, recent, bound),
    }


def censoring_effect(users: pd.DataFrame, placeholder: dict[str, Any], tiers: np.ndarray,
                     types: np.ndarray) -> dict[str, Any]:
    """What handling the login placeholder changed: the tiers had the placeholder's days been
    read as real logins (no bound: the recent cut over all days, nobody unseen) against the
    published tiers, and the never-engaged users split by it."""
    out: dict[str, Any] = {"placeholder": placeholder,
                           "applied": placeholder["censor_days"] is not None}
    if not out["applied"]:
        return out
    days = users[RECENCY_COLUMN].to_numpy()
    before = tiers_of_types(segment_types(users, None, recent_cut_days(days, None)))
    moved = pd.crosstab(pd.Categorical(before, TIERS), pd.Categorical(tiers, TIERS),
                        dropna=False)
    never = np.isin(types, [t for t in TYPE_IDS if TYPE_GROUP[t] == "no_history"])
    flagged = placeholder_mask(users["seniority"].to_numpy(), days, placeholder["placeholders"])
    out.update({
        "tiers_before": {t: int((before == t).sum()) for t in TIERS},
        "tiers_after": {t: int((tiers == t).sum()) for t in TIERS},
        "moved": int(len(users) - np.trace(moved.to_numpy())),
        "transitions": moved.to_numpy().tolist(),
        "never_engaged": {"users": int(never.sum()),
                          "median_days_uncensored": float(np.median(days[never]))
                          if never.any() else None,
                          "by_type": {t: {"users": int((types == t).sum()),
                                          "on_placeholder": int((flagged & (types == t)).sum()),
                                          "median_days": float(np.median(days[types == t]))
                                          if (types == t).any() else None}
                                      for t in TYPE_IDS if TYPE_GROUP[t] == "no_history"}},
    })
    return out
