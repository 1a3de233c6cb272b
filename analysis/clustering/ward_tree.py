"""From the chain's merges to a linkage matrix, and flat clusters cut from it (numba kernels).

The nearest-neighbour chain (:mod:`analysis.clustering.ward_chain`) reports merges as pairs
of cluster *slots* (int64, ``0..m-1``; the merged cluster lives on in the higher slot) with
float64 heights in feature units. :func:`relabel` turns them, once sorted by height, into
scipy's linkage format (cluster ids ``0..m-1`` for leaves, ``m + i`` for the ``i``-th merge),
as scipy's ``label`` does; :func:`cut_by_merge_order` and :func:`subtree_leaf_counts` read
the int64[m - 1, 2] id pairs of a linkage matrix. All work in ``O(m)`` memory with a
union-find (:func:`find_root`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def find_root(parent, x):
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
def relabel(first, second, heights, leaf_weights):
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
        ra = find_root(parent, first[i])
        rb = find_root(parent, second[i])
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
def subtree_leaf_counts(pairs, n_leaves):
    """Number of leaves under each merge of int64[n_leaves - 1, 2] ``pairs`` (float64)."""
    size = np.ones(2 * n_leaves - 1)
    for i in range(n_leaves - 1):
        size[n_leaves + i] = size[pairs[i, 0]] + size[pairs[i, 1]]
    return size[n_leaves:]


@njit(cache=True)
def cut_by_merge_order(pairs, n_leaves, ks_desc):
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
            root = find_root(parent, leaf)
            if code[root] < 0:
                code[root] = next_code
                next_code += 1
            out[row, leaf] = code[root]
        for leaf in range(n_leaves):  # reset only the roots touched
            code[find_root(parent, leaf)] = -1
    return out
