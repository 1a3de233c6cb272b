"""The output edge: write artifacts deterministically and publish a folder atomically."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def _finite(obj: Any) -> Any:
    """Replace NaN / +-inf floats (not valid JSON) by None, recursively."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Pretty, deterministic JSON (keys in insertion order, UTF-8, trailing newline)."""
    text = json.dumps(_finite(obj), indent=2, ensure_ascii=False, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Parquet without pandas index metadata churn; byte-identical for identical frames."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def staging_dir(out_dir: Path) -> Path:
    """A fresh empty folder beside ``out_dir`` (same file system, so the final rename is atomic)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.new")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def publish(tmp: Path, out_dir: Path) -> None:
    """Swap the finished ``tmp`` folder into ``out_dir``; the old one is removed only after."""
    out_dir = Path(out_dir)
    old = out_dir.with_name(f".{out_dir.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    if old.exists():
        shutil.rmtree(old)
