"""Synthetic users with the real 24-column schema, made in code (never real rows).

Three behaviour groups mimic the real data's shape: a large dormant group sitting on the
platform defaults (3 followers, 8 follows, no product activity, last login ~700 days ago),
a moderate group (some likes/wishes, logged in within months) and a small active group
(lists, sells, buys, logged in within weeks).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.intake.schema import COLUMNS

COUNTRIES = [("France", "fr"), ("Royaume-Uni", "gb"), ("Italie", "it"), ("Allemagne", "de"),
             ("Espagne", "es"), ("Etats-Unis", "us"), ("Belgique", "be")]
LANGUAGE_OF = {"fr": "fr", "gb": "en", "it": "it", "de": "de", "es": "es", "us": "en", "be": "fr"}


def make_users(n: int = 600, seed: int = 0, shares: tuple[float, float, float] = (0.8, 0.15, 0.05)
               ) -> pd.DataFrame:
    """``n`` synthetic users (rows) x 24 columns in file order, typed as a clean read would be.

    ``shares`` are the (dormant, moderate, active) group shares; the group is not a column.
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(3, size=n, p=np.asarray(shares) / sum(shares))
    active, moderate = group == 2, group == 1

    def counts(scale_mod: float, scale_act: float, p_mod: float, p_act: float) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        m = moderate & (rng.random(n) < p_mod)
        a = active & (rng.random(n) < p_act)
        out[m] = rng.geometric(1 / scale_mod, m.sum())
        out[a] = rng.geometric(1 / scale_act, a.sum())
        return out

    sold = counts(1.5, 12, 0.02, 0.8)
    seniority = rng.choice([2852, 2857, 2860, 3196, 3201, 3205], size=n)
    days = np.where(active, rng.integers(11, 60, n),
                    np.where(moderate, rng.integers(30, 400, n), rng.integers(560, 710, n)))
    days = np.minimum(days, seniority)
    android = rng.random(n) < np.where(group == 0, 0.1, 0.4)
    ios = rng.random(n) < np.where(group == 0, 0.1, 0.4)
    civ = rng.choice(3, size=n, p=[0.23, 0.7, 0.07])
    country_idx = rng.integers(0, len(COUNTRIES), n)
    ids = rng.choice(np.iinfo(np.int64).max, size=n, replace=False) * rng.choice([-1, 1], size=n)
    frame = pd.DataFrame({
        "identifierHash": ids.astype(np.int64),
        "type": "user",
        "country": [COUNTRIES[i][0] for i in country_idx],
        "language": [LANGUAGE_OF[COUNTRIES[i][1]] for i in country_idx],
        "socialNbFollowers": 3 + counts(2, 40, 0.3, 0.9),
        "socialNbFollows": 8 + counts(2, 20, 0.2, 0.7),
        "socialProductsLiked": counts(8, 60, 0.7, 0.9),
        "productsListed": counts(1.5, 8, 0.03, 0.7),
        "productsSold": sold,
        "productsPassRate": np.where(sold > 0, rng.integers(50, 101, n), 0).astype(float),
        "productsWished": counts(4, 30, 0.4, 0.7),
        "productsBought": counts(1.5, 5, 0.1, 0.6),
        "gender": np.array(["M", "F", "F"])[civ],
        "civilityGenderId": (civ + 1).astype(np.int64),
        "civilityTitle": np.array(["mr", "mrs", "miss"])[civ],
        "hasAnyApp": android | ios,
        "hasAndroidApp": android,
        "hasIosApp": ios,
        "hasProfilePicture": rng.random(n) < 0.98,
        "daysSinceLastLogin": days.astype(np.int64),
        "seniority": seniority.astype(np.int64),
        "seniorityAsMonths": np.round(seniority / 30, 2),
        "seniorityAsYears": np.round(seniority / 360, 2),
        "countryCode": [COUNTRIES[i][1] for i in country_idx],
    })
    assert list(frame.columns) == list(COLUMNS)
    return frame


def to_csv_text(frame: pd.DataFrame) -> str:
    """The frame as the export writes it: comma separated, header, booleans True/False."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()


def write_csv(frame: pd.DataFrame, path: Path, zipped: bool = False) -> Path:
    """Write ``frame`` to ``path`` as CSV, or as a zip holding one CSV when ``zipped``."""
    text = to_csv_text(frame)
    if zipped:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(Path(path).name.removesuffix(".zip"), text)
    else:
        Path(path).write_text(text, encoding="utf-8")
    return Path(path)
