"""Exact labels for users the model was fitted on, found by integer keys, not by floats.

A user's feature row is a function of eight integers: ``key_j = min(max(min(v_j, censor_j) -
offset_j, 0), limit_j)``, where ``limit_j`` is the smallest integer excess whose log1p reaches
the feature's cap (above it every value maps to the same capped feature). Two users have the
same feature row exactly when they have the same key, so the distinct training rows are the
distinct keys, and a lookup table of keys needs no float comparison on any machine.

Nearest-centroid scoring gives every training row back its own K-Means cluster (the fit's
own centroids labelled the rows), but not its Ward cluster (Ward has no centroid rule). The
table therefore holds the training rows that nearest centroid would not give back -- or would
only by a margin under the tie tolerance, which float noise between machines could flip --
with their stored labels for every solution. A user whose key is in the table gets the stored
labels; anyone else the nearest centroid.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.scoring.nearest import assign_nearest
from analysis.vocabulary import CLUSTER_DIGITS

#: One base-36 character per solution label in the table (so k is at most 36).
DIGITS = CLUSTER_DIGITS


def integer_keys(values: np.ndarray, params: list[dict[str, Any]]) -> np.ndarray:
    """int64[n, f] keys of raw model columns ``values`` int64[n, f] (model column order)."""
    values = np.asarray(values, dtype=np.int64)
    out = np.empty_like(values)
    for j, p in enumerate(params):
        v = values[:, j] if p.get("censor") is None else np.minimum(values[:, j], p["censor"])
        out[:, j] = np.minimum(np.maximum(v - int(p["offset"]), 0), int(p["key_limit"]))
    return out


def label_table(keys: np.ndarray, rows: np.ndarray, labels: dict[str, np.ndarray],
                centroids: dict[str, np.ndarray], tolerance: float) -> dict[str, Any]:
    """The training rows nearest centroid would not give back, with every stored label.

    ``keys`` int64[m, f] and ``rows`` float64[m, f] of the distinct training rows, ``labels``
    {solution key: int64[m]}, ``centroids`` {solution key: float64[k, f]}. Returns JSON-ready
    {"solutions": [keys], "keys": [[f ints], ...] sorted, "labels": [one base-36 character per
    solution, ...]}.
    """
    names = sorted(labels)
    needed = np.zeros(len(keys), dtype=bool)
    for name in names:
        nearest, _, margin, _ = assign_nearest(rows, centroids[name], tolerance)
        needed |= (nearest != labels[name]) | (margin <= tolerance)
    index = np.flatnonzero(needed)
    index = index[np.lexsort(keys[index].T[::-1])]
    return {"solutions": names,
            "rows": [",".join(map(str, keys[i].tolist())) + " "
                     + "".join(DIGITS[int(labels[name][i])] for name in names) for i in index]}


def stored_labels(keys: np.ndarray, table: dict[str, Any], solution: str) -> np.ndarray:
    """The table's label of ``solution`` for each key (int64[n]; -1 where the key is absent)."""
    column = table["solutions"].index(solution)
    index = {key: DIGITS.index(text[column])
             for key, text in (row.split(" ") for row in table["rows"])}
    return np.array([index.get(",".join(map(str, k)), -1) for k in keys.tolist()],
                    dtype=np.int64)
