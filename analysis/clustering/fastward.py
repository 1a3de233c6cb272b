"""Exact Ward clustering of all users through their distinct feature rows.

Most users share a feature row with other users (platform defaults, zero activity), and
identical rows merge at height 0 in Ward's method. Clustering the ``m`` distinct rows, each
weighted by the number of users ``counts`` that have it, therefore gives the same tree above
height 0 as clustering all ``n`` users, for a fraction of the cost (``m`` ~ 18,000 against
``n`` ~ 99,000 here, and the cost is quadratic).

The tree is built with the nearest-neighbour-chain algorithm over weighted centroids, in
``O(m)`` memory (never an ``m x m`` matrix) and at most ``O(m^2 d)`` time. The Ward distance
between clusters ``A`` and ``B`` with total weights ``w`` and centroids ``c`` is

    d(A, B) = sqrt(2 w_A w_B / (w_A + w_B)) * ||c_A - c_B||,

the height convention of ``scipy.cluster.hierarchy.linkage(X, "ward")`` and of
``fastcluster.linkage_vector(X, "ward")`` (two single points merge at their Euclidean distance).
Nearest neighbours are searched on the monotone proxy ``p = w_A w_B / (w_A + w_B) ||c_A -
c_B||^2`` (no square root in the inner loop). The merges are then post-processed as scipy's
``nn_chain`` does: sorted by height (stable), then relabelled with a union-find. Its size column
holds user weights, which can exceed the number of leaves; scipy's validity check rejects that,
so pass :func:`scipy_linkage` (the same tree with leaf counts as sizes) to
``scipy.cluster.hierarchy`` functions (``fcluster``, ``cut_tree``, ``dendrogram``). Ties between
equal distances are broken as scipy's ``nn_chain`` does: the previous chain element first, then
the lowest cluster slot. With exactly tied distances, different but equally valid trees exist;
the centroid form and scipy's Lance-Williams form round differently, so on tied data (integer
grids) the two can pick different ones.

Each nearest-neighbour search returns exactly what a float64 scan of every live cluster would
(same position, same float64 proxy, same tie-breaking), so the linkage is bit-identical to that
of the plain float64 algorithm; only the work differs. Clusters sit in blocks of ``SCAN_BLOCK``
positions (leaves in ``U``'s order, lexicographic for :func:`distinct_rows`, so a block is a
compact region); a search from cluster ``x``:

1. takes an exact float64 proxy to a live cluster as an upper bound ``P_up`` (the previous chain
   element, else the nearest one in ``x``'s block);
2. skips every block whose bounding box and smallest weight prove all its proxies exceed
   ``P_up`` (a lower bound computed in float64 with a ``2**-40`` margin);
3. scans the other blocks in float32 (centred coordinates, vectorised, a block's sums in L1);
4. re-computes in float64, exactly as the reference does, every block whose float32 minimum is
   within a proven error bound of the smallest one (:func:`_candidate_threshold`), and takes
   the float64 minimum there.

Searches that scan many blocks (``PARALLEL_MIN_BLOCKS``) split them over the numba threads,
one parallel region per search, unless one thread has lately been faster per block (another
job holding a core makes every region wait for it; see :func:`_timed_block_minima`). Both
ways give the same minima. A search that scanned many blocks keeps its cluster's nearest
neighbours in a list kept exact across merges (:func:`_search`), as scipy's chain keeps
restarting from the lowest live slot, usually a heavy cluster far from everything.

The error bound: with ``u = 2**-24``, ``C`` the largest centred coordinate and ``F = w_x w_p /
(w_x + w_p) <= w_x``, rounding the centred coordinates to float32 moves each difference by at
most ``2 u C``, so the squared distance moves by at most ``4 u C sqrt(d S) + 4 d u^2 C^2``, and
the at most ``d + 12`` float32 roundings of the sum and the weight factor add a relative
``gamma = (d + 12) u / (1 - (d + 12) u)``. Hence ``|p_float32 - p| <= gamma p + (1 + gamma)
(4 u C sqrt(d w_x p) + 4 d u^2 C^2 w_x)``, used with a factor 2 that also covers the float64
reference's own (``2**-29`` times smaller) rounding. float32 is only used while ``C``, the
weights and the largest possible proxy stay far from float32's underflow and overflow
(``SCAN_RANGES``); otherwise the same scan runs in float64.
"""

from __future__ import annotations

import time

import numpy as np
from numba import get_num_threads, njit, objmode, prange

#: Compact the live-cluster arrays once dead slots exceed this fraction of the scanned length.
COMPACT_DEAD_FRACTION = 0.25

#: Positions per block of the nearest-neighbour scan (a power of two): a block's partial sums
#: stay in the L1 cache, and a block is the unit re-checked in float64.
SCAN_BLOCK = 512

#: Coordinates added per pass over a block's partial sums (fewer loads and stores of them).
COORDS_PER_PASS = 4

#: Width at which :func:`_fold_min` stops halving and finishes with a scalar loop.
FOLD_MIN_LANES = 16

#: Clusters whose nearest neighbours are kept (exact) across merges, how many neighbours each,
#: and how many blocks a search must have scanned for its cluster to be kept (see _search).
LIST_OWNERS = 8
NEIGHBOUR_LIST = 64
LIST_MIN_BLOCKS = 64

#: Searches that scan at least this many blocks may run on all numba threads (one parallel
#: region per search, about 0.25 ms of work here); shorter ones run on one thread.
PARALLEL_MIN_BLOCKS = 512

#: Every PROBE_EVERY-th long scan runs the other way (one thread / all threads) than the
#: faster one, and TIMING_WEIGHT is the weight of a new timing in the moving averages.
PROBE_EVERY = 32
TIMING_WEIGHT = 0.1

#: Roundings counted in the error bound beyond the ``d`` of the sum of squares: two for the
#: rounded difference squared, two for the weights' rounding, four for ``* wx * wp / (wx + wp)``
#: and four spare.
EXTRA_ROUNDINGS = 12

#: Smallest spread / weight and largest possible proxy a scan dtype may see: far inside its
#: normal range, so that underflow and overflow stay out of the error bound.
SCAN_RANGES = {np.float32: (2.0 ** -30, 2.0 ** 100), np.float64: (2.0 ** -400, 2.0 ** 800)}

#: Columns of a linkage matrix: the two merged cluster ids, the merge height, the merged size.
LINKAGE_COLUMNS = 4


def distinct_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows of ``X`` with their multiplicities.

    Same result as ``np.unique(X, axis=0, return_inverse=True, return_counts=True)`` (rows in
    lexicographic order, column 0 first; ``-0.0`` counts as ``0.0``), about 10x faster: one
    ``np.lexsort`` instead of a sort of structured rows.

    Args:
        X: float64[n, d] feature matrix, finite.

    Returns:
        ``U`` float64[m, d], the distinct rows in lexicographic order;
        ``counts`` int64[m], how many rows of ``X`` equal each row of ``U``;
        ``inverse`` int64[n], the row of ``U`` that each row of ``X`` equals
        (``U[inverse] == X``).
    """
    X = _as_finite_matrix(X, "X") + 0.0  # + 0.0 turns -0.0 into 0.0
    n = X.shape[0]
    order = np.lexsort(X.T[::-1])  # last key is primary: column 0 first
    X_sorted = X[order]
    starts_group = np.empty(n, dtype=np.bool_)
    starts_group[0] = True
    np.any(X_sorted[1:] != X_sorted[:-1], axis=1, out=starts_group[1:])
    starts = np.flatnonzero(starts_group)
    counts = np.diff(np.append(starts, n)).astype(np.int64)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(starts_group) - 1
    return np.ascontiguousarray(X_sorted[starts]), counts, inverse


def ward_linkage(U: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Exact weighted Ward linkage of the rows of ``U``, in scipy's linkage format.

    Row ``i`` of ``U`` stands for ``weights[i]`` identical observations; the tree equals the
    one of unweighted Ward on those observations above height 0 (when no two distances tie).
    The nearest-neighbour scans run in float32 on the available numba threads; every choice
    is confirmed in float64, so the result is bit-identical to the float64 algorithm (see the
    module docstring).

    Args:
        U: float64[m, d] points (distinct rows), finite, ``m >= 1``.
        weights: int64 or float64[m] positive weights (number of users of each row).

    Returns:
        float64[m - 1, 4] linkage matrix: ``[cluster_a, cluster_b, height, size]`` per merge,
        leaves are ``0..m-1``, the ``i``-th merge creates cluster ``m + i``, ``size`` is the
        total weight of the merged cluster, rows sorted by height ascending (stable),
        ``cluster_a < cluster_b``. Heights are Euclidean-scale Ward distances (feature units).
    """
    U = _as_finite_matrix(U, "U")
    w = _as_positive_weights(weights, U.shape[0])
    if U.shape[0] == 1:
        return np.empty((0, LINKAGE_COLUMNS), dtype=np.float64)
    first, second, heights = _ward_merges(U, w)
    order = np.argsort(heights, kind="mergesort")  # scipy: stable sort of nn_chain merges
    return _relabel(first[order], second[order], heights[order], w)


def scipy_linkage(Z: np.ndarray) -> np.ndarray:
    """The same tree with column 3 counting leaves (distinct rows) instead of users.

    ``scipy.cluster.hierarchy`` validates ``Z[:, 3] <= n_leaves``, which a weighted linkage
    breaks; this copy passes that check with identical merges and heights.

    Args:
        Z: float64[n_leaves - 1, 4] linkage matrix (any size column).

    Returns:
        float64[n_leaves - 1, 4] copy of ``Z`` whose column 3 is the number of leaves merged.
    """
    Z = np.array(Z, dtype=np.float64)
    n_leaves = Z.shape[0] + 1
    Z[:, 3] = _subtree_leaf_counts(np.ascontiguousarray(Z[:, :2].astype(np.int64)), n_leaves)
    return Z


def ward_flat_labels(Z: np.ndarray, k_values) -> dict[int, np.ndarray]:
    """Flat clusterings of the leaves of ``Z`` into exactly ``k`` clusters, for each ``k``.

    The ``k``-cluster partition is the one left after the first ``n_leaves - k`` merges of
    ``Z`` in row order (its merge order). With distinct heights this is ``cut_tree``'s
    partition; with tied heights it still has exactly ``k`` clusters (``fcluster(...,
    "maxclust")`` cuts at a height and may give fewer), and it is ``O(n_leaves)`` per ``k``.

    Args:
        Z: float64[n_leaves - 1, 4] linkage matrix with rows in merge order.
        k_values: iterable of ints in ``1..n_leaves``.

    Returns:
        ``{k: int64[n_leaves]}`` labels ``0..k-1``, numbered by first appearance in leaf order
        (leaf 0 is in cluster 0).
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != LINKAGE_COLUMNS:
        raise ValueError(f"Z must have shape (n - 1, {LINKAGE_COLUMNS}), got {Z.shape}")
    n_leaves = Z.shape[0] + 1
    ks = sorted({int(k) for k in k_values}, reverse=True)
    for k in ks:
        if not 1 <= k <= n_leaves:
            raise ValueError(f"cannot cut {n_leaves} leaves into {k} clusters")
    pairs = np.ascontiguousarray(Z[:, :2].astype(np.int64))
    labels = _cut_by_merge_order(pairs, n_leaves, np.asarray(ks, dtype=np.int64))
    return {k: labels[i] for i, k in enumerate(ks)}


def ward_users(X: np.ndarray, k_values) -> tuple[
        np.ndarray, dict[int, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Ward-cluster every user exactly: distinct rows, weighted Ward, cut, expand to users.

    Args:
        X: float64[n, d] user features.
        k_values: the numbers of clusters wanted (each at most the number of distinct rows).

    Returns:
        ``Z`` float64[m - 1, 4] linkage of the distinct rows (sizes count users);
        ``labels_by_k`` ``{k: int64[n]}`` user labels ``0..k-1`` (numbered by first appearance
        in ``U`` order, so ``labels_by_k[k] == ward_flat_labels(Z, [k])[k][inverse]``);
        ``U`` float64[m, d], ``counts`` int64[m], ``inverse`` int64[n] from
        :func:`distinct_rows`.
    """
    U, counts, inverse = distinct_rows(X)
    Z = ward_linkage(U, counts)
    distinct_labels = ward_flat_labels(Z, k_values)
    labels_by_k = {k: lab[inverse] for k, lab in distinct_labels.items()}
    return Z, labels_by_k, U, counts, inverse


# --- validation and scan set-up --------------------------------------------------------------

def _as_finite_matrix(A: np.ndarray, name: str) -> np.ndarray:
    """``A`` as a C-contiguous float64[n, d] with ``n >= 1``, ``d >= 1`` and no NaN/inf."""
    A = np.ascontiguousarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return A


def _as_positive_weights(weights: np.ndarray, m: int) -> np.ndarray:
    """``weights`` as float64[m], all finite and > 0 (drop zero-weight rows before calling)."""
    w = np.ascontiguousarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != m:
        raise ValueError(f"weights has {w.shape[0]} entries for {m} rows")
    if not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError("weights must be finite and > 0; drop zero-weight rows first")
    return w


def _scan_precision(U: np.ndarray, w: np.ndarray, dtype=None):
    """Scan dtype, centre and error-bound constants for the rows ``U`` and weights ``w``.

    The scan stores centroids as ``c - centre`` (``centre`` float64[d], the middle of each
    column's range), so that ``C = max |c - centre|`` is as small as possible. float32 is used
    when ``C``, the weights and the largest possible proxy stay far from float32's underflow
    and overflow (``SCAN_RANGES``); otherwise the scan runs in float64 with the same bound.

    Args:
        U: float64[m, d] rows; w: float64[m] weights; dtype: force ``np.float32`` or
            ``np.float64`` (tests), ``None`` to choose.

    Returns:
        ``(dtype, centre float64[d], bound float64[3])`` with ``bound = (gamma, kc, ac)``:
        ``|scan proxy - float64 proxy| <= gamma p + (1 + gamma)(kc sqrt(w_x p) + ac w_x)``.
    """
    low, high = U.min(axis=0), U.max(axis=0)
    centre = (low + high) / 2
    spread = float(np.max(np.maximum(high - centre, centre - low)))
    d = U.shape[1]
    largest_proxy = float(w.sum()) * 4.0 * d * spread * spread  # may be inf: refused
    for candidate in (np.float32, np.float64) if dtype is None else (dtype,):
        tiny, huge = SCAN_RANGES[candidate]
        if (spread == 0.0 or spread >= tiny) and w.min() >= tiny and largest_proxy <= huge:
            u = float(np.finfo(candidate).eps) / 2  # unit round-off
            n_round = d + EXTRA_ROUNDINGS
            gamma = n_round * u / (1.0 - n_round * u)
            kc = 4.0 * u * spread * np.sqrt(d)
            ac = 4.0 * d * u * u * spread * spread
            return candidate, centre, np.array([gamma, kc, ac])
    raise ValueError("U or weights span a range the exact nearest-neighbour scan cannot "
                     "represent (coordinates or weights beyond 1e-120..1e120)")


def _ward_merges(U: np.ndarray, w: np.ndarray, dtype=None,
                 parallel_min: int = PARALLEL_MIN_BLOCKS, list_min: int = LIST_MIN_BLOCKS,
                 neighbours: int = NEIGHBOUR_LIST
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nearest-neighbour chain's merges of ``U`` float64[m, d] with weights float64[m].

    Returns ``first``, ``second`` int64[m - 1] slots and float64[m - 1] heights in merge
    order (see :func:`_nn_chain_ward`). ``dtype`` forces the scan precision, ``parallel_min``
    and ``list_min`` the number of scanned blocks from which the threads may share a scan
    and a cluster's neighbours are listed, ``neighbours`` the length of a list (tests).
    """
    scan_dtype, centre, bound = _scan_precision(U, w, dtype)
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
    return _nn_chain_ward(state, centre, bound, scratch, work, parallel_min, list_min, lists,
                          COMPACT_DEAD_FRACTION)


# --- numba kernels: the nearest-neighbour search ---------------------------------------------
#
# ``state`` is the tuple (centroids_t float64[d, m], weights float64[m], scan_t [d, m],
# scan_w [m], box_low float64[d, n_blocks], box_high float64[d, n_blocks], block_w
# float64[n_blocks]); the scan copies are float32 (or float64, see _scan_precision). Position
# ``p`` is in block ``p // SCAN_BLOCK``; its box holds every live centroid of the block (it
# may be larger) and ``block_w`` is at most the smallest live weight (-1: no live position).

@njit(cache=True, error_model="numpy")
def _refresh_boxes(state, alive, length):
    """Recompute every block's box and smallest weight over its live positions."""
    centroids_t, weights, _, _, box_low, box_high, block_w = state
    d = centroids_t.shape[0]
    for b in range(-(-length // SCAN_BLOCK)):
        block_w[b] = -1.0
        for k in range(d):
            box_low[k, b] = np.inf
            box_high[k, b] = -np.inf
        for p in range(b * SCAN_BLOCK, min(b * SCAN_BLOCK + SCAN_BLOCK, length)):
            if alive[p]:
                if block_w[b] < 0 or weights[p] < block_w[b]:
                    block_w[b] = weights[p]
                for k in range(d):
                    box_low[k, b] = min(box_low[k, b], centroids_t[k, p])
                    box_high[k, b] = max(box_high[k, b], centroids_t[k, p])


@njit(cache=True, error_model="numpy")
def _candidate_blocks(state, x_pos, length, upper, out, gaps):
    """Blocks that may hold a position with float64 proxy ``<= upper``.

    A block is left out when a lower bound of every proxy in it, ``wx w_min / (wx + w_min)``
    times the squared distance from ``x`` to its box (the Ward factor grows with ``w_p``),
    exceeds ``upper`` by more than its float64 rounding (``2**-40`` relative). The squared
    box distances go to ``gaps`` (float64[n_blocks]) one coordinate at a time, vectorised
    over blocks.

    Returns:
        How many block indices were written to ``out``, and the smallest lower bound of the
        blocks left out (inf if none): no proxy in them is below it.
    """
    centroids_t, weights, _, _, box_low, box_high, block_w = state
    n_blocks = -(-length // SCAN_BLOCK)
    for b in range(n_blocks):
        gaps[b] = 0.0
    for k in range(centroids_t.shape[0]):
        x = centroids_t[k, x_pos]
        low, high = box_low[k, :n_blocks], box_high[k, :n_blocks]
        for b in range(n_blocks):
            g = max(0.0, max(low[b] - x, x - high[b]))
            gaps[b] += g * g
    wx = weights[x_pos]
    n = 0
    skipped = np.inf
    for b in range(n_blocks):
        if block_w[b] < 0:
            continue
        lower = gaps[b] * (wx * block_w[b] / (wx + block_w[b])) * (1.0 - 2.0 ** -40)
        if lower <= upper:
            out[n] = b
            n += 1
        else:
            skipped = min(skipped, lower)
    return n, skipped


@njit(cache=True, error_model="numpy", fastmath={"nnan", "contract"})
def _block_minima(scan_t, scan_w, x_pos, length, blocks, first, last, minima, buf):
    """Smallest scan proxy of blocks ``blocks[first:last]`` into ``minima[first:last]``.

    The proxy of position ``p`` is ``|s_p - s_x|^2 w_x w_p / (w_x + w_p)`` in the scan dtype
    (``s`` = centred centroids); ``x_pos`` itself and dead positions (inf in row 0) count as
    inf. A block's ``SCAN_BLOCK`` partial sums stay in ``buf`` (L1 cache).

    Args:
        scan_t: float32 or float64[d, capacity]; scan_w: [capacity] weights, same dtype;
        blocks: int64[n] block indices; minima: [n] output, scan dtype; buf: [SCAN_BLOCK].
    """
    wx = scan_w[x_pos]
    for i in range(first, last):
        b0 = blocks[i] * SCAN_BLOCK
        n = min(SCAN_BLOCK, length - b0)
        _block_squared_distances(scan_t, x_pos, b0, n, buf)
        block_w = scan_w[b0:b0 + n]
        for j in range(n):
            wp = block_w[j]
            buf[j] = buf[j] * wx * wp / (wx + wp)
        for j in range(n, SCAN_BLOCK):
            buf[j] = np.inf
        if b0 <= x_pos < b0 + n:
            buf[x_pos - b0] = np.inf
        minima[i] = _fold_min(buf)


@njit(cache=True, error_model="numpy", fastmath={"nnan", "contract"})
def _block_squared_distances(scan_t, x_pos, b0, n, buf):
    """``buf[j] = |s_(b0+j) - s_x|^2`` for ``j < n``, ``COORDS_PER_PASS`` coordinates per pass
    over ``buf`` (then one at a time for the rest), vectorised over positions.

    The loops index slices from 0 (not ``row[b0 + j]``): numba then knows every index is
    non-negative and LLVM vectorises them with plain loads (about 8x faster here).
    """
    d = scan_t.shape[0]
    for j in range(n):
        buf[j] = 0.0
    full = d - d % COORDS_PER_PASS
    for k in range(0, full, COORDS_PER_PASS):
        r0, r1 = scan_t[k, b0:b0 + n], scan_t[k + 1, b0:b0 + n]
        r2, r3 = scan_t[k + 2, b0:b0 + n], scan_t[k + 3, b0:b0 + n]
        x0, x1, x2, x3 = scan_t[k, x_pos], scan_t[k + 1, x_pos], scan_t[k + 2, x_pos], \
            scan_t[k + 3, x_pos]
        for j in range(n):
            t0 = r0[j] - x0
            t1 = r1[j] - x1
            t2 = r2[j] - x2
            t3 = r3[j] - x3
            buf[j] += (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
    for k in range(full, d):
        row = scan_t[k, b0:b0 + n]
        xk = scan_t[k, x_pos]
        for j in range(n):
            t = row[j] - xk
            buf[j] += t * t


@njit(cache=True, fastmath={"nnan"})
def _fold_min(buf):
    """Smallest value of ``buf`` (length ``SCAN_BLOCK``, a power of two; overwritten) by
    folding halves elementwise, which vectorises, unlike a running minimum."""
    half = buf.shape[0]
    while half > FOLD_MIN_LANES:
        half //= 2
        for j in range(half):
            a, b = buf[j], buf[j + half]
            buf[j] = b if b < a else a
    smallest = buf[0]
    for j in range(1, half):
        smallest = buf[j] if buf[j] < smallest else smallest
    return smallest


@njit(cache=True, parallel=True)
def _block_minima_parallel(scan_t, scan_w, x_pos, length, blocks, n, minima, scratch):
    """:func:`_block_minima` over ``blocks[:n]``, split into ``len(scratch)`` contiguous runs,
    one per thread (``scratch`` [n_threads, SCAN_BLOCK] holds each run's buffer)."""
    n_chunks = scratch.shape[0]
    for c in prange(n_chunks):
        _block_minima(scan_t, scan_w, x_pos, length, blocks, c * n // n_chunks,
                      (c + 1) * n // n_chunks, minima, scratch[c])


@njit(cache=True)
def _clock():
    """Seconds from ``time.perf_counter`` (about 0.3 us through numba's object mode)."""
    with objmode(t="float64"):
        t = time.perf_counter()
    return t


@njit(cache=True)
def _timed_block_minima(scan_t, scan_w, x_pos, length, blocks, n, minima, scratch, timing):
    """:func:`_block_minima` over ``blocks[:n]`` on all threads or on one, whichever has been
    faster per block lately (both give the same minima).

    On a shared machine a parallel region waits for its slowest thread: when another job
    holds a core, every search can stall for a scheduler time slice. ``timing`` float64[3]
    holds the moving average of seconds per block on one thread, on all threads, and a count;
    every ``PROBE_EVERY``-th scan uses the other way to keep both averages current.
    """
    timing[2] += 1
    if timing[1] == 0.0:  # not measured yet
        parallel = True
    elif timing[0] == 0.0:
        parallel = False
    else:
        parallel = timing[1] <= timing[0]
        if timing[2] % PROBE_EVERY == 0:
            parallel = not parallel
    start = _clock()
    if parallel:
        _block_minima_parallel(scan_t, scan_w, x_pos, length, blocks, n, minima, scratch)
    else:
        _block_minima(scan_t, scan_w, x_pos, length, blocks, 0, n, minima, scratch[0])
    per_block = (_clock() - start) / n
    way = 1 if parallel else 0
    timing[way] = per_block if timing[way] == 0.0 else (
        (1.0 - TIMING_WEIGHT) * timing[way] + TIMING_WEIGHT * per_block)


@njit(cache=True)
def _candidate_threshold(best, wx, bound):
    """Largest scan proxy a position can have and still tie with the float64 minimum.

    With ``E(p) = 2 (gamma p + (1 + gamma)(kc sqrt(wx p) + ac wx))`` bounding
    ``|scan - float64|`` (twice the first-order bound), every position whose float64 proxy
    is ``<= P`` has scan proxy ``<= P + E(P)``, where ``P`` is the largest ``p`` with
    ``p - E(p) <= best``; the float64 minimum is ``<= P`` because the position with the
    smallest scan proxy ``best`` has float64 proxy ``<= P``.
    """
    gamma, kc, ac = bound[0], bound[1], bound[2]
    g2 = 2.0 * gamma
    k2 = 2.0 * (1.0 + gamma) * kc * np.sqrt(wx)
    a2 = 2.0 * (1.0 + gamma) * ac * wx
    root = (k2 + np.sqrt(k2 * k2 + 4.0 * (1.0 - g2) * (best + a2))) / (2.0 * (1.0 - g2))
    top = root * root
    return (top + g2 * top + k2 * np.sqrt(top) + a2) * (1.0 + 2.0 ** -40)


@njit(cache=True)
def _proven_lower(scan_value, wx, bound):
    """A lower bound of the float64 proxy of any position whose scan proxy is at least
    ``scan_value``: the ``p`` with ``p + E(p) = scan_value`` (``E`` as in
    :func:`_candidate_threshold`), less ``2**-40``."""
    gamma, kc, ac = bound[0], bound[1], bound[2]
    g2 = 2.0 * gamma
    k2 = 2.0 * (1.0 + gamma) * kc * np.sqrt(wx)
    a2 = 2.0 * (1.0 + gamma) * ac * wx
    if scan_value <= a2:
        return 0.0
    root = (-k2 + np.sqrt(k2 * k2 + 4.0 * (1.0 + g2) * (scan_value - a2))) / (2.0 * (1.0 + g2))
    return root * root * (1.0 - 2.0 ** -40)


@njit(cache=True, error_model="numpy")
def _exact_block(centroids_t, weights, x_pos, b0, n, out):
    """float64 proxies of positions ``b0..b0+n-1`` into ``out[:n]``, computed exactly as the
    reference float64 scan does (coordinates summed in order, then ``* wx * wp / (wx + wp)``,
    no fused multiply-add), so equal inputs give bit-equal proxies."""
    d = centroids_t.shape[0]
    row = centroids_t[0, b0:b0 + n]
    x0 = centroids_t[0, x_pos]
    for j in range(n):
        t = row[j] - x0
        out[j] = t * t
    for k in range(1, d):
        row = centroids_t[k, b0:b0 + n]
        xk = centroids_t[k, x_pos]
        for j in range(n):
            t = row[j] - xk
            out[j] = out[j] + t * t
    wx = weights[x_pos]
    block_w = weights[b0:b0 + n]
    for j in range(n):
        wp = block_w[j]
        out[j] = out[j] * wx * wp / (wx + wp)


@njit(cache=True, error_model="numpy")
def _exact_min(centroids_t, weights, x_pos, length, blocks, n_blocks, minima, threshold, out):
    """float64 minimum over the blocks ``blocks[i]`` whose scan minimum ``minima[i]`` is
    ``<= threshold``: ``(lowest position attaining it, proxy)``; ``out`` float64[SCAN_BLOCK]."""
    best = np.inf
    best_pos = -1
    for i in range(n_blocks):
        if minima[i] <= threshold:
            b0 = blocks[i] * SCAN_BLOCK
            n = min(SCAN_BLOCK, length - b0)
            _exact_block(centroids_t, weights, x_pos, b0, n, out)
            if b0 <= x_pos < b0 + n:
                out[x_pos - b0] = np.inf
            for j in range(n):
                if out[j] < best:
                    best = out[j]
                    best_pos = b0 + j
    return best_pos, best


@njit(cache=True, error_model="numpy")
def _upper_bound(centroids_t, weights, x_pos, prev_pos, length, out):
    """A float64 proxy from ``x_pos`` to a live position, an upper bound of the minimum: the
    smallest one in ``x_pos``'s own block, or to ``prev_pos`` (if >= 0) when smaller; inf when
    neither exists."""
    b0 = x_pos - x_pos % SCAN_BLOCK
    n = min(SCAN_BLOCK, length - b0)
    _exact_block(centroids_t, weights, x_pos, b0, n, out)
    out[x_pos - b0] = np.inf
    upper = out[:n].min()
    if prev_pos >= 0:
        _exact_block(centroids_t, weights, x_pos, prev_pos, 1, out)
        upper = min(upper, out[0])
    return upper


@njit(cache=True, error_model="numpy")
def _nearest(state, bound, x_pos, prev_pos, length, scratch, parallel_min, work, timing):
    """Nearest live neighbour of the cluster at ``x_pos``: ``(position, float64 proxy)``,
    identical to a float64 scan of all positions, ties left to :func:`_prefer_previous`.

    Blocks whose box is farther than a known proxy are skipped; the others are scanned in
    the scan dtype; the blocks whose scan minimum is within the error bound of the smallest
    are re-checked in float64. ``work`` is (int64[n_blocks], scan dtype[n_blocks],
    float64[SCAN_BLOCK], float64[n_blocks]) scratch; scans of at least ``parallel_min`` blocks go to
    :func:`_timed_block_minima`. Returns the lowest position attaining the minimum, its
    proxy, the number of blocks scanned (``work[0][:n]``, their scan minima in
    ``work[1][:n]``) and the smallest lower bound of the blocks skipped.
    """
    centroids_t, weights, scan_t, scan_w = state[0], state[1], state[2], state[3]
    blocks, minima, exact, gaps = work
    upper = _upper_bound(centroids_t, weights, x_pos, prev_pos, length, exact)
    n, skipped = _candidate_blocks(state, x_pos, length, upper, blocks, gaps)
    if scratch.shape[0] > 1 and n >= parallel_min:
        _timed_block_minima(scan_t, scan_w, x_pos, length, blocks, n, minima, scratch, timing)
    else:
        _block_minima(scan_t, scan_w, x_pos, length, blocks, 0, n, minima, scratch[0])
    best = np.inf
    for i in range(n):
        best = min(best, np.float64(minima[i]))
    threshold = _candidate_threshold(best, weights[x_pos], bound)
    best_pos, best = _exact_min(centroids_t, weights, x_pos, length, blocks, n, minima,
                                threshold, exact)
    return best_pos, best, n, skipped


@njit(cache=True, error_model="numpy")
def _prefer_previous(centroids_t, weights, x_pos, prev_pos, best_pos, best, out):
    """scipy's tie rule: the previous chain element ``prev_pos`` (-1: none) when its float64
    proxy equals the minimum ``best``, else ``best_pos`` (the lowest position attaining it)."""
    if prev_pos >= 0:
        _exact_block(centroids_t, weights, x_pos, prev_pos, 1, out)
        if out[0] == best:
            return prev_pos
    return best_pos


@njit(cache=True)
def _list_insert(slots, proxies, length, slot, proxy, pos_of):
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
def _build_list(state, bound, x_pos, length, work, n, skipped, slots, proxies, slot_of,
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
        lower = _proven_lower(np.float64(minima[i]), weights[x_pos], bound)
        if lower >= floor or (k == slots.shape[0] and proxies[k - 1] < lower):
            floor = min(floor, lower)
            break
        b0 = blocks[i] * SCAN_BLOCK
        size = min(SCAN_BLOCK, length - b0)
        _exact_block(centroids_t, weights, x_pos, b0, size, out)
        for j in range(size):
            if b0 + j != x_pos and out[j] < np.inf:
                k, dropped = _list_insert(slots, proxies, k, slot_of[b0 + j], out[j], pos_of)
                floor = min(floor, dropped)
    return k, floor


@njit(cache=True, error_model="numpy")
def _lists_after_merge(lists, state, pos_of, lo, hi, out):
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
        _exact_block(state[0], state[1], pos_of[x], pos_of[hi], 1, out)
        if out[0] < floors[e]:
            k, dropped = _list_insert(slots[e], proxies[e], k, hi, out[0], pos_of)
            floors[e] = min(floors[e], dropped)
        sizes[e] = k


@njit(cache=True, error_model="numpy")
def _search(state, bound, x, prev_pos, length, scratch, parallel_min, list_min, work, lists,
            slot_of, pos_of):
    """The chain's step: nearest live neighbour of slot ``x`` as ``(slot, float64 proxy)``.

    scipy's chain restarts from the lowest live slot, in practice a heavy cluster far from
    everything, over and over: its nearest neighbour is a full scan each time, and merging
    that neighbour makes the answer stale. A search that scanned at least ``list_min``
    blocks therefore keeps the ``K`` nearest neighbours of ``x`` with a floor
    (see :func:`_build_list`, :func:`_lists_after_merge`); while the list's first proxy is
    below the floor it is the exact answer.
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
        best_pos, best, n, skipped = _nearest(state, bound, x_pos, prev_pos, length, scratch,
                                              parallel_min, work[:4], work[4])
        if n >= list_min:
            if e < 0:
                e = x % owner.shape[0]
                for i in range(owner.shape[0]):
                    if owner[i] < 0:
                        e = i
            owner[e] = x
            sizes[e], floors[e] = _build_list(state, bound, x_pos, length, work, n, skipped,
                                              slots[e], proxies[e], slot_of, pos_of)
    best_pos = _prefer_previous(state[0], state[1], x_pos, prev_pos, best_pos, best, work[2])
    return slot_of[best_pos], best


# --- numba kernels: the chain ----------------------------------------------------------------

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
    _refresh_boxes(state, alive, new_length)
    return new_length


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


@njit(cache=True, error_model="numpy")
def _nn_chain_ward(state, centre, bound, scratch, work, parallel_min, list_min, lists,
                   compact_fraction):
    """Nearest-neighbour chain for weighted Ward (modifies ``state`` in place).

    Args:
        state: the search state (see above), leaves in slots/positions ``0..m-1``.
        centre: float64[d] the centre subtracted in the scan copy.
        bound: float64[3] error-bound constants from :func:`_scan_precision`.
        scratch: [n_threads, SCAN_BLOCK] scan dtype; work: a search's scratch (int64[n_blocks],
            scan dtype[n_blocks], float64[SCAN_BLOCK], float64[n_blocks]) and the timings
            float64[3] of :func:`_timed_block_minima`; parallel_min: searches over at least
            this many blocks may be split over the threads; list_min: searches over at
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
    _refresh_boxes(state, alive, length)
    n_dead = 0
    chain_len = 0
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
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        lo, hi = min(x, y), max(x, y)
        _merge(state, centre, pos_of[lo], pos_of[hi])
        _lists_after_merge(lists, state, pos_of, lo, hi, work[2])
        alive[pos_of[lo]] = False
        n_dead += 1
        first[merge] = lo
        second[merge] = hi
        heights[merge] = np.sqrt(2.0 * best)
        if n_dead > compact_fraction * length:
            length = _compact(state, alive, slot_of, pos_of, length)
            n_dead = 0
    return first, second, heights


@njit(cache=True)
def _find(parent, x):
    """Root of ``x`` with path compression."""
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        nxt = parent[x]
        parent[x] = root
        x = nxt
    return root


@njit(cache=True)
def _relabel(first, second, heights, leaf_weights):
    """scipy's ``label``: turn height-sorted slot pairs into a linkage matrix with cluster ids.

    ``leaf_weights`` float64[m]; returns float64[m - 1, 4].
    """
    m = leaf_weights.shape[0]
    parent = np.arange(2 * m - 1)
    size = np.zeros(2 * m - 1)
    for leaf in range(m):  # a loop: slice assignment costs seconds of numba compile time
        size[leaf] = leaf_weights[leaf]
    Z = np.empty((m - 1, 4))
    for i in range(m - 1):
        ra = _find(parent, first[i])
        rb = _find(parent, second[i])
        Z[i, 0] = min(ra, rb)
        Z[i, 1] = max(ra, rb)
        Z[i, 2] = heights[i]
        new = m + i
        parent[ra] = new
        parent[rb] = new
        size[new] = size[ra] + size[rb]
        Z[i, 3] = size[new]
    return Z


@njit(cache=True)
def _subtree_leaf_counts(pairs, n_leaves):
    """Number of leaves under each merge of int64[n_leaves - 1, 2] ``pairs`` (float64)."""
    size = np.ones(2 * n_leaves - 1)
    for i in range(n_leaves - 1):
        size[n_leaves + i] = size[pairs[i, 0]] + size[pairs[i, 1]]
    return size[n_leaves:]


@njit(cache=True)
def _cut_by_merge_order(pairs, n_leaves, ks_desc):
    """Labels of the leaves after the first ``n_leaves - k`` merges, for each ``k``.

    Args:
        pairs: int64[n_leaves - 1, 2] merged cluster ids in merge order.
        n_leaves: number of leaves.
        ks_desc: int64[K] cluster counts, strictly decreasing.

    Returns:
        int64[K, n_leaves]; labels numbered by first appearance in leaf order.
    """
    parent = np.arange(2 * n_leaves - 1)
    code = np.full(2 * n_leaves - 1, -1, dtype=np.int64)
    out = np.empty((ks_desc.shape[0], n_leaves), dtype=np.int64)
    applied = 0
    for row in range(ks_desc.shape[0]):
        target = n_leaves - ks_desc[row]
        while applied < target:
            parent[pairs[applied, 0]] = n_leaves + applied
            parent[pairs[applied, 1]] = n_leaves + applied
            applied += 1
        next_code = 0
        for leaf in range(n_leaves):
            root = _find(parent, leaf)
            if code[root] < 0:
                code[root] = next_code
                next_code += 1
            out[row, leaf] = code[root]
        for leaf in range(n_leaves):  # reset only the roots touched
            code[_find(parent, leaf)] = -1
    return out
