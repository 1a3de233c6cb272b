"""Write the export a marketplace would send next: the same users, ``elapsed`` days later.

    python scripts/next_release.py USERS.zip LABELS.parquet OUT.zip [--elapsed 30]
        [--login-rate 0.10] [--uplift 0.0] [--seed 0]

Every user's sign-up age grows by ``elapsed`` days (``seniorityAsMonths`` / ``seniorityAsYears``
follow). A user logs in during those days with probability ``login-rate``, plus ``uplift`` for
users in the *target* group of the previous release's labels (a campaign that worked), and then
was last seen 0..elapsed days ago; everyone else's days since the last login grow by
``elapsed``. Every other cell is the source's text. The campaign measurement on the next build
(What changed) should find ``uplift`` in "logged in since", within its interval. Rows derived
from the real data: write the file outside the repository.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd


def advance(raw: pd.DataFrame, labels: pd.DataFrame, elapsed: int, login_rate: float,
            uplift: float, seed: int) -> pd.DataFrame:
    """The next export of ``raw`` (text cells, the export's columns) as text cells.

    ``labels`` holds identifierHash and group (target / control) of the previous release; a
    user missing from it gets the base ``login_rate``."""
    rng = np.random.default_rng([seed, 0x6E657874])  # its own stream: not the source's draws
    out = raw.copy()
    ids = raw["identifierHash"].astype(np.int64)
    group = ids.map(labels.set_index("identifierHash")["group"].astype(str)).fillna("none")
    rate = np.where(group.to_numpy() == "target", login_rate + uplift, login_rate)
    logs_in = rng.random(len(raw)) < rate
    seniority = raw["seniority"].astype(np.int64).to_numpy() + elapsed
    days = raw["daysSinceLastLogin"].astype(np.int64).to_numpy() + elapsed
    days[logs_in] = rng.integers(0, elapsed + 1, int(logs_in.sum()))
    out["seniority"] = seniority.astype(str)
    out["daysSinceLastLogin"] = np.minimum(days, seniority).astype(str)
    out["seniorityAsMonths"] = [f"{v:.2f}".rstrip("0").rstrip(".") for v in
                                np.round(seniority / 30, 2)]
    out["seniorityAsYears"] = [f"{v:.2f}".rstrip("0").rstrip(".") for v in
                               np.round(seniority / 360, 2)]
    return out


def read_text(path: Path) -> pd.DataFrame:
    """An export as text cells (a zip holding one CSV, or a CSV)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            member = archive.namelist()[0]
            return pd.read_csv(archive.open(member), dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write_zip(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as one CSV inside a zip at ``path`` (written aside, then renamed)."""
    text = io.StringIO()
    frame.to_csv(text, index=False)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(path.stem + ".csv", text.getvalue())
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("users", type=Path)
    parser.add_argument("labels", type=Path, help="the previous release's labels.parquet")
    parser.add_argument("out", type=Path)
    parser.add_argument("--elapsed", type=int, default=30)
    parser.add_argument("--login-rate", type=float, default=0.10)
    parser.add_argument("--uplift", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    labels = pd.read_parquet(args.labels, columns=["identifierHash", "group"])
    write_zip(advance(read_text(args.users), labels, args.elapsed, args.login_rate,
                      args.uplift, args.seed), args.out)


if __name__ == "__main__":
    main()
