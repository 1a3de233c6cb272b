"""A short reason for every user: what they did and when they were last seen.

``reason = "<activity>; <recency>"``: the user's non-zero product counts in a fixed order (at
most three), or "never listed, sold, bought, liked or wished"; then when they last logged in,
or that no login was recorded since the placeholder date. Integers and fixed words only, so the
browser scorer, which reads the same :data:`REASONS` from ``model.json``, writes the very same
text on every machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: The templates (written into model.json for the browser scorer).
REASONS: dict[str, Any] = {
    "facts": [["productsSold", "sold {}"], ["productsListed", "{} listed"],
              ["productsBought", "bought {}"], ["socialProductsLiked", "liked {}"],
              ["productsWished", "wished {}"]],
    "max_facts": 3,
    "no_history": "never listed, sold, bought, liked or wished",
    "placeholder": "no login recorded since the placeholder date ({}+ days)",
    "censored": "no login recorded in the last {}+ days",
    "today": "last login today",
    "one_day": "last login 1 day ago",
    "days": "last login {} days ago",
    "join": "; ",
    "separator": ", ",
}
REASON_COLUMNS = [c for c, _ in REASONS["facts"]] + ["daysSinceLastLogin"]


def recency_phrase(days: int, placeholder: bool | None, censor_days: int | None) -> str:
    """When the user was last seen. ``placeholder`` None means unknown (no seniority to tell):
    then days at or beyond ``censor_days`` read as censored."""
    if placeholder:
        return REASONS["placeholder"].format(days)
    if placeholder is None and censor_days is not None and days >= censor_days:
        return REASONS["censored"].format(censor_days)
    if days == 0:
        return REASONS["today"]
    if days == 1:
        return REASONS["one_day"]
    return REASONS["days"].format(days)


def reason_of(values: dict[str, int], placeholder: bool | None, censor_days: int | None) -> str:
    """The reason of one user from its REASON_COLUMNS (plain ints)."""
    facts = [template.format(values[column]) for column, template in REASONS["facts"]
             if values[column] > 0]
    activity = (REASONS["separator"].join(facts[:REASONS["max_facts"]]) if facts
                else REASONS["no_history"])
    return activity + REASONS["join"] + recency_phrase(values["daysSinceLastLogin"],
                                                       placeholder, censor_days)


def reasons(users: pd.DataFrame, placeholder: np.ndarray | None, censor_days: int | None
            ) -> np.ndarray:
    """:func:`reason_of` of every user: object[n]. ``placeholder`` bool[n], or None when it is
    unknown for everybody. Computed once per distinct combination of the inputs."""
    values = users[REASON_COLUMNS].to_numpy(np.int64)
    flag = (np.full(len(users), -1) if placeholder is None
            else np.asarray(placeholder, dtype=np.int64))
    unique, inverse = np.unique(np.column_stack([values, flag]), axis=0, return_inverse=True)
    text = np.array([reason_of(dict(zip(REASON_COLUMNS, map(int, row[:-1]), strict=True)),
                               None if row[-1] < 0 else bool(row[-1]), censor_days)
                     for row in unique], dtype=object)
    return text[inverse.ravel()]
