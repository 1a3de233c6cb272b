"""What page cells call: read artifacts, glue numbers into prose, format numbers."""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.catalog import plain
from analysis.config import PROJECT_ROOT


def artifacts_dir() -> Path:
    """Where the pages read artifacts: ``$C2C_ARTIFACTS``, else ``<project>/artifacts``."""
    return Path(os.environ.get("C2C_ARTIFACTS", PROJECT_ROOT / "artifacts")).resolve()


@functools.cache
def load(name: str) -> dict[str, Any]:
    """One JSON artifact (``"manifest"`` or ``"manifest.json"``) as plain Python objects."""
    path = artifacts_dir() / (name if name.endswith(".json") else f"{name}.json")
    if not path.exists():
        raise FileNotFoundError(f"artifact {path} is missing: run `c2c segment` first")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_optional(name: str) -> dict[str, Any] | None:
    """Like :func:`load` but None when the artifact is absent (e.g. run.json)."""
    try:
        return load(name)
    except FileNotFoundError:
        return None


def tier_profiles() -> dict[str, dict[str, Any]]:
    """profiles.json tiers by name (a tier with no users is absent)."""
    return {t["tier"]: t for t in load("profiles")["tiers"]}


def load_labels(columns: list[str] | None = None) -> pd.DataFrame:
    """``labels.parquet``: one row per user (identifierHash, labels per solution, tiers)."""
    return pd.read_parquet(artifacts_dir() / "labels.parquet", columns=columns)


def chosen() -> tuple[str, int]:
    """(algorithm, k) of the chosen solution, from the manifest."""
    c = load("manifest")["chosen"]
    return str(c["algorithm"]), int(c["k"])


def find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    """The first row whose keys equal ``match`` (e.g. ``algorithm="kmeans", k=4``)."""
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    raise KeyError(f"no row with {match}")


def glue_numbers(**values: Any) -> None:
    """``glue(name, value, display=False)`` for each keyword, cast to int/float/str first.

    In prose: ``{glue:text}`name:,``` (thousands), ``{glue:text}`name:.1%``` (shares).
    """
    from myst_nb import glue

    for name, value in values.items():
        value = plain(value)
        if not isinstance(value, (int, float, str)):
            raise TypeError(f"glue {name}: expected a number or string, got {type(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"glue {name}: the value is {value} (missing from the artifacts?)")
        glue(name, value, display=False)


def fmt_int(n: float) -> str:
    """12345 -> '12,345'."""
    return f"{int(round(float(n))):,}"


def fmt_pct(x: float, digits: int = 1) -> str:
    """0.1234 -> '12.3%'."""
    return f"{float(x) * 100:.{digits}f}%"


def fmt_num(x: float, digits: int = 3) -> str:
    """A metric value with ``digits`` significant digits; '–' for None/NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{float(x):.{digits}g}"


def silhouette_meaning(silhouette: float, dormant_share: float) -> str:
    """A plain-words reading of a silhouette (Kaufman & Rousseeuw's bands: > 0.7 strong,
    0.5-0.7 reasonable, below weak), noting when a mass of identical dormant users inflates it."""
    if silhouette >= 0.7 and dormant_share > 0.5:
        return ("high on paper, but mostly because so many users share the very same dormant "
                "behaviour row; the more active users form a continuum rather than separate "
                "islands.")
    if silhouette >= 0.7:
        return "the clusters are well separated."
    if silhouette >= 0.5:
        return "reasonable structure, with real overlap between neighbouring clusters."
    return "the clusters are a useful partition of a continuum, not naturally separated islands."
