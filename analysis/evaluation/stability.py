"""Bootstrap stability of every solution (Hennig's clusterboot on weighted distinct rows).

Each resample draws ``size`` users with replacement: all ``n`` users, or at most
``[stability].max_resample_users`` when the data holds more (an m-out-of-n bootstrap, so that a
refit costs the same whatever ``n``; the argument is on the Method page).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.clustering.distinct import Distinct
from analysis.clustering.fastward import ward_flat_labels, ward_linkage
from analysis.clustering.kmeans import kmeans_fit
from analysis.clustering.solution import Solution
from analysis.config import KMeansConfig, StabilityConfig
from analysis.evaluation.workers import in_order


def jaccard_best_match(orig: np.ndarray, boot: np.ndarray, present: np.ndarray,
                       weight: np.ndarray, k: int, k_boot: int) -> np.ndarray:
    """For each original cluster, the best Jaccard with any bootstrap cluster: float64[k].

    Sets are taken over the distinct rows ``present`` in the resample, each counted with its
    users ``weight`` (Hennig's clusterboot, on the users the resample contains).
    """
    o, b, w = orig[present], boot[present], weight[present]
    inter = np.zeros((k, k_boot))
    np.add.at(inter, (o, b), w)
    size_o = inter.sum(axis=1)
    size_b = inter.sum(axis=0)
    union = size_o[:, None] + size_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, inter / union, 0.0)
    return jac.max(axis=1)


ABSENT = 255  # refit label of a distinct row the resample does not hold


@dataclass(frozen=True)
class Refits:
    """One resample's refit labels, kept on the distinct rows it holds only (at 6 million
    users, full-length arrays for 18 solutions x 50 resamples would hold 0.4 GB):
    ``present`` int64[p] row indices, ``labels`` {(algorithm, k): uint8[p]}."""

    present: np.ndarray
    labels: dict[tuple[str, int], np.ndarray]

    def full(self, key: tuple[str, int], m: int) -> np.ndarray:
        """The refit labels of solution ``key`` on all ``m`` distinct rows: uint8[m], ABSENT
        off the resample."""
        out = np.full(m, ABSENT, dtype=np.uint8)
        out[self.present] = self.labels[key]
        return out


def resample_size(n_users: int, cfg: StabilityConfig) -> int:
    """Users drawn per resample: ``n_users``, capped at ``cfg.max_resample_users``."""
    return min(n_users, cfg.max_resample_users)


def resample_weights(distinct: Distinct, seed: np.random.SeedSequence, size: int
                     ) -> np.ndarray:
    """One resample of ``size`` users drawn with replacement from the n users: users drawn
    per distinct row, int64[m]."""
    n = distinct.n_users
    return np.random.default_rng(seed).multinomial(size, distinct.counts / n)


def resample_jaccards(distinct: Distinct, solutions: dict[tuple[str, int], Solution],
                      kmeans_cfg: KMeansConfig, size: int, seed: np.random.SeedSequence
                      ) -> tuple[dict[tuple[str, int], np.ndarray], Refits]:
    """One bootstrap resample: refit every solution's algorithm, best Jaccard per cluster.

    The resample draws ``size`` users with replacement (:func:`resample_weights`). Ward builds one
    tree and cuts every k from it; K-Means refits each k exactly as the main fit. Returns the
    Jaccards float64[k] by solution and the refit labels (:class:`Refits`).
    """
    boot_w = resample_weights(distinct, seed, size)
    present = boot_w > 0
    rows, w = distinct.rows[present], boot_w[present]
    ward_ks = sorted(k for algo, k in solutions if algo == "ward")
    flat = ward_flat_labels(ward_linkage(rows, w), ward_ks) if ward_ks else {}
    weight = distinct.counts.astype(np.float64)
    jaccards, refits = {}, Refits(np.flatnonzero(present), {})
    for (algo, k), sol in solutions.items():
        boot = (np.asarray(flat[k]) if algo == "ward"
                else kmeans_fit(rows, w, k, kmeans_cfg)[0])
        refits.labels[(algo, k)] = np.asarray(boot, dtype=np.uint8)
        full = refits.full((algo, k), len(distinct.counts))
        jaccards[(algo, k)] = jaccard_best_match(sol.labels, full.astype(np.int64), present,
                                                 weight, sol.k, k)
    return jaccards, refits


@dataclass(frozen=True)
class Bootstrap:
    """Every solution's per-cluster stability rows, each resample's refit labels and seed,
    and the users drawn per resample (``size``) out of ``n_users``."""

    rows: list[dict[str, Any]]
    refits: list[Refits]
    seeds: list[np.random.SeedSequence]
    size: int
    n_users: int


def bootstrap_stability(distinct: Distinct, solutions: dict[tuple[str, int], Solution],
                        kmeans_cfg: KMeansConfig, stability_cfg: StabilityConfig,
                        progress=None) -> Bootstrap:
    """Hennig-style bootstrap stability of every solution: per-cluster mean Jaccard.

    Resample i uses the i-th child of SeedSequence(random_state), so results do not depend on
    the number of workers. Each resample draws :func:`resample_size` users.
    ``[selection].min_stability`` is the mean Jaccard a cluster needs to count as stable.
    """
    seeds = np.random.SeedSequence(stability_cfg.random_state).spawn(stability_cfg.resamples)
    totals = {key: np.zeros(sol.k) for key, sol in solutions.items()}
    refits = []
    size = resample_size(distinct.n_users, stability_cfg)
    task = functools.partial(resample_jaccards, distinct, solutions, kmeans_cfg, size)
    for jaccards, labels in in_order(task, seeds, stability_cfg.n_jobs):
        for key, jac in jaccards.items():
            totals[key] += jac
        refits.append(labels)
        if progress:
            progress()
    rows = []
    for (algo, k), total in sorted(totals.items()):
        per_cluster = total / len(seeds)
        rows.append({"algorithm": algo, "k": k,
                     "per_cluster_jaccard": [round(float(j), 6) for j in per_cluster],
                     "mean": round(float(per_cluster.mean()), 6),
                     "min": round(float(per_cluster.min()), 6)})
    return Bootstrap(rows, refits, seeds, size, distinct.n_users)
