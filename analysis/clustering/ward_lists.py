"""Neighbour lists: the nearest neighbours of a few clusters, kept exact across merges.

scipy's chain restarts from the lowest live slot, in practice a heavy cluster far from
everything, over and over; each restart is a full search, and the merge that follows makes
its answer stale. A cluster whose search scanned many blocks (``LIST_MIN_BLOCKS``) therefore
keeps a list (:func:`build_list`): the ``K`` smallest float64 proxies from it (users times
squared feature units), sorted by proxy then position (scipy's tie rule), and a *floor* that
no live cluster outside the list goes below. After a merge only the proxy to the merged
cluster has changed; :func:`lists_after_merge` recomputes it, so while a list's first proxy
is below its floor it is the exact answer of a full search.

``lists`` is the tuple (owner slot int64[E] (-1: free), neighbour slots int64[E, K], proxies
float64[E, K], lengths int64[E], floors float64[E]) with ``E = LIST_OWNERS`` and
``K = NEIGHBOUR_LIST``; ``state`` is the chain's (see :mod:`analysis.clustering.ward_chain`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from analysis.clustering import kernel_cache
from analysis.clustering.ward_blocks import SCAN_BLOCK
from analysis.clustering.ward_search import exact_block, proven_lower

kernel_cache.drop_stale("ward")  # these kernels call ward_search's and are called by others

#: Clusters whose nearest neighbours are kept (exact) across merges, how many neighbours each,
#: and how many blocks a search must have scanned for its cluster to be kept.
LIST_OWNERS = 8
NEIGHBOUR_LIST = 64
LIST_MIN_BLOCKS = 64


@njit(cache=True)
def list_insert(slots, proxies, length, slot, proxy, pos_of):
    """Insert ``(proxy, slot)`` into the list ``slots/proxies[:length]``, kept sorted by proxy
    then position (scipy's tie rule); a full list drops its last item.

    Returns:
        The new length and the proxy of the item dropped or not taken (inf if none).
    """
    i = length
    while i > 0 and (proxies[i - 1] > proxy or (proxies[i - 1] == proxy
                                                 and pos_of[slots[i - 1]] > pos_of[slot])):
        i -= 1
    if i == slots.shape[0]:
        return length, proxy
    dropped = proxies[length - 1] if length == slots.shape[0] else np.inf
    for j in range(min(length, slots.shape[0] - 1), i, -1):
        slots[j] = slots[j - 1]
        proxies[j] = proxies[j - 1]
    slots[i] = slot
    proxies[i] = proxy
    return min(length + 1, slots.shape[0]), dropped


@njit(cache=True, error_model="numpy")
def build_list(state, bound, x_pos, length, work, n, skipped, slots, proxies, slot_of,
                pos_of):
    """The ``len(slots)`` smallest float64 proxies from ``x_pos`` after a search that scanned
    blocks ``work[0][:n]`` (their scan minima in ``work[1][:n]``).

    Blocks are re-checked in float64 in increasing order of scan minimum until the proven
    lower bound of the next one is at least the list's last proxy (or the floor).

    Returns:
        The list's length and its floor: every live position outside the list has a proxy
        of at least the floor (the blocks the search skipped: at least ``skipped``).
    """
    centroids_t, weights = state[0], state[1]
    blocks, minima, out = work[0], work[1], work[2]
    k, floor = 0, skipped
    for i in np.argsort(minima[:n]):
        lower = proven_lower(np.float64(minima[i]), weights[x_pos], bound)
        if lower >= floor or (k == slots.shape[0] and proxies[k - 1] < lower):
            floor = min(floor, lower)
            break
        b0 = blocks[i] * SCAN_BLOCK
        size = min(SCAN_BLOCK, length - b0)
        exact_block(centroids_t, weights, x_pos, b0, size, out)
        for j in range(size):
            if b0 + j != x_pos and out[j] < np.inf:
                k, dropped = list_insert(slots, proxies, k, slot_of[b0 + j], out[j], pos_of)
                floor = min(floor, dropped)
    return k, floor


@njit(cache=True, error_model="numpy")
def lists_after_merge(lists, state, pos_of, lo, hi, out):
    """Keep the neighbour lists exact after slots ``lo`` and ``hi`` merged into ``hi``.

    A list of ``lo`` or ``hi`` is dropped. Other lists lose ``lo`` and ``hi``; the only
    proxy that changed is the one to the new ``hi``, computed in float64 and inserted when
    below the floor (an item pushed out lowers the floor to its proxy).
    """
    owner, slots, proxies, sizes, floors = lists
    for e in range(owner.shape[0]):
        x = owner[e]
        if x < 0:
            continue
        if x == lo or x == hi:
            owner[e] = -1
            continue
        k = 0
        for i in range(sizes[e]):
            if slots[e, i] != lo and slots[e, i] != hi:
                slots[e, k] = slots[e, i]
                proxies[e, k] = proxies[e, i]
                k += 1
        exact_block(state[0], state[1], pos_of[x], pos_of[hi], 1, out)
        if out[0] < floors[e]:
            k, dropped = list_insert(slots[e], proxies[e], k, hi, out[0], pos_of)
            floors[e] = min(floors[e], dropped)
        sizes[e] = k
