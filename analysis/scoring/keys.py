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

The table grows with the distinct rows (``c2c bench --scale`` records its rows). It always
covers the chosen solution and every K-Means solution; the other Ward solutions are covered
while the table stays within ``[scoring].label_table_max_rows`` rows, so that the model (and the
Score users page that embeds it) stays bounded; the rest are listed as ``left_out``: their
training users are placed like new users, by nearest centroid.
"""

from __future__ import annotations

from collections.abc import Collection
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


def needed_rows(rows: np.ndarray, labels: dict[str, np.ndarray],
                centroids: dict[str, np.ndarray], tolerance: float) -> dict[str, np.ndarray]:
    """Per solution, bool[m]: the distinct rows nearest centroid would not give back (or only
    by a margin under ``tolerance``, which float noise between machines could flip)."""
    out = {}
    for name in sorted(labels):
        nearest, _, margin, _ = assign_nearest(rows, centroids[name], tolerance)
        out[name] = (nearest != labels[name]) | (margin <= tolerance)
    return out


def covered_solutions(needed: dict[str, np.ndarray], always: Collection[str],
                      max_rows: int | None) -> list[str]:
    """The solutions the table covers: every one in ``always``, then the others, fewest needed
    rows first (ties by name), each while the table stays within ``max_rows`` rows or gains
    no row (all of them when ``max_rows`` is None)."""
    covered = sorted(name for name in needed if name in always)
    rows = np.zeros(len(next(iter(needed.values()), [])), dtype=bool)
    for name in covered:
        rows |= needed[name]
    for name in sorted((n for n in needed if n not in always),
                       key=lambda n: (int(needed[n].sum()), n)):
        union = rows | needed[name]
        if max_rows is None or int(union.sum()) <= max(max_rows, int(rows.sum())):
            covered.append(name)
            rows = union
    return sorted(covered)


def label_table(keys: np.ndarray, rows: np.ndarray, labels: dict[str, np.ndarray],
                centroids: dict[str, np.ndarray], tolerance: float,
                always: Collection[str] = (), max_rows: int | None = None) -> dict[str, Any]:
    """The training rows nearest centroid would not give back, with their stored labels.

    ``keys`` int64[m, f] and ``rows`` float64[m, f] of the distinct training rows, ``labels``
    {solution key: int64[m]}, ``centroids`` {solution key: float64[k, f]}. The table covers
    the solutions ``always`` names (the chosen one and K-Means, whose needed rows are only
    near-ties) and every other one that fits within ``max_rows`` rows
    (:func:`covered_solutions`); a training user of a covered solution always gets their own
    cluster back, one of a ``left_out`` solution only where nearest centroid agrees. Returns
    JSON-ready {"solutions": [covered keys], "left_out": [keys], "rows": ["k1,...,kf
    labels", ...] sorted by key, one base-36 character per covered solution}.
    """
    needed = needed_rows(rows, labels, centroids, tolerance)
    names = covered_solutions(needed, always, max_rows)
    mask = np.zeros(len(keys), dtype=bool)
    for name in names:
        mask |= needed[name]
    index = np.flatnonzero(mask)
    index = index[np.lexsort(keys[index].T[::-1])]
    return {"solutions": names, "left_out": sorted(set(needed) - set(names)),
            "rows": [",".join(map(str, keys[i].tolist())) + " "
                     + "".join(DIGITS[int(labels[name][i])] for name in names) for i in index]}


def stored_labels(keys: np.ndarray, table: dict[str, Any], solution: str) -> np.ndarray:
    """The table's label of ``solution`` for each key (int64[n]; -1 where the key is absent,
    and everywhere for a solution the table does not cover)."""
    if solution not in table["solutions"]:
        return np.full(len(keys), -1, dtype=np.int64)
    column = table["solutions"].index(solution)
    index = {key: DIGITS.index(text[column])
             for key, text in (row.split(" ") for row in table["rows"])}
    return np.array([index.get(",".join(map(str, k)), -1) for k in keys.tolist()],
                    dtype=np.int64)
