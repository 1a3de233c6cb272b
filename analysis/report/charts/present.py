"""What page modules read: artifacts (cached per page) and the chosen solution."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

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


def tier_profiles() -> dict[str, dict[str, Any]]:
    """profiles.json tiers by name (a tier with no users is absent)."""
    return {t["tier"]: t for t in load("profiles")["tiers"]}


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
