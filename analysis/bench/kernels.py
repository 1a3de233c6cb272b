"""Time the exact distinct-row algorithms against the all-rows baselines, in the same run.

``bench_ward`` compares :func:`analysis.clustering.fastward.ward_users` (distinct rows, weighted
Ward,
cuts) with ``fastcluster.linkage_vector(X, "ward")`` on every row; ``bench_silhouette``
compares :func:`analysis.clustering.silhouette.silhouette_weighted` (all labellings in one pass)
with
``sklearn.metrics.silhouette_score`` on every row (one labelling). Times are wall-clock
seconds from ``time.perf_counter``; numba compilation (or loading its cache) is done by a
warm-up call on a few rows, reported separately as ``*_compile_seconds`` and excluded from
the timed runs. Each timed call runs once: on a shared machine, rerun to see the spread.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from analysis.clustering.fastward import distinct_rows, ward_flat_labels, ward_users
from analysis.clustering.silhouette import silhouette_weighted
from analysis.config import Settings

#: Distinct rows used by the warm-up call that triggers numba compilation.
WARMUP_ROWS = 64


def bench_ward(X: np.ndarray, k_values: list[int]) -> dict:
    """Time weighted Ward on distinct rows against fastcluster on all rows, and compare.

    Args:
        X: float64[n, d] user features (all users).
        k_values: cluster counts whose flat clusters are compared.

    Returns:
        ``ward_seconds`` (distinct rows + weighted Ward + cuts + expansion to users),
        ``fastcluster_seconds`` (``fastcluster.linkage_vector(X, "ward")`` alone),
        ``ward_speedup_vs_fastcluster`` (their ratio), ``ward_labels_identical`` (every ``k``
        gives the same partition of the users), ``ward_min_ari`` (smallest adjusted Rand
        index over ``k``), ``ward_max_rel_height_diff`` (largest relative difference between
        our merge heights and fastcluster's non-zero ones, both sorted), ``ward_compile_seconds``,
        ``n_users``, ``n_distinct``.
    """
    import fastcluster
    from sklearn.metrics import adjusted_rand_score

    X = np.ascontiguousarray(X, dtype=np.float64)
    ks = sorted({int(k) for k in k_values})
    compile_seconds = _timed(lambda: ward_users(_warmup_rows(X), [1]))[0]
    ward_seconds, (Z, ours, U, _, _) = _timed(lambda: ward_users(X, ks))
    fc_seconds, Z_fc = _timed(lambda: fastcluster.linkage_vector(X, "ward"))
    theirs = ward_flat_labels(Z_fc, ks)
    aris = [adjusted_rand_score(ours[k], theirs[k]) for k in ks]
    return {
        "ward_seconds": ward_seconds,
        "fastcluster_seconds": fc_seconds,
        "ward_speedup_vs_fastcluster": fc_seconds / ward_seconds,
        "ward_labels_identical": all(same_partition(ours[k], theirs[k]) for k in ks),
        "ward_min_ari": float(min(aris)),
        "ward_max_rel_height_diff": _max_rel_height_diff(Z, Z_fc),
        "ward_compile_seconds": compile_seconds,
        "n_users": int(X.shape[0]),
        "n_distinct": int(U.shape[0]),
    }


def bench_silhouette(X: np.ndarray, labels_full: np.ndarray) -> dict:
    """Time the distinct-row silhouette of all labellings against sklearn on one labelling.

    Args:
        X: float64[n, d] user features (all users).
        labels_full: int[L, n] user labels per labelling; users on the same feature row must
            share a label (true of any clustering of ``X``).

    Returns:
        ``silhouette_seconds_all_labellings`` (ours, all ``L``, including finding the distinct
        rows), ``silhouette_seconds_one_labelling`` (ours, the first labelling alone),
        ``sklearn_seconds_one_labelling`` (``silhouette_score(X, labels_full[0])``),
        ``silhouette_speedup_vs_sklearn`` = ``L * sklearn_seconds_one_labelling /
        silhouette_seconds_all_labellings`` (same work: all ``L``, sklearn's time extrapolated
        from its one run), ``silhouette_speedup_per_labelling`` = ``sklearn_seconds_one_labelling
        / silhouette_seconds_one_labelling`` (one labelling each, both measured),
        ``silhouette_max_abs_diff`` (``|ours - sklearn|`` on the first labelling),
        ``silhouette_compile_seconds``, ``silhouette_n_labellings``, ``n_users``, ``n_distinct``.
    """
    from sklearn.metrics import silhouette_score

    X = np.ascontiguousarray(X, dtype=np.float64)
    labels_full = np.atleast_2d(np.asarray(labels_full))
    if labels_full.shape[1] != X.shape[0]:
        raise ValueError(f"labels_full must have shape (L, {X.shape[0]}), "
                         f"got {labels_full.shape}")
    n_labellings = labels_full.shape[0]
    compile_seconds = _timed(lambda: _warmup_silhouette(X))[0]
    all_seconds, (ours, n_distinct) = _timed(lambda: _silhouette_from_users(X, labels_full))
    one_seconds = _timed(lambda: _silhouette_from_users(X, labels_full[:1]))[0]
    sklearn_seconds, reference = _timed(lambda: silhouette_score(X, labels_full[0]))
    return {
        "silhouette_seconds_all_labellings": all_seconds,
        "silhouette_seconds_one_labelling": one_seconds,
        "sklearn_seconds_one_labelling": sklearn_seconds,
        "silhouette_speedup_vs_sklearn": n_labellings * sklearn_seconds / all_seconds,
        "silhouette_speedup_per_labelling": sklearn_seconds / one_seconds,
        "silhouette_max_abs_diff": float(abs(ours[0] - reference)),
        "silhouette_compile_seconds": compile_seconds,
        "silhouette_n_labellings": n_labellings,
        "n_users": int(X.shape[0]),
        "n_distinct": n_distinct,
    }


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether int[n] labellings ``a`` and ``b`` split the items identically (up to names)."""
    pairs = np.unique(np.stack([np.asarray(a), np.asarray(b)]), axis=1)
    return pairs.shape[1] == len(np.unique(a)) == len(np.unique(b))


def distinct_labels(labels_full: np.ndarray, inverse: np.ndarray, m: int) -> np.ndarray:
    """User labels int[L, n] as labels of the ``m`` distinct rows, int64[L, m].

    Raises:
        ValueError: when users on one distinct row have different labels.
    """
    labels_full = np.atleast_2d(np.asarray(labels_full))
    out = np.empty((labels_full.shape[0], m), dtype=np.int64)
    out[:, inverse] = labels_full
    if not np.array_equal(out[:, inverse], labels_full):
        raise ValueError("users with identical feature rows have different labels")
    return out


# --- helpers ----------------------------------------------------------------------------------

def _timed(fn):
    """``(seconds, result)`` of one call of ``fn`` (wall clock)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _warmup_rows(X: np.ndarray) -> np.ndarray:
    """The first ``WARMUP_ROWS`` distinct rows of ``X`` (at least 3 rows, for 2 clusters)."""
    U = distinct_rows(X)[0][:WARMUP_ROWS]
    return U if U.shape[0] >= 3 else np.vstack([U, U[:1] + 1.0, U[:1] + 2.0])


def _warmup_silhouette(X: np.ndarray) -> None:
    """Compile the silhouette kernels on a few distinct rows."""
    U = _warmup_rows(X)
    silhouette_weighted(U, np.ones(U.shape[0], dtype=np.int64), np.arange(U.shape[0]) % 2)


def _silhouette_from_users(X: np.ndarray, labels_full: np.ndarray) -> tuple[np.ndarray, int]:
    """Our silhouettes float64[L] from user-level inputs, and the number of distinct rows."""
    U, counts, inverse = distinct_rows(X)
    labels = distinct_labels(labels_full, inverse, U.shape[0])
    return silhouette_weighted(U, counts, labels), U.shape[0]


def _max_rel_height_diff(Z: np.ndarray, Z_full: np.ndarray) -> float:
    """Largest relative difference between the sorted heights of ``Z`` (distinct rows) and
    the largest ``len(Z)`` heights of ``Z_full`` (all rows; the rest merge duplicates at 0
    or at round-off level)."""
    ours = np.sort(Z[:, 2])
    theirs = np.sort(Z_full[:, 2])[-len(ours):] if len(ours) else ours
    scale = np.maximum(np.abs(ours), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(ours - theirs) / scale)) if len(ours) else 0.0


# --------------------------------------------------------------------------------------------
# The whole benchmark (`c2c bench`)
# --------------------------------------------------------------------------------------------

def timed_subprocess(argv: list[str]) -> tuple[float, int]:
    """Run ``argv`` quietly; (wall seconds, exit status)."""
    import subprocess

    t0 = time.perf_counter()
    status = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            check=False).returncode
    return time.perf_counter() - t0, status


def resample_rows(typed: pd.DataFrame, n_rows: int, seed: int) -> pd.DataFrame:
    """``n_rows`` rows drawn with replacement from ``typed`` (in memory, for timing)."""
    rng = np.random.default_rng(seed)
    return typed.iloc[rng.integers(0, len(typed), n_rows)].reset_index(drop=True)


def scoring_throughput(typed: pd.DataFrame, model: dict[str, Any], algorithm: str | None = None,
                       k: int | None = None, repeats: int = 3) -> float:
    """Rows per second of :func:`score_frame` on ``typed`` (best of ``repeats``), no I/O."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        from analysis.scoring.score import score_frame

        score_frame(typed, model, algorithm, k)
        best = min(best, time.perf_counter() - t0)
    return len(typed) / best


def run_bench(data_path, config: Settings, log=print) -> dict:
    """The kernels against their baselines, measured side by side in one run.

    Ward and silhouette against their all-rows baselines on the real users (exactness
    included), the whole ``c2c segment`` in a child process (wall time, peak RSS), scoring
    throughput without I/O. The scale runs are :mod:`analysis.bench.scale`'s.
    """
    import json
    import sys
    import tempfile
    from pathlib import Path

    from analysis.clustering.distinct import Distinct
    from analysis.clustering.kmeans import kmeans_over_k
    from analysis.clustering.ward import ward_over_k
    from analysis.features.activity import score_weights
    from analysis.features.transform import fit_transform_params, transform
    from analysis.intake.reader import InputLimits, load_users
    from analysis.pipeline.nodes import find_placeholder
    from analysis.scoring import score as scoring

    users = load_users(data_path, InputLimits.of(config.validation))
    placeholder = find_placeholder(users, config.placeholder)
    X = transform(users, fit_transform_params(users, config.features,
                                              placeholder["censor_days"]))
    distinct = Distinct.of(X)
    weights = score_weights(config.tiers.weights)
    solutions = [*kmeans_over_k(distinct, config.kmeans, weights).values(),
                 *ward_over_k(distinct, config.kmeans.ks, weights)[1].values()]
    labels_full = np.stack([s.labels[distinct.inverse] for s in solutions])

    log("Ward: ours (distinct rows, weighted) vs fastcluster.linkage_vector on all rows ...")
    result = bench_ward(X, config.kmeans.ks)
    log("Silhouette: ours (18 labellings) vs sklearn.metrics.silhouette_score (1 labelling) ...")
    result.update(bench_silhouette(X, labels_full))
    log("The whole `c2c segment` in a child process ...")
    with tempfile.TemporaryDirectory() as tmp:
        seconds, status = timed_subprocess(
            [sys.executable, "-m", "analysis.cli", "segment", "--data", str(data_path),
             "--out", str(Path(tmp) / "artifacts")])
        if status != 0:
            raise RuntimeError(f"c2c segment failed with exit status {status}")
        model = scoring.load_model(Path(tmp) / "artifacts" / "model.json")
        run = json.loads((Path(tmp) / "artifacts" / "run.json").read_text())
    # peak_rss_mb: the pipeline's main process (VmHWM, see pipeline.peak_rss_mb); the
    # bootstrap workers are separate processes, each holding a copy of the distinct rows.
    result.update({"pipeline_seconds": seconds, "peak_rss_mb": run["peak_rss_mb"]})
    log("Scoring throughput (no I/O) ...")
    sample = resample_rows(users, config.scoring.throughput_rows, config.scoring.throughput_seed)
    result["scoring_rows_per_second"] = scoring_throughput(sample, model)
    result["scoring_rows"] = len(sample)
    log("Intake: pyarrow + pandas / NumPy against polars, step by step ...")
    from analysis.bench.intake import intake_bench

    result["intake"] = intake_bench(Path(data_path), config)
    return result
