"""How stable each segment is under the same bootstrap resamples as the clusters.

Per resample, the chosen solution's refit (kept by :func:`.stability.bootstrap_stability`)
gives new cluster centroids, hence new tiers (activity score, natural breaks); the recent cut
is re-estimated on the resampled users; every distinct row then falls in a (tier, type) cell
and, through the full fit's segment map, in a segment. A segment's score is its mean Jaccard
with the same-named segment over the resamples, on the users present in each resample
(clusterboot's convention). Segments are matched by name: no best-match search is needed.
"""

from __future__ import annotations

import numpy as np

from analysis.clustering.distinct import Distinct
from analysis.clustering.solution import weighted_centroids
from analysis.evaluation.stability import Bootstrap, resample_weights
from analysis.features.activity import activity_scores
from analysis.segments.tiers import tiers_from_scores
from analysis.segments.types import TYPE_IDS, recent_cut_days, type_codes
from analysis.vocabulary import TIERS


def _cell_segments(mapping: dict[str, dict[str, str]], names: list[str]) -> np.ndarray:
    """Segment index per (tier, type) cell, int64[3 * 9 + 1] (-1: no such segment; the last
    entry stands for rows without a tier)."""
    lookup = np.full(len(TIERS) * len(TYPE_IDS) + 1, -1, dtype=np.int64)
    for t, tier in enumerate(TIERS):
        for j, type_id in enumerate(TYPE_IDS):
            name = mapping.get(tier, {}).get(type_id)
            if name is not None:
                lookup[t * len(TYPE_IDS) + j] = names.index(name)
    return lookup


def _row_segments(tier_code: np.ndarray, types: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    cell = np.where(tier_code >= 0, tier_code * len(TYPE_IDS) + types, len(lookup) - 1)
    return lookup[cell]


def _refit_tiers(distinct: Distinct, labels: np.ndarray, boot_w: np.ndarray, k: int,
                 weights: np.ndarray) -> np.ndarray:
    """Tier index of every present row after a refit (-1 off the resample): int64[m]."""
    present = boot_w > 0
    labels = labels[present].astype(np.int64)
    centroids = weighted_centroids(distinct.rows[present], boot_w[present].astype(float),
                                   labels, k)
    tier_of_cluster = tiers_from_scores(activity_scores(centroids, weights))
    codes = np.array([TIERS.index(t) for t in tier_of_cluster], dtype=np.int64)
    out = np.full(len(boot_w), -1, dtype=np.int64)
    out[present] = codes[labels]
    return out


def segment_stability(distinct: Distinct, boot: Bootstrap, key: tuple[str, int],
                      weights: np.ndarray, row_tiers: np.ndarray, row_days: np.ndarray,
                      row_roles: np.ndarray, censor_days: int | None,
                      mapping: dict[str, dict[str, str]]) -> dict[str, float]:
    """Mean bootstrap Jaccard of every segment of the chosen solution ``key``.

    ``row_tiers`` int64[m] tier index of each distinct row in the full fit, ``row_days``
    int64[m] its censored days since login, ``row_roles`` int64[m] its role code; ``weights``
    the activity weights; ``mapping`` the full fit's segment map.
    """
    names = sorted({name for by_type in mapping.values() for name in by_type.values()})
    lookup = _cell_segments(mapping, names)
    counts = distinct.counts.astype(np.float64)
    cut = recent_cut_days(row_days, censor_days, counts)
    original = _row_segments(row_tiers, type_codes(row_roles, row_days, censor_days, cut), lookup)
    totals = np.zeros(len(names))
    for seed, refit in zip(boot.seeds, boot.refits, strict=True):
        boot_w = resample_weights(distinct, seed, boot.size)
        tiers = _refit_tiers(distinct, refit.full(key, len(distinct.counts)), boot_w, key[1],
                             weights)
        cut = recent_cut_days(row_days, censor_days, boot_w.astype(np.float64))
        again = _row_segments(tiers, type_codes(row_roles, row_days, censor_days, cut), lookup)
        present = boot_w > 0
        o, b, w = original[present], again[present], counts[present]
        same = (o == b) & (o >= 0)
        inter = np.bincount(o[same], weights=w[same], minlength=len(names))
        size_o = np.bincount(o[o >= 0], weights=w[o >= 0], minlength=len(names))
        size_b = np.bincount(b[b >= 0], weights=w[b >= 0], minlength=len(names))
        union = size_o + size_b - inter
        totals += np.where(union > 0, inter / np.maximum(union, 1e-300), 0.0)
    return {name: float(totals[i] / len(boot.seeds)) for i, name in enumerate(names)}
