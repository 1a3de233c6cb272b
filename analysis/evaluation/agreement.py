"""How far two labellings of the same users agree (K-Means vs Ward; tiers vs the baseline)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, cohen_kappa_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix


def shared_codes(labels_a: np.ndarray, labels_b: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                         np.ndarray]:
    """Both labellings as int64 codes into their sorted union of values (the order
    ``np.unique`` gives), and that union: ``(codes_a, codes_b, values)``.

    Equal values get equal codes and codes sort as the values do, so every metric and table
    below is the same on the codes as on the values (text labels of millions of users are
    slow to sort and compare)."""
    codes, values = pd.factorize(np.concatenate([np.asarray(labels_a, dtype=object),
                                                 np.asarray(labels_b, dtype=object)]),
                                 sort=True)
    n = len(labels_a)
    return codes[:n].astype(np.int64), codes[n:].astype(np.int64), np.asarray(values)


def agreement(labels_a: np.ndarray, labels_b: np.ndarray) -> dict[str, Any]:
    """ARI, NMI, raw agreement, Cohen's kappa and the contingency table (rows a, cols b) of two
    labellings of the same users (integers, or text turned into :func:`shared_codes`)."""
    labels_a, labels_b = np.asarray(labels_a), np.asarray(labels_b)
    if labels_a.dtype.kind not in "iub" or labels_b.dtype.kind not in "iub":
        labels_a, labels_b, _ = shared_codes(labels_a, labels_b)
    return {
        "ari": float(adjusted_rand_score(labels_a, labels_b)),
        "nmi": float(normalized_mutual_info_score(labels_a, labels_b)),
        "agreement": float(np.mean(labels_a == labels_b)),
        "kappa": float(cohen_kappa_score(labels_a, labels_b)),
        "contingency": contingency_matrix(labels_a, labels_b).tolist(),
    }


def disagreements(a: np.ndarray, b: np.ndarray, segments: np.ndarray, top: int
                  ) -> list[dict[str, Any]]:
    """Who the users labelled differently are: per (a, b) pair off the diagonal, most users
    first, the count and the ``top`` segments they come from (most users first, then by name).
    ``a``, ``b``, ``segments`` [n] for the same users (labels comparable: same tier names, or
    canonical ids). Counted on integer codes: no text array of n users is made."""
    code_a, code_b, values = shared_codes(a, b)
    names, (code_a, code_b) = _text_codes(values, code_a, code_b)
    code_s, segment_values = pd.factorize(np.asarray(segments, dtype=object))
    segment_names, (code_s,) = _text_codes(segment_values, code_s)
    off = code_a != code_b
    n_v, n_s = len(names), len(segment_names)
    keys, counts = np.unique((code_a[off] * n_v + code_b[off]) * n_s + code_s[off],
                             return_counts=True)
    pairs: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
        pair, seg = divmod(key, n_s)
        x, y = divmod(pair, n_v)
        pairs.setdefault((names[x], names[y]), []).append((segment_names[seg], count))
    out = []
    for (x, y), by_segment in pairs.items():
        ranked = sorted(by_segment, key=lambda sc: (-sc[1], sc[0]))[:top]
        out.append({"a": x, "b": y, "users": sum(c for _, c in by_segment),
                    "segments": [{"segment": seg, "users": c} for seg, c in ranked]})
    return sorted(out, key=lambda r: (-r["users"], r["a"], r["b"]))


def _text_codes(values: np.ndarray, *codes: np.ndarray) -> tuple[list[str], list[np.ndarray]]:
    """Codes into ``values`` recoded into the distinct texts of the values (two values with
    the same text share a code, as they would in a text column): (texts, recoded codes)."""
    text_codes, texts = pd.factorize(np.array([str(v) for v in values], dtype=object))
    return list(texts), [text_codes[c] for c in codes]


def _cluster_names(labels: np.ndarray) -> np.ndarray:
    """Cluster ids as names ("cluster 0", ...): object[n]."""
    names = np.array([f"cluster {c}" for c in range(int(labels.max()) + 1)], dtype=object)
    return names[labels]


def algorithms_agreement(user_labels: dict[tuple[str, int], np.ndarray],
                         user_tiers: dict[tuple[str, int], np.ndarray], k_chosen: int,
                         ks: list[int], segments: np.ndarray, top: int) -> dict[str, Any]:
    """K-Means vs Ward: ARI, NMI, raw agreement and Cohen's kappa of the clusters (ids are
    ordered by activity in both, so equal ids are comparable) for every k; at the chosen k the
    contingency table, the same for tiers (one rule inside every cluster: the same tiers), and
    which clusters the users the two algorithms place differently come from, by segment."""
    per_k = []
    for k in ks:
        a = agreement(user_labels[("kmeans", k)], user_labels[("ward", k)])
        per_k.append({key: a[key] for key in ("ari", "nmi", "agreement", "kappa")} | {"k": k})
    chosen = (("kmeans", k_chosen), ("ward", k_chosen))
    tiers = agreement(user_tiers[chosen[0]], user_tiers[chosen[1]])
    return {"k": k_chosen, **agreement(user_labels[chosen[0]], user_labels[chosen[1]]),
            "tiers": {"agreement": tiers["agreement"], "kappa": tiers["kappa"]},
            "disagreements": disagreements(_cluster_names(user_labels[chosen[0]]),
                                           _cluster_names(user_labels[chosen[1]]),
                                           segments, top),
            "per_k": per_k}
