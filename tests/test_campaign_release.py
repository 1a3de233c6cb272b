"""Two releases end to end: the campaign files of the first, a generated next export with a
planted uplift, and the second build's measurement (synthetic users; slow: two site builds)."""

import json

import pandas as pd
import pytest

from analysis.publishing.build import build, render
from analysis.publishing.release import Home, current_release
from tests.test_campaigns import _next_release


@pytest.fixture(scope="module")
def two_releases(synthetic_run, fast_config, tmp_path_factory):
    """A home with the synthetic release, then the release of its next export (30 days later,
    target users 40 points likelier to log in): (home, first campaigns, second campaigns)."""
    data, artifacts, _ = synthetic_run
    home = Home(tmp_path_factory.mktemp("campaigns") / "project")
    render(fast_config, home, artifacts, log=lambda *_: None)
    first = current_release(home) / "campaigns"
    module = _next_release()
    labels = pd.read_parquet(artifacts / "labels.parquet", columns=["identifierHash", "group"])
    nxt = module.advance(module.read_text(data), labels, 30, 0.1, 0.4, 1)
    path = tmp_path_factory.mktemp("next") / "next.zip"
    module.write_zip(nxt, path)
    build(path, fast_config, home, log=lambda *_: None)
    return home, first, current_release(home) / "campaigns"


def _groups(folder):
    index = json.loads((folder / "index.json").read_text())
    frames = [pd.read_csv(folder / e["file"], encoding="utf-8-sig") for e in index["files"]]
    return pd.concat(frames).set_index("identifierHash")["group"]


def test_a_user_keeps_its_group_in_the_next_release(two_releases):
    _, first, second = two_releases
    before, after = _groups(first), _groups(second)
    both = before.index.intersection(after.index)
    assert len(both) == len(before)  # the next export holds the same users
    assert (before[both] == after[both]).all()


def test_the_next_release_measures_the_planted_uplift(two_releases):
    home, _, _ = two_releases
    changes = json.loads((home.artifacts / "changes.json").read_text())
    result = changes["campaign"]
    assert result["measured"] and result["elapsed_days"] == 30
    counts = sum(sum(row) for row in result["transitions"]["counts"])
    assert counts == result["matched"]
    pooled = [s["logged_in"] for s in result["segments"] if s["control"] >= 30]
    assert pooled and all(d["difference"] > 0 for d in pooled)  # 40 points planted
    page = (home.site / "changes.html").read_text(encoding="utf-8")
    assert "Did the campaign work?" in page and "target against control" in page
    assert "Tier transitions of the matched users" in page
