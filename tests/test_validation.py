"""validation: the raw-input suite finds each broken rule, names its rows, and reports stably."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.catalog import json_bytes
from analysis.config import load_config
from analysis.intake.reader import coerce_types, to_numpy_dtypes
from analysis.intake.schema import COLUMNS
from tests.synthetic import make_users
from validation.raw_suite import derived_checks, raw_rules
from validation.rules import CRITICAL, SEVERITIES, WARNING
from validation.runner import format_summary, validate_users

CONFIG = load_config()

#: (row, cells written into it): every critical rule broken once, each in its own row(s).
EDITS = [
    (1, {"identifierHash": "-1.0979E+18"}),
    (2, {"country": ""}),
    (5, {"type": "admin"}),
    (6, {"gender": "X"}),
    (7, {"gender": "F", "civilityGenderId": "1", "civilityTitle": "mr"}),
    (8, {"language": "xx"}),
    (9, {"productsSold": "-1"}),
    (10, {"productsPassRate": "150.0"}),
    (12, {"seniorityAsMonths": "1.0"}),
    (13, {"seniorityAsYears": "1.0"}),
    (15, {"daysSinceLastLogin": "-5"}),
    (16, {"hasIosApp": "yes"}),
    (17, {"civilityGenderId": "4"}),
    (18, {"civilityTitle": "dr"}),
    (19, {"productsPassRate": "12%"}),
    (20, {"countryCode": "fr", "country": "Italie"}),
    (21, {"productsSold": "3", "productsPassRate": "0.0"}),
]
#: rule id -> the rows it must report (the country rules' rows depend on the data: see below).
EXPECTED = {
    "type.identifierHash": [1],
    "not_null.country": [2],
    "unique.identifierHash": [3, 4],  # row 4 gets row 3's id
    "allowed.type": [5],
    "allowed.gender": [6],
    "civility_consistent": [6, 7, 17, 18],
    "allowed.language": [8],
    "non_negative.productsSold": [9],
    "range.productsPassRate": [10],
    "login_within_seniority": [11],  # daysSinceLastLogin = seniority + 1
    "months_consistent": [12],
    "years_consistent": [13],
    "any_app_consistent": [14],  # hasAnyApp flipped
    "non_negative.daysSinceLastLogin": [15],
    "type.hasIosApp": [16],
    "allowed.civilityGenderId": [17],
    "allowed.civilityTitle": [18],
    "type.productsPassRate": [19],
    "one_country_per_code": None,  # every user with code 'fr'
    "one_code_per_country": None,  # every user in 'Italie'
    "sold_with_pass_rate": [21],
}


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Synthetic typed users as the text frame read_raw_table returns."""
    return frame.astype(str)


def broken_users() -> pd.DataFrame:
    """600 synthetic users (text) with the faults of EDITS and three computed ones."""
    users = make_users(600, seed=1)
    raw = as_text(users)
    for row, cells in EDITS:
        raw.loc[row, list(cells)] = list(cells.values())
    raw.loc[4, "identifierHash"] = raw.loc[3, "identifierHash"]
    raw.loc[11, "daysSinceLastLogin"] = str(users.loc[11, "seniority"] + 1)
    raw.loc[14, "hasAnyApp"] = str(not users.loc[14, "hasAnyApp"])
    return raw


def expected_rows(raw: pd.DataFrame, rule_id: str) -> list[int]:
    rows = EXPECTED[rule_id]
    if rule_id == "one_country_per_code":
        return raw.index[raw["countryCode"] == "fr"].tolist()
    if rule_id == "one_code_per_country":
        return raw.index[raw["country"] == "Italie"].tolist()
    return rows


@pytest.fixture(scope="module")
def broken():
    """(text frame, report) of one validation run over all the faults at once."""
    raw = broken_users()
    return raw, validate_users(raw, "broken.csv", CONFIG.validation, CONFIG.placeholder)


def by_id(report) -> dict[str, dict]:
    return {e["id"]: e for e in report["expectations"]}


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_each_broken_rule_fails_and_names_its_rows(broken, rule_id):
    raw, report = broken
    rows = expected_rows(raw, rule_id)
    entry = by_id(report)[rule_id]
    assert not entry["success"]
    assert entry["unexpected_count"] == len(rows)
    assert entry["unexpected_percent"] == round(100 * len(rows) / len(raw), 4)
    limit = CONFIG.validation.examples
    assert len(entry["examples"]) == min(limit, len(rows))
    assert set(entry["examples"]) <= set(raw.loc[rows, "identifierHash"])


def test_only_the_broken_rules_fail(broken):
    _, report = broken
    failed = {e["id"] for e in report["expectations"] if not e["success"]}
    assert failed == set(EXPECTED)
    assert report["status"] == "fail"
    assert report["counts"]["failed_warning"] == 3
    assert not [e for e in report["expectations"] if e.get("error")]


def test_severities_are_recorded(broken):
    _, report = broken
    severity = {e["id"]: e["severity"] for e in report["expectations"]}
    assert {i for i, s in severity.items() if s == WARNING} == {
        "no_extra_columns", "one_country_per_code", "one_code_per_country", "sold_with_pass_rate",
        "login_placeholder"}
    assert set(severity.values()) <= set(SEVERITIES)


def test_summary_names_column_rule_share_and_ids(broken):
    raw, report = broken
    summary = format_summary(report)
    lines = summary.splitlines()
    assert lines[0].startswith("FAIL: broken.csv - 600 rows x 24 columns")
    pass_rate = next(i for i, line in enumerate(lines) if "productsPassRate is between" in line)
    assert "1 row (0.17%)" in lines[pass_rate]
    assert "'150.0'" in lines[pass_rate + 1]
    assert raw.loc[10, "identifierHash"] in lines[pass_rate + 2]
    # critical failures are listed before warnings
    first_warn = next(i for i, line in enumerate(lines) if line.strip().startswith("WARN"))
    assert all(not line.strip().startswith("FAIL") for line in lines[first_warn:])


def test_clean_synthetic_data_passes_in_any_column_order():
    raw = as_text(make_users(300, seed=2))
    report = validate_users(raw[raw.columns[::-1]], "clean.csv", CONFIG.validation,
                            CONFIG.placeholder)
    assert report["status"] == "pass"
    assert all(e["success"] for e in report["expectations"])
    assert all(e["unexpected_count"] in (0, None) for e in report["expectations"])
    assert format_summary(report).startswith("PASS: clean.csv")


def test_missing_column_is_named_and_other_rules_still_run():
    raw = as_text(make_users(300, seed=3)).drop(columns=["gender"])
    raw.loc[0, "productsPassRate"] = "150.0"
    report = validate_users(raw, "x.csv", CONFIG.validation, CONFIG.placeholder)
    entries = by_id(report)
    assert entries["columns_present"]["columns"] == ["gender"]
    assert not entries["columns_present"]["success"]
    assert "civility_consistent" not in entries and "allowed.gender" not in entries
    assert not entries["range.productsPassRate"]["success"]
    assert "FAIL  gender: all 24 schema columns are present" in format_summary(report)


def test_type_errors_do_not_crash_value_rules():
    raw = as_text(make_users(300, seed=4))
    raw["seniority"] = "about ten years"
    raw.loc[:5, "productsSold"] = "n/a"
    report = validate_users(raw, "x.csv", CONFIG.validation, CONFIG.placeholder)
    entries = by_id(report)
    assert entries["type.seniority"]["unexpected_count"] == 300
    assert entries["type.productsSold"]["unexpected_count"] == 6
    assert not [e for e in report["expectations"] if e.get("error")]
    assert entries["months_consistent"]["success"]  # nothing left to compare: not judged


def test_too_few_rows_and_extra_columns():
    raw = as_text(make_users(CONFIG.validation.min_rows - 1, seed=5)).assign(note="x")
    entries = by_id(validate_users(raw, "x.csv", CONFIG.validation, CONFIG.placeholder))
    assert not entries["row_count"]["success"]
    assert entries["row_count"]["observed"] == CONFIG.validation.min_rows - 1
    assert entries["no_extra_columns"]["columns"] == ["note"]
    assert entries["no_extra_columns"]["severity"] == WARNING


def test_warnings_only_is_warn_and_the_report_is_deterministic(tmp_path):
    raw = as_text(make_users(300, seed=6))
    raw.loc[0, ["productsSold", "productsPassRate"]] = ["2", "0.0"]
    report = validate_users(raw, "x.csv", CONFIG.validation, CONFIG.placeholder)
    assert report["status"] == "warn"
    assert format_summary(report).startswith("PASS with warnings")
    first = json_bytes(report)
    second = json_bytes(validate_users(raw, "x.csv", CONFIG.validation, CONFIG.placeholder))
    assert first == second
    loaded = json.loads(first)
    assert list(loaded)[:5] == ["source", "sha256", "rows", "columns", "status"]
    assert list(loaded["expectations"][0])[:10] == [
        "id", "columns", "rule", "severity", "expectation", "success", "unexpected_count",
        "unexpected_percent", "examples", "example_values"]


# --- rules and derived checks, without running GX ----------------------------------------------

def test_rules_are_unique_and_complete():
    rules = raw_rules(list(COLUMNS), CONFIG.validation)
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    assert {f"type.{c}" for c, k in COLUMNS.items() if k != "str"} <= set(ids)
    assert {f"not_null.{c}" for c in COLUMNS} <= set(ids)
    assert all(r.severity == CRITICAL for r in rules if r.id.startswith(("type.", "not_null.")))


def test_rules_use_existing_gx_expectations():
    from validation.gx import import_gx

    expectations = import_gx().expectations
    rules = raw_rules(list(COLUMNS), CONFIG.validation)
    assert all(hasattr(expectations, r.expectation) for r in rules)


def _checks(frame: pd.DataFrame) -> pd.DataFrame:
    return derived_checks(to_numpy_dtypes(coerce_types(as_text(frame))[0]), CONFIG.validation)


def test_seniority_ratios_accept_either_rounding_of_a_half():
    users = make_users(2, seed=7)
    users["seniority"] = 2853  # / 360 = 7.925 exactly: the export may write 7.92 or 7.93
    users["seniorityAsMonths"] = round(2853 / 30, 2)
    users["seniorityAsYears"] = [7.92, 7.93]
    checks = _checks(users)
    assert checks["_check_years_consistent"].tolist() == [True, True]
    assert checks["_check_months_consistent"].tolist() == [True, True]


def test_checks_are_missing_when_an_input_is_missing():
    raw = as_text(make_users(3, seed=8))
    raw.loc[0, "seniority"] = ""
    raw.loc[1, "hasIosApp"] = ""
    checks = derived_checks(coerce_types(raw)[0], CONFIG.validation)
    assert pd.isna(checks.loc[0, "_check_months_consistent"])
    assert checks.loc[2, "_check_months_consistent"]


def test_checks_need_their_columns():
    raw = as_text(make_users(3, seed=9)).drop(columns=["countryCode", "seniority"])
    checks = derived_checks(coerce_types(raw)[0], CONFIG.validation)
    assert not {c for c in checks.columns if "country" in c or "months" in c or "years" in c}
    assert "_check_civility_consistent" in checks.columns
