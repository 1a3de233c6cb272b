"""What changed since the previous snapshot: validation, feature drift, tiers, the model.

:func:`compare` takes the previous snapshot
(:func:`analysis.history.snapshots.load_snapshot`, or None for the first build), the freshly
written artifacts and the current users, and returns the ``changes.json`` document that the
"What changed" page (``site/changes.md``) renders. Every tunable is in config ``[drift]``.

**Feature drift** is measured per model feature column (and ``daysSinceLastLogin``) on the
recorded value counts, so the previous release's rows are never needed:

* *PSI* (population stability index) over fixed bins made from the **previous** distribution:
  equal-frequency bins, ``[drift].psi_bins`` of them, built by walking the previous distinct
  values in ascending order and closing a bin as soon as it holds at least the remaining share
  divided by the remaining bins. A value held by many users (the zero of a count that most users
  never use) so gets a bin of its own and the rest of the mass is split finely; bins never
  split a value. Bin *i* holds values in ``(upper[i-1], upper[i]]``; the first is open to the
  left, the last to the right, so current values outside the previous range still count. Bin
  shares below ``[drift].psi_epsilon`` are raised to it (an empty bin would make the log
  infinite). ``PSI = sum((cur - prev) * ln(cur / prev))``; < ``psi_moderate`` (0.1) is stable,
  up to ``psi_major`` (0.25) moderate, above it a major shift.
* *KS*, the two-sample Kolmogorov–Smirnov statistic D = max |F_prev(x) - F_cur(x)|, computed
  exactly from the value counts (the empirical CDFs step only at observed values). Its p-value
  is Smirnov's asymptotic distribution as scipy's ``ks_2samp(method="asymp")`` computes it:
  ``kstwo.sf(D, round(n1 n2 / (n1 + n2)))`` (conservative for tied, discrete data; with
  ~100,000 users any visible shift has p ≈ 0, hence the effect-size threshold
  ``[drift].ks_threshold`` on D).

**Tier shares** compare the previous build's tier counts with the current ones. The 95%
interval of the difference (``[drift].ci_level``) is a percentile bootstrap: both count vectors
are resampled as multinomials of their own size and shares (``[drift].bootstrap_resamples``
times, seed ``[drift].bootstrap_seed``) and the difference of the resampled shares is taken.
It is the sampling noise of two independent samples of users; it does not cover refitting
noise. The same is done for the previous model applied to the new users (a fixed ruler).

**The previous model on the new data**: :func:`analysis.scoring.score.score_frame` applies the
previous ``model.json`` (its chosen solution) to the current users; the tiers are compared with
the refitted tiers (agreement share, confusion table) and the clusters with the refitted chosen
solution's clusters (adjusted Rand index).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.config import DriftConfig
from analysis.intake.schema import COLUMN_LABELS, ID_COLUMN
from analysis.vocabulary import TIERS

FIRST_BUILD = "This is the first build: there is no previous snapshot to compare with."
STATUS_PASS, STATUS_WARN, STATUS_FAIL, STATUS_ABSENT = "pass", "warn", "fail", "absent"
#: How a column reads in a sentence (capitalised: it starts the sentence).
COLUMN_WORDS = {**COLUMN_LABELS, "daysSinceLastLogin": "Recency"}
MINUS = "\u2212"


# --------------------------------------------------------------------------------------------
# distributions from value counts


def _arrays(dist: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(values float64[m] ascending, counts int64[m]) of one column's value counts."""
    return (np.asarray(dist["values"], dtype=np.float64),
            np.asarray(dist["counts"], dtype=np.int64))


def psi_edges(values: np.ndarray, counts: np.ndarray, bins: int) -> list[float]:
    """Upper edges (inclusive) of every bin but the last, from the previous distribution.

    Walk the distinct ``values`` (ascending) with their ``counts`` and close a bin once it holds
    at least (remaining count) / (remaining bins). The largest value is never an edge, so the
    last bin always holds previous users. At most ``bins`` bins; fewer when values are few.
    """
    remaining, left = float(counts.sum()), int(bins)
    edges: list[float] = []
    held = 0
    for i, (value, count) in enumerate(zip(values, counts, strict=True)):
        held += int(count)
        if left > 1 and i < len(values) - 1 and held >= remaining / left:
            edges.append(float(value))
            remaining -= held
            held = 0
            left -= 1
    return edges


def bin_shares(values: np.ndarray, counts: np.ndarray, edges: list[float]) -> np.ndarray:
    """Share of the counted users in each bin ``(edges[i-1], edges[i]]``: float64[len(edges)+1]."""
    which = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left")
    totals = np.bincount(which, weights=counts, minlength=len(edges) + 1)
    return totals / max(float(counts.sum()), 1.0)


def psi(previous: np.ndarray, current: np.ndarray, epsilon: float) -> float:
    """Population stability index of two share vectors over the same bins (shares floored at
    ``epsilon``): sum((current - previous) * ln(current / previous)); 0 when identical."""
    p = np.maximum(np.asarray(previous, dtype=np.float64), epsilon)
    q = np.maximum(np.asarray(current, dtype=np.float64), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def ks_from_counts(prev: dict[str, Any], cur: dict[str, Any]) -> tuple[float, float]:
    """Two-sample KS statistic D and its asymptotic two-sided p-value, exactly from counts.

    D = max over all observed values x of |F_prev(x) - F_cur(x)| (the empirical CDFs); the
    p-value is ``scipy.stats.kstwo.sf(D, round(n1 n2 / (n1 + n2)))``, as ``ks_2samp`` with
    ``method="asymp"`` computes it.
    """
    from scipy.stats import kstwo

    v1, c1 = _arrays(prev)
    v2, c2 = _arrays(cur)
    n1, n2 = int(c1.sum()), int(c2.sum())
    if n1 == 0 or n2 == 0:
        return float("nan"), float("nan")
    support = np.union1d(v1, v2)
    cdf1 = np.cumsum(np.bincount(np.searchsorted(support, v1), weights=c1,
                                 minlength=len(support))) / n1
    cdf2 = np.cumsum(np.bincount(np.searchsorted(support, v2), weights=c2,
                                 minlength=len(support))) / n2
    d = float(np.max(np.abs(cdf1 - cdf2)))
    en = n1 * n2 / (n1 + n2)
    return d, float(np.clip(kstwo.sf(d, np.round(en)), 0.0, 1.0))


def quantile_from_counts(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """The ``q`` quantile of the users behind the value counts (NumPy's default "linear")."""
    n = int(counts.sum())
    if n == 0:
        return float("nan")
    position = q * (n - 1)
    lo, hi = math.floor(position), math.ceil(position)
    cum = np.cumsum(counts)
    v_lo = values[np.searchsorted(cum, lo, side="right")]
    v_hi = values[np.searchsorted(cum, hi, side="right")]
    return float(v_lo + (v_hi - v_lo) * (position - lo))


def describe_counts(dist: dict[str, Any], offset: float = 0.0) -> dict[str, float]:
    """Users, median, mean, 90th percentile and the share above ``offset`` (0, or the platform
    default of followers / follows) of one column's value counts."""
    values, counts = _arrays(dist)
    n = int(counts.sum())
    return {
        "users": n,
        "median": quantile_from_counts(values, counts, 0.5),
        "mean": float(np.dot(values, counts) / n) if n else float("nan"),
        "p90": quantile_from_counts(values, counts, 0.9),
        "share_above_offset": float(counts[values > offset].sum() / n) if n else float("nan"),
    }


def verdict(psi_value: float, drift: DriftConfig) -> str:
    """"stable" (PSI < psi_moderate), "moderate" (up to psi_major) or "major"."""
    if psi_value < drift.psi_moderate:
        return "stable"
    return "moderate" if psi_value <= drift.psi_major else "major"


def feature_drift(previous: dict[str, Any], current: dict[str, Any], drift: DriftConfig,
                  offsets: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """PSI, KS and summary statistics per column present in both value-count documents."""
    offsets = offsets or {}
    rows = []
    for column in [c for c in current["columns"] if c in previous["columns"]]:
        prev, cur = previous["columns"][column], current["columns"][column]
        pv, pc = _arrays(prev)
        cv, cc = _arrays(cur)
        edges = psi_edges(pv, pc, int(drift.psi_bins))
        p_shares, c_shares = bin_shares(pv, pc, edges), bin_shares(cv, cc, edges)
        value = psi(p_shares, c_shares, float(drift.psi_epsilon))
        d, p_value = ks_from_counts(prev, cur)
        offset = float(offsets.get(column, 0.0))
        rows.append({
            "column": column,
            "label": COLUMN_WORDS.get(column, column),
            "psi": value,
            "verdict": verdict(value, drift),
            "ks": d,
            "ks_pvalue": p_value,
            "ks_shift": bool(d >= drift.ks_threshold),
            "offset": offset,
            "previous": describe_counts(prev, offset),
            "current": describe_counts(cur, offset),
            "bins": [{"upper": edges[i] if i < len(edges) else None,
                      "previous_share": float(p_shares[i]),
                      "current_share": float(c_shares[i])} for i in range(len(edges) + 1)],
        })
    return sorted(rows, key=lambda r: -r["psi"])


# --------------------------------------------------------------------------------------------
# tier shares with bootstrap intervals


def bootstrap_shares(previous: np.ndarray, current: np.ndarray, resamples: int, seed: int,
                     level: float) -> dict[str, np.ndarray]:
    """Percentile bootstrap of two independent count vectors over the same categories.

    Each vector is resampled ``resamples`` times as a multinomial of its own total and shares;
    returns ``previous_ci``, ``current_ci`` (float64[c, 2], share intervals) and ``diff_ci``
    (float64[c, 2], interval of current share - previous share), at ``level`` (e.g. 0.95).
    """
    rng = np.random.default_rng(seed)
    previous, current = np.asarray(previous, np.int64), np.asarray(current, np.int64)
    n1, n2 = int(previous.sum()), int(current.sum())
    a = rng.multinomial(n1, previous / n1, size=resamples) / n1
    b = rng.multinomial(n2, current / n2, size=resamples) / n2
    q = [50 * (1 - level), 50 * (1 + level)]

    def interval(x: np.ndarray) -> np.ndarray:
        return np.percentile(x, q, axis=0).T

    return {"previous_ci": interval(a), "current_ci": interval(b), "diff_ci": interval(b - a)}


def tier_shift(previous: dict[str, int], current: dict[str, int], drift: DriftConfig,
               seed_offset: int = 0) -> list[dict[str, Any]]:
    """Per tier: counts, shares, difference in percentage points and bootstrap intervals."""
    p = np.array([int(previous.get(t, 0)) for t in TIERS])
    c = np.array([int(current.get(t, 0)) for t in TIERS])
    boot = bootstrap_shares(p, c, int(drift.bootstrap_resamples),
                            int(drift.bootstrap_seed) + seed_offset, float(drift.ci_level))
    rows = []
    for i, tier in enumerate(TIERS):
        ps, cs = p[i] / p.sum(), c[i] / c.sum()
        lo, hi = boot["diff_ci"][i]
        rows.append({
            "tier": tier,
            "previous_count": int(p[i]), "current_count": int(c[i]),
            "previous_share": float(ps), "current_share": float(cs),
            "previous_share_ci": [float(v) for v in boot["previous_ci"][i]],
            "current_share_ci": [float(v) for v in boot["current_ci"][i]],
            "diff_pp": float(100 * (cs - ps)),
            "diff_pp_ci": [float(100 * lo), float(100 * hi)],
            "significant": bool(lo > 0 or hi < 0),
        })
    return rows


# --------------------------------------------------------------------------------------------
# validation differences


def expectation_status(entry: dict[str, Any] | None) -> str:
    """pass / warn (a warning failed) / fail (a critical failed) / absent (not in the suite)."""
    if entry is None:
        return STATUS_ABSENT
    if entry["success"]:
        return STATUS_PASS
    return STATUS_FAIL if entry["severity"] == "critical" else STATUS_WARN


def validation_changes(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Expectations not met in either report (status and offending rows, before and now), and
    the ids of those whose status changed, of new warnings and of resolved ones. An expectation
    met in one report and absent from the other (the suite changed) is not listed."""
    prev = {e["id"]: e for e in previous.get("expectations", [])}
    cur = {e["id"]: e for e in current.get("expectations", [])}
    rows = []
    for eid in [*cur, *(i for i in prev if i not in cur)]:
        before, after = prev.get(eid), cur.get(eid)
        s_before, s_after = expectation_status(before), expectation_status(after)
        n_before = before.get("unexpected_count") if before else None
        n_after = after.get("unexpected_count") if after else None
        if {s_before, s_after} <= {STATUS_PASS, STATUS_ABSENT}:
            continue  # met (or not in the suite) both times: nothing to report
        entry = after or before
        rows.append({
            "id": eid, "rule": entry["rule"], "columns": entry.get("columns", []),
            "severity": entry["severity"], "previous": s_before, "current": s_after,
            "previous_unexpected": n_before, "current_unexpected": n_after,
            "status_changed": s_before != s_after,
        })
    return {
        "previous_status": previous.get("status"),
        "current_status": current.get("status"),
        "previous_counts": previous.get("counts", {}),
        "current_counts": current.get("counts", {}),
        "previous_rows": previous.get("rows"),
        "current_rows": current.get("rows"),
        "expectations": rows,
        "changed": [r["id"] for r in rows if r["status_changed"]],
        "new_warnings": [r["id"] for r in rows
                         if r["current"] == STATUS_WARN and r["previous"] != STATUS_WARN],
        "resolved": [r["id"] for r in rows if r["previous"] in (STATUS_WARN, STATUS_FAIL)
                     and r["current"] in (STATUS_PASS, STATUS_ABSENT)],
    }


# --------------------------------------------------------------------------------------------
# the previous model on the new users


def _aligned_labels(labels: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """``labels`` rows in the order of ``ids`` (they are the same users)."""
    if len(labels) == len(ids) and np.array_equal(labels[ID_COLUMN].to_numpy(np.int64), ids):
        return labels
    at = pd.Index(labels[ID_COLUMN].to_numpy(np.int64)).get_indexer(ids)
    if (at < 0).any():
        raise ValueError("labels.parquet does not hold the same users as the current data")
    return labels.iloc[at].reset_index(drop=True)


def model_agreement(previous_model: dict[str, Any], current_model: dict[str, Any],
                    current_users: pd.DataFrame, labels: pd.DataFrame) -> dict[str, Any]:
    """The previous model's chosen solution vs the refitted chosen solution on the new users.

    Tier agreement share, the tier confusion table (rows: previous model, columns: refit) and
    ARI / NMI between the previous model's clusters and the refitted clusters, plus the tier
    counts the previous model gives the new users.
    """
    from analysis.evaluation.agreement import agreement
    from analysis.scoring.score import score_frame

    scored = score_frame(current_users, previous_model)
    ids = scored[ID_COLUMN].to_numpy(np.int64)
    labels = _aligned_labels(labels, ids)
    cur_alg, cur_k = current_model["chosen"]["algorithm"], int(current_model["chosen"]["k"])
    refit_clusters = labels[f"{cur_alg}_k{cur_k}"].to_numpy(np.int64)
    refit_tiers = labels["tier"].astype(str).to_numpy()
    old_tiers = scored["tier"].astype(str).to_numpy()
    table = pd.crosstab(pd.Categorical(old_tiers, categories=TIERS),
                        pd.Categorical(refit_tiers, categories=TIERS), dropna=False)
    agree = agreement(scored["cluster"].to_numpy(np.int64), refit_clusters)
    return {
        "previous_solution": {"algorithm": previous_model["chosen"]["algorithm"],
                              "k": int(previous_model["chosen"]["k"])},
        "current_solution": {"algorithm": cur_alg, "k": cur_k},
        "users": int(len(ids)),
        "tier_agreement": float(np.mean(old_tiers == refit_tiers)) if len(ids) else float("nan"),
        "confusion": {"rows": "previous model", "columns": "refitted model",
                      "tiers": list(TIERS),
                      "counts": [[int(table.loc[a, b]) for b in TIERS] for a in TIERS]},
        "ari": agree["ari"],
        "nmi": agree["nmi"],
        "previous_model_tiers": {t: int(np.sum(old_tiers == t)) for t in TIERS},
    }
