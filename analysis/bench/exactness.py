"""Ward's float32 scan checked against a float64 reference on one export (the scale runs'
``exactness`` entry, for exports up to ``[scale].reference_max_users`` users).

The build's Ward (:func:`analysis.clustering.fastward.ward_linkage`) scans for nearest
neighbours in float32, on both cores, with neighbour lists, and confirms every choice in
float64. The reference runs the same nearest-neighbour chain with every scan in float64, one
search at a time and no neighbour lists. Both run on the export's distinct feature rows
(the build's exact input: same reader, typing, censoring and transform) and the entry says
whether the merge sequences (slots and float64 heights) are bit-identical and whether the flat
clusters of every configured k are identical, with both times.

The silhouette needs no such check: it is computed in float64 throughout
(:mod:`analysis.clustering.silhouette`). Run as a module
(``python -m analysis.bench.exactness FILE``) it prints the entry as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from analysis.clustering.distinct import Distinct
from analysis.clustering.fastward import linkage_of_merges, ward_flat_labels, ward_linkage
from analysis.clustering.ward_chain import ward_merges
from analysis.config import Settings, load_config
from analysis.intake import reader
from analysis.intake.columnar import typed_users
from analysis.pipeline.nodes import build_features, find_placeholder

#: A number of scanned blocks no search reaches: no shared scans, no neighbour lists.
NEVER = 10**9


def distinct_features(path: Path, settings: Settings) -> Distinct:
    """The distinct feature rows the build clusters, from the export at ``path``, through the
    pipeline's own nodes (reader, typing, placeholder bound, features)."""
    users = typed_users(reader.read_raw_table(path, reader.InputLimits.of(settings.validation)))
    placeholder = find_placeholder(users, settings.placeholder)
    return build_features(users, settings.features, placeholder)[2]


def float64_reference_linkage(rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """:func:`ward_linkage` of ``rows`` float64[m, d] with weights ``counts`` int64[m], every
    scan in float64, one search at a time, no neighbour lists (the reference)."""
    w = counts.astype(np.float64)
    return linkage_of_merges(*ward_merges(rows, w, np.float64, NEVER, NEVER), w)


def ward_exactness(distinct: Distinct, ks: list[int],
                   reference: Callable[[np.ndarray, np.ndarray], np.ndarray]
                   = float64_reference_linkage) -> dict[str, Any]:
    """The build's Ward against ``reference`` (the float64 one unless a test swaps it) on
    ``distinct``, flat clusters compared for each k in ``ks``; see the module docstring."""
    start = time.perf_counter()
    ours = ward_linkage(distinct.rows, distinct.counts)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    expected = reference(distinct.rows, distinct.counts)
    reference_seconds = time.perf_counter() - start
    cuts, cuts_reference = ward_flat_labels(ours, ks), ward_flat_labels(expected, ks)
    same_cuts = {str(k): bool(np.array_equal(cuts[k], cuts_reference[k])) for k in ks}
    return {"distinct_rows": len(distinct.counts), "users": distinct.n_users,
            "ward_seconds": round(ours_seconds, 3),
            "float64_reference_seconds": round(reference_seconds, 3),
            "linkage_identical": bool(np.array_equal(ours, expected)),
            "max_abs_height_diff": float(np.max(np.abs(ours[:, 2] - expected[:, 2]),
                                                initial=0.0)),
            "flat_clusters_identical": same_cuts,
            "all_flat_clusters_identical": all(same_cuts.values())}


def exactness_bench(path: Path, settings: Settings) -> dict[str, Any]:
    """:func:`ward_exactness` on the export at ``path`` for the configured k range."""
    return ward_exactness(distinct_features(Path(path), settings), settings.kmeans.ks)


if __name__ == "__main__":
    print(json.dumps(exactness_bench(Path(sys.argv[1]), load_config())))
