"""`c2c bench` on a small synthetic export: every contract key, exactness checks hold."""

from __future__ import annotations

import json

from analysis.bench.kernels import run_bench

CONTRACT_KEYS = ["ward_speedup_vs_fastcluster", "ward_labels_identical",
                 "silhouette_speedup_vs_sklearn", "silhouette_max_abs_diff",
                 "pipeline_seconds", "peak_rss_mb", "scoring_rows_per_second"]


def test_bench_reports_every_figure_and_exactness(synthetic_run, fast_config):
    data, _, _ = synthetic_run
    config = fast_config.updated({"scoring": {"throughput_rows": 10_000}})
    result = run_bench(data, config, log=lambda *_: None)
    for key in CONTRACT_KEYS:
        assert key in result, key
    assert result["ward_labels_identical"] is True
    assert result["silhouette_max_abs_diff"] <= 1e-9
    assert result["pipeline_seconds"] > 0 and result["peak_rss_mb"] > 0
    assert all(result["intake"][step]["identical"] for step in
               ("read", "typing", "distinct", "value_counts"))
    json.dumps(result)  # the --json output must be serialisable
