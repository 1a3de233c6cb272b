"""`c2c bench --scale` on a small N: the same code path as the 6-million-user run (an export
written by scripts/make_export.py, the real `c2c build` in a child process), its JSON fields.

No timing is asserted: only that every figure is there, plausible and serialisable.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.bench.exactness import float64_reference_linkage, ward_exactness
from analysis.bench.memory import TreeMemory, tree
from analysis.bench.scale import TABLE_COLUMNS, scale_runs, table_rows
from analysis.clustering.distinct import Distinct
from tests.synthetic import make_users, write_csv

pytestmark = pytest.mark.slow

N_USERS = 2_000


@pytest.fixture(scope="module")
def scale(fast_config, tmp_path_factory):
    source = write_csv(make_users(600, seed=21), tmp_path_factory.mktemp("src") / "src.csv.zip",
                       zipped=True)
    return scale_runs([N_USERS], source, fast_config, log=lambda *_: None)


def test_the_run_records_every_figure(scale):
    assert scale["measured_at"] and scale["machine"]["cpus"] >= 1
    (run,) = scale["runs"]
    assert "error" not in run, run.get("error")
    assert run["n"] == run["users"] == N_USERS
    assert 0 < run["distinct_rows"] <= N_USERS
    assert run["export"]["exit_status"] == run["build"]["exit_status"] == 0
    assert run["export"]["bytes"] > 0
    for figure in ("peak_tree_rss_mb", "peak_process_mb", "maxrss_mb"):
        assert run["build"][figure] > 0, figure
    # the tree holds the pipeline's process, so its peak is at least the pipeline's own
    assert run["build"]["peak_process_mb"] >= 0.9 * run["pipeline_peak_rss_mb"]
    assert run["build"]["seconds"] >= run["pipeline_seconds"] > 0
    assert {"read", "validate (Great Expectations)", "bootstrap stability",
            "labels.parquet"} <= set(run["stage_seconds"])
    assert set(run["stage_peak_rss_mb"]) == set(run["stage_seconds"])
    assert max(run["stage_peak_rss_mb"].values()) <= run["pipeline_peak_rss_mb"]
    json.dumps(scale)


def test_the_intake_swaps_are_measured_on_the_export_and_agree(scale):
    intake = scale["runs"][0]["intake"]
    assert intake["users"] == N_USERS
    for step in ("read", "typing", "distinct", "value_counts"):
        assert intake[step]["identical"] is True, step
        assert set(intake["pipeline_uses"]) >= {step}
        assert all(v >= 0 for k, v in intake[step].items() if k.endswith("_seconds"))


def test_ward_is_checked_against_the_float64_reference(scale, fast_config):
    exact = scale["runs"][0]["exactness"]
    assert exact["users"] == N_USERS and exact["distinct_rows"] == scale["runs"][0]["distinct_rows"]
    assert set(exact["flat_clusters_identical"]) == {str(k) for k in fast_config.kmeans.ks}
    assert exact["linkage_identical"] and exact["all_flat_clusters_identical"]


def test_the_exactness_check_reports_a_different_tree():
    rng = np.random.default_rng(3)
    distinct = Distinct.of(rng.integers(0, 4, (400, 3)) + rng.random(3))  # 64 rows, users vary
    exact = ward_exactness(distinct, [2, 3, 4])
    assert exact["linkage_identical"] and exact["all_flat_clusters_identical"]
    assert exact["max_abs_height_diff"] == 0.0

    def off_by_weights(rows, counts):  # a "reference" on other weights: another tree
        return float64_reference_linkage(rows, counts[::-1].copy())

    broken = ward_exactness(distinct, [2, 3, 4], reference=off_by_weights)
    assert not broken["linkage_identical"] and broken["max_abs_height_diff"] > 0
    assert not broken["all_flat_clusters_identical"]


def test_the_output_sizes_are_measured(scale):
    sizes = scale["runs"][0]["sizes"]
    assert sizes["artifacts_bytes"] == sum(sizes["artifact_files"].values()) > 0
    assert {"model.json", "labels.parquet", "manifest.json"} <= set(sizes["artifact_files"])
    assert sizes["site_bytes_without_downloads"] > 0 and sizes["campaigns_bytes"] > 0
    assert sizes["downloads_bytes"] == 0  # the default site carries no user rows
    assert sizes["largest_page"]["name"].endswith(".html")
    assert sizes["label_table_rows"] >= 0


def test_the_table_has_one_row_per_run(scale):
    rows = table_rows(scale)
    assert len(rows) == 1 and len(rows[0]) == len(TABLE_COLUMNS)
    assert rows[0][0] == f"{N_USERS:,}"


def test_a_failed_build_is_recorded_not_raised(fast_config, tmp_path):
    broken = make_users(300, seed=2).drop(columns="productsSold")
    source = write_csv(broken, tmp_path / "broken.csv")
    (run,) = scale_runs([500], source, fast_config, log=lambda *_: None)["runs"]
    assert run["export"]["exit_status"] != 0 and run["error"]


def test_tree_memory_sees_children():
    import subprocess
    import sys

    code = "import time; x = bytearray(64 * 2**20); x[::4096] = b'1' * len(x[::4096]); " \
           "time.sleep(1.5)"
    parent = subprocess.Popen([sys.executable, "-c",
                               f"import subprocess, sys; subprocess.run([sys.executable, '-c', "
                               f"{code!r}])"])
    with TreeMemory(parent.pid, 0.05) as memory:
        parent.wait()
    assert memory.samples > 1 and memory.peak_process_mb >= 64
    assert memory.peak_tree_mb >= memory.peak_process_mb


def test_tree_lists_descendants():
    import os
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert child.pid in tree(os.getpid())
    finally:
        child.kill()
        child.wait()
