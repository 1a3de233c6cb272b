"""The nearest-neighbour chain for weighted Ward: set-up, the chain, merges (numba kernels).

:func:`ward_merges` builds the state and runs :func:`_nn_chain_ward`, which follows scipy's
``nn_chain``: grow a chain of nearest neighbours from the lowest live slot until two clusters
are each other's nearest, merge them into the higher slot (fastcluster's centroid update, in
float64), go on from the rest of the chain. Each step is one exact search
(:func:`_search`: a neighbour list of :mod:`analysis.clustering.ward_lists` when it holds the
answer, else :func:`analysis.clustering.ward_search.nearest`); dead positions are compacted
away once they exceed ``COMPACT_DEAD_FRACTION`` of the scanned length.

Slots are the leaves' indices ``0..m-1`` (a merged cluster keeps the higher one); positions
are where a slot sits in the arrays (``slot_of``/``pos_of``, int64[m]), in slot order.
``state`` is the tuple (centroids_t float64[d, m] in feature units, weights float64[m] in
users, scan_t [d, m] and scan_w [m] the centred scan copies (float32, or float64 where float32
cannot hold the data), box_low, box_high float64[d, n_blocks] and block_w float64[n_blocks],
see :mod:`analysis.clustering.ward_blocks`); a dead position holds inf in row 0 of both
centroid copies.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit

from analysis.clustering import kernel_cache
from analysis.clustering.ward_blocks import PARALLEL_MIN_BLOCKS, SCAN_BLOCK, refresh_boxes
from analysis.clustering.ward_lists import (
    LIST_MIN_BLOCKS,
    LIST_OWNERS,
    NEIGHBOUR_LIST,
    build_list,
    lists_after_merge,
)
from analysis.clustering.ward_search import nearest, prefer_previous, scan_precision

kernel_cache.drop_stale("ward")  # these kernels call the other ward_* modules'

#: Compact the live-cluster arrays once dead slots exceed this fraction of the scanned length.
COMPACT_DEAD_FRACTION = 0.25


def ward_merges(U: np.ndarray, w: np.ndarray, dtype=None,
                parallel_min: int = PARALLEL_MIN_BLOCKS, list_min: int = LIST_MIN_BLOCKS,
                neighbours: int = NEIGHBOUR_LIST
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nearest-neighbour chain's merges of ``U`` float64[m, d] with weights float64[m].

    Returns ``first``, ``second`` int64[m - 1] slots and float64[m - 1] heights in merge
    order (see :func:`_nn_chain_ward`). ``dtype`` forces the scan precision, ``parallel_min``
    and ``list_min`` the number of scanned blocks from which the threads may share a scan
    and a cluster's neighbours are listed, ``neighbours`` the length of a list (tests).
    """
    state, centre, bound, scratch, work, lists = chain_inputs(U, w, dtype, neighbours)
    return _nn_chain_ward(state, centre, bound, scratch, work, parallel_min, list_min, lists,
                          COMPACT_DEAD_FRACTION)


def chain_inputs(U: np.ndarray, w: np.ndarray, dtype=None, neighbours: int = NEIGHBOUR_LIST):
    """``state, centre, bound, scratch, work, lists`` for :func:`_nn_chain_ward` (see its
    arguments) with the leaves ``U`` float64[m, d] and weights ``w`` float64[m]."""
    scan_dtype, centre, bound = scan_precision(U, w, dtype)
    m, d = U.shape
    n_blocks = -(-m // SCAN_BLOCK)
    state = (np.array(U.T, order="C"),  # float64 centroids (d, m), a copy
             w.copy(),
             (U - centre).T.astype(scan_dtype, order="C"),  # scan copy, centred
             w.astype(scan_dtype),
             np.empty((d, n_blocks)), np.empty((d, n_blocks)),  # block boxes: low, high
             np.empty(n_blocks))  # smallest weight per block
    scratch = np.empty((get_num_threads(), SCAN_BLOCK), dtype=scan_dtype)
    work = (np.empty(n_blocks, dtype=np.int64), np.empty(n_blocks, dtype=scan_dtype),
            np.empty(SCAN_BLOCK), np.empty(n_blocks), np.zeros(3))
    lists = (np.full(LIST_OWNERS, -1), np.zeros((LIST_OWNERS, neighbours), dtype=np.int64),
             np.zeros((LIST_OWNERS, neighbours)), np.zeros(LIST_OWNERS, dtype=np.int64),
             np.zeros(LIST_OWNERS))  # owner slot, neighbour slots, proxies, length, floor
    return state, centre, bound, scratch, work, lists


@njit(cache=True, error_model="numpy")
def _nn_chain_ward(state, centre, bound, scratch, work, parallel_min, list_min, lists,
                   compact_fraction):
    """Nearest-neighbour chain for weighted Ward (modifies ``state`` in place).

    Args:
        state: the search state (see the module docstring), leaves in slots/positions ``0..m-1``.
        centre: float64[d] the centre subtracted in the scan copy.
        bound: float64[3] error-bound constants from ``ward_search.scan_precision``.
        scratch: [n_threads, SCAN_BLOCK] scan dtype; work: a search's scratch (int64[n_blocks],
            scan dtype[n_blocks], float64[SCAN_BLOCK], float64[n_blocks]) and the timings
            float64[3] of ``ward_blocks.timed_block_minima``; parallel_min: searches over at
            least this many blocks may be split over the threads; list_min: searches over at
            least this many blocks keep a neighbour list (see :func:`_search`).
        lists: the neighbour lists (owner slot int64[E], neighbour slots int64[E, K],
            proxies float64[E, K], lengths int64[E], floors float64[E]); owners -1.
        compact_fraction: compact live clusters once dead ones exceed this share.

    Returns:
        ``first``, ``second`` int64[m - 1] merged slots (``first < second``; the merged
        cluster lives on in slot ``second`` as scipy's ``nn_chain`` does) and float64[m - 1]
        heights, in the order the merges were made (not sorted).
    """
    m = state[1].shape[0]
    first = np.empty(m - 1, dtype=np.int64)
    second = np.empty(m - 1, dtype=np.int64)
    heights = np.empty(m - 1, dtype=np.float64)
    chain = np.empty(m, dtype=np.int64)  # slots
    slot_of = np.arange(m)  # position -> slot
    pos_of = np.arange(m)  # slot -> position
    alive = np.ones(m, dtype=np.bool_)
    length = m  # positions scanned: live plus not-yet-compacted dead ones
    refresh_boxes(state, alive, length)
    n_dead = chain_len = 0
    for merge in range(m - 1):
        if chain_len == 0:  # restart from the lowest live slot, as scipy's nn_chain does
            chain[0] = slot_of[np.argmax(alive[:length])]
            chain_len = 1
        while True:
            x = chain[chain_len - 1]
            prev_pos = pos_of[chain[chain_len - 2]] if chain_len > 1 else -1
            y, best = _search(state, bound, x, prev_pos, length, scratch, parallel_min,
                              list_min, work, lists, slot_of, pos_of)
            if chain_len > 1 and y == chain[chain_len - 2]:
                break
            if chain_len == m - merge:  # more than the live clusters: a search was not exact
                raise RuntimeError("Ward: the nearest-neighbour chain did not close")
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        lo, hi = min(x, y), max(x, y)
        _merge(state, centre, pos_of[lo], pos_of[hi])
        lists_after_merge(lists, state, pos_of, lo, hi, work[2])
        alive[pos_of[lo]] = False
        n_dead += 1
        first[merge], second[merge] = lo, hi
        heights[merge] = np.sqrt(2.0 * best)
        if n_dead > compact_fraction * length:
            length = _compact(state, alive, slot_of, pos_of, length)
            n_dead = 0
    return first, second, heights


@njit(cache=True, error_model="numpy")
def _search(state, bound, x, prev_pos, length, scratch, parallel_min, list_min, work, lists,
            slot_of, pos_of):
    """The chain's step: nearest live neighbour of slot ``x`` as ``(slot, float64 proxy)``.

    scipy's chain restarts from the lowest live slot, in practice a heavy cluster far from
    everything, over and over: its nearest neighbour is a full scan each time, and merging
    that neighbour makes the answer stale. A search that scanned at least ``list_min``
    blocks therefore keeps the ``K`` nearest neighbours of ``x`` with a floor (see
    :mod:`analysis.clustering.ward_lists`); while the list's first proxy is below the floor
    it is the exact answer.
    """
    owner, slots, proxies, sizes, floors = lists
    x_pos = pos_of[x]
    e = -1
    for i in range(owner.shape[0]):
        if owner[i] == x:
            e = i
    if e >= 0 and sizes[e] > 0 and proxies[e, 0] < floors[e]:
        best_pos, best = pos_of[slots[e, 0]], proxies[e, 0]
    else:
        best_pos, best, n, skipped = nearest(state, bound, x_pos, prev_pos, length, scratch,
                                              parallel_min, work[:4], work[4])
        if n >= list_min:
            if e < 0:
                e = x % owner.shape[0]
                for i in range(owner.shape[0]):
                    if owner[i] < 0:
                        e = i
            owner[e] = x
            sizes[e], floors[e] = build_list(state, bound, x_pos, length, work, n, skipped,
                                              slots[e], proxies[e], slot_of, pos_of)
    best_pos = prefer_previous(state[0], state[1], x_pos, prev_pos, best_pos, best, work[2])
    return slot_of[best_pos], best


@njit(cache=True, error_model="numpy")
def _merge(state, centre, p_lo, p_hi):
    """Merge the cluster at ``p_lo`` into the one at ``p_hi`` (fastcluster's centroid update,
    in float64), refresh the scan copy and box of ``p_hi`` and mark ``p_lo`` dead (inf in
    row 0)."""
    centroids_t, weights, scan_t, scan_w, box_low, box_high, _ = state
    w_lo, w_hi = weights[p_lo], weights[p_hi]
    b = p_hi // SCAN_BLOCK
    for k in range(centroids_t.shape[0]):
        c = (centroids_t[k, p_lo] * w_lo + centroids_t[k, p_hi] * w_hi) / (w_lo + w_hi)
        centroids_t[k, p_hi] = c
        scan_t[k, p_hi] = c - centre[k]
        box_low[k, b] = min(box_low[k, b], c)
        box_high[k, b] = max(box_high[k, b], c)
    weights[p_hi] = w_lo + w_hi
    scan_w[p_hi] = weights[p_hi]
    centroids_t[0, p_lo] = np.inf
    scan_t[0, p_lo] = np.inf


@njit(cache=True)
def _compact(state, alive, slot_of, pos_of, length):
    """Move live positions to the front, keeping their order; returns the new length."""
    centroids_t, weights, scan_t, scan_w = state[0], state[1], state[2], state[3]
    d = centroids_t.shape[0]
    new_length = 0
    for p in range(length):
        if alive[p]:
            if new_length != p:
                for k in range(d):
                    centroids_t[k, new_length] = centroids_t[k, p]
                    scan_t[k, new_length] = scan_t[k, p]
                weights[new_length] = weights[p]
                scan_w[new_length] = scan_w[p]
                slot_of[new_length] = slot_of[p]
                alive[new_length] = True
            pos_of[slot_of[new_length]] = new_length
            new_length += 1
    for p in range(new_length, length):
        alive[p] = False
    refresh_boxes(state, alive, new_length)
    return new_length
