"""Make a drifted "next release" of an export, to try `c2c build` twice and read What changed.

    python scripts/shifted_release.py ../shared/data/6M-0K-99K.users.dataset.public.csv.zip \
        /tmp/release-b.csv --frac 0.7 --days 60

Keeps a fixed random share of the users and moves their last login ``--days`` earlier (capped
at their seniority). Write the result outside the repository: it holds real rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from analysis.config import load_config
from analysis.intake.reader import InputLimits, read_raw_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--frac", type=float, default=0.7, help="share of users kept")
    parser.add_argument("--days", type=int, default=60, help="days added to daysSinceLastLogin")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    raw = read_raw_table(args.source, InputLimits.of(load_config().validation))
    release = raw.sample(frac=args.frac, random_state=args.seed).sort_index()
    days = release["daysSinceLastLogin"].astype(int) + args.days
    release["daysSinceLastLogin"] = np.minimum(days, release["seniority"].astype(int)).astype(str)
    release.to_csv(args.target, index=False)
    print(f"{len(release):,} of {len(raw):,} users written to {args.target}")


if __name__ == "__main__":
    main()
