"""The data catalog: every artifact the pipeline writes, how it is encoded, and how it is read.

One list (:data:`ARTIFACTS`) serves the pipeline (which writes them), the site build (which
checks and reads them), history snapshots, the scorers and the tests. Writing is deterministic
(same objects -> same bytes); :func:`write_folder` writes every artifact, then ``run.json`` (the
only file holding times), then seals ``manifest.json`` last with the sha256 of every other file.
:func:`verify` refuses a folder whose files do not match its manifest (exit 2, naming the file).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.errors import InputError
from analysis.intake.files import file_sha256

MANIFEST = "manifest.json"
#: Times, memory and timestamps of the run: the one file that differs between two runs on the
#: same input, so the manifest does not list it.
RUN = "run.json"


@dataclass(frozen=True)
class Artifact:
    """One artifact file: its name, its format and what it holds."""

    name: str
    about: str

    @property
    def kind(self) -> str:
        """``json`` or ``parquet``, from the file name."""
        return self.name.rsplit(".", 1)[1]


#: Every artifact besides the manifest and run.json, in the order the pipeline produces them.
ARTIFACTS: tuple[Artifact, ...] = (
    Artifact("validation_report.json", "the Great Expectations report of the raw export"),
    Artifact("features.json", "the features used, their transform parameters, what stayed out"),
    Artifact("exploration.json", "distributions, defaults, correlations of the raw columns"),
    Artifact("distributions.json", "value counts of each model column (drift input)"),
    Artifact("metrics.json", "internal metrics of every (algorithm, k) and the elbow's knee"),
    Artifact("stability.json", "bootstrap Jaccard of every cluster of every solution"),
    Artifact("agreement.json", "K-Means vs Ward agreement for every k"),
    Artifact("segments.json", "tier rule, tiers of every solution, baseline comparison"),
    Artifact("profiles.json", "profiles of every cluster and tier in raw units"),
    Artifact("pca.json", "PCA of the features and a fixed-size sample of users on it"),
    Artifact("dendrogram.json", "the top of the Ward tree and its cut heights"),
    Artifact("model.json", "what a scorer needs: transform, centroids, tier rule, segments"),
    Artifact("labels.parquet", "one row per user: cluster per solution, tier, segment, reason, "
                               "channel, group; what the campaign files are written from"),
    Artifact("campaigns.json", "per segment the target / control split and the smallest "
                               "detectable uplift; the campaign-sizing cube (aggregates)"),
    Artifact("changes.json", "what changed since the previous release"),
    Artifact("costs.json", "the committed scale run: build cost against users, growth"),
    Artifact("findings.json", "what the pages say: headlines, sentences, readings, limits"),
)
BY_NAME: dict[str, Artifact] = {a.name: a for a in ARTIFACTS}


class ArtifactsInvalid(InputError):
    """An artifacts folder is missing a file or a file differs from its manifest (exit 2)."""


# --------------------------------------------------------------------------------------------
# encoding (pure)


def plain(obj: Any, finite: bool = False) -> Any:
    """NumPy scalars and containers as plain Python, recursively (dict keys as str).

    With ``finite``, NaN and +-inf floats become None (they are not valid JSON).
    """
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and finite and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): plain(v, finite) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v, finite) for v in obj]
    return obj


def json_bytes(obj: Any) -> bytes:
    """Pretty, deterministic JSON (keys in insertion order, UTF-8, trailing newline)."""
    return (json.dumps(plain(obj, finite=True), indent=2, ensure_ascii=False, allow_nan=False)
            + "\n").encode("utf-8")


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet without pandas index metadata churn; byte-identical for identical frames."""
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink,
                   compression="zstd", write_statistics=True)
    return sink.getvalue()


def encode(name: str, obj: Any) -> bytes:
    """The bytes of artifact ``name`` holding ``obj`` (a JSON-ready object or a DataFrame)."""
    return parquet_bytes(obj) if name.endswith(".parquet") else json_bytes(obj)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# the folder edge


def write_folder(folder: Path, documents: dict[str, Any], summary: dict[str, Any],
                 run_info: dict[str, Any]) -> dict[str, Any]:
    """Write ``documents`` (artifact name -> object) into the empty ``folder``, then ``run.json``,
    then the manifest last: ``summary`` plus ``files`` (name -> sha256, every file but the
    manifest and run.json). Returns the manifest. Unknown names are a programming error.
    """
    unknown = sorted(set(documents) - set(BY_NAME))
    if unknown:
        raise ValueError(f"not in the catalog: {unknown}")
    files = {}
    for name in sorted(documents):
        data = encode(name, documents[name])
        (folder / name).write_bytes(data)
        files[name] = sha256_bytes(data)
    (folder / RUN).write_bytes(json_bytes(run_info))
    manifest = {**summary, "files": files}
    (folder / MANIFEST).write_bytes(json_bytes(manifest))
    return manifest


def read_json(folder: Path, name: str) -> Any:
    """One JSON artifact of ``folder`` as plain Python objects."""
    with open(Path(folder) / name, encoding="utf-8") as fh:
        return json.load(fh)


def read_labels(folder: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """``labels.parquet`` of ``folder`` (all columns, or ``columns``)."""
    return pd.read_parquet(Path(folder) / "labels.parquet", columns=columns)


def verify(folder: Path, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The manifest of ``folder`` after checking every file it lists against its sha256.

    ``required`` names artifacts that must be listed (and so present and intact). Raises
    ArtifactsInvalid naming the folder and the first file that is missing or differs.
    """
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise ArtifactsInvalid(f"Cannot use the artifacts in {folder}: {MANIFEST} is missing; "
                               "run `c2c build` first.")
    try:
        manifest = read_json(folder, MANIFEST)
        listed = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ArtifactsInvalid(f"Cannot use the artifacts in {folder}: {MANIFEST} is "
                               f"unreadable ({err}).") from None
    for name in required:
        if name not in listed:
            raise ArtifactsInvalid(f"Cannot use the artifacts in {folder}: the manifest does "
                                   f"not list {name}; run `c2c build` again.")
    for name, expected in listed.items():
        path = folder / name
        if not path.is_file():
            raise ArtifactsInvalid(f"Cannot use the artifacts in {folder}: {name} is missing.")
        if file_sha256(path) != expected:
            raise ArtifactsInvalid(f"Cannot use the artifacts in {folder}: {name} does not match "
                                   "the sha256 the manifest lists (changed after the build); "
                                   "run `c2c build` again.")
    return manifest
