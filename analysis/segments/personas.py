"""Personas: the chosen clustering explained by a threshold tree, each leaf named by its tests.

Every cluster of the chosen solution becomes one leaf of an IMM threshold tree
(:mod:`analysis.clustering.threshold_tree`); a user's persona is the leaf its row reaches. The
leaf's tests, written in raw units ("sold 3+", "never bought", "at most 3 followers"), are true
of every member by construction, so the persona's name is. The tree agrees with the clustering
for most users (``fidelity``: the share whose persona is their own cluster); the tiers are then
identified inside every persona with the same rule (:mod:`analysis.segments.types`).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from analysis.clustering.distinct import Distinct
from analysis.clustering.threshold_tree import apply_tree, fit_threshold_tree, leaf_paths
from analysis.features.transform import transform
from analysis.segments.profiles import group_profiles
from analysis.vocabulary import TIERS

#: The words of each feature's column: (noun phrase for counts, verb for products or None).
FEATURE_WORDS = {"followers_excess": ("followers", None), "follows_excess": ("follows", None),
                 "products_liked": ("likes", "liked"), "products_listed": ("listed", "listed"),
                 "products_sold": ("sales", "sold"), "products_wished": ("wishes", "wished"),
                 "products_bought": ("purchases", "bought")}


def scaled_value(param: dict[str, Any], raw: float) -> float:
    """:func:`analysis.features.transform.transform` of one raw value of one feature."""
    return float(transform(pd.DataFrame({param["column"]: [float(raw)]}), [param])[0, 0])


def raw_threshold(param: dict[str, Any], threshold: float) -> int:
    """The largest whole raw value whose scaled value is <= ``threshold`` (threshold < 1,
    feature not inverted): "scaled <= threshold" is "raw <= this" for every user."""
    span = param["hi"] - param["lo"] if param["hi"] > param["lo"] else 1.0
    guess = int(np.floor(np.expm1(threshold * span + param["lo"]) + param["offset"]))
    guess = max(guess, 0)
    while scaled_value(param, guess + 1) <= threshold:
        guess += 1
    while guess > 0 and scaled_value(param, guess) > threshold:
        guess -= 1
    return guess


def condition_words(name: str, low: int | None, high: int | None) -> str:
    """One feature's tests in words: raw values > ``low`` and <= ``high`` (None: no bound)."""
    noun, verb = FEATURE_WORDS.get(name, (name, None))
    if verb is not None:
        if high == 0:
            return f"never {verb}"
        if high is None:
            return f"{verb} {low + 1:,}+"
        if low is None:
            return f"{verb} at most {high:,}"
        return f"{verb} {low + 1:,}–{high:,}"
    if high is None:
        return f"{low + 1:,}+ {noun}"
    if low is None:
        return f"at most {high:,} {noun}"
    return f"{low + 1:,}–{high:,} {noun}"


def path_bounds(path: list[tuple[int, str, float]], params: list[dict[str, Any]]
                ) -> dict[int, list[int | None]]:
    """A leaf's tests merged per feature into raw bounds {feature: [above, at_most]} (None: no
    bound), in the order first tested: a member's raw value v has above < v <= at_most."""
    bounds: dict[int, list[int | None]] = {}
    for j, op, t in path:
        low, high = bounds.setdefault(j, [None, None])
        raw = raw_threshold(params[j], t)
        if op == "<=":
            bounds[j][1] = raw if high is None else min(high, raw)
        else:
            bounds[j][0] = raw if low is None else max(low, raw)
    return bounds


def actions_by_tier(segments: dict[str, int], actions: dict[str, str]) -> dict[str, Any]:
    """The actions each tier's segments inside one persona get, and any action two tiers share
    (the tier would then change nothing the CRM team does): {"by_tier", "shared"}."""
    by_tier: dict[str, list[str]] = {t: [] for t in TIERS}
    for segment in sorted(segments):
        tier = segment.split("/", 1)[0]
        if actions[segment] not in by_tier[tier]:
            by_tier[tier].append(actions[segment])
    shared = sorted({a for t, u in itertools.combinations(TIERS, 2)
                     for a in set(by_tier[t]) & set(by_tier[u])})
    return {"by_tier": by_tier, "shared": shared}


def personas(distinct: Distinct, labels: np.ndarray, centroids: np.ndarray,
             params: list[dict[str, Any]], tiers: np.ndarray, segments: np.ndarray,
             users: pd.DataFrame, actions: dict[str, str], top_n: int) -> dict[str, Any]:
    """The persona of every user (int64[n] under ``"user_personas"``) and one record per
    persona: name, tests, raw bounds, users, own-cluster users, users per tier and per segment,
    the actions per tier, and its profile in raw units.

    ``labels`` int[m] the chosen clusters on the distinct rows, ``centroids`` float64[k, f],
    ``tiers`` and ``segments`` object[n] over ``users`` (n rows, days censored), ``actions``
    the action of every segment id."""
    nodes = fit_threshold_tree(distinct.rows, distinct.counts.astype(np.float64), labels,
                               centroids)
    leaf = apply_tree(nodes, distinct.rows)
    paths = leaf_paths(nodes)
    user_leaf = leaf[distinct.inverse]
    same = distinct.counts[leaf == labels].sum()
    profiles = group_profiles(users, user_leaf, len(users), top_n)
    records = []
    for c in range(len(centroids)):
        members = user_leaf == c
        bounds = path_bounds(paths.get(c, []), params)
        words = [condition_words(params[j]["name"], low, high)
                 for j, (low, high) in bounds.items()]
        seg_names, seg_counts = np.unique(segments[members].astype(str), return_counts=True)
        records.append({
            "persona": c, "name": "; ".join(words) if words else "everyone",
            "tests": words, "users": int(members.sum()),
            "bounds": [{"column": params[j]["column"], "above": low, "at_most": high}
                       for j, (low, high) in bounds.items()],
            "own_cluster": int(distinct.counts[(leaf == c) & (labels == c)].sum()),
            "tiers": {t: int((tiers[members] == t).sum()) for t in TIERS},
            "segments": dict(zip(seg_names.tolist(), map(int, seg_counts), strict=True)),
            "actions": actions_by_tier(dict(zip(seg_names.tolist(), seg_counts, strict=True)),
                                       actions),
            "profile": profiles.get(c)})
    return {"user_personas": user_leaf,
            "fidelity": round(float(same / distinct.n_users), 6),
            "tree": nodes, "records": records}
