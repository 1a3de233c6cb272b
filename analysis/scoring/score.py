"""Score new users with the saved model: the rules of ``c2c score`` and of the browser scorer.

One model (``model.json``, see :mod:`analysis.scoring.model`) and one set of rules serve both
scorers; ``site/_static/scorer-core.js`` and ``scorer-worker.js`` mirror this module and the
browser tests check that both give the same clusters, tiers, segments, reasons and distances.

**File-level faults** stop the run (InputError, exit 2): everything
:func:`analysis.intake.reader.read_raw_table` refuses (missing, not a CSV/zip, empty, binary, not
UTF-8, another delimiter, repeated column names, a row with the wrong number of fields, a header
without data rows), and a header that lacks a column the model needs
(``model["required_columns"]``). Columns outside the raw schema are ignored with a warning.

**Row-level faults** reject that row only, with every reason it has, joined with ``"; "``:

1. a required cell is empty: ``productsSold is empty``;
2. a required cell does not match its kind (:data:`analysis.intake.kinds.PATTERNS`, the project's
one
   answer to "is this a valid int?"): ``identifierHash "-1.0979E+18" is not a whole number in the
   signed 64-bit range (...)`` — a spreadsheet's rounded id is not an id;
3. a count or ``daysSinceLastLogin`` is negative: ``productsSold "-3" is negative``;
4. when the file has a ``seniority`` column and the row's seniority is a valid non-negative
   whole number, ``daysSinceLastLogin`` may not exceed it:
   ``daysSinceLastLogin 900 is greater than seniority 800`` (a bad seniority cell is not itself
   a reason: seniority is not a model column);
5. an ``identifierHash`` already seen on an earlier line (of any row whose id parses, accepted or
   not) is a duplicate: ``duplicate identifierHash (first seen on line 2)``. The first
   occurrence is the one scored.

Cell values quoted in reasons are cut to 40 characters. ``line`` is the 1-based line of the file
on which the row starts (the header is line 1; ``\\r\\n``, ``\\r`` and ``\\n`` end lines; blank
lines count).

**Scoring** applies :func:`analysis.features.transform.transform`, then the nearest centroid of the
chosen
solution: squared differences added in feature order, ``sqrt``, ties to the lowest cluster index
(written out in :func:`assign_nearest` so that the browser repeats it operation for operation).
A new user joins the Ward cluster with the nearest centroid: Ward itself has no rule for users
who were not in the tree. ``distance`` is the Euclidean distance to that centroid in the scaled
feature space; ``margin`` is how much farther the next nearest centroid is (0 when k = 1).

**Writing**: outputs go to a temporary file in the target folder, then are renamed into place.
Cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR and not a
plain number, so that negative ids stay numbers) are prefixed with a single quote.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError, clip
from analysis.features.activity import PRODUCT_COLUMNS
from analysis.features.placeholder import placeholder_mask
from analysis.features.transform import transform
from analysis.intake.files import display_path
from analysis.intake.reader import InputLimits, coerce_types, read_payload, read_raw_table
from analysis.intake.schema import ID_COLUMN
from analysis.scoring.keys import integer_keys, stored_labels
from analysis.scoring.model import MODEL_SCHEMA_VERSION, find_solution, model_problems
from analysis.scoring.nearest import assign_nearest
from analysis.scoring.rules import (
    DAYS_COLUMN,
    SENIORITY_COLUMN,
    check_header,
    record_lines,
    row_reasons,
    usable_seniority,
)
from analysis.segments.reasons import reasons
from analysis.segments.types import role_codes, type_codes
from analysis.vocabulary import TIERS, solution_key

#: Columns of the scored output, in order.
SCORED_COLUMNS = [ID_COLUMN, "cluster", "tier", "segment", "reason", "distance", "margin",
                  "tied", "algorithm", "k"]


@dataclass
class ScoreResult:
    """What scoring a table produced.

    ``scored``: accepted rows x SCORED_COLUMNS, in input order; ``rejected``: rejected rows x
    (the file's columns, as text) + ``line`` + ``reject_reason``. ``rows_in`` = both lengths
    summed.
    """

    scored: pd.DataFrame
    rejected: pd.DataFrame
    header: list[str]
    extra_columns: list[str]
    rows_in: int
    algorithm: str
    k: int
    tiers: list[str] = field(default_factory=lambda: list(TIERS))

    def tier_counts(self) -> dict[str, int]:
        """Accepted users per tier, every tier listed (0 when empty)."""
        counts = self.scored["tier"].value_counts()
        return {t: int(counts.get(t, 0)) for t in self.tiers}


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------

def load_model(path: str | Path) -> dict[str, Any]:
    """Read ``model.json``; InputError (exit 2) when it is missing or not a usable model."""
    path = Path(path)
    label = display_path(path)
    if not path.is_file():
        raise InputError(f"Cannot read the model {label}: the file does not exist; "
                         "run `c2c segment` first.")
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"Cannot read the model {label}: {err}; "
                         "run `c2c segment` to write it again.") from None
    problems = []
    if not isinstance(model, dict):
        problems.append("not a JSON object")
    else:
        if model.get("schema_version") != MODEL_SCHEMA_VERSION:
            problems.append(f"schema_version {model.get('schema_version')!r}, "
                            f"expected {MODEL_SCHEMA_VERSION}")
        for key in ("features", "solutions", "required_columns", "chosen", "tiers"):
            if not model.get(key):
                problems.append(f"no {key}")
        if not problems:
            problems = model_problems(model)
    if problems:
        raise InputError(f"Cannot use the model {label}: {'; '.join(problems)}; "
                         "run `c2c segment` to write it again.")
    return model


def pick_solution(model: dict[str, Any], algorithm: str | None = None,
                  k: int | None = None) -> dict[str, Any]:
    """:func:`analysis.scoring.model.find_solution`, as an InputError listing what is available."""
    try:
        return find_solution(model, algorithm, k)
    except KeyError:
        alg = algorithm if algorithm is not None else model["chosen"]["algorithm"]
        kk = k if k is not None else model["chosen"]["k"]
        by_algorithm: dict[str, list[int]] = {}
        for sol in sorted(model["solutions"], key=lambda s: (s["algorithm"], s["k"])):
            by_algorithm.setdefault(sol["algorithm"], []).append(int(sol["k"]))
        available = "; ".join(f"{a} k = {', '.join(map(str, ks))}"
                              for a, ks in by_algorithm.items())
        raise InputError(f"No solution for algorithm={clip(str(alg))} k={kk}; available: "
                         f"{available}.") from None


def user_types(values: pd.DataFrame, model: dict[str, Any]) -> np.ndarray:
    """Type id of each scored user (object[n]): role x recency band at the model's cuts."""
    seg = model["segments"]
    roles = role_codes(values[PRODUCT_COLUMNS].to_numpy(np.int64))
    codes = type_codes(roles, values[DAYS_COLUMN].to_numpy(np.int64), seg["censor_days"],
                       seg["recent_days"])
    return np.asarray(seg["types"], dtype=object)[codes]


def user_segments(types: np.ndarray, tiers: np.ndarray, model: dict[str, Any],
                  solution: str) -> np.ndarray:
    """Segment of each scored user (object[n]): its tier and type through the solution's map;
    a (tier, type) cell no training user had falls back to the tier and the type's group."""
    seg = model["segments"]
    mapping = seg["maps"][solution]
    out = np.empty(len(types), dtype=object)
    for i, (tier, t) in enumerate(zip(tiers, types, strict=True)):
        out[i] = mapping.get(tier, {}).get(t) or f"{tier}/{seg['groups'][t]}"
    return out


def user_reasons(values: pd.DataFrame, seniority: np.ndarray | None, model: dict[str, Any]
                 ) -> np.ndarray:
    """The reason of each scored user (object[n]); ``seniority`` int64[n] with -1 where it is
    unknown (None: the column is absent)."""
    place = model["placeholder"]
    if seniority is None:
        flag = None
    else:
        flag = placeholder_mask(seniority, values[DAYS_COLUMN].to_numpy(np.int64),
                                place["offsets"]).astype(np.int64)
        flag[seniority < 0] = -1
    return reasons(values, flag, place["censor_days"])


def score_frame(typed: pd.DataFrame, model: dict[str, Any], algorithm: str | None = None,
                k: int | None = None, seniority: np.ndarray | None = None) -> pd.DataFrame:
    """Score already-parsed users: rows x SCORED_COLUMNS, in ``typed``'s row order.

    ``typed`` holds ``model["required_columns"]`` as whole numbers; ``seniority`` int64[n]
    (-1 unknown) words the reasons. A user whose integer key is in the model's label table gets
    its stored cluster (every training user its own), anyone else the nearest centroid.
    """
    sol = pick_solution(model, algorithm, k)
    name = solution_key(sol["algorithm"], sol["k"])
    columns = [p["column"] for p in model["features"]]
    ints = {c: typed[c].to_numpy(dtype=np.int64) for c in model["required_columns"][1:]}
    values = pd.DataFrame(ints, copy=False)
    X = transform(values[columns].astype(np.float64), model["features"])
    rules = model["scoring"]
    cluster, distance, margin, tied = assign_nearest(
        X, np.asarray(sol["centroids"], dtype=np.float64), rules["tie_tolerance"])
    stored = stored_labels(integer_keys(values[columns].to_numpy(), model["features"]),
                           model["label_table"], name)
    cluster = np.where(stored >= 0, stored, cluster)
    types = user_types(values, model)
    tiers = pd.Series(types).map(model["segments"]["tier_of_type"]).to_numpy(object)
    n = len(typed)
    digits = rules["round_digits"]
    return pd.DataFrame({
        ID_COLUMN: typed[ID_COLUMN].to_numpy(dtype=np.int64),
        "cluster": cluster,
        "tier": pd.Categorical(tiers, categories=list(model["tiers"])),
        "segment": user_segments(types, tiers, model, name),
        "reason": user_reasons(values, seniority, model),
        "distance": np.round(distance, digits),
        "margin": np.round(margin, digits),
        "tied": tied & (stored < 0),
        "algorithm": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8),
                                               categories=[sol["algorithm"]]),
        "k": np.full(n, int(sol["k"]), dtype=np.int64),
    })


def score_raw(raw: pd.DataFrame, model: dict[str, Any], algorithm: str | None = None,
              k: int | None = None, label: str = "the input",
              lines: Callable[[], np.ndarray | None] | None = None) -> ScoreResult:
    """Check and score a text table (rows x columns of str, as read_raw_table returns it).

    ``lines()`` gives the file line of each data row (int[rows]) and is only called when some
    row is rejected; without it (or when it returns None) row i is taken to be on line i + 2.
    """
    sol = pick_solution(model, algorithm, k)
    header = [str(c) for c in raw.columns]
    extra = check_header(header, model, label)
    rows_in = len(raw)
    needed = list(model["required_columns"])
    if SENIORITY_COLUMN in raw.columns and SENIORITY_COLUMN not in needed:
        needed.append(SENIORITY_COLUMN)
    typed, _ = coerce_types(raw[needed])
    line_numbers: list[np.ndarray] = []

    def line_of(pos: int) -> int:
        if not line_numbers:
            got = lines() if lines is not None else None
            line_numbers.append(got if got is not None and len(got) == rows_in
                                else np.arange(2, rows_in + 2))
        return int(line_numbers[0][pos])

    reasons = row_reasons(raw, typed, model, line_of)
    bad = np.array(sorted(reasons), dtype=np.int64)
    good = np.ones(rows_in, dtype=bool)
    good[bad] = False
    seniority = None
    if SENIORITY_COLUMN in typed.columns:
        seniority = np.where(usable_seniority(typed, model), typed[SENIORITY_COLUMN].fillna(-1)
                             .to_numpy(dtype=np.int64), -1)[good]
    scored = score_frame(typed.loc[good, model["required_columns"]].reset_index(drop=True),
                         model, sol["algorithm"], sol["k"], seniority)
    rejected = pd.concat([
        raw.iloc[bad].astype(object).reset_index(drop=True),
        pd.DataFrame({"line": [line_of(p) for p in bad],
                      "reject_reason": ["; ".join(reasons[p]) for p in bad]}, dtype=object),
    ], axis=1)
    assert len(scored) + len(rejected) == rows_in, "accepted + rejected must equal rows in"
    return ScoreResult(scored=scored, rejected=rejected, header=header, extra_columns=extra,
                       rows_in=rows_in, algorithm=sol["algorithm"], k=int(sol["k"]),
                       tiers=list(model["tiers"]))


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

def score_file(path: str | Path, model: dict[str, Any], algorithm: str | None = None,
               k: int | None = None, *, limits: InputLimits) -> ScoreResult:
    """Read ``path`` (CSV or zipped CSV) with :func:`analysis.intake.reader.read_raw_table` and
    score it."""
    path = Path(path)
    raw = read_raw_table(path, limits)

    def lines() -> np.ndarray | None:
        starts = record_lines(read_payload(path, limits)[0].decode("utf-8-sig"))
        return None if starts is None else starts[1:]

    return score_raw(raw, model, algorithm, k, label=display_path(path), lines=lines)
