"""Number formats, defined once: the findings' sentences (Python) and the charts (d3 format
strings, which Vega applies in the browser) use the same ones."""

from __future__ import annotations

import math

#: kind -> (Python format spec, d3 format spec). Shares are fractions shown as percentages.
FORMATS: dict[str, tuple[str, str]] = {
    "count": (",.0f", ",.0f"),
    "share": (".1%", ".1%"),
    "fine_share": (".2%", ".2%"),  # shares that can be well under 1% (drift, small clusters)
    "index": (".2f", ".2f"),      # silhouettes, Jaccards, kappas, scaled features
    "days": (",.0f", ",.0f"),
}


def d3(kind: str) -> str:
    """The d3 format string of ``kind`` (for Vega-Lite axes and tooltips)."""
    return FORMATS[kind][1]


def fmt(value: float | int | None, kind: str) -> str:
    """``value`` formatted as ``kind``; a dash when it is missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format(value, FORMATS[kind][0])


def count(value: float | int) -> str:
    """12345 -> '12,345'."""
    return fmt(value, "count")


def share(value: float) -> str:
    """0.1234 -> '12.3%'."""
    return fmt(value, "share")


def fine_share(value: float) -> str:
    """0.00123 -> '0.12%'."""
    return fmt(value, "fine_share")


def number(value: float | int | None) -> str:
    """A raw value (a median, a cap): whole numbers as counts, others with at most two
    decimals; 2.5 -> '2.5', 1234 -> '1,234', 0.125 -> '0.12'; a dash when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if float(value).is_integer():
        return count(value)
    return f"{float(value):,.2f}".rstrip("0").rstrip(".")


def index(value: float) -> str:
    """0.7349 -> '0.73'."""
    return fmt(value, "index")


def days(value: float) -> str:
    """694.5 -> '694' (whole days)."""
    return fmt(value, "days")


def minus(text: str) -> str:
    """A real minus sign instead of a hyphen in front of a number."""
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text
