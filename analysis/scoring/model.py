"""``model.json``: everything a client needs to score a new user, in plain JSON.

Python (``c2c score``) and the browser scorer read the same file and apply the same rules and
arithmetic; the browser takes its whole contract from it (columns, kinds, limits, tiers,
colours, names, reason templates), nothing of the schema is retyped in JavaScript. Layout::

    {"schema_version": 3,
     "features": [{"name", "column", "offset", "censor", "cap", "lo", "hi", "invert",
                   "key_limit"}, ...],                    transform (analysis.features.transform)
     "formula": "...",
     "required_columns": ["identifierHash", <feature columns>, "daysSinceLastLogin"],
     "optional_columns": ["seniority"], "recency_column": "daysSinceLastLogin",
     "kinds": {column: {"pattern": regex, "expected": phrase}},  what a valid cell looks like
     "limits": {"non_negative": [columns], "maximum": {column: int}},
     "chosen": {"algorithm", "k"}, "tiers": [...], "tier_colors": {...},
     "algorithm_names": {...},
     "placeholder": {"censor_days", "offsets": [{"seniority_min", "seniority_max", "offset"}]},
     "segments": {"recent_days", "censor_days", "types": [...], "groups": {...},
                  "tier_of_type": {type: tier}, "roles": [...], "bands": [...],
                  "tier_rule": "...", "labels": {segment: label},
                  "maps": {solution key: {tier: {type: segment}}}},
     "reasons": {...templates...},
     "scoring": {"tie_tolerance", "round_digits"},
     "label_table": {"solutions", "keys", "labels"},      exact labels of training rows
     "solutions": [{"algorithm", "k", "centroids", "activity_score", "sizes"}, ...]}

A user's tier and type do not depend on the cluster: the type is role x recency band at the
model's cuts and ``tier_of_type`` gives its tier (the same rule inside every cluster). A user's
cluster: the label table's when its integer key is there (every training user gets its
own cluster back, for every solution), else the nearest centroid (:mod:`.nearest`).
"""

from __future__ import annotations

from typing import Any

from analysis.intake.kinds import EXPECTED_TEXT, anchored
from analysis.intake.schema import COLUMNS, COUNT_COLUMNS, ID_COLUMN
from analysis.vocabulary import ALGORITHM_NAMES, TIERS

MODEL_SCHEMA_VERSION = 3
SENIORITY = "seniority"
DAYS = "daysSinceLastLogin"


def contract(feature_columns: list[str], max_count: int, max_days: int) -> dict[str, Any]:
    """Columns, kinds and value limits a scored row must meet (the row rules' data): the id,
    the feature columns, then days since the last login (the tiers and reasons read it)."""
    required = [ID_COLUMN, *feature_columns, *([DAYS] if DAYS not in feature_columns else [])]
    wanted = [*required, SENIORITY]
    return {
        "required_columns": required,
        "optional_columns": [SENIORITY],
        "kinds": {c: {"kind": COLUMNS[c], "pattern": anchored(COLUMNS[c]),
                      "expected": EXPECTED_TEXT[COLUMNS[c]]} for c in wanted},
        "limits": {"non_negative": [c for c in wanted if c in COUNT_COLUMNS or
                                    c in (DAYS, SENIORITY)],
                   "maximum": {c: (max_days if c in (DAYS, SENIORITY) else max_count)
                               for c in wanted if c in COUNT_COLUMNS or c in (DAYS, SENIORITY)}},
    }


def build_model(feature_params: list[dict[str, Any]], formula: str,
                solutions: list[dict[str, Any]], chosen: dict[str, Any],
                extras: dict[str, Any]) -> dict[str, Any]:
    """Assemble the JSON-ready model: transform params, every (algorithm, k), and ``extras``
    (contract, placeholder, segments, reasons, scoring, label_table, tier_colors)."""
    return {
        "schema_version": MODEL_SCHEMA_VERSION,
        "features": feature_params,
        "formula": formula,
        **extras["contract"],
        "recency_column": DAYS,
        "chosen": {"algorithm": chosen["algorithm"], "k": int(chosen["k"])},
        "tiers": list(TIERS),
        "tier_colors": extras["tier_colors"],
        "algorithm_names": dict(ALGORITHM_NAMES),
        "placeholder": extras["placeholder"],
        "segments": extras["segments"],
        "reasons": extras["reasons"],
        "scoring": extras["scoring"],
        "label_table": extras["label_table"],
        "solutions": solutions,
    }


def find_solution(model: dict[str, Any], algorithm: str | None = None,
                  k: int | None = None) -> dict[str, Any]:
    """The solution for (algorithm, k); either left as None falls back to the chosen one's."""
    algorithm = algorithm if algorithm is not None else model["chosen"]["algorithm"]
    k = int(k if k is not None else model["chosen"]["k"])
    for sol in model["solutions"]:
        if sol["algorithm"] == algorithm and sol["k"] == k:
            return sol
    available = sorted({(s["algorithm"], s["k"]) for s in model["solutions"]})
    raise KeyError(f"no solution for algorithm={algorithm} k={k}; available: {available}")


def _numbers(values: Any, n: int | None = None) -> bool:
    """A list of ``n`` (any number when None) finite numbers."""
    import math

    return (isinstance(values, list) and (n is None or len(values) == n)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in values))


def model_problems(model: dict[str, Any]) -> list[str]:
    """What makes ``model`` unusable for scoring, in words (empty: usable). Checks the parts
    the scorers index into, so a tampered file is named instead of failing mid-way."""
    problems: list[str] = []
    required = model.get("required_columns")
    features = model.get("features")
    if not (isinstance(required, list) and required and all(isinstance(c, str)
                                                            for c in required)):
        return ["required_columns is not a list of column names"]
    if not (isinstance(features, list) and features):
        return ["features is not a list of features"]
    keys = ("name", "column", "offset", "cap", "lo", "hi", "invert", "key_limit")
    for j, p in enumerate(features):
        if not isinstance(p, dict) or any(k not in p for k in keys):
            problems.append(f"feature {j} lacks one of {', '.join(keys)}")
        elif p["column"] not in required or p["column"] not in COLUMNS:
            problems.append(f"feature {j} reads the unknown column {p['column']!r}")
    if model.get("recency_column") not in required:
        problems.append("recency_column is not a required column")
    kinds = model.get("kinds") or {}
    problems += [f"no kind for column {c!r}" for c in required if c not in kinds]
    for i, sol in enumerate(model.get("solutions") or []):
        k = sol.get("k") if isinstance(sol, dict) else None
        centroids = sol.get("centroids") if isinstance(sol, dict) else None
        if not isinstance(k, int) or not isinstance(centroids, list) or len(centroids) != k \
                or not all(_numbers(c, len(features)) for c in centroids):
            problems.append(f"solution {i} does not hold k centroids of {len(features)} "
                            "finite numbers")
    seg = model.get("segments")
    if not isinstance(seg, dict):
        return [*problems, "no segments"]
    types, tier_of = seg.get("types") or [], seg.get("tier_of_type") or {}
    roles = seg.get("roles") or []
    if not types or len(types) != len(roles) * 3 or set(tier_of) != set(types) \
            or not set(tier_of.values()) <= set(model.get("tiers") or []) \
            or set(seg.get("groups") or {}) != set(types) or not isinstance(seg.get("maps"), dict):
        problems.append("segments do not define every type's tier, group and map")
    if not isinstance(seg.get("recent_days"), int):
        problems.append("segments hold no recent cut (recent_days)")
    return problems
