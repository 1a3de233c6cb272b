"""The document nodes: one function per artifact, named like the catalog file it makes."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from analysis import catalog
from analysis.campaigns.groups import CHANNELS, GROUPS
from analysis.clustering.distinct import Distinct
from analysis.clustering.solution import Solution
from analysis.config import (
    PROJECT_ROOT,
    BaselineConfig,
    DriftConfig,
    ProfilesConfig,
    ScaleConfig,
    ScoringConfig,
    SelectionConfig,
    Settings,
    StabilityConfig,
    TiersConfig,
    ValidationConfig,
)
from analysis.evaluation.stability import Bootstrap
from analysis.features.transform import FEATURE_NAMES
from analysis.history.changes import compare
from analysis.history.snapshots import snapshot_key
from analysis.report.costs import cost_document
from analysis.report.findings import build_findings
from analysis.scoring.keys import integer_keys, label_table
from analysis.scoring.model import build_model, contract
from analysis.segments.baseline import baseline_document, baseline_rule
from analysis.segments.describe import Described, labels_table
from analysis.segments.invariants import strong_rule_text, strong_rule_tiers, tiering_row
from analysis.segments.profiles import PROFILE_COLUMNS, group_profiles, tier_crosstabs, tier_tests
from analysis.segments.reasons import REASONS
from analysis.segments.tiers import tier_counts, tier_rule
from analysis.vocabulary import TIERS, solution_key

VERSIONED_PACKAGES = ["numpy", "pandas", "scikit-learn", "scipy", "great_expectations",
                      "fastcluster", "numba", "kneed", "pyarrow", "altair"]
KNEE_METHOD = "kneedle (kneed), convex decreasing"


def versions() -> dict[str, str]:
    """Python and library versions that shape the results."""
    out = {"python": platform.python_version()}
    for pkg in VERSIONED_PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def costs_doc(scale: ScaleConfig) -> dict[str, Any]:
    """``costs.json``: the committed ``c2c bench --scale --json`` output at ``[scale].measured``
    (a path below the project root) summarised by :func:`analysis.report.costs.cost_document`."""
    path = PROJECT_ROOT / scale.measured
    measured = catalog.read_json(path.parent, path.name) if path.is_file() else None
    if measured is not None and "scale" in measured:  # the whole `c2c bench --json` output
        measured = measured["scale"]
    return cost_document(measured, scale.measured)


def metrics_doc(metrics: list[dict[str, Any]], knee: dict[str, int | None],
                gap: dict[str, dict[str, Any]], chosen: dict[str, Any]) -> dict[str, Any]:
    """``metrics.json``: every solution's metrics, the knees, the gap statistic, the choice."""
    return {"knee": {"by_algorithm": knee, "method": KNEE_METHOD},
            "gap": gap, "silhouette": "exact over all users (weighted distinct rows)",
            "choice": chosen, "rows": metrics}


def stability_doc(boot: Bootstrap, segments: dict[str, float], stability: StabilityConfig,
                  selection: SelectionConfig) -> dict[str, Any]:
    """``stability.json``: per-cluster bootstrap Jaccard of every solution and per segment."""
    return {"resamples": stability.resamples, "users": boot.n_users,
            "resample_users": boot.size, "max_resample_users": stability.max_resample_users,
            "method": "Hennig clusterboot: bootstrap users, refit, best Jaccard per original "
                      f"cluster; >= {selection.min_stability} stable",
            "rows": boot.rows,
            "segments": {name: round(value, 6) for name, value in sorted(segments.items())}}


def segments_doc(censored: pd.DataFrame, described: Described, tiers: np.ndarray,
                 baseline: np.ndarray, segments: np.ndarray, section: dict[str, Any],
                 personas: dict[str, Any], designs: dict[str, Any], cfg: BaselineConfig,
                 profiles: ProfilesConfig) -> dict[str, Any]:
    """``segments.json``: the tier rule, every solution's tiers, the segments inside the chosen
    tiers, the baseline comparison (with kappa and who disagrees), cross-tabs."""
    return {"tier_rule": tier_rule(section["recent_days"], section["censor_days"]),
            "solutions": described.summaries, **section,
            "personas": {key: personas[key] for key in ("fidelity", "tree", "records")},
            "designs": designs,
            "baseline": baseline_document(tiers, baseline, segments, cfg, profiles.top_n),
            "tierings": tierings(censored, tiers, baseline, section["recent_days"],
                                 section["censor_days"], cfg),
            **tier_crosstabs(censored, tiers, profiles.top_n)}


def tierings(censored: pd.DataFrame, tiers: np.ndarray, baseline: np.ndarray, recent_days: int,
             censor_days: int | None, cfg: BaselineConfig) -> list[dict[str, Any]]:
    """The published tiers, the strong rule and the configured baseline rule side by side:
    sizes, agreement with the published tiers (kappa, ARI), trade per tier, broken promises
    (:mod:`analysis.segments.invariants`). Days censored at the bound keep every promise's
    meaning (the bound lies above the recent cut)."""
    strong = strong_rule_tiers(censored, recent_days, censor_days)
    return [tiering_row(name, rule, values, tiers, censored, recent_days, censor_days)
            for name, rule, values in (
                ("published tiers", tier_rule(recent_days, censor_days), tiers),
                ("strong rule", strong_rule_text(recent_days, censor_days), strong),
                ("baseline rule", baseline_rule(cfg), baseline))]


def profiles_doc(censored: pd.DataFrame, described: Described, tiers: np.ndarray,
                 profiles: ProfilesConfig) -> dict[str, Any]:
    """``profiles.json``: every cluster's and tier's profile in raw units (days censored)."""
    by_tier = group_profiles(censored, tiers.astype(str), len(censored), profiles.top_n)
    return {"features": list(FEATURE_NAMES), "profile_columns": PROFILE_COLUMNS,
            "clusters": described.cluster_profiles,
            "tiers": [{"tier": t, **by_tier[t]} for t in TIERS if t in by_tier],
            "tier_tests": tier_tests(censored, tiers)}


def _label_table(users: pd.DataFrame, params: list[dict[str, Any]], distinct: Distinct,
                 solutions: dict[tuple[str, int], Solution], chosen: dict[str, Any],
                 scoring: ScoringConfig) -> dict[str, Any]:
    first = np.empty(len(distinct.counts), dtype=np.int64)
    first[distinct.inverse] = np.arange(len(distinct.inverse))
    keys = integer_keys(users[[p["column"] for p in params]].to_numpy(np.int64)[first], params)
    assert len(np.unique(keys, axis=0)) == len(keys), "integer keys must match distinct rows"
    always = {solution_key(chosen["algorithm"], chosen["k"])} | {
        solution_key(*k) for k in solutions if k[0] == "kmeans"}
    return label_table(keys, distinct.rows,
                       {solution_key(*k): s.labels for k, s in solutions.items()},
                       {solution_key(*k): s.centroids for k, s in solutions.items()},
                       scoring.tie_tolerance, always, scoring.label_table_max_rows)


def model_doc(users: pd.DataFrame, params: list[dict[str, Any]], features: dict[str, Any],
              distinct: Distinct, solutions: dict[tuple[str, int], Solution],
              described: Described, chosen: dict[str, Any], placeholder: dict[str, Any],
              section: dict[str, Any], maps: dict[str, Any], validation: ValidationConfig,
              tiers: TiersConfig, scoring: ScoringConfig) -> dict[str, Any]:
    """``model.json``: the transform, every solution and the whole scoring contract."""
    labels = {r["segment"]: r["label"] for r in section["records"]}
    extras = {
        "contract": contract([p["column"] for p in params], validation.max_count,
                             validation.max_days),
        "tier_colors": {t: tiers.colors[t] for t in TIERS},
        "placeholder": {"censor_days": placeholder["censor_days"],
                        "offsets": [{k: p[k] for k in ("seniority_min", "seniority_max",
                                                       "offset")}
                                    for p in placeholder["placeholders"]]},
        "segments": {"recent_days": section["recent_days"],
                     "censor_days": section["censor_days"], "types": section["types"],
                     "groups": section["groups"], "tier_of_type": section["tier_of_type"],
                     "roles": section["roles"], "labels": labels, "maps": maps},
        "reasons": REASONS,
        "scoring": {"tie_tolerance": scoring.tie_tolerance, "round_digits": scoring.round_digits},
        "label_table": _label_table(users, params, distinct, solutions, chosen, scoring),
    }
    return build_model(params, features["formula"], described.model_solutions, chosen, extras)


def labels_doc(users: pd.DataFrame, described: Described, baseline: np.ndarray,
               segments: np.ndarray, reasons: np.ndarray, chosen: dict[str, Any],
               channels: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """``labels.parquet``: one row per user (clusters, tier, segment, reason, baseline, and what
    the campaign files and the next release's measurement need: channel, group, country,
    language, days since the last login and sign-up age, raw)."""
    frame = labels_table(users, described, baseline, (chosen["algorithm"], chosen["k"]))
    # pd.array(..., dtype="str") straight from the object arrays: .astype(str) would make
    # fixed-width NumPy text first (4 bytes per character of the longest reason, per user).
    frame.insert(frame.columns.get_loc("tier") + 1, "segment",
                 pd.Categorical(pd.array(segments, dtype="str")))
    frame.insert(frame.columns.get_loc("segment") + 1, "reason", pd.array(reasons, dtype="str"))
    frame["channel"] = pd.Categorical(channels, categories=list(CHANNELS))
    frame["group"] = pd.Categorical(groups, categories=list(GROUPS))
    for column in ("country", "language"):
        frame[column] = pd.Categorical(users[column].astype(str).to_numpy())
    for column in ("daysSinceLastLogin", "seniority"):
        frame[column] = users[column].to_numpy(np.int64)
    return frame


def summarise(source: dict[str, Any], report: dict[str, Any], users: pd.DataFrame,
              distinct: Distinct, tree: np.ndarray, chosen: dict[str, Any],
              tiers: np.ndarray, segments: np.ndarray, settings: Settings) -> dict[str, Any]:
    """The manifest's body (without ``files``): input, row counts, choice, tiers, segments,
    versions and the whole configuration (the one node that reads every section: it records
    them)."""
    totals = tier_counts(tiers)
    names, counts = np.unique(segments.astype(str), return_counts=True)
    assert sum(totals.values()) == len(users) == distinct.n_users == counts.sum(), \
        "users lost on the way"
    return {
        "input": {"name": source["name"], "sha256": source["sha256"], "bytes": source["bytes"]},
        "input_sha256": source["sha256"],
        "rows_in": int(report["rows"]),
        "rows_clustered": int(len(users)),
        "hierarchical_rows": int(tree[-1, 3]),
        "distinct_feature_rows": int(len(distinct.counts)),
        "chosen": {key: chosen[key] for key in ("algorithm", "k", "reason", "rule")},
        "tiers": totals,
        "segments": dict(zip(names.tolist(), map(int, counts), strict=True)),
        "validation_status": report["status"],
        "versions": versions(),
        "config": settings.record(),
    }


def what_changed(history: list[dict[str, Any]], summary: dict[str, Any],
                 report: dict[str, Any], model: dict[str, Any], labels: pd.DataFrame,
                 users: pd.DataFrame, campaign: dict[str, Any], drift: DriftConfig
                 ) -> dict[str, Any]:
    """``changes.json``: this build against the newest published snapshot of another release.

    ``history`` holds the published releases' snapshots, newest first; one with this build's
    key (same input, model and validation report) is the same release built again and skipped.
    """
    files = {name: catalog.sha256_bytes(catalog.encode(name, doc))
             for name, doc in (("model.json", model), ("validation_report.json", report))}
    current = {**summary, "files": files}
    key = snapshot_key(current)
    previous = next((snap for snap in history if snap["meta"].get("key") != key), None)
    return {**compare(previous, current, model, report, users, labels, drift),
            "campaign": campaign}


def findings_doc(report: dict[str, Any], exploration: dict[str, Any], metrics: dict[str, Any],
                 segments: dict[str, Any], profiles: dict[str, Any], agreement: dict[str, Any],
                 changes: dict[str, Any], summary: dict[str, Any], censoring: dict[str, Any],
                 selection: SelectionConfig) -> dict[str, Any]:
    """``findings.json``: what the pages say, from this build's documents."""
    documents = {"validation_report.json": report, "exploration.json": exploration,
                 "metrics.json": metrics, "segments.json": segments,
                 "profiles.json": profiles, "agreement.json": agreement,
                 "changes.json": changes}
    return build_findings(documents, summary, censoring, selection)
