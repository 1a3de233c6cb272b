"""The segmentation pipeline: validate -> features -> cluster -> evaluate -> segments -> artifacts.

``segment`` wires the pure stages together; reading happens in :mod:`analysis.intake.reader`, writing in
:mod:`analysis.publishing.writer`. Artifacts go to a staging folder that replaces ``out_dir`` only when
everything succeeded, so a failed run leaves the previous artifacts untouched.
"""

from __future__ import annotations

import platform
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analysis.clustering.silhouette import silhouette_weighted_detail
from analysis.clustering.solutions import (
    Distinct,
    Solution,
    dendrogram_data,
    kmeans_over_k,
    ward_over_k,
)
from analysis.errors import ValidationFailed
from analysis.evaluation import metrics as evaluation
from analysis.features import transform as features
from analysis.history import snapshots as history
from analysis.intake.files import file_sha256
from analysis.intake.reader import coerce_types, read_raw_table, to_numpy_dtypes
from analysis.intake.schema import ID_COLUMN
from analysis.publishing import writer as artifacts
from analysis.report import exploration, projection
from analysis.scoring.model import build_model
from analysis.segments import tiers as segments
from validation.runner import format_summary, validate_users, write_report

ALGORITHMS = ("kmeans", "ward")
#: Raw columns carried with the PCA sample for the scatter's tooltips.
PCA_TOOLTIP_COLUMNS = ["daysSinceLastLogin", "socialProductsLiked", "productsSold"]
VERSIONED_PACKAGES = ["numpy", "pandas", "scikit-learn", "scipy", "great_expectations",
                      "fastcluster", "numba", "kneed", "pyarrow", "altair"]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Reads VmHWM from /proc (reset when the process execs, unlike ``ru_maxrss``, which Linux
    carries over from the parent at fork); falls back to ``ru_maxrss`` elsewhere.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StageLog:
    """Times each stage and prints one line per stage to the console (stderr)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, spinner: bool = True) -> Iterator[None]:
        """Time the block; show a spinner unless the block draws its own progress bar."""
        start = time.perf_counter()
        with self.console.status(f"{name} ...") if spinner else nullcontext():
            yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        self.console.print(f"[green]done[/] {name:<28} {self.seconds[name]:7.1f} s")


def versions() -> dict[str, str]:
    """Python and library versions that shape the results."""
    out = {"python": platform.python_version()}
    for pkg in VERSIONED_PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def solution_key(algorithm: str, k: int) -> str:
    """Column / key name of one solution, e.g. ``kmeans_k4``."""
    return f"{algorithm}_k{k}"


def segment(data_path: Path, out_dir: Path, config: dict[str, Any],
            console: Console | None = None) -> dict[str, Any]:
    """Run the whole pipeline on ``data_path`` and publish artifacts into ``out_dir``.

    Raises InputError (unreadable input, exit 2) or ValidationFailed (critical expectation
    failed, exit 1) before anything is written. Returns the manifest.
    """
    console = console or Console(stderr=True)
    log = StageLog(console)
    started, t0 = datetime.now(UTC), time.perf_counter()
    data_path = Path(data_path)
    ks = list(range(config["kmeans"]["k_min"], config["kmeans"]["k_max"] + 1))

    with log.stage("read"):
        raw = read_raw_table(data_path)
        input_sha = file_sha256(data_path)
    with log.stage("validate (Great Expectations)"):
        report = validate_users(raw, data_path.name, config, sha256=input_sha)
        if report["status"] == "fail":
            raise ValidationFailed(format_summary(report))
        users = to_numpy_dtypes(coerce_types(raw)[0])
        del raw
    with log.stage("features"):
        params = features.fit_transform_params(users, config)
        X = features.transform(users, params)
        distinct = Distinct.of(X)
        weights = segments.score_weights(config)
    with log.stage(f"k-means k={ks[0]}..{ks[-1]}"):
        kmeans = kmeans_over_k(distinct, ks, config["kmeans"], weights)
    with log.stage("ward (all users, exact)"):
        tree, ward = ward_over_k(distinct, ks, weights)
    solutions = {**{("kmeans", k): s for k, s in kmeans.items()},
                 **{("ward", k): s for k, s in ward.items()}}
    with log.stage("silhouette (exact, all labellings)"):
        metrics = evaluate_solutions(distinct, solutions, config)
    resamples = config["stability"]["resamples"]
    with (log.stage("bootstrap stability", spinner=False),
          progress_bar(console, "bootstrap stability", resamples) as tick):
        stability = evaluation.bootstrap_stability(distinct, solutions, config["kmeans"],
                                                   config["stability"], progress=tick)
    add_stability(metrics, stability)
    chosen = evaluation.choose(metrics, config["selection"])
    knee = evaluation.find_knee(ks, [m["inertia"] for m in metrics if m["algorithm"] == "kmeans"])

    with log.stage("tiers, profiles, PCA"):
        described = describe_solutions(users, distinct, solutions, weights, config)
        best = (chosen["algorithm"], chosen["k"])
        tier = described.tiers[best]
        chosen_docs = describe_chosen(users, X, described, best, config)
    with log.stage("exploration aggregates"):
        explored = exploration.explore(users, config)

    decisions = features.feature_decisions(params, config)
    documents = {
        "features.json": decisions,
        "exploration.json": explored,
        # Value counts per model feature column: what the next build's drift check compares.
        "distributions.json": history.value_counts(users),
        "metrics.json": {"knee": {"k": knee, "method": "kneedle (kneed), convex decreasing"},
                         "silhouette": "exact over all users (weighted distinct rows)",
                         "rows": metrics},
        "stability.json": {"resamples": config["stability"]["resamples"],
                           "method": "Hennig clusterboot: bootstrap users, refit, best Jaccard "
                                     "per original cluster; >= 0.75 stable",
                           "rows": stability},
        "agreement.json": agreement_doc(described.user_labels, chosen["k"], ks),
        "segments.json": {"tier_rule": segments.TIER_RULE, "solutions": described.summaries,
                          **chosen_docs["segments"]},
        "profiles.json": {"features": list(features.FEATURE_NAMES),
                          "profile_columns": segments.PROFILE_COLUMNS,
                          "clusters": described.cluster_profiles,
                          "tiers": chosen_docs["tier_profiles"],
                          "tier_tests": segments.tier_tests(users, tier)},
        "pca.json": chosen_docs["pca"],
        "dendrogram.json": dendrogram_data(tree, distinct.counts,
                                           config["ward"]["dendrogram_merges"], ks),
        "model.json": build_model(params, decisions["formula"], described.model_solutions,
                                  chosen),
    }
    tier_totals = segments.tier_counts(tier)
    assert sum(tier_totals.values()) == len(users) == int(distinct.counts.sum())
    summary = {
        "input": {"name": data_path.name, "sha256": input_sha, "bytes": data_path.stat().st_size},
        "input_sha256": input_sha,
        "rows_in": int(report["rows"]),
        "rows_clustered": int(len(users)),
        "hierarchical_rows": int(tree[-1, 3]),
        "distinct_feature_rows": int(len(distinct.counts)),
        "chosen": {key: chosen[key] for key in ("algorithm", "k", "reason", "rule")},
        "tiers": tier_totals,
        "validation_status": report["status"],
        "versions": versions(),
        "config": config,
    }
    with log.stage("write artifacts"):
        manifest = write_artifacts(Path(out_dir), report, documents,
                                   labels_table(users, described, chosen_docs["baseline"], best),
                                   summary, run_info={
                                       "started_at": started.isoformat(timespec="seconds"),
                                       "seconds_total": round(time.perf_counter() - t0, 3),
                                       "stage_seconds": log.seconds,
                                       "peak_rss_mb": round(peak_rss_mb(), 1)})
    console.print(f"[bold]segment[/]: {len(users):,} users -> {chosen['algorithm']} "
                  f"k={chosen['k']}; tiers {tier_totals}; {time.perf_counter() - t0:.1f} s total, "
                  f"peak memory {peak_rss_mb():.0f} MiB")
    return manifest


@contextmanager
def progress_bar(console: Console, label: str, total: int) -> Iterator[Callable[[], None]]:
    """A transient rich progress bar; yields the function that advances it by one."""
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


def evaluate_solutions(distinct: Distinct, solutions: dict[tuple[str, int], Solution],
                       config: dict[str, Any]) -> list[dict[str, Any]]:
    """Metrics rows (sorted by algorithm, k) with exact silhouettes of all labellings at once."""
    keys = sorted(solutions)
    sil = silhouette_weighted_detail(distinct.rows, distinct.counts,
                                     np.stack([solutions[key].labels for key in keys]))
    return [evaluation.internal_metrics(distinct, solutions[key], sil.scores[i],
                                        sil.cluster_means[i],
                                        config["selection"]["min_cluster_share"])
            for i, key in enumerate(keys)]


def add_stability(metrics: list[dict[str, Any]], stability: list[dict[str, Any]]) -> None:
    """Copy each solution's mean and least-stable-cluster Jaccard into its metrics row."""
    by_key = {(s["algorithm"], s["k"]): s for s in stability}
    for row in metrics:
        s = by_key[(row["algorithm"], row["k"])]
        row["stability_mean"], row["stability_min"] = s["mean"], s["min"]


@dataclass
class Described:
    """Per-solution results: user labels and tiers (arrays over users), tier summaries,
    model entries and cluster profiles (JSON-ready lists)."""

    user_labels: dict[tuple[str, int], np.ndarray]
    tiers: dict[tuple[str, int], np.ndarray]
    summaries: list[dict[str, Any]]
    model_solutions: list[dict[str, Any]]
    cluster_profiles: list[dict[str, Any]]


def describe_solutions(users: pd.DataFrame, distinct: Distinct,
                       solutions: dict[tuple[str, int], Solution], weights: np.ndarray,
                       config: dict[str, Any]) -> Described:
    """Activity scores, tier map, sizes and raw-column profiles of every (algorithm, k)."""
    out = Described({}, {}, [], [], [])
    for key in sorted(solutions):
        sol = solutions[key]
        labels = sol.labels[distinct.inverse]
        scores = segments.activity_scores(sol.centroids, weights)
        tier_map = segments.tiers_from_scores(scores)
        out.user_labels[key] = labels
        out.tiers[key] = np.asarray(tier_map, dtype=object)[labels]
        out.summaries.append({"algorithm": key[0], "k": key[1],
                              "activity_score": [round(float(s), 9) for s in scores],
                              "tier_of_cluster": tier_map,
                              "tier_sizes": segments.tier_counts(out.tiers[key])})
        out.model_solutions.append({
            "algorithm": key[0], "k": key[1], "centroids": sol.centroids.tolist(),
            "tier_of_cluster": tier_map, "activity_score": [float(s) for s in scores],
            "sizes": evaluation.cluster_sizes(distinct.counts.astype(float), sol.labels, sol.k)})
        profiles = segments.group_profiles(users, labels, len(users), config["profiles"]["top_n"])
        out.cluster_profiles.extend({
            "algorithm": key[0], "k": key[1], "cluster": c, "tier": tier_map[c],
            "activity_score": round(float(scores[c]), 9),
            "centroid_scaled": [round(float(v), 9) for v in sol.centroids[c]],
            **profiles[c]} for c in range(sol.k))
    return out


def describe_chosen(users: pd.DataFrame, X: np.ndarray, described: Described,
                    best: tuple[str, int], config: dict[str, Any]) -> dict[str, Any]:
    """Tier profiles, baseline comparison, PCA sample and tier cross-tabs of the chosen model."""
    tier = described.tiers[best]
    baseline = segments.baseline_tiers(users, config["baseline"])
    top_n = config["profiles"]["top_n"]
    by_tier = segments.group_profiles(users, tier.astype(str), len(users), top_n)
    sample = projection.stratified_sample(described.user_labels[best],
                                          config["pca"]["sample_size"],
                                          config["pca"]["random_state"])
    pca = projection.pca_view(X, sample)
    pca["points"] = {
        "pc1": pca.pop("pc1"), "pc2": pca.pop("pc2"),
        **{c: users[c].to_numpy()[sample].tolist() for c in PCA_TOOLTIP_COLUMNS},
        "labels": {solution_key(*k): v[sample].tolist() for k, v in described.user_labels.items()},
        "tiers": {solution_key(*k): v[sample].tolist() for k, v in described.tiers.items()},
    }
    top_countries = [c["country"] for c in exploration.shares(users["country"], "country", top_n)
                     if c["country"] != "other"]
    in_top = users["country"].isin(top_countries).to_numpy()
    table = segments.confusion(tier, baseline)
    return {
        "baseline": baseline,
        "tier_profiles": [{"tier": t, **by_tier[t]} for t in segments.TIERS if t in by_tier],
        "pca": pca,
        "segments": {
            "baseline": {"rule": segments.baseline_rule(config["baseline"]),
                         "sizes": segments.tier_counts(baseline), "confusion": table,
                         "agreement_share": table["agreement_share"]},
            "tiers_by_country": segments.crosstab_shares(
                users["country"].to_numpy()[in_top], tier[in_top], "country"),
            "tiers_by_app": segments.crosstab_shares(users["hasAnyApp"].to_numpy(), tier,
                                                     "has_any_app"),
        },
    }


def agreement_doc(user_labels: dict[tuple[str, int], np.ndarray], k_best: int, ks: list[int]
                  ) -> dict[str, Any]:
    """K-Means vs Ward: ARI, NMI and contingency at the chosen k; ARI and NMI for every k."""
    per_k = []
    for k in ks:
        a = evaluation.agreement(user_labels[("kmeans", k)], user_labels[("ward", k)])
        per_k.append({"k": k, "ari": a["ari"], "nmi": a["nmi"]})
    return {"k": k_best,
            **evaluation.agreement(user_labels[("kmeans", k_best)], user_labels[("ward", k_best)]),
            "per_k": per_k}


def labels_table(users: pd.DataFrame, described: Described, baseline: np.ndarray,
                 best: tuple[str, int]) -> pd.DataFrame:
    """Per-user labels: identifierHash, a column per (algorithm, k), tier, baseline_tier."""
    frame = pd.DataFrame({ID_COLUMN: users[ID_COLUMN].to_numpy(np.int64)})
    for key, labels in sorted(described.user_labels.items()):
        frame[solution_key(*key)] = labels.astype(np.uint8)
    frame["tier"] = pd.Categorical(described.tiers[best], categories=list(segments.TIERS))
    frame["baseline_tier"] = pd.Categorical(baseline, categories=list(segments.TIERS))
    return frame


def write_artifacts(out_dir: Path, report: dict[str, Any], documents: dict[str, Any],
                    labels: pd.DataFrame, summary: dict[str, Any], run_info: dict[str, Any]
                    ) -> dict[str, Any]:
    """Write every artifact into a staging folder, then swap it into ``out_dir``.

    The manifest lists each file's sha256; ``run.json`` (times, memory, timestamps) is the only
    file that differs between two runs on the same input. Returns the manifest.
    """
    tmp = artifacts.staging_dir(out_dir)
    write_report(report, tmp / "validation_report.json")
    for name, doc in documents.items():
        artifacts.write_json(tmp / name, doc)
    artifacts.write_parquet(tmp / "labels.parquet", labels)
    manifest = {**summary,
                "files": {p.name: file_sha256(p) for p in sorted(tmp.iterdir())}}
    artifacts.write_json(tmp / "manifest.json", manifest)
    artifacts.write_json(tmp / "run.json", {
        **run_info, "finished_at": datetime.now(UTC).isoformat(timespec="seconds")})
    artifacts.publish(tmp, out_dir)
    return manifest
