"""The cost of the whole build against the number of users, from a committed scale run.

``c2c bench --scale --json FILE`` measures the real ``c2c build`` on generated exports of
several sizes (:mod:`analysis.bench.scale`); the file committed at ``[scale].measured`` is read
by the pipeline into ``costs.json`` so that the Method page can draw the cost curve and state
the measured growth that argues for the path past one machine. The figures are of that run
(its date, machine and commit are kept), not of the build that publishes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Users multiplier of the projection "an order of magnitude more users".
PROJECTION_FACTOR = 10


def growth_exponent(users: list[int], values: list[float]) -> float | None:
    """Least-squares slope of log(value) on log(users): ``value ~ users ** slope``.

    None with fewer than two distinct sizes or a value that is not positive."""
    if len(set(users)) < 2 or min(values, default=0) <= 0:
        return None
    slope = np.polyfit(np.log(np.asarray(users, dtype=float)),
                       np.log(np.asarray(values, dtype=float)), 1)[0]
    return round(float(slope), 3)


def _point(run: dict[str, Any]) -> dict[str, Any]:
    """The figures of one successful scale run that the page uses (seconds, MiB, bytes)."""
    stages = run["stage_seconds"]
    ward = next((v for k, v in stages.items() if k.startswith("ward")), None)
    silhouette = next((v for k, v in stages.items() if k.startswith("silhouette")), None)
    exact = run.get("exactness") or {}
    return {"users": run["users"], "distinct_rows": run["distinct_rows"],
            "build_seconds": run["build"]["seconds"],
            "pipeline_seconds": run["pipeline_seconds"],
            "ward_seconds": ward, "silhouette_seconds": silhouette,
            "slowest_stages": sorted(stages.items(), key=lambda kv: -kv[1])[:3],
            "peak_memory_mb": run["build"]["peak_tree_rss_mb"],
            "site_bytes": run["sizes"]["site_bytes_without_downloads"],
            "downloads_bytes": run["sizes"]["downloads_bytes"],
            "ward_equals_float64_reference": exact.get("all_flat_clusters_identical")
            if "error" not in exact else None,
            "chosen": run["chosen"]}


def _projection(points: list[dict[str, Any]], distinct_exponent: float | None
                ) -> dict[str, Any] | None:
    """Distinct rows and exact Ward and silhouette seconds at ``PROJECTION_FACTOR`` times the
    largest run, from the measured growth of distinct rows and their cost in distinct rows
    squared."""
    if distinct_exponent is None:
        return None
    top = points[-1]
    distinct = top["distinct_rows"] * PROJECTION_FACTOR ** distinct_exponent
    ratio = (distinct / top["distinct_rows"]) ** 2
    return {"users": top["users"] * PROJECTION_FACTOR, "distinct_rows": round(distinct),
            **{key: None if top[key] is None else round(top[key] * ratio, 1)
               for key in ("ward_seconds", "silhouette_seconds")},
            "pairwise_work_ratio": round(ratio, 1)}


def cost_document(scale: dict[str, Any] | None, source: str) -> dict[str, Any]:
    """``costs.json`` from a ``c2c bench --scale`` result (None when no run is committed).

    Returns the runs' points sorted by users, the failed sizes, the growth exponents of
    distinct rows, build seconds and peak memory against users (log-log least squares), the
    memory ratio between the two largest runs, the projection to ten times the users, and
    when, where and on which commit the runs were measured.
    """
    if scale is None:
        return {"measured": False, "source": source}
    good = sorted((r for r in scale["runs"] if "error" not in r), key=lambda r: r["users"])
    points = [_point(r) for r in good]
    users = [p["users"] for p in points]
    exponents = {key: growth_exponent(users, [p[key] for p in points])
                 for key in ("distinct_rows", "build_seconds", "peak_memory_mb")}
    memory_ratio = None
    if len(points) >= 2:
        low, high = points[-2], points[-1]
        memory_ratio = {"from_users": low["users"], "to_users": high["users"],
                        "users_ratio": round(high["users"] / low["users"], 2),
                        "memory_ratio": round(high["peak_memory_mb"] / low["peak_memory_mb"], 2)}
    return {"measured": True, "source": source, "measured_at": scale["measured_at"],
            "machine": {k: scale["machine"].get(k) for k in ("cpus", "cpu_model", "memory_mb",
                                                             "python", "git_commit")},
            "points": points,
            "failed": [{"n": r["n"], "error": r["error"][-1] if r["error"] else ""}
                       for r in scale["runs"] if "error" in r],
            "growth_exponents": exponents, "memory_ratio": memory_ratio,
            "projection": _projection(points, exponents["distinct_rows"])}
