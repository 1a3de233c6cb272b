"""The segmentation flow as a declarative list of stages (read it top to bottom).

Each node below is a pure function of named values (or a thin adapter around one from the
domain packages); :data:`STAGES` wires them by name. The runner (:mod:`analysis.pipeline.runner`)
executes the list; :func:`analysis.pipeline.segment` writes the resulting ``documents`` through
the catalog. To add a stage: write the function in its domain package, add a ``Stage`` here
with its inputs and outputs, and, if it makes an artifact, list the file in
:data:`analysis.catalog.ARTIFACTS` and put it into ``documents`` in :func:`assemble`.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import catalog
from analysis.clustering.distinct import Distinct
from analysis.clustering.kmeans import kmeans_over_k
from analysis.clustering.solution import Solution
from analysis.clustering.ward import dendrogram_data, ward_over_k
from analysis.config import (
    BaselineConfig,
    DriftConfig,
    FeaturesConfig,
    KMeansConfig,
    PcaConfig,
    ProfilesConfig,
    SelectionConfig,
    Settings,
    SiteConfig,
    StabilityConfig,
    TiersConfig,
    ValidationConfig,
    WardConfig,
)
from analysis.errors import ValidationFailed
from analysis.evaluation.agreement import algorithms_agreement
from analysis.evaluation.choice import choose
from analysis.evaluation.metrics import evaluate_solutions, find_knee
from analysis.evaluation.stability import bootstrap_stability
from analysis.features.activity import score_weights
from analysis.features.transform import (
    FEATURE_NAMES,
    feature_decisions,
    fit_transform_params,
    transform,
)
from analysis.history.changes import compare
from analysis.history.snapshots import snapshot_key, value_counts
from analysis.intake.files import file_sha256
from analysis.intake.reader import InputLimits, coerce_types, read_raw_table, to_numpy_dtypes
from analysis.pipeline.runner import PROGRESS, Stage
from analysis.report.exploration import explore
from analysis.report.projection import pca_document
from analysis.scoring.model import build_model
from analysis.segments.baseline import baseline_document, baseline_tiers
from analysis.segments.describe import Described, describe_solutions, labels_table
from analysis.segments.profiles import PROFILE_COLUMNS, group_profiles, tier_crosstabs, tier_tests
from analysis.segments.tiers import TIER_RULE, tier_counts
from analysis.vocabulary import TIERS
from validation.runner import format_summary, validate_users

VERSIONED_PACKAGES = ["numpy", "pandas", "scikit-learn", "scipy", "great_expectations",
                      "fastcluster", "numba", "kneed", "pyarrow", "altair"]
KNEE_METHOD = "kneedle (kneed), convex decreasing"


# --------------------------------------------------------------------------------------------
# nodes


def read_input(data_path: Path, cfg: ValidationConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The raw table as text (rows x columns) and what identifies the file."""
    raw = read_raw_table(data_path, InputLimits.of(cfg))
    return raw, {"name": data_path.name, "sha256": file_sha256(data_path),
                 "bytes": data_path.stat().st_size}


def validate(raw: pd.DataFrame, source: dict[str, Any], cfg: ValidationConfig
             ) -> tuple[dict[str, Any], pd.DataFrame]:
    """The validation report and the typed users; ValidationFailed (exit 1) on a critical rule."""
    report = validate_users(raw, source["name"], cfg, sha256=source["sha256"])
    if report["status"] == "fail":
        raise ValidationFailed(format_summary(report))
    return report, to_numpy_dtypes(coerce_types(raw)[0])


def build_features(users: pd.DataFrame, feats: FeaturesConfig
                   ) -> tuple[list[dict[str, Any]], np.ndarray, Distinct]:
    """Fitted transform params, the feature matrix float64[n, f] and its distinct rows."""
    params = fit_transform_params(users, feats)
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


def choose_solution(metrics: list[dict[str, Any]], stability: list[dict[str, Any]],
                    selection: SelectionConfig, kmeans: KMeansConfig
                    ) -> tuple[list[dict[str, Any]], dict[str, Any], int | None]:
    """Metrics rows with their stability, the chosen solution, the elbow's knee."""
    by_key = {(s["algorithm"], s["k"]): s for s in stability}
    rows = [{**m, "stability_mean": by_key[(m["algorithm"], m["k"])]["mean"],
             "stability_min": by_key[(m["algorithm"], m["k"])]["min"]} for m in metrics]
    knee = find_knee(kmeans.ks, [m["inertia"] for m in rows if m["algorithm"] == "kmeans"])
    return rows, choose(rows, selection), knee


def describe(users: pd.DataFrame, distinct: Distinct,
             solutions: dict[tuple[str, int], Solution], tiers: TiersConfig,
             profiles: ProfilesConfig) -> Described:
    """Tiers, sizes and profiles of every solution."""
    return describe_solutions(users, distinct, solutions, score_weights(tiers.weights),
                              profiles.top_n)


def chosen_tiers(described: Described, chosen: dict[str, Any]) -> np.ndarray:
    """The tier of every user under the chosen solution: object[n]."""
    return described.tiers[(chosen["algorithm"], chosen["k"])]


def versions() -> dict[str, str]:
    """Python and library versions that shape the results."""
    out = {"python": platform.python_version()}
    for pkg in VERSIONED_PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def metrics_doc(metrics: list[dict[str, Any]], knee: int | None) -> dict[str, Any]:
    """``metrics.json``: the knee and every solution's metrics row."""
    return {"knee": {"k": knee, "method": KNEE_METHOD},
            "silhouette": "exact over all users (weighted distinct rows)", "rows": metrics}


def stability_doc(stability: list[dict[str, Any]], resamples: StabilityConfig,
                  selection: SelectionConfig) -> dict[str, Any]:
    """``stability.json``: per-cluster bootstrap Jaccard of every solution."""
    return {"resamples": resamples.resamples,
            "method": "Hennig clusterboot: bootstrap users, refit, best Jaccard per original "
                      f"cluster; >= {selection.min_stability} stable",
            "rows": stability}


def segments_doc(users: pd.DataFrame, described: Described, tiers: np.ndarray,
                 baseline: np.ndarray, cfg: BaselineConfig, profiles: ProfilesConfig
                 ) -> dict[str, Any]:
    """``segments.json``: the tier rule, every solution's tiers, the baseline, cross-tabs."""
    return {"tier_rule": TIER_RULE, "solutions": described.summaries,
            "baseline": baseline_document(tiers, baseline, cfg),
            **tier_crosstabs(users, tiers, profiles.top_n)}


def profiles_doc(users: pd.DataFrame, described: Described, tiers: np.ndarray,
                 profiles: ProfilesConfig) -> dict[str, Any]:
    """``profiles.json``: every cluster's and tier's profile in raw units, tier tests."""
    by_tier = group_profiles(users, tiers.astype(str), len(users), profiles.top_n)
    return {"features": list(FEATURE_NAMES), "profile_columns": PROFILE_COLUMNS,
            "clusters": described.cluster_profiles,
            "tiers": [{"tier": t, **by_tier[t]} for t in TIERS if t in by_tier],
            "tier_tests": tier_tests(users, tiers)}


def model_doc(params: list[dict[str, Any]], features: dict[str, Any], described: Described,
              chosen: dict[str, Any]) -> dict[str, Any]:
    """``model.json``: the transform and every solution, for the scorers."""
    return build_model(params, features["formula"], described.model_solutions, chosen)


def labels_doc(users: pd.DataFrame, described: Described, baseline: np.ndarray,
               chosen: dict[str, Any]) -> pd.DataFrame:
    """``labels.parquet``: one row per user."""
    return labels_table(users, described, baseline, (chosen["algorithm"], chosen["k"]))


def summarise(source: dict[str, Any], report: dict[str, Any], users: pd.DataFrame,
              distinct: Distinct, tree: np.ndarray, chosen: dict[str, Any],
              tiers: np.ndarray, settings: Settings) -> dict[str, Any]:
    """The manifest's body (without ``files``): input, row counts, choice, tiers, versions and
    the whole configuration (the one node that reads every section: it records them)."""
    totals = tier_counts(tiers)
    assert sum(totals.values()) == len(users) == distinct.n_users, "users lost on the way"
    return {
        "input": {"name": source["name"], "sha256": source["sha256"], "bytes": source["bytes"]},
        "input_sha256": source["sha256"],
        "rows_in": int(report["rows"]),
        "rows_clustered": int(len(users)),
        "hierarchical_rows": int(tree[-1, 3]),
        "distinct_feature_rows": int(len(distinct.counts)),
        "chosen": {key: chosen[key] for key in ("algorithm", "k", "reason", "rule")},
        "tiers": totals,
        "validation_status": report["status"],
        "versions": versions(),
        "config": settings.record(),
    }


def what_changed(history: list[dict[str, Any]], summary: dict[str, Any],
                 report: dict[str, Any], model: dict[str, Any], labels: pd.DataFrame,
                 users: pd.DataFrame, drift: DriftConfig) -> dict[str, Any]:
    """``changes.json``: this build against the newest published snapshot of another release.

    ``history`` holds the published releases' snapshots, newest first; one with this build's
    key (same input, model and validation report) is the same release built again and skipped.
    """
    files = {name: catalog.sha256_bytes(catalog.encode(name, doc))
             for name, doc in (("model.json", model), ("validation_report.json", report))}
    current = {**summary, "files": files}
    key = snapshot_key(current)
    previous = next((snap for snap in history if snap["meta"].get("key") != key), None)
    return compare(previous, current, model, report, users, labels, drift)


def _bootstrap(distinct, solutions, kmeans, stability, progress):
    return bootstrap_stability(distinct, solutions, kmeans, stability, progress=progress)


def _explore(users, params, features: FeaturesConfig, site: SiteConfig):
    return explore(users, params, features, site.explore_countries)


def _pca(X, users, described: Described, chosen, pca: PcaConfig):
    return pca_document(X, users, described.user_labels, described.tiers,
                        (chosen["algorithm"], chosen["k"]), pca)


def _dendrogram(tree, distinct: Distinct, ward: WardConfig, kmeans: KMeansConfig):
    return dendrogram_data(tree, distinct.counts, ward.dendrogram_merges, kmeans.ks)


def _agreement(described: Described, chosen, kmeans: KMeansConfig):
    return algorithms_agreement(described.user_labels, chosen["k"], kmeans.ks)


# --------------------------------------------------------------------------------------------
# the flow: computation, then one node per artifact (outputs named like catalog files)

S = Stage
STAGES: tuple[Stage, ...] = (
    S("read", read_input, ("data_path", "params:validation"), ("raw", "source")),
    S("validate (Great Expectations)", validate, ("raw", "source", "params:validation"),
      ("validation_report.json", "users")),
    S("features", build_features, ("users", "params:features"), ("params", "X", "distinct")),
    S("k-means", cluster_kmeans, ("distinct", "params:kmeans", "params:tiers"), ("kmeans",)),
    S("ward (all users, exact)", cluster_ward, ("distinct", "params:kmeans", "params:tiers"),
      ("tree", "ward")),
    S("silhouette and metrics (exact)", evaluate,
      ("distinct", "kmeans", "ward", "params:selection"), ("solutions", "metrics_raw")),
    S("bootstrap stability", _bootstrap,
      ("distinct", "solutions", "params:kmeans", "params:stability", PROGRESS), ("stability",),
      steps=lambda s: s.stability.resamples),
    S("choose", choose_solution, ("metrics_raw", "stability", "params:selection",
                                  "params:kmeans"), ("metrics", "chosen", "knee")),
    S("tiers and profiles", describe, ("users", "distinct", "solutions", "params:tiers",
                                       "params:profiles"), ("described",)),
    S("chosen tiers", chosen_tiers, ("described", "chosen"), ("tiers",), quiet=True),
    S("baseline", baseline_tiers, ("users", "params:baseline"), ("baseline",), quiet=True),
    S("PCA", _pca, ("X", "users", "described", "chosen", "params:pca"), ("pca.json",)),
    S("exploration aggregates", _explore, ("users", "params", "params:features", "params:site"),
      ("exploration.json",)),
    S("features.json", feature_decisions, ("params", "params:features"), ("features.json",),
      quiet=True),
    S("distributions.json", value_counts, ("users",), ("distributions.json",), quiet=True),
    S("metrics.json", metrics_doc, ("metrics", "knee"), ("metrics.json",), quiet=True),
    S("stability.json", stability_doc, ("stability", "params:stability", "params:selection"),
      ("stability.json",), quiet=True),
    S("agreement.json", _agreement, ("described", "chosen", "params:kmeans"),
      ("agreement.json",), quiet=True),
    S("segments.json", segments_doc, ("users", "described", "tiers", "baseline",
                                      "params:baseline", "params:profiles"), ("segments.json",)),
    S("profiles.json", profiles_doc, ("users", "described", "tiers", "params:profiles"),
      ("profiles.json",)),
    S("dendrogram.json", _dendrogram, ("tree", "distinct", "params:ward", "params:kmeans"),
      ("dendrogram.json",), quiet=True),
    S("model.json", model_doc, ("params", "features.json", "described", "chosen"),
      ("model.json",), quiet=True),
    S("labels.parquet", labels_doc, ("users", "described", "baseline", "chosen"),
      ("labels.parquet",), quiet=True),
    S("summary", summarise, ("source", "validation_report.json", "users", "distinct", "tree",
                             "chosen", "tiers", "settings"), ("summary",), quiet=True),
    S("what changed", what_changed,
      ("history", "summary", "validation_report.json", "model.json", "labels.parquet", "users",
       "params:drift"), ("changes.json",)),
)
