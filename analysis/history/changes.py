"""The "What changed" document: the current build against the previous release, in words.

:func:`compare` assembles ``changes.json`` from the statistics of :mod:`analysis.history.drift`
and writes the sentences the page and ``c2c build`` show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from analysis.config import DriftConfig
from analysis.errors import C2CError
from analysis.history.drift import (
    FIRST_BUILD,
    MINUS,
    feature_drift,
    model_agreement,
    tier_shift,
    validation_changes,
)
from analysis.history.snapshots import DISTRIBUTION_COLUMNS, snapshot_key, value_counts
from analysis.vocabulary import counted, solution_name

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
    """``K-Means, k = 4``."""
    return solution_name(solution["algorithm"], solution["k"])


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
        new = "new warning" if len(diff["new_warnings"]) == 1 else "new warnings"
        parts.append(f"{new}: {', '.join(diff['new_warnings'])}")
    if diff["resolved"]:
        parts.append(f"resolved: {', '.join(diff['resolved'])}")
    if not diff["changed"]:
        return (f"Validation results are unchanged: status {diff['current_status']}, "
                f"{counted(warn_now, 'warning')} of "
                f"{counted(counts.get('expectations', 0), 'expectation')}.")
    return (f"Validation status {diff['previous_status']} → {diff['current_status']}; "
            f"{counted(len(diff['changed']), 'expectation')} changed status, warnings "
            f"{warn_before} → {warn_now}" + (f" ({'; '.join(parts)})" if parts else "") + ".")


def summary_sentences(doc: dict[str, Any], drift: DriftConfig) -> list[str]:
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
        verb = "is" if len(stable) == 1 else "are"
        out.append(f"The other {counted(len(stable), 'feature')} {verb} stable (PSI below "
                   f"{drift.psi_moderate:g}).")
    elif stable:
        out.append(f"No feature drifted: every PSI is below {drift.psi_moderate:g} "
                   f"(largest {max(r['psi'] for r in stable):.3f}).")
    ks_only = [r["label"] for r in stable if r["ks_shift"]]
    if ks_only:
        out.append(f"KS reaches {drift.ks_threshold:g} for {', '.join(ks_only)} although "
                   f"its PSI is stable: a shift within the bins.")
    out += [tier_sentence(r, float(drift.ci_level)) for r in doc["tiers"]["refit"]]
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
    level = float(drift.ci_level)
    out.append("With the previous model as a fixed ruler (the new users scored with its "
               "centroids), the tier shares moved: " + "; ".join(
                   f"{r['tier']} {pct(r['previous_share'])} → {pct(r['current_share'])} "
                   f"({signed(r['diff_pp'])} pp, {level:.0%} CI {signed(r['diff_pp_ci'][0])} "
                   f"to {signed(r['diff_pp_ci'][1])})" for r in doc["tiers"]["previous_model"])
               + ".")
    return out


# --------------------------------------------------------------------------------------------
# the document


def build_side(manifest: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Which build one side of the comparison is: input, rows, chosen solution, tiers, key.

    ``manifest`` needs ``input``, ``input_sha256``, ``rows_in``, ``rows_clustered``, ``chosen``,
    ``tiers`` and ``files`` (at least the sha256 of model.json and validation_report.json).
    """
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


def compare(previous: dict[str, Any] | None, manifest: dict[str, Any], model: dict[str, Any],
            report: dict[str, Any], users: pd.DataFrame, labels: pd.DataFrame,
            drift: DriftConfig) -> dict[str, Any]:
    """The ``changes.json`` document: the current build against the ``previous`` snapshot.

    ``previous`` is :func:`analysis.history.snapshots.load_snapshot` of the previous snapshot or
    None (first build); ``manifest`` the current build's summary (see :func:`build_side`),
    ``model``, ``report`` and ``labels`` its documents; ``users`` the same users, typed. Keys:
    ``previous`` / ``current`` (which builds), ``thresholds``, ``validation``, ``drift``,
    ``tiers`` (``refit``: previous vs current tiers; ``previous_model``: previous tiers vs the
    previous model applied to the new users), ``model`` and ``summary`` (sentences).
    """
    current = build_side(manifest)
    if previous is None:
        return {"previous": None, "current": current, "summary": [FIRST_BUILD]}
    offsets = {p["column"]: float(p["offset"]) for p in model["features"]}
    columns = [c for c in DISTRIBUTION_COLUMNS if c in users.columns]
    doc: dict[str, Any] = {
        "previous": build_side(previous["manifest"], {**previous.get("meta", {}),
                                                     "path": previous.get("path", "")}),
        "current": current,
        "thresholds": {
            "psi_moderate": drift.psi_moderate, "psi_major": drift.psi_major,
            "psi_bins": drift.psi_bins, "psi_epsilon": drift.psi_epsilon,
            "ks_threshold": drift.ks_threshold, "ci_level": drift.ci_level,
            "bootstrap_resamples": drift.bootstrap_resamples,
            "bootstrap_seed": drift.bootstrap_seed,
        },
        "validation": validation_changes(previous["validation"], report),
        "drift": {
            "method": (f"PSI over at most {drift.psi_bins} equal-frequency bins of the "
                       f"previous distribution (a heavy value gets its own bin; empty bins "
                       f"floored at {drift.psi_epsilon:g}); KS statistic exact from the "
                       "value counts, asymptotic p-value (scipy kstwo)"),
            "columns": feature_drift(previous["distributions"], value_counts(users, columns),
                                     drift, offsets),
        },
        "tiers": {"refit": tier_shift(previous["manifest"]["tiers"], manifest["tiers"], drift)},
    }
    try:
        doc["model"] = model_agreement(previous["model"], model, users, labels)
    except (KeyError, ValueError, C2CError) as err:  # an incompatible previous model: say so
        doc["model"] = {"error": f"{type(err).__name__}: {err}"}
        doc["tiers"]["previous_model"] = []
    else:
        doc["tiers"]["previous_model"] = tier_shift(
            previous["manifest"]["tiers"], doc["model"]["previous_model_tiers"], drift,
            seed_offset=1)
    doc["summary"] = summary_sentences(doc, drift)
    return doc
