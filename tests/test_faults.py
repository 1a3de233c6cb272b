"""Fault injection: a build killed at any point leaves a complete, self-consistent release
published and nothing running; the next build recovers by itself; two builds never overlap;
`c2c validate` never touches what is published.

Every build here is a real ``c2c build`` subprocess publishing into a temporary home
(``$C2C_HOME``) from synthetic exports, killed with SIGKILL by its own checkpoint hook
(``$C2C_KILL_AT``, :mod:`analysis.processes`). Its processes (bootstrap workers, sphinx-build
and its forks, Jupyter kernels) are found through a marker in their environment, which every
child inherits. Expected values come from the files (input sha256, manifests), never literals.

The kill cases share one home and run in pipeline order, so each case's build is also "the next
build" of the case before it: it must remove what that kill left (its log names each removal)
and get past the point where the previous build died. The next build after the last kill is
the concurrency test's: it must succeed, recover the same way, and leave nothing but releases,
``current`` and the lock in ``releases/``. (A successful build after every kill would add ~30 s
per case.)
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from analysis import catalog
from analysis.publishing.build import REQUIRED
from analysis.publishing.release import NAME, Home, history, published
from tests.synthetic import make_users, write_csv

pytestmark = pytest.mark.slow

USERS = 1500
#: Seconds a killed build's processes get to disappear (polled, not waited for).
GONE_WITHIN = 10.0
MARKER = "C2C_TEST_MARKER"
#: Variables of the caller's environment a test build must not inherit.
SCRUBBED = ("C2C_KILL_AT", "C2C_HOME", "C2C_CONFIG", "C2C_DATA", "C2C_SITE_CACHE", MARKER)


# --------------------------------------------------------------------------------------------
# helpers: config, processes, published state


def toml_text(record: dict) -> str:
    """A configuration record (``Settings.record()``) as TOML: sections of plain values."""
    lines: list[str] = []

    def table(name: str, values: dict) -> None:
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items()
                     if not isinstance(value, dict))
        for key, value in values.items():
            if isinstance(value, dict):
                table(f"{name}.{key}", value)

    for section, values in record.items():
        table(section, values)
    return "\n".join(lines) + "\n"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def c2c_command() -> list[str]:
    """The installed ``c2c`` script beside this interpreter (the module where there is none)."""
    script = Path(sys.executable).with_name("c2c")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "analysis.cli"]


def marked(marker: str) -> dict[int, str]:
    """Live processes whose environment carries ``marker``: {pid: command line}."""
    needle = f"{MARKER}={marker}".encode()
    found: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                command = fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if command:  # a zombie has no command line: it is dead, only not reaped yet
            found[int(entry.name)] = command
    return found


def survivors_after(marker: str, seconds: float = GONE_WITHIN) -> dict[int, str]:
    """Poll until no process carries ``marker`` (empty dict) or ``seconds`` pass; whatever is
    still alive then is killed (it was started by this test) and returned."""
    deadline = time.monotonic() + seconds
    while True:
        alive = marked(marker)
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return alive


@dataclass
class Run:
    """One ``c2c`` subprocess: started at once, finished by :meth:`finish`."""

    args: tuple[str, ...]
    proc: subprocess.Popen
    marker: str
    log: Path
    watch: bool
    seen: dict[int, str] = field(default_factory=dict)
    returncode: int | None = None
    out: str = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def finish(self, timeout: float = 900) -> Run:
        """Wait for the process (noting its marked processes meanwhile when ``watch``)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                survivors_after(self.marker, 0)
                pytest.fail(f"c2c {' '.join(self.args)} still running after {timeout:.0f} s")
            if self.watch:
                self.seen.update(marked(self.marker))
                time.sleep(0.1)
            else:
                time.sleep(0.2)
        self.returncode = self.proc.returncode
        self.out = self.log.read_text(encoding="utf-8", errors="replace")
        return self

    def saw(self, text: str) -> bool:
        """Whether a process whose command line contains ``text`` ran during the build."""
        return any(text in command for command in self.seen.values())

    def describe(self) -> str:
        tail = "\n".join(self.out.splitlines()[-25:])
        return f"c2c {' '.join(self.args)} -> {self.returncode}\n{tail}"


@dataclass
class Lab:
    """A temporary home with two synthetic exports, a fast config and a shared Sphinx cache."""

    root: Path
    inputs: dict[str, Path]
    configs: dict[str, Path]
    cache: Path
    runs: int = 0

    @property
    def home(self) -> Path:
        return self.root / "home"

    def sha(self, name: str) -> str:
        return sha256_of(self.inputs[name])

    def name_of(self, sha: str) -> str:
        return next(name for name in self.inputs if self.sha(name) == sha)

    def other_than(self, sha: str) -> str:
        """The input that is not the one with ``sha``: a build of it is told apart."""
        return next(name for name in self.inputs if self.sha(name) != sha)

    def start(self, *args: str, kill_at: str | None = None, config: str = "fast",
              watch: bool = False) -> Run:
        self.runs += 1
        marker = uuid.uuid4().hex
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        env.update({"C2C_HOME": str(self.home), "C2C_CONFIG": str(self.configs[config]),
                    "C2C_SITE_CACHE": str(self.cache), "GX_ANALYTICS_ENABLED": "false",
                    "PYTHONUNBUFFERED": "1", MARKER: marker})
        if kill_at:
            env["C2C_KILL_AT"] = kill_at
        log = self.root / "logs" / f"{self.runs:02d}-{args[0]}.log"
        log.parent.mkdir(exist_ok=True)
        with open(log, "wb") as out:
            proc = subprocess.Popen([*c2c_command(), *args], env=env, cwd=self.root,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        return Run(tuple(args), proc, marker, log, watch)

    def run(self, *args: str, **kwargs) -> Run:
        return self.start(*args, **kwargs).finish()

    def build(self, name: str, **kwargs) -> Run:
        return self.run("build", "--data", str(self.inputs[name]), **kwargs)


def current_folder(home: Path) -> Path:
    current = home / "releases" / "current"
    assert current.is_symlink(), f"{current} is not a symlink"
    return home / "releases" / os.readlink(current)


def published_sha(home: Path) -> str:
    return json.loads((current_folder(home) / "snapshot" / "meta.json").read_text())[
        "input_sha256"]


def assert_published(home: Path, input_sha256: str) -> Path:
    """The published release is complete and self-consistent, and is the build of the input
    with ``input_sha256``; returns its folder."""
    release = current_folder(home)
    assert (release / "release.json").is_file(), f"current -> {release.name}: no release.json"
    parts = json.loads((release / "release.json").read_text())["parts"]
    assert {"artifacts", "site", "snapshot"} <= set(parts), parts
    assert all((release / part).exists() for part in parts), parts
    assert (home / "artifacts").resolve() == (release / "artifacts").resolve()
    assert (home / "_site").resolve() == (release / "site").resolve()
    assert (home / "_site" / "_static" / "model.json").read_bytes() == \
        (home / "artifacts" / "model.json").read_bytes(), "the site scores with another model"
    manifest = catalog.verify(home / "artifacts", REQUIRED)  # every listed file: its sha256
    assert manifest["input_sha256"] == input_sha256
    meta = json.loads((release / "snapshot" / "meta.json").read_text())
    assert meta["input_sha256"] == input_sha256, "the snapshot is of another input"
    assert NAME.match(release.name)["sha"] == input_sha256[:len(NAME.match(release.name)["sha"])]
    return release


def leftovers(home: Path) -> list[str]:
    """Names in ``releases/`` that are not a published release, ``current`` or the lock."""
    releases = home / "releases"
    if not releases.is_dir():
        return []
    keep = {p.name for p in published(Home(home))} | {"current", ".lock"}
    return sorted(p.name for p in releases.iterdir() if p.name not in keep)


def assert_clean(home: Path) -> None:
    """``releases/`` holds only release folders, ``current`` and ``.lock``; no staging."""
    names = sorted(os.listdir(home / "releases"))
    odd = [n for n in names if n not in ("current", ".lock") and not NAME.match(n)]
    assert not odd, f"left in releases/: {odd} (all: {names})"
    assert not leftovers(home), leftovers(home)
    assert not [n for n in os.listdir(home) if n.startswith(".staging")], os.listdir(home)


def staging_folders(home: Path) -> list[Path]:
    return [p for p in (home / "releases").iterdir() if p.name.startswith(".staging")]


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` (links followed), the lock's note aside."""
    return {str(p.relative_to(folder)): sha256_of(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def published_state(home: Path) -> dict[str, str]:
    """Everything published: the release folders, ``current`` and what the links show."""
    return {**{f"releases/{k}": v for k, v in tree_hashes(home / "releases").items()},
            **{f"artifacts/{k}": v for k, v in tree_hashes(home / "artifacts").items()},
            **{f"_site/{k}": v for k, v in tree_hashes(home / "_site").items()},
            "current": os.readlink(home / "releases" / "current")}


def page_text(path: Path) -> str:
    """The visible text of an HTML page, whitespace collapsed."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()


# --------------------------------------------------------------------------------------------
# the shared home


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    """A home with one good release (input "a") published by a real ``c2c build``."""
    from analysis.config import load_config

    root = tmp_path_factory.mktemp("faults")
    inputs = {name: write_csv(make_users(USERS, seed=seed), root / f"users-{name}.csv")
              for name, seed in (("a", 5), ("b", 6))}
    assert sha256_of(inputs["a"]) != sha256_of(inputs["b"])
    base = load_config().updated({"stability": {"resamples": 4, "n_jobs": 1},
                                  "pca": {"sample_size": 300}})
    configs = {}
    for name, jobs in (("fast", 1), ("workers", 2)):
        configs[name] = root / f"config-{name}.toml"
        configs[name].write_text(toml_text(base.updated({"stability": {"n_jobs": jobs}})
                                           .record()), encoding="utf-8")
    lab = Lab(root, inputs, configs, root / "sphinx-cache")
    first = lab.build("a")
    assert first.returncode == 0, first.describe()
    assert_published(lab.home, lab.sha("a"))
    assert_clean(lab.home)
    return lab


# --------------------------------------------------------------------------------------------
# 1 + 2: SIGKILL at each point of a build


@dataclass(frozen=True)
class Kill:
    at: str                    # $C2C_KILL_AT
    publishes_new: bool        # the kill came after `current` was switched
    config: str = "fast"
    must_see: tuple[str, ...] = ()   # command-line texts of processes running at the kill


KILLS = {
    "validate": Kill("validate (Great Expectations):0.3", False),
    "bootstrap-workers": Kill("bootstrap stability:0.5", False, config="workers",
                              must_see=("multiprocessing.spawn",)),
    "artifacts-written": Kill("artifacts written", False),
    "site-render": Kill("artifacts written:3", False, must_see=("sphinx",)),
    "release-renamed": Kill("release renamed", False),
    "release-switched": Kill("release switched", True),
}


def check_left_by(case: str, home: Path, old: Path) -> None:
    """What a kill at ``case`` leaves unpublished: evidence that it landed where meant."""
    staging = staging_folders(home)
    if case == "artifacts-written":
        assert any((s / "artifacts" / "manifest.json").is_file() and not (s / "site").exists()
                   for s in staging), f"no staging folder with artifacts only: {staging}"
    elif case == "site-render":  # (and sphinx-build was seen running)
        assert any((s / "artifacts" / "manifest.json").is_file() and not (s / "site").exists()
                   for s in staging), f"the kill did not land during the render: {staging}"
    elif case == "release-renamed":
        unswitched = [n for n in leftovers(home) if NAME.match(n)]
        assert unswitched, "no renamed, never-switched release was left"
        for name in unswitched:
            assert (home / "releases" / name / "release.json").is_file()
            assert int(NAME.match(name)["seq"]) > int(NAME.match(old.name)["seq"])
    elif case == "release-switched":
        assert current_folder(home).name != old.name


@pytest.mark.parametrize("case", list(KILLS))
def test_a_build_killed_at_any_point_leaves_a_complete_release_and_no_process(lab, case):
    kill = KILLS[case]
    home = lab.home
    old_sha = published_sha(home)
    old = assert_published(home, old_sha)
    left_before = leftovers(home)
    new = lab.other_than(old_sha)

    run = lab.build(new, kill_at=kill.at, config=kill.config, watch=True)
    survivors = survivors_after(run.marker)

    assert run.returncode == -signal.SIGKILL, run.describe()
    assert not survivors, (f"processes of the killed build still alive {GONE_WITHIN:.0f} s "
                           "later:\n" + "\n".join(f"{pid}: {cmd[:300]}"
                                                  for pid, cmd in survivors.items()))
    for text in kill.must_see:
        assert run.saw(text), (f"no process matching {text!r} ran before the kill; seen: "
                               f"{sorted(run.seen.values())}")
    # The build recovered from what the case before it left, on its own.
    for name in left_before:
        assert f"recovered: removed {name}" in run.out, run.describe()
        assert not (home / "releases" / name).exists()

    expected = lab.sha(new) if kill.publishes_new else old_sha
    assert_published(home, expected)
    if not kill.publishes_new:
        assert current_folder(home) == old
    check_left_by(case, home, old)


# --------------------------------------------------------------------------------------------
# 1 (unit): a kill while an old release is being deleted (pruning, right after the switch)


class Killed(BaseException):
    """SIGKILL, in-process: nothing catches it, nothing after it runs."""


def staged_release(home: Home, key: str) -> Path:
    """A finished staging folder holding a tiny release whose snapshot has key ``key``."""
    staging = home.releases / f".staging-release-{uuid.uuid4().hex[:12]}"
    for part in ("artifacts", "site", "snapshot"):
        (staging / part).mkdir(parents=True)
    (staging / "artifacts" / "manifest.json").write_text(json.dumps({"input_sha256": key}))
    (staging / "site" / "index.html").write_text(key)
    for name in ("manifest.json", "model.json", "validation_report.json", "distributions.json"):
        (staging / "snapshot" / name).write_text("{}")
    (staging / "snapshot" / "meta.json").write_text(json.dumps({"key": key}))
    return staging


def test_a_kill_while_pruning_leaves_no_half_deleted_release_in_the_history(tmp_path,
                                                                          monkeypatch):
    """Publishing prunes older releases right after the switch; a kill in the middle of
    deleting one must not leave a "published" release with part of its snapshot gone (every
    later build would fail reading the history)."""
    from datetime import UTC, datetime

    import analysis.publishing.release as release

    home = Home(tmp_path / "home")
    home.releases.mkdir(parents=True)

    def publish(key: str) -> Path:
        name = release.next_name(home, "a" * 64, datetime.now(UTC))[1]
        return release.publish(home, staged_release(home, key), name, keep=5)

    publish("k1")
    publish("k2")
    real_rmtree = shutil.rmtree

    def killed_midway(path, *args, **kwargs):
        path = Path(path)
        if (path / "snapshot").is_dir():  # deleting a whole release: die half-way through
            (path / "snapshot" / "model.json").unlink()
            raise Killed
        real_rmtree(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(release.shutil, "rmtree", killed_midway)
        with pytest.raises(Killed):
            publish("k1")  # the same key again: the older k1 release is deleted
    newest = release.current_release(home)
    assert json.loads((newest / "snapshot" / "meta.json").read_text())["key"] == "k1"
    # What the next build does first: recover, then read the history.
    release.recover(home)
    assert [snap["meta"]["key"] for snap in history(home)] == ["k1", "k2"]
    assert_clean(home.root)


# --------------------------------------------------------------------------------------------
# 2 (unit): what a child forks dies with the build too

#: A build-like process: a child that dies with it (PDEATHSIG) forks a grandchild that does not
#: (Linux clears PDEATHSIG on fork: sphinx-build -j's readers are such grandchildren).
FORKING = r"""
import subprocess, sys, time
from analysis.processes import descendants_die_with_me, die_with_parent
child = ("import os, time\n"
         "if os.fork() == 0:\n    print('grandchild', flush=True)\n"
         "time.sleep(300)\n")
with descendants_die_with_me():
    subprocess.Popen([sys.executable, "-c", child], preexec_fn=die_with_parent)
    time.sleep(300)
"""


def test_a_killed_build_takes_its_childrens_forks_along(tmp_path):
    marker = uuid.uuid4().hex
    env = {**{k: v for k, v in os.environ.items() if k not in SCRUBBED}, MARKER: marker,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                       os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-c", FORKING], env=env, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "grandchild"
        # the build, the child and the grandchild (and the watchdog)
        deadline = time.monotonic() + 30
        while len(marked(marker)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(marked(marker)) >= 3, marked(marker)
    finally:
        proc.kill()
        proc.wait()
    survivors = survivors_after(marker)
    assert not survivors, survivors


def test_a_build_that_ends_stops_its_watchdog_and_drops_its_tag():
    from analysis.processes import TREE_ENV, descendants_die_with_me

    before = os.environ.get(TREE_ENV)
    with descendants_die_with_me():
        tag = os.environ[TREE_ENV]
        assert tag and tag != before
    assert os.environ.get(TREE_ENV) == before
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and
                tag.encode() in _cmdline(int(pid))]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


# --------------------------------------------------------------------------------------------
# 3: one build at a time


#: A build that took the lock and was preempted before writing its note (what a loaded machine
#: does to two builds started at once): the note comes 0.5 s after the lock.
SLOW_NOTE = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
print("locked", flush=True)
time.sleep(0.5)
os.write(fd, ("pid %d, started 2026-01-01T00:00:00+00:00, c2c build\n" % os.getpid()).encode())
time.sleep(60)
"""


def test_a_build_refused_the_moment_the_lock_is_taken_still_names_the_holder(tmp_path):
    from analysis.publishing.lock import LOCK_NAME, BuildBusy, build_lock

    releases = tmp_path / "releases"
    releases.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", SLOW_NOTE, str(releases / LOCK_NAME)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BuildBusy, match=rf"another build is running \(pid {holder.pid}, "):
            with build_lock(releases):
                pass
    finally:
        holder.kill()
        holder.wait()


def stop(*runs: Run) -> None:
    """Kill what is left of ``runs`` (after a failed assertion), descendants included."""
    for run in runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()
        survivors_after(run.marker)


def test_two_builds_at_once_one_is_refused_and_wait_runs_after(lab):
    """Also the next build after the last kill case: it succeeds with no manual step."""
    home = lab.home
    left_before = leftovers(home)
    first = lab.other_than(published_sha(home))
    second = lab.other_than(lab.sha(first))
    both = [lab.start("build", "--data", str(lab.inputs[first])) for _ in range(2)]
    runs = list(both)
    try:
        # The refused one exits at once; the other holds the lock meanwhile.
        deadline = time.monotonic() + 300
        while all(r.proc.poll() is None for r in both) and time.monotonic() < deadline:
            time.sleep(0.1)
        refused = next(r for r in both if r.proc.poll() is not None)
        winner = next(r for r in both if r is not refused)
        refused.finish()
        assert refused.returncode == 2, refused.describe()
        assert re.search(rf"another build is running \(pid {winner.pid}, started \d{{4}}-",
                         refused.out), refused.describe()

        waiting = lab.start("build", "--wait", "--data", str(lab.inputs[second]))
        runs.append(waiting)
        assert winner.proc.poll() is None, "the first build ended before --wait was tried"
        winner.finish()
        assert winner.returncode == 0, winner.describe()
        for name in left_before:
            assert f"recovered: removed {name}" in winner.out, winner.describe()
        waiting.finish()
        assert waiting.returncode == 0, waiting.describe()
    finally:
        stop(*runs)

    release = assert_published(home, lab.sha(second))
    assert_clean(home)
    newest, before = history(Home(home))[:2]
    assert newest["meta"]["input_sha256"] == lab.sha(second)
    assert before["meta"]["input_sha256"] == lab.sha(first)
    assert newest["meta"]["sequence"] == before["meta"]["sequence"] + 1
    assert Path(newest["path"]).parent == release
    for snap in history(Home(home)):
        folder = Path(snap["path"]).parent
        sha = snap["meta"]["input_sha256"]
        assert snap["manifest"]["input_sha256"] == sha, folder.name
        assert sha.startswith(NAME.match(folder.name)["sha"]), folder.name


# --------------------------------------------------------------------------------------------
# 4: replays from the reliability issue


def damaged_copy(source: Path, dest: Path, keep: float = 0.4) -> tuple[Path, int]:
    """The first ``keep`` share of ``source``'s rows, one with a negative count: a file that
    fails validation with another row count. Returns (path, rows)."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:int(len(lines) * keep)]
    column = header.rstrip("\n").split(",").index("productsSold")
    cells = rows[3].rstrip("\n").split(",")
    cells[column] = "-4"
    rows[3] = ",".join(cells) + "\n"
    dest.write_text(header + "".join(rows), encoding="utf-8")
    return dest, len(rows)


def test_validate_changes_nothing_published_and_render_keeps_the_data_page_true(lab):
    home = lab.home
    sha = published_sha(home)
    release = assert_published(home, sha)
    before = published_state(home)
    artifacts_before = tree_hashes(home / "artifacts")
    manifest = json.loads((home / "artifacts" / "manifest.json").read_text())
    report = json.loads((home / "artifacts" / "validation_report.json").read_text())
    damaged, rows = damaged_copy(lab.inputs[lab.name_of(sha)], lab.root / "damaged-export.csv")
    assert rows != manifest["rows_in"]

    check = lab.run("validate", "--data", str(damaged))
    assert check.returncode == 1, check.describe()
    written = json.loads((home / "work" / "validation_report.json").read_text())
    assert written["status"] == "fail" and written["rows"] == rows
    assert published_state(home) == before, "c2c validate changed what is published"

    again = lab.run("render")
    assert again.returncode == 0, again.describe()
    new = assert_published(home, sha)
    assert new != release
    assert tree_hashes(home / "artifacts") == artifacts_before
    assert_clean(home)
    # The Data page tells the published manifest's story, as the Summary does.
    page = page_text(home / "_site" / "data.html")
    shown = page[page.lower().find("validation result"):][:1500]
    rows_text = re.escape(f"{manifest['rows_in']:,}")
    assert report["rows"] == manifest["rows_in"]
    assert re.search(rf"\b{rows_text}\s+rows\b", page), shown
    status = re.search(r"\bstatus:\s*(\w+)", page, re.I)  # "Status: pass." / "Overall status: …"
    assert status and status.group(1) == report["status"], shown
    assert f"{rows:,} rows" not in page and damaged.name not in page
    assert f"{manifest['rows_in']:,}" in page_text(home / "_site" / "index.html")

