"""Blocks of cluster positions: their bounding boxes and their float32 scans (numba kernels).

Live clusters sit at positions ``0..length-1`` of the chain's state (see
:mod:`analysis.clustering.ward_chain`); position ``p`` is in block ``p // SCAN_BLOCK``. Leaves
come in ``U``'s order, lexicographic for ``distinct_rows``, so a block is a compact region.

* Boxes: ``box_low``/``box_high`` float64[d, n_blocks] hold every live centroid of a block
  (feature units; they may be larger than needed), ``block_w`` float64[n_blocks] at most the
  smallest live weight of the block (users; -1: no live position). :func:`candidate_blocks`
  leaves out the blocks whose box proves every proxy in them too large.
* Scans: :func:`block_minima` gives each scanned block's smallest proxy in the scan dtype
  (float32, or float64 where float32 cannot hold the data) from the centred copy ``scan_t``
  [d, m] and ``scan_w`` [m]; proxies are ``w_x w_p / (w_x + w_p) |c_x - c_p|^2`` (users times
  squared feature units). :mod:`analysis.clustering.ward_search` bounds their error and
  re-checks the closest blocks in float64.
* Threads: a scan of at least ``PARALLEL_MIN_BLOCKS`` blocks may be split over the numba
  threads, one parallel region per search, unless one thread has lately been faster per block
  (another job holding a core makes every region wait for it; see
  :func:`timed_block_minima`). Both ways give the same minima.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit, objmode, prange

from analysis.clustering import kernel_cache

kernel_cache.drop_stale("ward")  # these kernels are compiled into the other ward_* modules'

#: Positions per block of the nearest-neighbour scan (a power of two): a block's partial sums
#: stay in the L1 cache, and a block is the unit re-checked in float64.
SCAN_BLOCK = 512

#: Coordinates added per pass over a block's partial sums (fewer loads and stores of them).
COORDS_PER_PASS = 4

#: Width at which :func:`_fold_min` stops halving and finishes with a scalar loop.
FOLD_MIN_LANES = 16

#: Searches that scan at least this many blocks may run on all numba threads (one parallel
#: region per search, about 0.25 ms of work here); shorter ones run on one thread.
PARALLEL_MIN_BLOCKS = 512

#: Every PROBE_EVERY-th long scan runs the other way (one thread / all threads) than the
#: faster one, and TIMING_WEIGHT is the weight of a new timing in the moving averages.
PROBE_EVERY = 32
TIMING_WEIGHT = 0.1


@njit(cache=True, error_model="numpy")
def refresh_boxes(state, alive, length):
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
def candidate_blocks(state, x_pos, length, upper, out, gaps):
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
def block_minima(scan_t, scan_w, x_pos, length, blocks, first, last, minima, buf):
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
    """:func:`block_minima` over ``blocks[:n]``, split into ``len(scratch)`` contiguous runs,
    one per thread (``scratch`` [n_threads, SCAN_BLOCK] holds each run's buffer)."""
    n_chunks = scratch.shape[0]
    for c in prange(n_chunks):
        block_minima(scan_t, scan_w, x_pos, length, blocks, c * n // n_chunks,
                      (c + 1) * n // n_chunks, minima, scratch[c])


@njit(cache=True)
def _clock():
    """Seconds from ``time.perf_counter`` (about 0.3 us through numba's object mode)."""
    with objmode(t="float64"):
        t = time.perf_counter()
    return t


@njit(cache=True)
def timed_block_minima(scan_t, scan_w, x_pos, length, blocks, n, minima, scratch, timing):
    """:func:`block_minima` over ``blocks[:n]`` on all threads or on one, whichever has been
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
        block_minima(scan_t, scan_w, x_pos, length, blocks, 0, n, minima, scratch[0])
    per_block = (_clock() - start) / n
    way = 1 if parallel else 0
    timing[way] = per_block if timing[way] == 0.0 else (
        (1.0 - TIMING_WEIGHT) * timing[way] + TIMING_WEIGHT * per_block)
