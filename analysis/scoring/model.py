"""``model.json``: everything a client needs to score a new user, in plain JSON.

Python (``c2c score``) and the browser scorer read the same file and apply the same arithmetic:
the feature transform of :mod:`analysis.features.transform`, then the nearest centroid (Euclidean)
of the
chosen solution. A new user joins the Ward cluster whose centroid is nearest: Ward itself has no
rule for points that were not in the tree.

Layout::

    {"schema_version": 1,
     "features": [{"name", "column", "offset", "cap", "lo", "hi", "invert"}, ...],
     "formula": "...",
     "required_columns": ["identifierHash", <feature columns>],
     "chosen": {"algorithm": "kmeans", "k": 4},
     "tiers": ["inactive", "moderate", "active"],
     "solutions": [{"algorithm", "k", "centroids": [[f floats] x k], "tier_of_cluster": [k str],
                    "activity_score": [k floats], "sizes": [k ints]}, ...]}
"""

from __future__ import annotations

from typing import Any

from analysis.intake.schema import ID_COLUMN
from analysis.vocabulary import TIERS

MODEL_SCHEMA_VERSION = 1


def build_model(feature_params: list[dict[str, Any]], formula: str,
                solutions: list[dict[str, Any]], chosen: dict[str, Any]) -> dict[str, Any]:
    """Assemble the JSON-ready model from fitted transform params and every (algorithm, k)."""
    return {
        "schema_version": MODEL_SCHEMA_VERSION,
        "features": feature_params,
        "formula": formula,
        "required_columns": [ID_COLUMN] + [p["column"] for p in feature_params],
        "chosen": {"algorithm": chosen["algorithm"], "k": int(chosen["k"])},
        "tiers": list(TIERS),
        "solutions": solutions,
    }


def find_solution(model: dict[str, Any], algorithm: str | None = None,
                  k: int | None = None) -> dict[str, Any]:
    """The solution for (algorithm, k); either left as None falls back to the chosen one's."""
    algorithm = algorithm if algorithm is not None else model["chosen"]["algorithm"]
    k = int(k if k is not None else model["chosen"]["k"])
    for sol in model["solutions"]:
        if sol["algorithm"] == algorithm and sol["k"] == k:
            return sol
    available = sorted({(s["algorithm"], s["k"]) for s in model["solutions"]})
    raise KeyError(f"no solution for algorithm={algorithm} k={k}; available: {available}")
