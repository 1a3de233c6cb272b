"""Validate a raw user table and report: the JSON report, a readable summary, the report file.

``validate_users`` is a pure function of the text frame (plus the GX run); the catalog writes
the report. The report is deterministic: no timestamps, stable key order.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.config import PlaceholderConfig, ValidationConfig
from analysis.errors import QUOTE_CHARS, clip, clip_list
from analysis.intake.columnar import typed_users
from analysis.intake.schema import COLUMNS, ID_COLUMN
from validation.columns import extra_messages, missing_messages, suggest_renames
from validation.raw_suite import (
    COLUMNS_RULE,
    EXTRA_COLUMNS_RULE,
    PLACEHOLDER_RULE,
    ROW_COUNT_RULE,
    derived_checks,
    placeholder_check,
    placeholder_messages,
    raw_rules,
)
from validation.rules import CRITICAL, TEXT_FRAME, TYPED_FRAME, WARNING, Rule

PASS, WARN, FAIL = "pass", "warn", "fail"
#: Decimals kept for percentages in the report.
PERCENT_DECIMALS = 4
#: Indent of the detail lines under a failed expectation in the summary.
INDENT = " " * 8


def _frames(raw: pd.DataFrame, cfg: ValidationConfig, placeholder: PlaceholderConfig,
            typed: pd.DataFrame | None = None
            ) -> tuple[dict[str, pd.DataFrame], dict[str, Any] | None]:
    """The two validated frames: the file's text with empty cells as missing, and the typed
    schema columns (bad cells <NA>, NumPy dtypes where complete) plus derived check columns;
    and the login placeholder detection (None without the columns it needs).

    ``typed`` is ``typed_users(raw)`` when the caller has it already. Only the columns that
    hold an empty cell are copied into the text frame (the others are shared with ``raw``).
    """
    schema = [c for c in raw.columns if c in COLUMNS]
    typed = typed_users(raw[schema]) if typed is None else typed[schema]
    login, found = placeholder_check(typed, placeholder)
    checks = pd.concat([typed, derived_checks(typed, cfg), login], axis=1)
    empty = {c: raw[c].eq("") for c in raw.columns}
    text = raw.assign(**{c: raw[c].mask(e) for c, e in empty.items() if e.any()})
    return {TEXT_FRAME: text, TYPED_FRAME: checks}, found


def _example_label(raw: pd.DataFrame, index: Any) -> str:
    """How a report names an offending row: its identifierHash, else its data row number."""
    position = raw.index.get_loc(index)
    value = raw[ID_COLUMN].iloc[position] if ID_COLUMN in raw.columns else None
    return str(value) if pd.notna(value) and value != "" else f"row {position + 1}"


def _offending(rule: Rule, raw: pd.DataFrame, indices: list[Any], limit: int
               ) -> tuple[list[Any], list[dict[str, Any]]]:
    """Example rows (index labels) and the most common offending values of the rule's columns.

    Examples show each distinct offending combination of values first (so a code shared by
    two country spellings shows both), then further rows in file order; at most ``limit``.
    """
    columns = [c for c in rule.columns if c in raw.columns]
    if not indices:
        return [], []
    if not columns:
        return list(indices[:limit]), []
    rows = raw.loc[indices, columns]
    counts = rows.value_counts(sort=False, dropna=False).reset_index(name="count")
    counts = counts.sort_values(["count", *columns], ascending=[False, *[True] * len(columns)],
                                kind="stable").head(limit)
    common = [{"values": {c: str(row[c]) for c in columns}, "count": int(row["count"])}
              for _, row in counts.iterrows()]
    distinct = list(rows.drop_duplicates().index[:limit])
    seen = set(distinct)
    examples = distinct + [i for i in indices if i not in seen][:limit - len(distinct)]
    return sorted(examples, key=raw.index.get_loc), common


def _column_findings(rule: Rule, mismatched: dict[str, list[str]], raw: pd.DataFrame,
                     cutoff: float) -> dict[str, Any]:
    """What the two column rules add to their entry, from GX's ``mismatched`` columns.

    ``columns_present``: ``missing`` (schema order), ``suggestions`` (missing -> the file's
    near-identical column, see :mod:`validation.columns`) and one ``messages`` sentence per
    missing column. ``no_extra_columns``: ``extra`` (file order), ``renamed_from`` (extra ->
    the missing schema column it looks like) and one sentence per extra column.
    """
    missing = [c for c in COLUMNS if c in set(mismatched.get("missing", []))]
    unexpected = set(mismatched.get("unexpected", []))
    extra = [c for c in raw.columns if c not in COLUMNS]
    suggestions = suggest_renames([c for c in COLUMNS if c not in raw.columns], extra, cutoff)
    if rule.id == COLUMNS_RULE:
        return {"columns": missing, "missing": missing,
                "suggestions": {m: suggestions[m] for m in missing if m in suggestions},
                "messages": missing_messages(missing, suggestions)}
    extra = [c for c in extra if c in unexpected]
    renamed_from = {c: m for m, c in suggestions.items() if c in unexpected}
    return {"extra": extra, "renamed_from": renamed_from,
            "messages": extra_messages(extra, renamed_from)}


def _entry(rule: Rule, outcome: dict[str, Any], raw: pd.DataFrame, limit: int,
           rename_cutoff: float = 1.0) -> dict[str, Any]:
    """One expectation of the report: the rule, its outcome, counts and example rows.

    The two column rules also carry the missing / extra columns and rename suggestions
    (:func:`_column_findings`; suggestions need a similarity of at least ``rename_cutoff``).
    """
    result = outcome["result"]
    count = result.get("unexpected_count", 0 if rule.per_row and outcome["success"] else None)
    examples, common = _offending(rule, raw, result.get("unexpected_index_list") or [], limit)
    columns = list(rule.columns)
    mismatched = (result.get("details") or {}).get("mismatched") or {}
    if not columns and mismatched:  # table-level column rules: name the columns at fault
        at_fault = set(mismatched.get("missing", []) + mismatched.get("unexpected", []))
        columns = [c for c in [*COLUMNS, *raw.columns] if c in at_fault]
        columns = list(dict.fromkeys(columns))  # schema order, then file order; no repeats
    entry: dict[str, Any] = {
        "id": rule.id,
        "columns": columns,
        "rule": rule.text,
        "severity": rule.severity,
        "expectation": rule.expectation,
        "success": outcome["success"],
        "unexpected_count": count,
        "unexpected_percent": (round(100 * count / len(raw), PERCENT_DECIMALS)
                               if count is not None and len(raw) else None),
        "examples": [_example_label(raw, i) for i in examples],
        "example_values": [{c: str(raw.at[i, c]) for c in rule.columns if c in raw.columns}
                           for i in examples],
        "common_values": common,
    }
    if rule.id == ROW_COUNT_RULE:
        entry["observed"] = len(raw)
    if rule.id in (COLUMNS_RULE, EXTRA_COLUMNS_RULE):
        findings = _column_findings(rule, mismatched, raw, rename_cutoff)
        entry["columns"] = findings.pop("columns", columns)
        entry.update(findings)
    if outcome.get("error"):
        entry["error"] = outcome["error"]
    return entry


def _status(entries: list[dict[str, Any]]) -> str:
    failed = {e["severity"] for e in entries if not e["success"]}
    return FAIL if CRITICAL in failed else WARN if WARNING in failed else PASS


def validate_users(raw: pd.DataFrame, source: str, cfg: ValidationConfig,
                   placeholder: PlaceholderConfig, sha256: str | None = None,
                   typed: pd.DataFrame | None = None) -> dict[str, Any]:
    """Run the raw-input suite on ``raw`` (rows x columns of text, as read_raw_table returns).

    Returns the report: ``source`` (file name), ``sha256``, ``rows``, ``columns`` (file order),
    ``status`` ("pass" / "warn" / "fail": a critical expectation failed), ``counts`` and one
    entry per expectation (id, columns, rule, severity, success, unexpected_count,
    unexpected_percent = share of all rows in %, up to [validation].examples ``examples``
    naming offending rows by identifierHash, their ``example_values`` and the offending
    rows' most ``common_values`` of the rule's columns, with counts). The ``columns_present``
    entry also lists the ``missing`` columns, ``suggestions`` (missing column -> the file's
    near-identical column, e.g. ``productsSold`` -> ``products_sold``) and a ``messages``
    sentence per missing column; ``no_extra_columns`` lists the ``extra`` columns and
    ``renamed_from``. Reordered columns pass: only the set of names is checked. The
    ``login_placeholder`` warning carries the detection as ``details`` (offsets per cohort,
    users, the censoring bound) and one ``messages`` sentence per offset. ``typed`` is
    :func:`analysis.intake.columnar.typed_users` of ``raw`` if the caller has it already.
    """
    from validation.gx import run_rules

    rules = raw_rules(list(raw.columns), cfg)
    frames, found = _frames(raw, cfg, placeholder, typed)
    outcome = run_rules(frames, rules)
    entries = [_entry(rule, outcome[rule.id], raw, cfg.examples, cfg.rename_cutoff)
               for rule in rules]
    for entry in entries:
        if entry["id"] == PLACEHOLDER_RULE and found is not None:
            entry["details"] = found
            entry["messages"] = placeholder_messages(found)
    failed = [e for e in entries if not e["success"]]
    return {
        "source": source,
        "sha256": sha256,
        "rows": len(raw),
        "columns": list(raw.columns),
        "status": _status(entries),
        "counts": {
            "expectations": len(entries),
            "passed": len(entries) - len(failed),
            "failed_critical": sum(e["severity"] == CRITICAL for e in failed),
            "failed_warning": sum(e["severity"] == WARNING for e in failed),
        },
        "expectations": entries,
    }


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _percent(value: float) -> str:
    return "<0.01%" if 0 < value < 0.01 else f"{value:.2f}%"


def _values_text(values: dict[str, str]) -> str:
    """``'x'`` for one column, ``a='x', b='y'`` for several."""
    if len(values) == 1:
        return repr(clip(next(iter(values.values()))))
    return ", ".join(f"{clip(c)}={clip(v)!r}" for c, v in values.items())


def _describe(entry: dict[str, Any]) -> list[str]:
    """Lines for a failed expectation: severity, columns, rule, how many rows, values, examples."""
    tag = "FAIL" if entry["severity"] == CRITICAL else "WARN"
    head = f"  {tag}  {clip_list(entry['columns']) or 'table'}: {entry['rule']}"
    count = entry.get("unexpected_count")
    if count is not None:
        head += f" - {_plural(count, 'row')} ({_percent(entry['unexpected_percent'])})"
    elif isinstance(entry.get("observed"), int):
        head += f" - observed {entry['observed']:,}"
    lines = [head]
    lines += [f"{INDENT}{clip(message, 4 * QUOTE_CHARS)}" for message in entry.get("messages", [])]
    if entry["common_values"]:
        lines.append(f"{INDENT}values: " + "; ".join(
            f"{_values_text(v['values'])} ({v['count']:,})" for v in entry["common_values"]))
    if entry["examples"]:
        lines.append(f"{INDENT}e.g. {ID_COLUMN} " + clip_list(entry["examples"]))
    if entry.get("error"):
        lines.append(f"{INDENT}GX error: {entry['error']}")
    return lines


def format_summary(report: dict[str, Any]) -> str:
    """Readable summary: a PASS/FAIL headline, then one line per failed or warned expectation."""
    counts = report["counts"]
    headline = {PASS: "PASS", WARN: "PASS with warnings", FAIL: "FAIL"}[report["status"]]
    lines = [f"{headline}: {report['source']} - {_plural(report['rows'], 'row')} x "
             f"{_plural(len(report['columns']), 'column')}; {counts['passed']} of "
             f"{counts['expectations']} expectations met, {counts['failed_critical']} critical "
             f"failure(s), {counts['failed_warning']} warning(s)."]
    failed = [e for e in report["expectations"] if not e["success"]]
    for severity in (CRITICAL, WARNING):
        lines += [line for e in failed if e["severity"] == severity for line in _describe(e)]
    return "\n".join(lines)

