"""Scale run: how cost grows with the number of users (validation, K-Means, tiers, scoring).

The real rows are resampled with small noise to N users (fresh unique ids; activity counts and
days since login jittered within valid ranges, so the file still passes validation). Each N runs
in its own process (``python -m analysis.bench.scale N``) so that peak memory is that N's alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.clustering.distinct import Distinct
from analysis.clustering.kmeans import kmeans_fit
from analysis.clustering.solution import weighted_centroids
from analysis.config import Settings
from analysis.features import transform as features
from analysis.features.activity import activity_scores, score_weights
from analysis.intake.reader import InputLimits, coerce_types, read_raw_table, to_numpy_dtypes
from analysis.intake.schema import COUNT_COLUMNS, ID_COLUMN
from analysis.pipeline.nodes import find_placeholder
from analysis.pipeline.runner import peak_rss_mb
from analysis.scoring.model import build_model
from analysis.segments import tiers as segments


def noisy_resample(users: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` users drawn with replacement from ``users`` (typed, NumPy dtypes) with small noise.

    Non-zero counts are scaled by exp(N(0, 0.1)) and rounded (at least 1 stays 1); days since
    login move by -3..3 within [0, seniority]; identifierHash values are fresh and unique.
    """
    rng = np.random.default_rng(seed)
    out = users.iloc[rng.integers(0, len(users), n)].reset_index(drop=True)
    for column in COUNT_COLUMNS:
        values = out[column].to_numpy()
        jitter = np.rint(values * np.exp(rng.normal(0.0, 0.1, n))).astype(np.int64)
        out[column] = np.where(values > 0, np.maximum(jitter, 1), values)
    days = out["daysSinceLastLogin"].to_numpy() + rng.integers(-3, 4, n)
    out["daysSinceLastLogin"] = np.clip(days, 0, out["seniority"].to_numpy())
    ids = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, n, dtype=np.int64)
    while len(np.unique(ids)) < n:  # astronomically rare; keep ids unique all the same
        ids = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, n, dtype=np.int64)
    out[ID_COLUMN] = ids
    return out


def as_text(users: pd.DataFrame) -> pd.DataFrame:
    """The typed frame as the reader returns a file: every cell as its text."""
    return pd.DataFrame({c: users[c].astype(str) for c in users.columns})


def scale_run(n: int, data_path: Path, config: Settings, seed: int = 0) -> dict[str, Any]:
    """Time each stage on ``n`` noisy resampled users; returns seconds per stage and peak MiB."""
    from validation.runner import validate_users

    seconds: dict[str, float] = {}

    def timed(name, fn, *args):
        t0 = time.perf_counter()
        result = fn(*args)
        seconds[name] = round(time.perf_counter() - t0, 3)
        return result

    limits = InputLimits.of(config.validation)
    base = to_numpy_dtypes(coerce_types(read_raw_table(data_path, limits))[0])
    users = timed("resample", noisy_resample, base, n, seed)
    raw = timed("to_text", as_text, users)
    report = timed("validate", validate_users, raw, f"resampled-{n}",
                   config.validation, config.placeholder)
    del raw
    k = config.scale.k
    weights = score_weights(config.tiers.weights)

    def cluster():
        censor = find_placeholder(users, config.placeholder)["censor_days"]
        params = features.fit_transform_params(users, config.features, censor)
        distinct = Distinct.of(features.transform(users, params))
        labels, _, _ = kmeans_fit(distinct.rows, distinct.counts, k, config.kmeans)
        centroids = weighted_centroids(distinct.rows, distinct.counts, labels, k)
        return params, distinct, centroids

    params, distinct, centroids = timed("kmeans", cluster)

    def tiers():
        scores = activity_scores(centroids, weights)
        tier_map = np.asarray(segments.tiers_from_scores(scores), dtype=object)
        labels = np.argmin(((distinct.rows[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
        return tier_map, tier_map[labels][distinct.inverse]

    tier_map, user_tiers = timed("tiers", tiers)
    model = build_model(params, "", [{"algorithm": "kmeans", "k": k,
                                      "centroids": centroids.tolist(),
                                      "tier_of_cluster": tier_map.tolist()}],
                        {"algorithm": "kmeans", "k": k})
    from analysis.scoring.score import score_frame

    scored = timed("scoring", score_frame, users, model)
    assert len(scored) == n == len(user_tiers)
    return {"n": n, "validation_status": report["status"], "distinct_rows": len(distinct.counts),
            "stage_seconds": seconds, "total_seconds": round(sum(seconds.values()), 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "tiers": segments.tier_counts(user_tiers)}


def scale_runs(sizes: list[int], data_path: Path) -> list[dict[str, Any]]:
    """Run :func:`scale_run` for each size in a fresh Python process; results in size order."""
    results = []
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, "-m", "analysis.bench.scale", str(n), str(data_path)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            results.append({"n": n, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return results


if __name__ == "__main__":
    from analysis.config import load_config

    print(json.dumps(scale_run(int(sys.argv[1]), Path(sys.argv[2]), load_config())))
