"""scripts/make_export.py writes a valid, deterministic, realistic export of any size."""

from __future__ import annotations

import hashlib
import importlib.util
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.config import load_config
from analysis.intake.reader import InputLimits, coerce_types, to_numpy_dtypes
from analysis.intake.reader import read_raw_table as read_with_limits
from analysis.intake.schema import COLUMNS, COUNT_COLUMNS, ID_COLUMN
from tests.synthetic import make_users, write_csv
from validation.runner import validate_users

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_export.py"
N_USERS = 2_000
#: Columns copied from the source row as they are (everything the noise leaves alone).
COPIED = [c for c in COLUMNS if c not in (ID_COLUMN, *COUNT_COLUMNS, "daysSinceLastLogin")]


@pytest.fixture(scope="module")
def make_export():
    """The script as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_export", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A synthetic export (600 users, the real schema) to resample."""
    return write_csv(make_users(600, seed=3), tmp_path_factory.mktemp("src") / "src.csv.zip",
                     zipped=True)


LIMITS = InputLimits.of(load_config().validation)


def read_raw_table(path: Path) -> pd.DataFrame:
    """The export as text, read under the configured input limits."""
    return read_with_limits(path, LIMITS)


def validate(raw: pd.DataFrame, name: str) -> dict:
    """The validation report of ``raw`` under the configured suite."""
    config = load_config()
    return validate_users(raw, name, config.validation, config.placeholder)


def sha256(path: Path) -> str:
    """Hex digest of the file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def typed(path: Path) -> pd.DataFrame:
    """The export as the pipeline types it (NumPy dtypes)."""
    return to_numpy_dtypes(coerce_types(read_raw_table(path))[0])


def test_schema_ids_and_validation(make_export, source, tmp_path):
    out = tmp_path / "users.zip"
    make_export.main([str(N_USERS), str(out), "--source", str(source), "--seed", "4"])
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["users.csv"]
        header = archive.read("users.csv").split(b"\n", 1)[0].decode()
    assert header == ",".join(COLUMNS)
    raw = read_raw_table(out)
    assert list(raw.columns) == list(COLUMNS) and len(raw) == N_USERS
    users = typed(out)
    assert users[ID_COLUMN].dtype == np.int64 and users[ID_COLUMN].is_unique
    report = validate(raw, out.name)
    assert report["status"] != "fail", [e["id"] for e in report["expectations"]
                                        if not e["success"]]


def test_text_formats_and_copied_columns_come_from_source_rows(make_export, source, tmp_path):
    out = tmp_path / "users.zip"
    make_export.write_export(N_USERS, out, source, seed=5)
    raw, src = read_raw_table(out), read_raw_table(source)
    for column in ("hasAnyApp", "hasAndroidApp", "hasIosApp", "hasProfilePicture"):
        assert set(raw[column]) <= {"True", "False"}
    copied = set(raw[COPIED].itertuples(index=False, name=None))
    assert copied <= set(src[COPIED].itertuples(index=False, name=None))
    assert len(copied) > 100  # many different source rows were drawn


def test_noise_keeps_zeros_and_stays_near_the_source(make_export, source, tmp_path):
    out = tmp_path / "users.zip"
    make_export.write_export(N_USERS, out, source, seed=6)
    users, src = typed(out), typed(source)
    for column in COUNT_COLUMNS:  # zero share preserved up to sampling noise
        assert abs((users[column] == 0).mean() - (src[column] == 0).mean()) < 0.05
    assert (users["daysSinceLastLogin"] <= users["seniority"]).all()
    assert (users[COUNT_COLUMNS] >= 0).all().all()
    moved = users["daysSinceLastLogin"].mean() - src["daysSinceLastLogin"].mean()
    assert abs(moved) < 0.1 * src["daysSinceLastLogin"].std()


def test_deterministic_for_a_seed_across_chunks(make_export, source, tmp_path, monkeypatch):
    monkeypatch.setattr(make_export, "CHUNK_ROWS", 700)  # 2,000 users in three chunks
    paths = [tmp_path / name / "users.zip" for name in ("a", "b", "c")]
    for path, seed in zip(paths, (7, 7, 8), strict=True):
        path.parent.mkdir()
        make_export.write_export(N_USERS, path, source, seed=seed)
    assert sha256(paths[0]) == sha256(paths[1])
    assert sha256(paths[0]) != sha256(paths[2])
    assert typed(paths[0])[ID_COLUMN].is_unique and len(read_raw_table(paths[0])) == N_USERS
    assert not list(tmp_path.glob("*/*.tmp"))


def test_ids_are_a_bijection_of_row_numbers(make_export):
    key = np.uint64(2**64 - 3)  # wraps around: (row + key) mod 2**64
    whole = make_export.unique_ids(0, 50_000, key)
    assert len(np.unique(whole)) == 50_000
    pieces = np.concatenate([make_export.unique_ids(0, 123, key),
                             make_export.unique_ids(123, 50_000, key)])
    np.testing.assert_array_equal(whole, pieces)
    assert (whole < 0).any() and (whole > 0).any()


def test_csv_field_quotes_only_when_needed(make_export):
    assert make_export.csv_field("Royaume-Uni") == "Royaume-Uni"
    assert make_export.csv_field('Korea, "South"') == '"Korea, ""South"""'


@pytest.mark.realdata
def test_real_source_passes_validation(make_export, real_data, tmp_path):
    out = tmp_path / "real.zip"
    make_export.write_export(N_USERS, out, real_data, seed=1)
    raw = read_raw_table(out)
    assert validate(raw, out.name)["status"] != "fail"
    source_header = read_raw_table(real_data).columns
    assert list(raw.columns) == list(source_header)
