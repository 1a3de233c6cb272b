"""Releases: one atomic switch publishes artifacts + site + snapshot; recovery; pruning; lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analysis.publishing.lock import BuildBusy, build_lock
from analysis.publishing.release import (
    RELEASE_FILE,
    Home,
    current_release,
    ensure_links,
    history,
    next_name,
    publish,
    recover,
)

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def stage(home: Home, key: str, sha: str = "a" * 64) -> Path:
    """A finished staging folder: artifacts, site and a snapshot with ``key``."""
    staging = home.releases / f".staging-release-{key}-{time.monotonic_ns()}"
    for part in ("artifacts", "site", "snapshot"):
        (staging / part).mkdir(parents=True)
    (staging / "artifacts" / "manifest.json").write_text(json.dumps({"input_sha256": sha}))
    (staging / "site" / "index.html").write_text(f"<p>{key}</p>")
    for name in ("manifest.json", "model.json", "validation_report.json", "distributions.json"):
        (staging / "snapshot" / name).write_text("{}")
    (staging / "snapshot" / "meta.json").write_text(json.dumps({"key": key, "sequence": 0}))
    return staging


def release(home: Home, key: str, keep: int = 5) -> Path:
    sequence, name = next_name(home, "a" * 64, T0)
    return publish(home, stage(home, key), name, keep)


@pytest.fixture
def home(tmp_path) -> Home:
    return Home(tmp_path / "project")


def test_publish_switches_current_and_the_stable_links(home):
    first = release(home, "k1")
    assert current_release(home) == first
    assert (first / RELEASE_FILE).is_file()
    assert (home.site / "index.html").read_text() == "<p>k1</p>"
    assert json.loads((home.artifacts / "manifest.json").read_text())["input_sha256"]
    second = release(home, "k2")
    assert current_release(home) == second
    assert (home.site / "index.html").read_text() == "<p>k2</p>"
    assert os.readlink(home.site) == os.path.join("releases", "current", "site")


def test_older_releases_keep_only_their_snapshot_and_keep_counts_them(home):
    made = [release(home, f"k{i}", keep=3) for i in range(5)]
    left = sorted(p.name for p in home.releases.iterdir() if p.name[0].isdigit())
    assert left == [p.name for p in made[2:]]
    for path in made[2:4]:
        assert sorted(q.name for q in path.iterdir()) == [RELEASE_FILE, "snapshot"]
    assert (made[4] / "site").is_dir() and (made[4] / "artifacts").is_dir()
    assert [s["meta"]["key"] for s in history(home)] == ["k4", "k3", "k2"]


def test_the_same_release_built_again_replaces_its_older_copy(home):
    a = release(home, "ka")
    b = release(home, "kb")
    again = release(home, "kb")
    assert a.exists() and not b.exists() and current_release(home) == again
    assert [s["meta"]["key"] for s in history(home)] == ["kb", "ka"]


def test_recovery_removes_what_killed_builds_left_and_never_the_published(home):
    published = release(home, "k1")
    stale = stage(home, "half-written")
    unswitched = home.releases / next_name(home, "b" * 64, T0)[1]
    os.rename(stage(home, "complete-but-not-switched"), unswitched)
    (unswitched / RELEASE_FILE).write_text("{}")
    incomplete = home.releases / "0009-20260101T120000Z-cccccccccccc"
    (incomplete / "artifacts").mkdir(parents=True)
    os.unlink(home.site)  # a link lost too
    removed = recover(home)
    assert sorted(removed) == sorted([stale.name, unswitched.name, incomplete.name])
    assert current_release(home) == published
    assert (home.site / "index.html").read_text() == "<p>k1</p>"
    assert {p.name for p in home.releases.iterdir()} == {"current", published.name}


def test_before_any_release_recovery_clears_everything_and_nothing_is_published(home):
    stage(home, "half")
    assert recover(home) and current_release(home) is None and history(home) == []


def test_the_layout_before_releases_is_replaced_by_links(home):
    home.root.mkdir(parents=True)
    for legacy in (home.site, home.artifacts):
        legacy.mkdir()
        (legacy / "old.txt").write_text("v1")
    release(home, "k1")
    assert home.site.is_symlink() and home.artifacts.is_symlink()
    assert (home.site / "index.html").exists()
    ensure_links(home)  # idempotent
    assert not any(p.name.startswith(".staging") for p in home.root.iterdir())


def test_a_kill_while_moving_the_old_layout_aside_is_cleaned_up_next_time(home):
    release(home, "k1")
    aside = home.root / ".staging-_site-legacy"  # killed between the move and the delete
    aside.mkdir()
    (aside / "old.txt").write_text("v1")
    recover(home)
    assert not aside.exists()
    assert (home.site / "index.html").exists()


# --------------------------------------------------------------------------------------------
# the lock

HOLD = """
import sys, time
from pathlib import Path
from analysis.publishing.lock import build_lock
with build_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def hold_lock(releases: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(releases)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_build_is_refused_naming_the_first(home):
    holder = hold_lock(home.releases)
    try:
        with pytest.raises(BuildBusy, match=rf"another build is running \(pid {holder.pid}, "
                                            r"started \d{4}-"):
            with build_lock(home.releases):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_killed_build_is_taken_over(home):
    holder = hold_lock(home.releases)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with build_lock(home.releases):
        note = (home.releases / ".lock").read_text()
    assert f"pid {os.getpid()}" in note


def test_wait_blocks_until_the_lock_is_free(home):
    holder = hold_lock(home.releases)
    started = time.monotonic()
    killer = subprocess.Popen([sys.executable, "-c",
                               f"import os, time, signal; time.sleep(1.0); "
                               f"os.kill({holder.pid}, signal.SIGKILL)"])
    with build_lock(home.releases, wait=True, poll_seconds=0.05):
        waited = time.monotonic() - started
    killer.wait()
    holder.wait()
    assert waited >= 0.9  # it waited for the holder instead of failing


def test_the_pipeline_result_is_let_go_before_the_site_renders(monkeypatch, tmp_path):
    """At 6 million users the result's frames held GBs while Sphinx ran: once its artifacts
    are written, nothing may keep it alive."""
    import weakref

    from analysis.pipeline import PipelineResult
    from analysis.publishing import build as build_module

    written = []
    monkeypatch.setattr(build_module, "write_artifacts",
                        lambda dest, result: written.append(dest) or {"ok": True})
    result = PipelineResult({"labels.parquet": list(range(1000))}, {}, {})
    alive = weakref.ref(result)
    fill = build_module._written_then_dropped(result)
    del result
    assert alive() is not None  # held until the artifacts are written
    assert fill(tmp_path / "artifacts") == {"ok": True} and written == [tmp_path / "artifacts"]
    assert alive() is None
