"""How far two labellings of the same users agree (K-Means vs Ward; tiers vs the baseline)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix


def agreement(labels_a: np.ndarray, labels_b: np.ndarray) -> dict[str, Any]:
    """ARI, NMI and the contingency table (rows a, cols b) of two labellings of the same users."""
    return {
        "ari": float(adjusted_rand_score(labels_a, labels_b)),
        "nmi": float(normalized_mutual_info_score(labels_a, labels_b)),
        "contingency": contingency_matrix(labels_a, labels_b).tolist(),
    }


def algorithms_agreement(user_labels: dict[tuple[str, int], np.ndarray], k_chosen: int,
                         ks: list[int]) -> dict[str, Any]:
    """K-Means vs Ward: ARI, NMI and contingency at the chosen k; ARI and NMI for every k."""
    per_k = []
    for k in ks:
        a = agreement(user_labels[("kmeans", k)], user_labels[("ward", k)])
        per_k.append({"k": k, "ari": a["ari"], "nmi": a["nmi"]})
    return {"k": k_chosen,
            **agreement(user_labels[("kmeans", k_chosen)], user_labels[("ward", k_chosen)]),
            "per_k": per_k}
