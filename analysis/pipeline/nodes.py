"""The computing nodes of the flow: pure functions of named values (or thin adapters around
the domain packages' functions). :mod:`analysis.pipeline.stages` wires them by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.clustering.distinct import Distinct
from analysis.clustering.kmeans import kmeans_over_k
from analysis.clustering.solution import Solution
from analysis.clustering.ward import ward_over_k
from analysis.config import (
    FeaturesConfig,
    GapConfig,
    KMeansConfig,
    PlaceholderConfig,
    ProfilesConfig,
    SelectionConfig,
    StabilityConfig,
    TiersConfig,
    ValidationConfig,
)
from analysis.errors import ValidationFailed
from analysis.evaluation.choice import choose
from analysis.evaluation.gap import gap_statistic
from analysis.evaluation.metrics import evaluate_solutions, find_knee
from analysis.evaluation.stability import Bootstrap, bootstrap_stability
from analysis.features.activity import score_weights
from analysis.features.placeholder import detect_login_placeholder
from analysis.features.transform import RECENCY_COLUMN, fit_transform_params, transform
from analysis.intake.columnar import typed_users
from analysis.intake.files import file_sha256
from analysis.intake.reader import InputLimits, read_raw_table
from analysis.segments.describe import Described, describe_solutions
from analysis.segments.types import tiers_of_types
from analysis.vocabulary import TIERS
from validation.runner import format_summary, validate_users


def read_input(data_path: Path, cfg: ValidationConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The raw table as text (rows x columns) and what identifies the file."""
    raw = read_raw_table(data_path, InputLimits.of(cfg))
    return raw, {"name": data_path.name, "sha256": file_sha256(data_path),
                 "bytes": data_path.stat().st_size}


def validate(raw: pd.DataFrame, source: dict[str, Any], cfg: ValidationConfig,
             placeholder: PlaceholderConfig) -> tuple[dict[str, Any], pd.DataFrame]:
    """The validation report and the typed users (typed once, for both);
    ValidationFailed (exit 1) on a critical rule."""
    users = typed_users(raw)
    report = validate_users(raw, source["name"], cfg, placeholder, sha256=source["sha256"],
                            typed=users)
    if report["status"] == "fail":
        raise ValidationFailed(format_summary(report))
    return report, users


def find_placeholder(users: pd.DataFrame, cfg: PlaceholderConfig) -> dict[str, Any]:
    """The login placeholder offsets of this export and their censoring bound."""
    return detect_login_placeholder(users["seniority"].to_numpy(),
                                    users[RECENCY_COLUMN].to_numpy(), cfg)


def censor_users(users: pd.DataFrame, placeholder: dict[str, Any]) -> pd.DataFrame:
    """The users with days since the last login capped at the placeholder bound: what every
    profile reports (a value at the bound reads "at least that many days")."""
    bound = placeholder["censor_days"]
    if bound is None:
        return users
    return users.assign(**{RECENCY_COLUMN: np.minimum(users[RECENCY_COLUMN].to_numpy(), bound)})


def build_features(users: pd.DataFrame, feats: FeaturesConfig, placeholder: dict[str, Any]
                   ) -> tuple[list[dict[str, Any]], np.ndarray, Distinct]:
    """Fitted transform params (recency censored at the placeholder bound), the feature matrix
    float64[n, f] and its distinct rows."""
    params = fit_transform_params(users, feats, placeholder["censor_days"])
    X = transform(users, params)
    return params, X, Distinct.of(X)


def cluster_kmeans(distinct: Distinct, cfg: KMeansConfig, tiers: TiersConfig
                   ) -> dict[int, Solution]:
    """Weighted K-Means for every k of the range."""
    return kmeans_over_k(distinct, cfg, score_weights(tiers.weights))


def cluster_ward(distinct: Distinct, cfg: KMeansConfig, tiers: TiersConfig
                 ) -> tuple[np.ndarray, dict[int, Solution]]:
    """The exact Ward tree of all users and its cuts for every k of the range."""
    return ward_over_k(distinct, cfg.ks, score_weights(tiers.weights))


def evaluate(distinct: Distinct, kmeans: dict[int, Solution], ward: dict[int, Solution],
             selection: SelectionConfig
             ) -> tuple[dict[tuple[str, int], Solution], list[dict[str, Any]]]:
    """Every solution keyed by (algorithm, k), and its internal metrics."""
    solutions = {**{("kmeans", k): s for k, s in kmeans.items()},
                 **{("ward", k): s for k, s in ward.items()}}
    return solutions, evaluate_solutions(distinct, solutions, selection.min_cluster_share)


def run_bootstrap(distinct: Distinct, solutions: dict[tuple[str, int], Solution],
                  kmeans: KMeansConfig, stability: StabilityConfig, progress) -> Bootstrap:
    """Bootstrap stability of every solution (refits kept for the segments)."""
    return bootstrap_stability(distinct, solutions, kmeans, stability, progress=progress)


def describe(users: pd.DataFrame, distinct: Distinct,
             solutions: dict[tuple[str, int], Solution], types: np.ndarray, tiers: TiersConfig,
             profiles: ProfilesConfig) -> Described:
    """Tiers inside each cluster, sizes and profiles (days censored) of every solution;
    ``types`` object[n] every user's type (its tier follows from it)."""
    return describe_solutions(users, distinct, solutions, tiers_of_types(types),
                              score_weights(tiers.weights), profiles.top_n)


def gaps(distinct: Distinct, metrics: list[dict[str, Any]], cfg: GapConfig
         ) -> dict[str, dict[str, Any]]:
    """The gap statistic of each algorithm from its within-cluster sums of squares."""
    algorithms = sorted({m["algorithm"] for m in metrics})
    return {a: gap_statistic(distinct, {m["k"]: m["inertia"] for m in metrics
                                        if m["algorithm"] == a}, cfg) for a in algorithms}


def choose_solution(metrics: list[dict[str, Any]], boot: Bootstrap, described: Described,
                    gap: dict[str, dict[str, Any]], selection: SelectionConfig
                    ) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, int | None]]:
    """Metrics rows with stability and tier shares, the chosen solution, each algorithm's knee."""
    by_key = {(s["algorithm"], s["k"]): s for s in boot.rows}
    sizes = {(s["algorithm"], s["k"]): s["tier_sizes"] for s in described.summaries}
    rows = []
    for m in metrics:
        key = (m["algorithm"], m["k"])
        total = max(sum(sizes[key].values()), 1)
        present = {t: n / total for t, n in sizes[key].items() if t in TIERS and
                   (m["k"] >= len(TIERS) or n > 0)}
        rows.append({**m, "stability_mean": by_key[key]["mean"],
                     "stability_min": by_key[key]["min"],
                     "tier_shares": {t: round(v, 6) for t, v in present.items()}})
    knee = {a: find_knee(sorted(r["k"] for r in rows if r["algorithm"] == a),
                         [r["inertia"] for r in sorted(rows, key=lambda r: r["k"])
                          if r["algorithm"] == a])
            for a in sorted({r["algorithm"] for r in rows})}
    return rows, choose(rows, selection, knee, gap), knee


def chosen_tiers(described: Described, chosen: dict[str, Any]) -> np.ndarray:
    """The tier of every user under the chosen solution: object[n]."""
    return described.tiers[(chosen["algorithm"], chosen["k"])]
