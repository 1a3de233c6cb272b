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


def test_escape_sequences_never_reach_the_terminal():
    from analysis.errors import terminal_safe

    hostile = "name\x1b]0;pwned\x07\x1b[2J\x9b31m"
    shown = terminal_safe(f"line 3: socialNbFollows {hostile!s} is not a whole number\nnext")
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\\x1b]0;pwned\\x07" in shown and shown.endswith("\nnext")  # visible, escaped


def test_a_wide_header_is_checked_for_repeats():
    """Counted once (collections.Counter), not names.count per name: the quadratic check took
    27.7 s on a 60,024-column header (issue 22); no timing is asserted here."""
    from analysis.intake.reader import _header

    names = [f"c{i}" for i in range(5_000)]
    assert _header((",".join(names) + "\n").encode(), "wide.csv") == names
    with pytest.raises(InputError, match="repeats column.*'c7'"):
        _header((",".join([*names, "c7", "c7"]) + "\n").encode(), "wide.csv")


def test_lines_ending_with_a_bare_cr_read_like_lf(tmp_path):
    from analysis.intake.reader import read_raw_table
    from tests.synthetic import make_users

    text = make_users(20, seed=1).to_csv(index=False, lineterminator="\n")
    (tmp_path / "lf.csv").write_text(text, encoding="utf-8", newline="")
    (tmp_path / "cr.csv").write_text(text.replace("\n", "\r"), encoding="utf-8", newline="")
    lf = read_raw_table(tmp_path / "lf.csv", LIMITS)
    cr = read_raw_table(tmp_path / "cr.csv", LIMITS)
    pd.testing.assert_frame_equal(lf, cr)


@pytest.mark.parametrize(("tamper", "words"), [
    (lambda m: m["solutions"][0]["centroids"][0].pop(), "does not hold k centroids"),
    (lambda m: m["features"][0].update(column="notAColumn"), "unknown column 'notAColumn'"),
    (lambda m: m.pop("segments"), "no segments"),
    (lambda m: m["segments"]["tier_of_type"].popitem(), "every type's tier"),
    (lambda m: m["solutions"][0]["centroids"][0].__setitem__(0, "x"), "finite numbers"),
])
def test_a_tampered_model_is_named_not_a_traceback(tmp_path, tamper, words):
    import json

    from analysis.scoring.score import load_model
    from tests.scoring_helpers import build_test_model, write_model
    from tests.synthetic import make_users

    model = build_test_model(make_users(300, seed=0))
    tamper(model)
    path = write_model(model, tmp_path / "model.json")
    with pytest.raises(InputError, match=words) as err:
        load_model(path)
    assert err.value.exit_code == 2 and "model.json" in str(err.value)
    json.loads(path.read_text())  # still valid JSON: the content, not the syntax, is wrong
