"""The raw-input suite: what a user export must satisfy before any analysis touches it.

``raw_rules`` lists the rules for the columns a file actually has (a missing column fails its
presence rule, and only the rules that can still run are added); ``derived_checks`` adds the
boolean columns behind cross-column rules that have no built-in GX pandas expectation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from analysis.config import PlaceholderConfig, ValidationConfig
from analysis.features.placeholder import detect_login_placeholder, placeholder_mask
from analysis.intake.kinds import EXPECTED_TEXT, anchored
from analysis.intake.schema import (
    CIVILITY_IDS,
    CIVILITY_TITLES,
    CIVILITY_TRIPLES,
    COLUMNS,
    COUNT_COLUMNS,
    GENDERS,
    ID_COLUMN,
    LANGUAGES,
)
from validation.rules import CRITICAL, TEXT_FRAME, TYPED_FRAME, WARNING, Rule

#: Derived columns added to the typed frame (names start with "_" so they never clash).
ANY_PLATFORM_APP = "_any_platform_app"
CIVILITY_OK = "_check_civility_consistent"
MONTHS_OK = "_check_months_consistent"
YEARS_OK = "_check_years_consistent"
CODE_ONE_COUNTRY = "_check_code_has_one_country"
COUNTRY_ONE_CODE = "_check_country_has_one_code"
LOGIN_MEASURED = "_check_login_not_placeholder"
PLACEHOLDER_RULE = "login_placeholder"
SOLD_HAS_RATE = "_check_sold_has_pass_rate"

ROW_COUNT_RULE = "row_count"
#: The critical "every schema column is there" rule and the warning "no other columns" rule.
COLUMNS_RULE = "columns_present"
EXTRA_COLUMNS_RULE = "no_extra_columns"

CIVILITY = ("gender", "civilityGenderId", "civilityTitle")
APPS = ("hasAnyApp", "hasAndroidApp", "hasIosApp")
MONTHS = ("seniority", "seniorityAsMonths")
YEARS = ("seniority", "seniorityAsYears")
COUNTRY = ("countryCode", "country")
SOLD = ("productsSold", "productsPassRate")
LOGIN = ("daysSinceLastLogin", "seniority")

#: Allowed values of the categorical columns.
ALLOWED: dict[str, list[Any]] = {
    "type": ["user"],
    "gender": GENDERS,
    "civilityGenderId": CIVILITY_IDS,
    "civilityTitle": CIVILITY_TITLES,
    "language": LANGUAGES,
}


# --------------------------------------------------------------------------------------------
# Derived columns: pure functions of the typed frame
# --------------------------------------------------------------------------------------------

def _masked(ok: pd.Series, frame: pd.DataFrame, columns: Iterable[str]) -> pd.Series:
    """``ok`` as nullable boolean, <NA> where any input cell is missing (not judged here)."""
    return ok.astype("boolean").mask(frame[list(columns)].isna().any(axis=1))


def _civility_ok(t: pd.DataFrame) -> pd.Series:
    ok = pd.Series(False, index=t.index)
    for gender, civility_id, title in CIVILITY_TRIPLES:
        ok |= ((t["gender"] == gender) & (t["civilityGenderId"] == civility_id)
               & (t["civilityTitle"] == title)).fillna(False).astype(bool)
    return _masked(ok, t, CIVILITY)


def _ratio_ok(t: pd.DataFrame, columns: tuple[str, str], days_per_unit: float,
              tolerance: float) -> pd.Series:
    days, derived = columns
    return _masked((t[derived] - t[days] / days_per_unit).abs() <= tolerance, t, columns)


def _one_per_group(t: pd.DataFrame, key: str, value: str) -> pd.Series:
    distinct = t.groupby(key, dropna=True)[value].transform("nunique")
    return _masked(distinct.eq(1), t, (key, value))


def _sold_has_rate(t: pd.DataFrame) -> pd.Series:
    sold, rate = SOLD
    return _masked(~((t[sold] > 0) & (t[rate] == 0)), t, SOLD)


def derived_checks(typed: pd.DataFrame, v: ValidationConfig) -> pd.DataFrame:
    """Columns behind the cross-column rules, for the rows of ``typed`` (same index).

    Only checks whose input columns exist are computed. Check columns are nullable booleans
    (True = the row satisfies the rule, <NA> = an input cell is missing);
    ``_any_platform_app`` is ``hasAndroidApp or hasIosApp``.
    """
    have = set(typed.columns)
    builders = {
        CIVILITY_OK: (CIVILITY, _civility_ok),
        MONTHS_OK: (MONTHS, lambda t: _ratio_ok(t, MONTHS, v.days_per_month,
                                                v.seniority_tolerance)),
        YEARS_OK: (YEARS, lambda t: _ratio_ok(t, YEARS, v.days_per_year,
                                              v.seniority_tolerance)),
        ANY_PLATFORM_APP: (APPS[1:], lambda t: t[APPS[1]] | t[APPS[2]]),
        CODE_ONE_COUNTRY: (COUNTRY, lambda t: _one_per_group(t, *COUNTRY)),
        COUNTRY_ONE_CODE: (COUNTRY, lambda t: _one_per_group(t, *reversed(COUNTRY))),
        SOLD_HAS_RATE: (SOLD, _sold_has_rate),
    }
    return pd.DataFrame({name: build(typed) for name, (needs, build) in builders.items()
                         if have.issuperset(needs)}, index=typed.index)


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------

def _structure_rules(present: list[str], v: ValidationConfig) -> list[Rule]:
    """Columns, row count, empty cells and cell types, judged on the file's text."""
    known = [c for c in present if c in COLUMNS]
    rules = [
        Rule(COLUMNS_RULE, (), f"all {len(COLUMNS)} schema columns are present (any order)",
             CRITICAL, TEXT_FRAME, "ExpectTableColumnsToMatchSet",
             {"column_set": list(COLUMNS), "exact_match": False}),
        Rule(EXTRA_COLUMNS_RULE, (), f"no columns besides the {len(COLUMNS)} of the schema",
             WARNING, TEXT_FRAME, "ExpectTableColumnsToMatchSet",
             {"column_set": known, "exact_match": True}),
    ]
    rules.append(Rule(ROW_COUNT_RULE, (), f"between {v.min_rows:,} and {v.max_rows:,} rows",
                      CRITICAL, TEXT_FRAME, "ExpectTableRowCountToBeBetween",
                      {"min_value": v.min_rows, "max_value": v.max_rows}))
    rules += [Rule(f"not_null.{c}", (c,), "no empty cells", CRITICAL, TEXT_FRAME,
                   "ExpectColumnValuesToNotBeNull", {"column": c}) for c in known]
    rules += [Rule(f"type.{c}", (c,), f"every cell is {EXPECTED_TEXT[COLUMNS[c]]}", CRITICAL,
                   TEXT_FRAME, "ExpectColumnValuesToMatchRegex",
                   {"column": c, "regex": anchored(COLUMNS[c])})
              for c in known if anchored(COLUMNS[c]) is not None]
    return rules


def _check_rule(rule_id: str, columns: tuple[str, ...], text: str, check: str,
                severity: str = CRITICAL) -> Rule:
    """A cross-column rule evaluated through a derived boolean column that must be True."""
    return Rule(rule_id, columns, text, severity, TYPED_FRAME, "ExpectColumnValuesToBeInSet",
                {"column": check, "value_set": [True]})


def _value_rules(present: list[str], v: ValidationConfig) -> list[Rule]:
    """Values and cross-column consistency, judged on the typed frame (bad cells are <NA>)."""
    have = set(present)
    return _identity_rules(have) + _range_rules(have, v) + _consistency_rules(have, v)


def _identity_rules(have: set[str]) -> list[Rule]:
    """Unique ids, categorical values from their allowed sets, civility columns that agree."""
    rules: list[Rule] = []
    if ID_COLUMN in have:
        rules.append(Rule(f"unique.{ID_COLUMN}", (ID_COLUMN,), f"{ID_COLUMN} is unique",
                          CRITICAL, TYPED_FRAME, "ExpectColumnValuesToBeUnique",
                          {"column": ID_COLUMN}))
    rules += [Rule(f"allowed.{c}", (c,), f"{c} is one of {', '.join(map(str, values))}",
                   CRITICAL, TYPED_FRAME, "ExpectColumnValuesToBeInSet",
                   {"column": c, "value_set": values})
              for c, values in ALLOWED.items() if c in have]
    if have.issuperset(CIVILITY):
        triples = ", ".join("-".join(map(str, t)) for t in CIVILITY_TRIPLES)
        rules.append(_check_rule("civility_consistent", CIVILITY,
                                 f"{', '.join(CIVILITY)} agree ({triples})", CIVILITY_OK))
    return rules


def _range_rules(have: set[str], v: ValidationConfig) -> list[Rule]:
    """Counts and days non-negative and under a plausible ceiling, pass rate a percentage, no
    last login before sign-up."""
    rules = [Rule(f"non_negative.{c}", (c,), f"{c} >= 0", CRITICAL, TYPED_FRAME,
                   "ExpectColumnValuesToBeBetween", {"column": c, "min_value": 0})
              for c in [*COUNT_COLUMNS, LOGIN[0]] if c in have]
    ceilings = {**dict.fromkeys(COUNT_COLUMNS, v.max_count), **dict.fromkeys(LOGIN, v.max_days)}
    rules += [Rule(f"plausible.{c}", (c,), f"{c} <= {top:,} (a plausible per-user maximum)",
                   CRITICAL, TYPED_FRAME, "ExpectColumnValuesToBeBetween",
                   {"column": c, "max_value": top})
              for c, top in ceilings.items() if c in have]
    if "productsPassRate" in have:
        rules.append(Rule("range.productsPassRate", ("productsPassRate",),
                          "productsPassRate is between 0 and 100 (percent)", CRITICAL,
                          TYPED_FRAME, "ExpectColumnValuesToBeBetween",
                          {"column": "productsPassRate", "min_value": 0, "max_value": 100}))
    if have.issuperset(LOGIN):
        rules.append(Rule("login_within_seniority", LOGIN, "daysSinceLastLogin <= seniority",
                          CRITICAL, TYPED_FRAME, "ExpectColumnPairValuesAToBeGreaterThanB",
                          {"column_A": LOGIN[1], "column_B": LOGIN[0], "or_equal": True,
                           "ignore_row_if": "either_value_is_missing"}))
    return rules


def _consistency_rules(have: set[str], v: ValidationConfig) -> list[Rule]:
    """Derived columns that agree with their source (seniority in months and years, any app),
    one country per code and back, and the warnings (login placeholder, sold without rate)."""
    rules: list[Rule] = []
    tolerance = v.seniority_tolerance
    for rule_id, columns, per, check in (("months_consistent", MONTHS, v.days_per_month,
                                          MONTHS_OK),
                                         ("years_consistent", YEARS, v.days_per_year,
                                          YEARS_OK)):
        if have.issuperset(columns):
            rules.append(_check_rule(
                rule_id, columns,
                f"{columns[1]} == round({columns[0]} / {per}, 2) (within {tolerance})", check))
    if have.issuperset(APPS):
        rules.append(Rule("any_app_consistent", APPS,
                          f"{APPS[0]} == ({APPS[1]} or {APPS[2]})", CRITICAL, TYPED_FRAME,
                          "ExpectColumnPairValuesToBeEqual",
                          {"column_A": APPS[0], "column_B": ANY_PLATFORM_APP,
                           "ignore_row_if": "either_value_is_missing"}))
    if have.issuperset(COUNTRY):
        rules.append(_check_rule("one_country_per_code", COUNTRY,
                                 "each countryCode stands for one country name",
                                 CODE_ONE_COUNTRY, WARNING))
        rules.append(_check_rule("one_code_per_country", COUNTRY[::-1],
                                 "each country name has one countryCode",
                                 COUNTRY_ONE_CODE, WARNING))
    if have.issuperset(LOGIN):
        rules.append(_check_rule(PLACEHOLDER_RULE, LOGIN[::-1],
                                 "daysSinceLastLogin is a measured login, not a placeholder date "
                                 "at a fixed offset after sign-up", LOGIN_MEASURED, WARNING))
    if have.issuperset(SOLD):
        rules.append(_check_rule("sold_with_pass_rate", SOLD,
                                 "a user who sold products has productsPassRate > 0",
                                 SOLD_HAS_RATE, WARNING))
    return rules


def raw_rules(present: list[str], v: ValidationConfig) -> list[Rule]:
    """Every rule for a raw export whose header lists ``present`` columns, in report order."""
    return _structure_rules(present, v) + _value_rules(present, v)


def placeholder_check(typed: pd.DataFrame, cfg: PlaceholderConfig
                      ) -> tuple[pd.Series, dict[str, Any] | None]:
    """The check column of the ``login_placeholder`` warning, and the detection behind it.

    True = a measured login, False = a login date on a placeholder offset, <NA> = an input
    cell missing; the detection (:func:`analysis.features.placeholder.detect_login_placeholder`)
    is None when the columns are absent.
    """
    column = pd.Series(pd.NA, index=typed.index, dtype="boolean", name=LOGIN_MEASURED)
    if not set(LOGIN).issubset(typed.columns):
        return column, None
    ok = (typed[LOGIN[0]].notna() & typed[LOGIN[1]].notna()).to_numpy(dtype=bool)
    seniority = typed[LOGIN[1]].to_numpy()[ok].astype(np.int64)
    days = typed[LOGIN[0]].to_numpy()[ok].astype(np.int64)
    found = detect_login_placeholder(seniority, days, cfg)
    column[ok] = ~placeholder_mask(seniority, days, found["placeholders"])
    return column, found


def placeholder_messages(found: dict[str, Any]) -> list[str]:
    """The warning's sentences: each placeholder offset with its cohort and users."""
    lines = [f"offset {p['offset']:,} days after sign-up for sign-ups {p['seniority_min']:,}-"
             f"{p['seniority_max']:,} days ago: {p['users']:,} users "
             f"({p['share_of_cohort']:.1%} of that cohort), last login {p['days_min']:,}-"
             f"{p['days_max']:,} days ago" for p in found["placeholders"]]
    if found["censor_days"] is not None:
        lines.append(f"their recency is censored: no login recorded for at least "
                     f"{found['censor_days']:,} days")
    return lines
