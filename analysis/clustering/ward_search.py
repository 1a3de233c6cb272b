"""The exact nearest-neighbour search of the Ward chain, and the error bound it rests on.

:func:`nearest` returns exactly what a float64 scan of every live cluster would (same
position, same float64 proxy; ties are left to :func:`prefer_previous`, scipy's rule), so the
linkage is bit-identical to that of the plain float64 algorithm; only the work differs.
Proxies are ``p = w_x w_p / (w_x + w_p) |c_x - c_p|^2`` (users times squared feature units,
``w`` users per cluster, ``c`` centroids). The state and scratch arrays are the chain's (see
:mod:`analysis.clustering.ward_chain`); blocks are :mod:`analysis.clustering.ward_blocks`'.
A search from the cluster at position ``x``:

1. takes an exact float64 proxy to a live cluster as an upper bound ``P_up`` (the previous chain
   element, else the nearest one in ``x``'s block);
2. skips every block whose bounding box and smallest weight prove all its proxies exceed
   ``P_up`` (a lower bound computed in float64 with a ``2**-40`` margin);
3. scans the other blocks in float32 (centred coordinates, vectorised, a block's sums in L1);
4. re-computes in float64, exactly as the reference does (:func:`exact_block`), every block
   whose float32 minimum is within a proven error bound of the smallest one
   (:func:`_candidate_threshold`), and takes the float64 minimum there.

The error bound: with ``u = 2**-24``, ``C`` the largest centred coordinate and ``F = w_x w_p /
(w_x + w_p) <= w_x``, rounding the centred coordinates to float32 moves each difference by at
most ``2 u C``, so the squared distance moves by at most ``4 u C sqrt(d S) + 4 d u^2 C^2``, and
the at most ``d + 12`` float32 roundings of the sum and the weight factor add a relative
``gamma = (d + 12) u / (1 - (d + 12) u)``. Hence ``|p_float32 - p| <= gamma p + (1 + gamma)
(4 u C sqrt(d w_x p) + 4 d u^2 C^2 w_x)`` (``S = p / F`` is the squared distance), used
with a factor 2 that also covers the float64 reference's own (``2**-29`` times smaller)
rounding. ``C`` must hold for merged centroids too: they are weighted means of the rows, but
computed in float64, each merge may leave the box of the two it merges by a few round-offs,
and merges nest, so ``C`` is the rows' half-range plus ``m * MERGE_DRIFT`` times their
largest absolute coordinate. float32 is only used while ``C``, the weights and the largest
possible proxy stay far from float32's underflow and overflow (``SCAN_RANGES``); otherwise
the same scan runs in float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from analysis.clustering import kernel_cache
from analysis.clustering.ward_blocks import (
    SCAN_BLOCK,
    block_minima,
    candidate_blocks,
    timed_block_minima,
)

kernel_cache.drop_stale("ward")  # these kernels call ward_blocks' and are called by others

#: Roundings counted in the error bound beyond the ``d`` of the sum of squares: two for the
#: rounded difference squared, two for the weights' rounding, four for ``* wx * wp / (wx + wp)``
#: and four spare.
EXTRA_ROUNDINGS = 12

#: How far one merge can move a centroid beyond the box of the two it merges, relative to
#: the largest absolute coordinate: ``(a w_a + b w_b) / (w_a + w_b)`` in float64 is within
#: five round-offs (``5 * 2**-53``) of the exact mean; ``2**-50`` leaves room.
MERGE_DRIFT = 2.0 ** -50

#: Smallest spread / weight and largest possible proxy a scan dtype may see: far inside its
#: normal range, so that underflow and overflow stay out of the error bound.
SCAN_RANGES = {np.float32: (2.0 ** -30, 2.0 ** 100), np.float64: (2.0 ** -400, 2.0 ** 800)}


def scan_precision(U: np.ndarray, w: np.ndarray, dtype=None):
    """Scan dtype, centre and error-bound constants for the rows ``U`` and weights ``w``.

    The scan stores centroids as ``c - centre`` (``centre`` float64[d], the middle of each
    column's range), so that ``C = max |c - centre|`` is as small as possible. A merged
    centroid is a float64 weighted mean, which can leave the rows' box by rounding: ``C`` is
    the half-range plus ``MERGE_DRIFT`` for each of up to ``m - 1`` nested merges. float32 is
    used when the half-range, the weights and the largest possible proxy stay far from
    float32's underflow and overflow (``SCAN_RANGES``); otherwise the scan runs in float64
    with the same bound.

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
    reach = spread + U.shape[0] * MERGE_DRIFT * float(np.max(np.abs(U)))  # C
    d = U.shape[1]
    largest_proxy = float(w.sum()) * 4.0 * d * reach * reach  # may be inf: refused
    for candidate in (np.float32, np.float64) if dtype is None else (dtype,):
        tiny, huge = SCAN_RANGES[candidate]
        if (spread == 0.0 or spread >= tiny) and w.min() >= tiny and largest_proxy <= huge:
            u = float(np.finfo(candidate).eps) / 2  # unit round-off
            n_round = d + EXTRA_ROUNDINGS
            gamma = n_round * u / (1.0 - n_round * u)
            kc = 4.0 * u * reach * np.sqrt(d)
            ac = 4.0 * d * u * u * reach * reach
            return candidate, centre, np.array([gamma, kc, ac])
    raise ValueError("U or weights span a range the exact nearest-neighbour scan cannot "
                     "represent (coordinates or weights beyond 1e-120..1e120)")


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
def proven_lower(scan_value, wx, bound):
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
def exact_block(centroids_t, weights, x_pos, b0, n, out):
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
            exact_block(centroids_t, weights, x_pos, b0, n, out)
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
    exact_block(centroids_t, weights, x_pos, b0, n, out)
    out[x_pos - b0] = np.inf
    upper = out[:n].min()
    if prev_pos >= 0:
        exact_block(centroids_t, weights, x_pos, prev_pos, 1, out)
        upper = min(upper, out[0])
    return upper


@njit(cache=True, error_model="numpy")
def nearest(state, bound, x_pos, prev_pos, length, scratch, parallel_min, work, timing):
    """Nearest live neighbour of the cluster at ``x_pos``: ``(position, float64 proxy)``,
    identical to a float64 scan of all positions, ties left to :func:`prefer_previous`.

    Blocks whose box is farther than a known proxy are skipped; the others are scanned in
    the scan dtype; the blocks whose scan minimum is within the error bound of the smallest
    are re-checked in float64. ``work`` is (int64[n_blocks], scan dtype[n_blocks],
    float64[SCAN_BLOCK], float64[n_blocks]) scratch; scans of at least ``parallel_min`` blocks
    go to ``ward_blocks.timed_block_minima``. Returns the lowest position attaining the
    minimum, its proxy, the number of blocks scanned (``work[0][:n]``, their scan minima in
    ``work[1][:n]``) and the smallest lower bound of the blocks skipped.
    """
    centroids_t, weights, scan_t, scan_w = state[0], state[1], state[2], state[3]
    blocks, minima, exact, gaps = work
    upper = _upper_bound(centroids_t, weights, x_pos, prev_pos, length, exact)
    n, skipped = candidate_blocks(state, x_pos, length, upper, blocks, gaps)
    if scratch.shape[0] > 1 and n >= parallel_min:
        timed_block_minima(scan_t, scan_w, x_pos, length, blocks, n, minima, scratch, timing)
    else:
        block_minima(scan_t, scan_w, x_pos, length, blocks, 0, n, minima, scratch[0])
    best = np.inf
    for i in range(n):
        best = min(best, np.float64(minima[i]))
    threshold = _candidate_threshold(best, weights[x_pos], bound)
    best_pos, best = _exact_min(centroids_t, weights, x_pos, length, blocks, n, minima,
                                threshold, exact)
    return best_pos, best, n, skipped


@njit(cache=True, error_model="numpy")
def prefer_previous(centroids_t, weights, x_pos, prev_pos, best_pos, best, out):
    """scipy's tie rule: the previous chain element ``prev_pos`` (-1: none) when its float64
    proxy equals the minimum ``best``, else ``best_pos`` (the lowest position attaining it)."""
    if prev_pos >= 0:
        exact_block(centroids_t, weights, x_pos, prev_pos, 1, out)
        if out[0] == best:
            return prev_pos
    return best_pos
