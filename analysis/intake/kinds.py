"""The text form of each column kind in analysis.intake.schema.COLUMNS: one regex, one dtype, one
phrase.

The reader (analysis.intake.reader.coerce_types) and the validation suite (validation.rules) both
use these
patterns, so "is this cell a valid int?" has exactly one answer in the project.
"""

from __future__ import annotations

import numpy as np


def _at_most(bound: str) -> str:
    """Regex alternatives matching digit strings as long as ``bound`` and numerically <= it."""
    alternatives = [bound]
    for i, digit in enumerate(bound):
        if digit != "0":
            rest = len(bound) - i - 1
            alternatives.append(f"{bound[:i]}[0-{int(digit) - 1}][0-9]{{{rest}}}")
    return "|".join(alternatives)


def _int64_pattern() -> str:
    """Regex for exact decimal integers within the signed 64-bit range (leading zeros allowed)."""
    info = np.iinfo(np.int64)
    high, low = str(info.max), str(info.min).removeprefix("-")
    shorter = f"[0-9]{{1,{len(high) - 1}}}"
    return f"0*(?:{shorter}|{_at_most(high)})|-0*(?:{shorter}|{_at_most(low)})"


#: kind -> regex a whole cell must match (``None``: any text). ASCII digits only; no spaces.
PATTERNS: dict[str, str | None] = {
    "int64": _int64_pattern(),
    "int": _int64_pattern(),
    "float": r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?",
    "bool": "True|False",
    "str": None,
}

#: kind -> what a valid cell looks like, for messages.
EXPECTED_TEXT: dict[str, str] = {
    "int64": "a whole number in the signed 64-bit range (e.g. -1234567890123456789)",
    "int": "a whole number (e.g. 12)",
    "float": "a decimal number (e.g. 74.0)",
    "bool": "True or False",
    "str": "text",
}

#: kind -> pandas nullable dtype (a cell that does not parse becomes <NA>).
NULLABLE_DTYPES: dict[str, str] = {
    "int64": "Int64", "int": "Int64", "float": "Float64", "bool": "boolean", "str": "str",
}

#: kind -> NumPy dtype used once a column has no missing cell.
NUMPY_DTYPES: dict[str, str] = {
    "int64": "int64", "int": "int64", "float": "float64", "bool": "bool", "str": "str",
}


def anchored(kind: str) -> str | None:
    """The kind's pattern anchored to the whole cell (for engines with search semantics)."""
    pattern = PATTERNS[kind]
    return None if pattern is None else f"^(?:{pattern})$"
