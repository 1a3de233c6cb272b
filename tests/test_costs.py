"""costs.json from a scale run: growth exponents, memory ratio, projection (synthetic runs)."""

from __future__ import annotations

import math

import pytest

from analysis.report.costs import PROJECTION_FACTOR, cost_document, growth_exponent


def run(users: int, distinct: int, seconds: float, memory: float, ward: float) -> dict:
    return {"n": users, "users": users, "distinct_rows": distinct, "chosen": {"k": 3},
            "pipeline_seconds": seconds * 0.8, "build": {"seconds": seconds,
                                                         "peak_tree_rss_mb": memory},
            "stage_seconds": {"read": 1.0, "ward (all users, exact)": ward,
                              "silhouette and metrics (exact)": ward / 2},
            "sizes": {"site_bytes_without_downloads": 10, "downloads_bytes": users},
            "exactness": {"all_flat_clusters_identical": True}}


def scale(*runs: dict) -> dict:
    return {"measured_at": "2026-12-01T12:00:00+00:00", "runs": list(runs),
            "machine": {"cpus": 2, "cpu_model": "x", "memory_mb": 1, "python": "3.11",
                        "git_commit": "abc", "extra": "dropped"}}


def test_growth_exponent_of_a_power_law():
    users = [10**5, 10**6, 6 * 10**6]
    assert growth_exponent(users, [3 * n**0.75 for n in users]) == pytest.approx(0.75, abs=1e-3)
    assert growth_exponent([10, 10], [1.0, 2.0]) is None
    assert growth_exponent(users, [1.0, 0.0, 2.0]) is None


def test_no_committed_run_says_so():
    assert cost_document(None, "a/scale.json") == {"measured": False, "source": "a/scale.json"}


def test_points_growth_ratio_and_projection():
    failed = {"n": 50, "error": ["line", "boom"]}
    big, small = run(6_000_000, 600_000, 900.0, 6000.0, 30.0), run(1_000_000, 150_000, 150.0,
                                                                    2000.0, 3.0)
    doc = cost_document(scale(big, failed, small), "m.json")
    assert [p["users"] for p in doc["points"]] == [1_000_000, 6_000_000]
    assert doc["failed"] == [{"n": 50, "error": "boom"}]
    assert doc["machine"]["git_commit"] == "abc" and "extra" not in doc["machine"]
    assert doc["points"][1]["ward_seconds"] == 30.0
    assert doc["points"][0]["ward_equals_float64_reference"] is True
    assert doc["memory_ratio"] == {"from_users": 1_000_000, "to_users": 6_000_000,
                                   "users_ratio": 6.0, "memory_ratio": 3.0}
    exponent = math.log(4) / math.log(6)
    assert doc["growth_exponents"]["distinct_rows"] == pytest.approx(exponent, abs=1e-3)
    ahead = doc["projection"]
    assert ahead["users"] == 6_000_000 * PROJECTION_FACTOR
    assert ahead["distinct_rows"] == pytest.approx(600_000 * 10**exponent, rel=1e-3)
    assert ahead["pairwise_work_ratio"] == pytest.approx(10 ** (2 * exponent), rel=1e-2)
    assert ahead["ward_seconds"] == pytest.approx(30.0 * 10 ** (2 * exponent), rel=1e-2)
    assert ahead["silhouette_seconds"] == pytest.approx(15.0 * 10 ** (2 * exponent), rel=1e-2)


def test_a_single_run_has_no_growth():
    doc = cost_document(scale(run(100_000, 20_000, 40.0, 900.0, 0.2)), "m.json")
    assert doc["growth_exponents"]["build_seconds"] is None
    assert doc["memory_ratio"] is None and doc["projection"] is None


def test_the_committed_scale_run_reaches_costs_json():
    """The file at [scale].measured (committed) is what the Method page draws: every run that
    succeeded becomes a point, with its own figures."""
    import json

    from analysis.config import PROJECT_ROOT, load_config
    from analysis.pipeline.documents import costs_doc

    scale = load_config().scale
    doc = costs_doc(scale)
    measured = json.loads((PROJECT_ROOT / scale.measured).read_text(encoding="utf-8"))
    runs = [r for r in measured.get("scale", measured)["runs"] if "error" not in r]
    assert doc["measured"] and len(doc["points"]) == len(runs) >= 1
    by_users = {r["users"]: r for r in runs}
    for point in doc["points"]:
        assert point["build_seconds"] == by_users[point["users"]]["build"]["seconds"]
        assert point["distinct_rows"] == by_users[point["users"]]["distinct_rows"]


def test_a_missing_measurement_is_reported_not_raised(tmp_path):
    from analysis.config import load_config
    from analysis.pipeline.documents import costs_doc

    scale = load_config().scale.model_copy(update={"measured": "no/such/scale.json"})
    assert costs_doc(scale) == {"measured": False, "source": "no/such/scale.json"}
