"""Shared fixtures: synthetic users and the path of the real dataset (read, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.synthetic import make_users

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / \
    "6M-0K-99K.users.dataset.public.csv.zip"


@pytest.fixture
def users():
    """600 synthetic users with the real schema (fresh copy per test)."""
    return make_users(600, seed=0)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real dataset in ../shared/data/; skipped only outside CI when it is absent."""
    import os

    if not REAL_DATA.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"real dataset missing at {REAL_DATA}")
        pytest.skip(f"real dataset not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def real_artifacts(real_data, tmp_path_factory):
    """One full `segment` run on the real data per test session: (artifacts folder, manifest)."""
    from analysis.config import load_config
    from analysis.pipeline import segment

    out = tmp_path_factory.mktemp("real") / "artifacts"
    manifest = segment(real_data, out, load_config())
    return out, manifest
