"""How far two labellings of the same users agree (K-Means vs Ward; tiers vs the baseline)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, cohen_kappa_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix


def agreement(labels_a: np.ndarray, labels_b: np.ndarray) -> dict[str, Any]:
    """ARI, NMI and the contingency table (rows a, cols b) of two labellings of the same users."""
    return {
        "ari": float(adjusted_rand_score(labels_a, labels_b)),
        "nmi": float(normalized_mutual_info_score(labels_a, labels_b)),
        "agreement": float(np.mean(np.asarray(labels_a) == np.asarray(labels_b))),
        "kappa": float(cohen_kappa_score(labels_a, labels_b)),
        "contingency": contingency_matrix(labels_a, labels_b).tolist(),
    }


def disagreements(a: np.ndarray, b: np.ndarray, segments: np.ndarray, top: int
                  ) -> list[dict[str, Any]]:
    """Who the users labelled differently are: per (a, b) pair off the diagonal, most users
    first, the count and the ``top`` segments they come from. ``a``, ``b``, ``segments``
    object[n] for the same users (labels comparable: same tier names, or canonical ids)."""
    frame = pd.DataFrame({"a": np.asarray(a).astype(str), "b": np.asarray(b).astype(str),
                          "segment": np.asarray(segments).astype(str)})
    off = frame[frame["a"] != frame["b"]]
    out = []
    for (x, y), part in off.groupby(["a", "b"], sort=True):
        by_segment = part["segment"].value_counts().sort_index().sort_values(
            ascending=False, kind="stable").head(top)
        out.append({"a": x, "b": y, "users": int(len(part)),
                    "segments": [{"segment": seg, "users": int(n)}
                                 for seg, n in by_segment.items()]})
    return sorted(out, key=lambda r: (-r["users"], r["a"], r["b"]))


def algorithms_agreement(user_labels: dict[tuple[str, int], np.ndarray],
                         user_tiers: dict[tuple[str, int], np.ndarray], k_chosen: int,
                         ks: list[int], segments: np.ndarray, top: int) -> dict[str, Any]:
    """K-Means vs Ward: ARI, NMI, raw agreement and Cohen's kappa of the clusters (ids are
    ordered by activity in both, so equal ids are comparable) for every k; at the chosen k the
    contingency table, the same for tiers, and who disagrees by segment."""
    per_k = []
    for k in ks:
        a = agreement(user_labels[("kmeans", k)], user_labels[("ward", k)])
        per_k.append({key: a[key] for key in ("ari", "nmi", "agreement", "kappa")} | {"k": k})
    chosen = (("kmeans", k_chosen), ("ward", k_chosen))
    tiers = agreement(user_tiers[chosen[0]], user_tiers[chosen[1]])
    return {"k": k_chosen, **agreement(user_labels[chosen[0]], user_labels[chosen[1]]),
            "tiers": {"agreement": tiers["agreement"], "kappa": tiers["kappa"]},
            "disagreements": disagreements(user_tiers[chosen[0]], user_tiers[chosen[1]],
                                           segments, top),
            "per_k": per_k}
