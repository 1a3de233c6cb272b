"""What changed since the previous snapshot: validation, feature drift, tiers, the model.

:func:`compare` takes the previous snapshot (:func:`analysis.history.snapshots.load_snapshot`, or None for
the first build), the freshly written artifacts and the current users, and returns the
``changes.json`` document that the "What changed" page (``site/changes.md``) renders. Every
tunable is in config ``[drift]``.

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

import json
import math
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import C2CError
from analysis.history.snapshots import DISTRIBUTION_COLUMNS, snapshot_key, value_counts
from analysis.scoring.model import TIERS
from analysis.intake.schema import COLUMN_LABELS, ID_COLUMN

FIRST_BUILD = "This is the first build: there is no previous snapshot to compare with."
STATUS_PASS, STATUS_WARN, STATUS_FAIL, STATUS_ABSENT = "pass", "warn", "fail", "absent"
#: How a column reads in a sentence (capitalised: it starts the sentence).
COLUMN_WORDS = {**COLUMN_LABELS, "daysSinceLastLogin": "Recency"}
ALGORITHM_NAMES = {"kmeans": "K-Means", "ward": "Ward"}
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


def verdict(psi_value: float, drift: dict[str, Any]) -> str:
    """"stable" (PSI < psi_moderate), "moderate" (up to psi_major) or "major"."""
    if psi_value < drift["psi_moderate"]:
        return "stable"
    return "moderate" if psi_value <= drift["psi_major"] else "major"


def feature_drift(previous: dict[str, Any], current: dict[str, Any], drift: dict[str, Any],
                  offsets: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """PSI, KS and summary statistics per column present in both value-count documents."""
    offsets = offsets or {}
    rows = []
    for column in [c for c in current["columns"] if c in previous["columns"]]:
        prev, cur = previous["columns"][column], current["columns"][column]
        pv, pc = _arrays(prev)
        cv, cc = _arrays(cur)
        edges = psi_edges(pv, pc, int(drift["psi_bins"]))
        p_shares, c_shares = bin_shares(pv, pc, edges), bin_shares(cv, cc, edges)
        value = psi(p_shares, c_shares, float(drift["psi_epsilon"]))
        d, p_value = ks_from_counts(prev, cur)
        offset = float(offsets.get(column, 0.0))
        rows.append({
            "column": column,
            "label": COLUMN_WORDS.get(column, column),
            "psi": value,
            "verdict": verdict(value, drift),
            "ks": d,
            "ks_pvalue": p_value,
            "ks_shift": bool(d >= drift["ks_threshold"]),
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


def tier_shift(previous: dict[str, int], current: dict[str, int], drift: dict[str, Any],
               seed_offset: int = 0) -> list[dict[str, Any]]:
    """Per tier: counts, shares, difference in percentage points and bootstrap intervals."""
    p = np.array([int(previous.get(t, 0)) for t in TIERS])
    c = np.array([int(current.get(t, 0)) for t in TIERS])
    boot = bootstrap_shares(p, c, int(drift["bootstrap_resamples"]),
                            int(drift["bootstrap_seed"]) + seed_offset, float(drift["ci_level"]))
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
    from analysis.evaluation.metrics import agreement
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


# --------------------------------------------------------------------------------------------
# sentences


def pct(share: float, digits: int = 1) -> str:
    """0.0271 -> '2.7%'."""
    return f"{100 * share:.{digits}f}%"


def signed(x: float, digits: int = 1) -> str:
    """+0.4 / −0.8 (a real minus sign); 0 without sign."""
    text = f"{abs(x):.{digits}f}"
    if float(text) == 0:
        return text
    return ("+" if x > 0 else MINUS) + text


def _num(x: float) -> str:
    """A statistic in a sentence: whole numbers without decimals, else two decimals."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def solution_text(solution: dict[str, Any]) -> str:
    return f"{ALGORITHM_NAMES.get(solution['algorithm'], solution['algorithm'])} " \
           f"k = {int(solution['k'])}"


def drift_sentence(row: dict[str, Any]) -> str:
    """'Recency shifted (PSI 0.43, major; KS 0.35): users last logged in 60 days later on
    median (694 → 754 days since the last login).'"""
    head = (f"{row['label']} shifted (PSI {row['psi']:.2f}, {row['verdict']}; "
            f"KS {row['ks']:.2f})")
    prev, cur = row["previous"], row["current"]
    if row["column"] == "daysSinceLastLogin":
        delta = cur["median"] - prev["median"]
        what, a, b = "on median", prev["median"], cur["median"]
        if delta == 0:
            delta, what, a, b = cur["mean"] - prev["mean"], "on average", prev["mean"], cur["mean"]
        if delta == 0:
            return f"{head}."
        direction = "later" if delta > 0 else "more recently"
        return (f"{head}: users last logged in {_num(abs(delta))} days {direction} {what} "
                f"({_num(a)} → {_num(b)} days since the last login).")
    above = f"more than {_num(row['offset'])}"
    return (f"{head}: median {_num(prev['median'])} → {_num(cur['median'])}, mean "
            f"{prev['mean']:.2f} → {cur['mean']:.2f}; users with {above}: "
            f"{pct(prev['share_above_offset'])} → {pct(cur['share_above_offset'])}.")


def tier_sentence(row: dict[str, Any], level: float) -> str:
    """'The active tier shrank from 2.7% to 1.9% (−0.8 pp, 95% CI −0.9 to −0.7).'"""
    digits = 1 if abs(row["diff_pp"]) >= 0.05 else 2
    lo, hi = row["diff_pp_ci"]
    ci = (f"{signed(row['diff_pp'], digits)} pp, {level:.0%} CI "
          f"{signed(lo, digits)} to {signed(hi, digits)}")
    a, b = pct(row["previous_share"]), pct(row["current_share"])
    if not row["significant"]:
        return (f"The {row['tier']} tier is unchanged within sampling noise ({a} → {b}, "
                f"{ci}).")
    verb = "grew" if row["diff_pp"] > 0 else "shrank"
    return f"The {row['tier']} tier {verb} from {a} to {b} of users ({ci})."


def validation_sentence(diff: dict[str, Any]) -> str:
    counts = diff["current_counts"]
    warn_now = counts.get("failed_warning", 0)
    warn_before = diff["previous_counts"].get("failed_warning", 0)
    parts = []
    if diff["new_warnings"]:
        parts.append(f"new warning(s): {', '.join(diff['new_warnings'])}")
    if diff["resolved"]:
        parts.append(f"resolved: {', '.join(diff['resolved'])}")
    if not diff["changed"]:
        return (f"Validation results are unchanged: status {diff['current_status']}, "
                f"{warn_now} warning(s) of {counts.get('expectations', 0)} expectations.")
    return (f"Validation status {diff['previous_status']} → {diff['current_status']}; "
            f"{len(diff['changed'])} expectation(s) changed status, warnings {warn_before} → "
            f"{warn_now}" + (f" ({'; '.join(parts)})" if parts else "") + ".")


def summary_sentences(doc: dict[str, Any], drift: dict[str, Any]) -> list[str]:
    """The plain-language summary at the top of the page, one sentence per finding."""
    out = []
    prev, cur = doc["previous"], doc["current"]
    n0, n1 = prev["rows_clustered"], cur["rows_clustered"]
    same_input = prev["input_sha256"] == cur["input_sha256"]
    if same_input:
        out.append(f"The input file is the same as the previous snapshot's ({n1:,} users).")
    else:
        change = n1 - n0
        more = "more" if change >= 0 else "fewer"
        out.append(f"The new export has {n1:,} users, {abs(change):,} {more} than the previous "
                   f"snapshot's {n0:,} ({signed(100 * change / n0 if n0 else 0.0)}%).")
    out.append(validation_sentence(doc["validation"]))
    drifted = [r for r in doc["drift"]["columns"] if r["verdict"] != "stable"]
    out += [drift_sentence(r) for r in drifted]
    stable = [r for r in doc["drift"]["columns"] if r["verdict"] == "stable"]
    if stable and drifted:
        out.append(f"The other {len(stable)} feature(s) are stable (PSI below "
                   f"{drift['psi_moderate']:g}).")
    elif stable:
        out.append(f"No feature drifted: every PSI is below {drift['psi_moderate']:g} "
                   f"(largest {max(r['psi'] for r in stable):.3f}).")
    ks_only = [r["label"] for r in stable if r["ks_shift"]]
    if ks_only:
        out.append(f"KS reaches {drift['ks_threshold']:g} for {', '.join(ks_only)} although "
                   f"its PSI is stable: a shift within the bins.")
    out += [tier_sentence(r, float(drift["ci_level"])) for r in doc["tiers"]["refit"]]
    model = doc["model"]
    if model.get("error"):
        out.append(f"The previous model could not be applied to the new data: {model['error']}")
        return out
    before, after = model["previous_solution"], model["current_solution"]
    if before == after:
        out.append(f"The refitted model chose {solution_text(after)}, as before.")
    else:
        out.append(f"The refitted model chose {solution_text(after)} "
                   f"(previously {solution_text(before)}).")
    out.append(f"Applied to the new users, the previous model gives the same tier as the "
               f"refitted model for {pct(model['tier_agreement'])} of them (ARI "
               f"{model['ari']:.2f} between their clusters).")
    level = float(drift["ci_level"])
    out.append("With the previous model as a fixed ruler (the new users scored with its "
               "centroids), the tier shares moved: " + "; ".join(
                   f"{r['tier']} {pct(r['previous_share'])} → {pct(r['current_share'])} "
                   f"({signed(r['diff_pp'])} pp, {level:.0%} CI {signed(r['diff_pp_ci'][0])} "
                   f"to {signed(r['diff_pp_ci'][1])})" for r in doc["tiers"]["previous_model"])
               + ".")
    return out


# --------------------------------------------------------------------------------------------
# the document


def _read(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _side(manifest: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    side = {
        "input_name": manifest.get("input", {}).get("name"),
        "input_sha256": manifest["input_sha256"],
        "rows_in": manifest.get("rows_in"),
        "rows_clustered": manifest.get("rows_clustered"),
        "chosen": {k: manifest.get("chosen", {}).get(k) for k in ("algorithm", "k")},
        "tiers": manifest.get("tiers", {}),
        "key": snapshot_key(manifest),
    }
    if meta is not None:
        side.update({"snapshot": Path(meta.get("path", "")).name or None,
                     "sequence": meta.get("sequence"), "recorded_at": meta.get("recorded_at")})
    return side


def _drift_config(config: dict[str, Any]) -> dict[str, Any]:
    return dict(config["drift"])


def compare(previous: dict[str, Any] | None, current_artifacts_dir: Path,
            current_users: pd.DataFrame, config: dict[str, Any]) -> dict[str, Any]:
    """The ``changes.json`` document: the current build against the ``previous`` snapshot.

    ``previous`` is :func:`analysis.history.snapshots.load_snapshot` of the previous snapshot or None
    (first build); ``current_artifacts_dir`` holds the artifacts ``segment`` just wrote;
    ``current_users`` is the same users, typed (:func:`analysis.intake.reader.load_users`). Keys:
    ``previous`` / ``current`` (which builds), ``thresholds``, ``validation``, ``drift``,
    ``tiers`` (``refit``: previous vs current tiers; ``previous_model``: previous tiers vs the
    previous model applied to the new users), ``model`` and ``summary`` (sentences).
    """
    artifacts = Path(current_artifacts_dir)
    manifest = _read(artifacts / "manifest.json")
    current = _side(manifest)
    if previous is None:
        return {"previous": None, "current": current, "summary": [FIRST_BUILD]}
    drift = _drift_config(config)
    model = _read(artifacts / "model.json")
    report = _read(artifacts / "validation_report.json")
    offsets = {p["column"]: float(p["offset"]) for p in model["features"]}
    columns = [c for c in DISTRIBUTION_COLUMNS if c in current_users.columns]
    current_dist = value_counts(current_users, columns)
    doc: dict[str, Any] = {
        "previous": _side(previous["manifest"], {**previous.get("meta", {}),
                                                 "path": previous.get("path", "")}),
        "current": current,
        "thresholds": {
            "psi_moderate": drift["psi_moderate"], "psi_major": drift["psi_major"],
            "psi_bins": drift["psi_bins"], "psi_epsilon": drift["psi_epsilon"],
            "ks_threshold": drift["ks_threshold"], "ci_level": drift["ci_level"],
            "bootstrap_resamples": drift["bootstrap_resamples"],
            "bootstrap_seed": drift["bootstrap_seed"],
        },
        "validation": validation_changes(previous["validation"], report),
        "drift": {
            "method": (f"PSI over at most {drift['psi_bins']} equal-frequency bins of the "
                       f"previous distribution (a heavy value gets its own bin; empty bins "
                       f"floored at {drift['psi_epsilon']:g}); KS statistic exact from the "
                       "value counts, asymptotic p-value (scipy kstwo)"),
            "columns": feature_drift(previous["distributions"], current_dist, drift, offsets),
        },
        "tiers": {"refit": tier_shift(previous["manifest"]["tiers"], manifest["tiers"], drift)},
    }
    labels = pd.read_parquet(artifacts / "labels.parquet")
    try:
        doc["model"] = model_agreement(previous["model"], model, current_users, labels)
    except (KeyError, ValueError, C2CError) as err:  # an incompatible previous model: say so
        doc["model"] = {"error": f"{type(err).__name__}: {err}"}
        doc["tiers"]["previous_model"] = []
    else:
        doc["tiers"]["previous_model"] = tier_shift(
            previous["manifest"]["tiers"], doc["model"]["previous_model_tiers"], drift,
            seed_offset=1)
    doc["summary"] = summary_sentences(doc, drift)
    return doc


def write_changes(changes: dict[str, Any], artifacts_dir: Path) -> Path:
    """Write ``changes.json`` into the artifacts folder (temporary file, then renamed)."""
    from analysis.publishing.writer import write_json

    target = Path(artifacts_dir) / "changes.json"
    tmp = target.with_name(f".changes.{uuid.uuid4().hex}.json")
    try:
        write_json(tmp, changes)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def build_changes(artifacts_dir: Path, data_path: Path, config: dict[str, Any]
                  ) -> dict[str, Any]:
    """``c2c build``'s step after ``segment``: compare with the previous snapshot, write
    ``changes.json`` into ``artifacts_dir``; returns the document.

    The previous snapshot is the newest one in ``[history].dir`` of a *different* release
    (:func:`analysis.history.snapshots.previous_snapshot` with this build's key).
    """
    from analysis.history.snapshots import history_dir, load_snapshot, previous_snapshot
    from analysis.intake.reader import load_users

    artifacts_dir = Path(artifacts_dir)
    key = snapshot_key(_read(artifacts_dir / "manifest.json"))
    found = previous_snapshot(history_dir(config), exclude_key=key)
    previous = load_snapshot(found) if found is not None else None
    users = load_users(data_path) if previous is not None else pd.DataFrame()
    changes = compare(previous, artifacts_dir, users, config)
    write_changes(changes, artifacts_dir)
    return changes
