"""Shared fixtures: synthetic users and the path of the real dataset (read, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.synthetic import make_users, write_csv

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
    from analysis.publishing.build import segment

    out = tmp_path_factory.mktemp("real") / "artifacts"
    manifest = segment(real_data, out, load_config())
    return out, manifest


@pytest.fixture(scope="session")
def fast_config():
    """The real config with 4 bootstrap resamples, one worker and a small PCA sample."""
    from analysis.config import load_config

    return load_config().updated({"stability": {"resamples": 4, "n_jobs": 1},
                                  "pca": {"sample_size": 300}})


@pytest.fixture(scope="session")
def synthetic_run(fast_config, tmp_path_factory):
    """One `segment` run on 1,500 synthetic users: (data file, artifacts folder, manifest).

    Shared read-only by the pipeline and site tests; never write into its folders.
    """
    from analysis.publishing.build import segment

    folder = tmp_path_factory.mktemp("synthetic")
    data = write_csv(make_users(1500, seed=5), folder / "users.csv")
    manifest = segment(data, folder / "artifacts", fast_config)
    return data, folder / "artifacts", manifest


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium, one per session: Playwright's sync API allows one at a time
    (Playwright cannot download browsers here; see tests/browser.py)."""
    from tests.browser import launched_chromium

    with launched_chromium() as chromium:
        yield chromium


#: Fixtures that run the pipeline or read the real export: a test using one (directly or
#: through another fixture) takes seconds to minutes, so it is marked ``slow`` and, for the real
#: data, ``realdata``. The fast subset (``pytest -m "not slow and not browser"``) leaves them out.
_SLOW_FIXTURES = {"real_data", "real_artifacts", "synthetic_run", "published", "fast_config"}
_REAL_FIXTURES = {"real_data", "real_artifacts"}


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & _SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
        if used & _REAL_FIXTURES:
            item.add_marker(pytest.mark.realdata)
