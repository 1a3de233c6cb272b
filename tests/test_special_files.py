"""Inputs and outputs that are not regular files: devices, pipes, links to the input. Each gets
a clear error before any work, and an output never widens the mode of the file it replaces."""

import os
import signal
import stat
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.intake.files import file_kind, writable_target
from analysis.intake.reader import read_payload
from analysis.scoring.output import _write_csv_atomic, check_paths
from tests.limits import LIMITS


class Blocked(Exception):
    """Raised by the alarm (not an OSError: zipfile.is_zipfile would swallow that)."""


def _timeout(signum, frame):
    raise Blocked("read_payload blocked on the pipe")


def test_a_pipe_is_refused_without_being_opened(tmp_path):
    pipe = tmp_path / "users.csv"
    os.mkfifo(pipe)  # no writer: opening it would block forever
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(10)  # a regression fails the test instead of hanging the suite
    try:
        with pytest.raises(InputError, match="named pipe"):
            read_payload(pipe, LIMITS)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_device_is_refused_before_reading():
    # /dev/null, not /dev/zero: a regression must fail here, not fill the memory
    with pytest.raises(InputError, match="character device"):
        read_payload(Path("/dev/null"), LIMITS)


def test_file_kind_names_what_is_not_regular(tmp_path):
    regular = tmp_path / "a.csv"
    regular.write_text("x\n")
    assert file_kind(regular.stat().st_mode) is None
    assert file_kind(tmp_path.stat().st_mode) == "a directory"
    assert file_kind(stat.S_IFSOCK) == "a socket"


def test_outputs_never_replace_devices_pipes_or_the_input(tmp_path):
    source = tmp_path / "users.csv"
    source.write_text("x\n")
    os.link(source, tmp_path / "hard.csv")
    os.symlink(source, tmp_path / "soft.csv")
    os.mkfifo(tmp_path / "pipe")
    assert "character device" in writable_target(Path("/dev/null"))
    assert "named pipe" in writable_target(tmp_path / "pipe")
    for alias in ("hard.csv", "soft.csv"):
        assert "the input" in writable_target(tmp_path / alias, (source,))
    assert writable_target(tmp_path / "new.csv", (source,)) is None
    (tmp_path / "old.csv").write_text("y\n")
    assert writable_target(tmp_path / "old.csv", (source,)) is None
    with pytest.raises(InputError, match="the input"):
        check_paths(source, tmp_path / "hard.csv", None)
    with pytest.raises(InputError, match="named pipe"):
        check_paths(source, tmp_path / "out.csv", tmp_path / "pipe")


def test_replacing_an_output_keeps_its_mode(tmp_path):
    out = tmp_path / "scored.csv"
    out.write_text("old\n")
    os.chmod(out, 0o600)
    _write_csv_atomic(pd.DataFrame({"a": [1]}), out, guard=False)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes() == b"a\r\n1\r\n"
