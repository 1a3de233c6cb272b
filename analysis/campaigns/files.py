"""Campaign files: one spreadsheet-ready CSV per segment and one zip of them all.

Each row: ``identifierHash``, the segment's readable name, tier, action, channel, reason,
country, language and group (target or control). The files are UTF-8 with a byte-order mark
(so a spreadsheet opens the accents right on a double click), CRLF line ends, and every cell a
spreadsheet would run as a formula neutralised (:func:`analysis.scoring.output.neutralise`).
Bytes are deterministic: rows sorted by id, zip members with a fixed time stamp.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.scoring.output import neutralise

CAMPAIGN_COLUMNS = ["identifierHash", "segment", "tier", "action", "channel", "reason",
                    "country", "language", "group"]
ZIP_NAME = "campaigns.zip"
INDEX_NAME = "index.json"
BOM = "\ufeff"
#: Zip members carry this time stamp (the earliest a zip can hold): same rows, same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def file_name(segment: str) -> str:
    """A segment id's CSV name: ``moderate/lapsed_buyers`` -> ``moderate-lapsed_buyers.csv``."""
    return re.sub(r"[^a-z0-9_]+", "-", segment.lower()).strip("-") + ".csv"


def campaign_rows(labels: pd.DataFrame, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Every user's campaign row (CAMPAIGN_COLUMNS plus ``segment_id``) from the labels table
    (identifierHash, tier, segment, reason, channel, group, country, language) and the segment
    records (name and action of each segment id)."""
    names = {r["segment"]: r["label"] for r in records}
    actions = {r["segment"]: r["action"] for r in records}
    segment = labels["segment"].astype(str)
    frame = pd.DataFrame({
        "identifierHash": labels["identifierHash"].to_numpy(),
        "segment": segment.map(names).to_numpy(),
        "tier": labels["tier"].astype(str).to_numpy(),
        "action": segment.map(actions).to_numpy(),
        "channel": labels["channel"].astype(str).to_numpy(),
        "reason": labels["reason"].astype(str).to_numpy(),
        "country": labels["country"].astype(str).to_numpy(),
        "language": labels["language"].astype(str).to_numpy(),
        "group": labels["group"].astype(str).to_numpy(),
        "segment_id": segment.to_numpy()})
    return frame.sort_values("identifierHash", kind="stable").reset_index(drop=True)


def csv_bytes(rows: pd.DataFrame) -> bytes:
    """One segment's rows as UTF-8-with-BOM CSV (CRLF, formula cells neutralised)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CAMPAIGN_COLUMNS)
    for values in rows[CAMPAIGN_COLUMNS].astype(str).itertuples(index=False, name=None):
        writer.writerow([neutralise(v) for v in values])
    return out.getvalue().encode("utf-8")


def write_campaigns(rows: pd.DataFrame, dest: Path) -> list[dict[str, Any]]:
    """Write one CSV per segment and ``campaigns.zip`` into ``dest``; return the index (one
    entry per file: name, segment id, rows, target, control, bytes, sha256)."""
    dest.mkdir(parents=True, exist_ok=True)
    rows = rows.sort_values("identifierHash", kind="stable")  # any order in, the same bytes out
    index = []
    with zipfile.ZipFile(dest / ZIP_NAME, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for segment, part in rows.groupby("segment_id", sort=True):
            data = csv_bytes(part)
            name = file_name(str(segment))
            (dest / name).write_bytes(data)
            member = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, data)
            index.append({"file": name, "segment": str(segment), "rows": int(len(part)),
                          "target": int((part["group"] == "target").sum()),
                          "control": int((part["group"] == "control").sum()),
                          "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return index


def write_release_campaigns(artifacts: Path, dest: Path) -> list[dict[str, Any]]:
    """A release's campaign files from its artifacts (labels.parquet and segments.json), with
    ``index.json`` listing them; the same artifacts always give the same bytes."""
    labels = pd.read_parquet(artifacts / "labels.parquet",
                             columns=["identifierHash", "tier", "segment", "reason", "channel",
                                      "group", "country", "language"])
    records = json.loads((artifacts / "segments.json").read_text(encoding="utf-8"))["records"]
    index = write_campaigns(campaign_rows(labels, records), dest)
    zipped = dest / ZIP_NAME
    (dest / INDEX_NAME).write_text(json.dumps({
        "files": index, "zip": {"file": ZIP_NAME, "bytes": zipped.stat().st_size,
                                "sha256": hashlib.sha256(zipped.read_bytes()).hexdigest()}},
        indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return index


def read_index(dest: Path) -> dict[str, Any] | None:
    """A campaigns folder's ``index.json``, or None when there is none."""
    path = Path(dest) / INDEX_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
