"""Write a realistic N-user export: the real rows resampled with small noise, as a zipped CSV.

    python scripts/make_export.py 6000000 /tmp/scale/users-6M.zip [--source PATH] [--seed S]

The file has exactly the real export's 24 columns, header order and text formats (booleans
``True``/``False``, floats as the source writes them), so ``c2c validate --data OUT.zip``
passes. Each user is a source row drawn with replacement and jittered with small noise:

- non-zero activity counts are scaled by ``exp(N(0, 0.1))`` and rounded (at least 1 stays 1),
  zero counts stay 0 (so ``productsSold > 0`` keeps its ``productsPassRate``);
- ``daysSinceLastLogin`` moves by ``-3..3`` days within ``[0, seniority]``;
- every other column is the source row's text, unchanged (so ``seniorityAsMonths``,
  ``seniorityAsYears``, civility, apps and country code stay consistent with each other);
- ``identifierHash`` is a bijective 64-bit mix of the row number and a seed-derived key, so
  the ids are unique by construction (no set of 6 million ids to check) and look random.

Rows are made and written ``CHUNK_ROWS`` at a time (memory stays flat in N); chunk ``c``
draws from its own generator seeded with ``[seed, c]``, so a seed gives byte-identical files.
The output is written to a temporary name and renamed into place. Needs ``polars``.
The file holds rows derived from the real data: write it outside the repository.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import polars as pl

from analysis.config import load_config
from analysis.intake.reader import InputLimits, coerce_types, read_raw_table, to_numpy_dtypes
from analysis.intake.schema import COLUMNS, COUNT_COLUMNS, ID_COLUMN

#: The real export, read from the shared data folder beside the project by default.
DEFAULT_SOURCE = (Path(__file__).resolve().parents[1].parent / "shared" / "data"
                  / "6M-0K-99K.users.dataset.public.csv.zip")

#: Users made and written per step (about 60 MB of CSV text per chunk).
CHUNK_ROWS = 500_000

#: Standard deviation of the log-normal factor applied to non-zero counts.
COUNT_NOISE_SIGMA = 0.1

#: Days since last login move by -LOGIN_JITTER_DAYS..LOGIN_JITTER_DAYS.
LOGIN_JITTER_DAYS = 3

#: zlib level of the zip member: 1 writes ~4x faster than the default 6 for a ~15% larger file.
COMPRESS_LEVEL = 1

#: Fixed timestamp of the zip member, so that a seed gives byte-identical files.
ZIP_DATE_TIME = (2024, 2, 24, 0, 0, 0)

#: Multipliers of the splitmix64 finaliser (each step is a bijection of the 64-bit integers).
MIX_MULTIPLIERS = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
MIX_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))

#: Columns made by the noise model; the others are copied from the source row as text.
LOGIN = "daysSinceLastLogin"
GENERATED = (ID_COLUMN, *COUNT_COLUMNS, LOGIN)


def file_layout() -> list[str | list[str]]:
    """The file's columns as generated column names and runs of source-text columns.

    Returns:
        In file order, a generated column's name (``str``) or a run of consecutive columns
        copied from the source row (``list[str]``, e.g. ``["type", "country", "language"]``).
    """
    layout: list[str | list[str]] = []
    for name in COLUMNS:
        if name in GENERATED:
            layout.append(name)
        elif layout and isinstance(layout[-1], list):
            layout[-1].append(name)
        else:
            layout.append([name])
    return layout


def csv_field(text: str) -> str:
    """``text`` as one CSV field: quoted (quotes doubled) only when it needs to be."""
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class Source:
    """The source rows: generated columns as int64 arrays, the rest as joined CSV text.

    Attributes:
        counts: int64[n_src, 7] activity counts in ``COUNT_COLUMNS`` order.
        login: int64[n_src] days since last login; ``seniority``: int64[n_src] days.
        segments: per run of copied columns (see :func:`file_layout`), a polars String
            Series[n_src] of the row's fields joined by commas (CSV-quoted where needed).
    """

    def __init__(self, path: Path, limits: InputLimits):
        """Read and type the export at ``path`` (read under ``limits``, config [validation]);
        exits with a message if it cannot serve."""
        raw = read_raw_table(path, limits)
        missing = [c for c in COLUMNS if c not in raw.columns]
        if missing:
            raise SystemExit(f"{path}: missing column(s) {', '.join(missing)}")
        typed = to_numpy_dtypes(coerce_types(raw[list(COLUMNS)])[0])
        needed = [*COUNT_COLUMNS, LOGIN, "seniority"]
        bad = [c for c in needed if typed[c].dtype != np.int64]
        if bad:
            raise SystemExit(f"{path}: column(s) {', '.join(bad)} have empty or non-integer "
                             "cells; run `c2c validate` on it first")
        self.counts = typed[COUNT_COLUMNS].to_numpy(np.int64)
        self.login = typed[LOGIN].to_numpy(np.int64)
        self.seniority = typed["seniority"].to_numpy(np.int64)
        self.segments = [
            pl.Series([",".join(csv_field(t) for t in row)
                       for row in raw[cols].itertuples(index=False, name=None)], dtype=pl.String)
            for cols in file_layout() if isinstance(cols, list)]

    def __len__(self) -> int:
        """Number of source rows."""
        return len(self.login)


def unique_ids(start: int, stop: int, key: np.uint64) -> np.ndarray:
    """identifierHash of users ``start..stop-1``: int64[stop - start], unique for all rows.

    ``(row + key) mod 2**64`` is injective in the row number and the splitmix64 finaliser is a
    bijection of 64-bit words, so different rows can never share an id.
    """
    with np.errstate(over="ignore"):
        z = np.arange(start, stop, dtype=np.uint64) + key
        z = (z ^ (z >> MIX_SHIFTS[0])) * MIX_MULTIPLIERS[0]
        z = (z ^ (z >> MIX_SHIFTS[1])) * MIX_MULTIPLIERS[1]
        z ^= z >> MIX_SHIFTS[2]
    return z.view(np.int64)


def noisy_chunk(source: Source, n: int, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` users drawn from ``source`` with the noise of the module docstring.

    Returns:
        ``rows`` int64[n] source row of each user; ``counts`` int64[n, 7] jittered counts;
        ``login`` int64[n] jittered days since last login, within ``[0, seniority]``.
    """
    rows = rng.integers(0, len(source), n)
    counts = source.counts[rows]
    for j in range(counts.shape[1]):
        values = counts[:, j]
        jitter = np.rint(values * np.exp(rng.normal(0.0, COUNT_NOISE_SIGMA, n))).astype(np.int64)
        counts[:, j] = np.where(values > 0, np.maximum(jitter, 1), values)
    days = source.login[rows] + rng.integers(-LOGIN_JITTER_DAYS, LOGIN_JITTER_DAYS + 1, n)
    login = np.clip(days, 0, source.seniority[rows])
    return rows, counts, login


def chunk_text(source: Source, start: int, n: int, seed: int, key: np.uint64) -> bytes:
    """CSV lines (no header) of users ``start..start+n-1``, as UTF-8 bytes."""
    rng = np.random.default_rng([seed, start // CHUNK_ROWS])
    rows, counts, login = noisy_chunk(source, n, rng)
    take = pl.Series(rows, dtype=pl.UInt32)
    generated = {ID_COLUMN: unique_ids(start, start + n, key), LOGIN: login,
                 **{c: counts[:, j] for j, c in enumerate(COUNT_COLUMNS)}}
    columns, segments = {}, iter(source.segments)
    for i, item in enumerate(file_layout()):
        columns[item if isinstance(item, str) else f"_copied{i}"] = (
            generated[item] if isinstance(item, str) else next(segments).gather(take))
    text = pl.DataFrame(columns).write_csv(include_header=False, quote_style="never")
    return text.encode("utf-8")


def write_export(n: int, out: Path, source_path: Path = DEFAULT_SOURCE, seed: int = 0) -> None:
    """Write ``n`` noisy resampled users of ``source_path`` to the zip ``out`` (one CSV).

    Args:
        n: number of users (rows), >= 1.
        out: path of the zip to write (replaced atomically); the CSV member is named after it.
        source_path: an export with the 24 schema columns (CSV or zipped CSV).
        seed: random seed; the same seed and ``n`` give a byte-identical file.
    """
    if n < 1:
        raise SystemExit("N must be at least 1")
    source = Source(source_path, InputLimits.of(load_config().validation))
    key = np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]
    member = zipfile.ZipInfo(out.name.removesuffix(".zip").removesuffix(".csv") + ".csv",
                             ZIP_DATE_TIME)
    member.compress_type = zipfile.ZIP_DEFLATED
    member.external_attr = 0o644 << 16
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compresslevel=COMPRESS_LEVEL) as archive, \
            archive.open(member, "w", force_zip64=True) as stream:
        stream.write((",".join(COLUMNS) + "\n").encode("utf-8"))
        for start in range(0, n, CHUNK_ROWS):
            stream.write(chunk_text(source, start, min(CHUNK_ROWS, n - start), seed, key))
    os.replace(tmp, out)


def peak_memory_mib() -> float:
    """Peak resident memory of this process (VmHWM from /proc/self/status), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> None:
    """Command line: ``make_export.py N OUT.zip [--source PATH] [--seed S]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of users to write")
    parser.add_argument("out", type=Path, help="zip file to write")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="export to resample (default: the real data in ../shared/data)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    write_export(args.n, args.out, args.source, args.seed)
    print(f"{args.n:,} users written to {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB) "
          f"in {time.perf_counter() - t0:.1f} s, peak memory {peak_memory_mib():.0f} MiB",
          file=sys.stderr)


if __name__ == "__main__":
    main()
