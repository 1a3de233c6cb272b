"""`c2c score` and analysis.scoring.score: rows add up, every reject reason, columns, solutions,
files."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cli import main
from analysis.errors import InputError
from analysis.features.transform import transform
from analysis.intake.kinds import EXPECTED_TEXT
from analysis.scoring import output, rules
from analysis.scoring import score as scoring
from analysis.scoring.nearest import assign_nearest
from tests.limits import LIMITS
from tests.scoring_helpers import build_test_model, fit_test_model, write_model
from tests.synthetic import make_users, to_csv_text, write_csv

ID_TEXT = EXPECTED_TEXT["int64"]
INT_TEXT = EXPECTED_TEXT["int"]


@pytest.fixture(scope="module")
def model() -> dict:
    """A model fitted on 600 synthetic users: K-Means k=3,4 and Ward k=3,4; chosen kmeans k=4."""
    return build_test_model(make_users(600, seed=0))


@pytest.fixture
def model_path(model, tmp_path) -> Path:
    return write_model(model, tmp_path / "model.json")


@pytest.fixture
def new_users() -> pd.DataFrame:
    """40 synthetic users the model has not seen, as text cells (ready to be broken)."""
    return make_users(40, seed=1).astype(str)


def run_cli(args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """Run ``c2c score ARGS`` in-process through the console entry point: (exit, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["c2c", "score", *map(str, args)])
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


def score_text(text: str, model: dict, algorithm=None, k=None) -> scoring.ScoreResult:
    """Score CSV text through the file path (read_raw_table and all)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.csv"
        path.write_bytes(text.encode("utf-8"))
        return scoring.score_file(path, model, algorithm, k, limits=LIMITS)


def rfc4180_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV with CRLF line ends, so that cells holding a lone CR are quoted too."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue()


def reasons_by_line(result: scoring.ScoreResult) -> dict[int, str]:
    return dict(zip(result.rejected["line"], result.rejected["reject_reason"], strict=True))


# --------------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------------

def nearest_centroid_reference(X, centroids):
    """Plain NumPy oracle: nearest centroid, its distance, and the gap to the next one."""
    dist = np.sqrt(((X[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
    ranked = np.sort(dist, axis=1)
    return dist.argmin(axis=1), ranked[:, 0], ranked[:, 1] - ranked[:, 0]


def test_new_users_get_the_nearest_centroid_as_a_plain_numpy_reference(model):
    users = make_users(500, seed=3).assign(productsSold=lambda f: f["productsSold"] + 1000)
    digits = model["scoring"]["round_digits"]
    for sol in model["solutions"]:  # no user is a training row: no stored label applies
        got = scoring.score_frame(users, model, sol["algorithm"], sol["k"])
        cluster, distance, margin = nearest_centroid_reference(
            transform(users, model["features"]), np.asarray(sol["centroids"]))
        assert (got["cluster"].to_numpy() == cluster).all()
        tolerance = 0.5 * 10.0 ** -digits + 1e-12
        np.testing.assert_allclose(got["distance"].to_numpy(), distance, rtol=0, atol=tolerance)
        np.testing.assert_allclose(got["margin"].to_numpy(), margin, rtol=0, atol=tolerance)
        types = scoring.user_types(users, model)
        assert list(got["tier"]) == [model["segments"]["tier_of_type"][t] for t in types]
        assert list(got.columns) == scoring.SCORED_COLUMNS
        assert set(got["algorithm"]) == {sol["algorithm"]} and set(got["k"]) == {sol["k"]}


def test_ties_within_the_tolerance_go_to_the_lowest_cluster_and_are_reported():
    X = np.array([[0.5, 0.5], [0.0, 0.0], [0.5 + 1e-12, 0.5]])
    centroids = np.array([[0.0, 0.5], [1.0, 0.5], [0.0, 0.0]])  # row 0 is equidistant to 0 and 1
    cluster, distance, margin, tied = assign_nearest(X, centroids, 1e-9)
    assert cluster.tolist() == [0, 2, 0]  # row 2 is 1e-12 nearer to cluster 1: still a tie
    assert distance.tolist()[:2] == [0.5, 0.0]
    assert margin.tolist()[:2] == [0.0, 0.5]
    assert tied.tolist() == [True, False, True]


def test_one_cluster_has_zero_margin_and_no_tie():
    cluster, _, margin, tied = assign_nearest(np.random.default_rng(0).random((5, 3)),
                                              np.zeros((1, 3)), 1e-9)
    assert cluster.tolist() == [0] * 5 and margin.tolist() == [0.0] * 5 and not tied.any()


def test_blocks_do_not_change_results(model, monkeypatch):
    from analysis.scoring import nearest

    users = make_users(300, seed=4)
    whole = scoring.score_frame(users, model)
    monkeypatch.setattr(nearest, "BLOCK_ROWS", 7)
    pd.testing.assert_frame_equal(scoring.score_frame(users, model), whole)


def test_training_users_get_their_own_clusters_back_for_every_solution():
    """Ward has no rule for new points; the label table returns the stored labels."""
    users = make_users(600, seed=0)
    model, fitted = fit_test_model(users)
    wrong_by_centroid = 0
    for sol in model["solutions"]:
        own = fitted[f"{sol['algorithm']}_k{sol['k']}"]
        got = scoring.score_frame(users, model, sol["algorithm"], sol["k"])
        assert (got["cluster"].to_numpy() == own).all(), sol["algorithm"]
        centroid = nearest_centroid_reference(transform(users, model["features"]),
                                              np.asarray(sol["centroids"]))[0]
        wrong_by_centroid += int((centroid != own).sum())
    assert wrong_by_centroid > 0  # the table is what makes them right, not luck


# --------------------------------------------------------------------------------------------
# Row rules: one test per reason, with the exact sentence
# --------------------------------------------------------------------------------------------

LONG = "x" * 60


@pytest.mark.parametrize(("column", "value", "reason"), [
    ("identifierHash", "-1.0979E+18", f'identifierHash "-1.0979E+18" is not {ID_TEXT}'),
    ("identifierHash", "9223372036854775808",
     f'identifierHash "9223372036854775808" is not {ID_TEXT}'),
    ("identifierHash", "12 ", f'identifierHash "12 " is not {ID_TEXT}'),
    ("identifierHash", "", "identifierHash is empty"),
    ("productsSold", "-3", 'productsSold "-3" is negative'),
    ("productsSold", "1.5", f'productsSold "1.5" is not {INT_TEXT}'),
    ("productsSold", "abc", f'productsSold "abc" is not {INT_TEXT}'),
    ("productsSold", "", "productsSold is empty"),
    ("socialNbFollowers", LONG, f'socialNbFollowers "{"x" * 37}..." is not {INT_TEXT}'),
    ("daysSinceLastLogin", "-1", 'daysSinceLastLogin "-1" is negative'),
    ("daysSinceLastLogin", "4000", "daysSinceLastLogin 4000 is greater than seniority 3205"),
])
def test_each_reject_reason(model, new_users, column, value, reason):
    new_users.loc[4, "seniority"] = "3205"
    new_users.loc[4, column] = value
    result = score_text(to_csv_text(new_users), model)
    assert reasons_by_line(result) == {6: reason}
    assert len(result.scored) == 39 and result.rows_in == 40


def test_extreme_ids_are_valid(model, new_users):
    new_users.loc[0, "identifierHash"] = "-9223372036854775808"
    new_users.loc[1, "identifierHash"] = "9223372036854775807"
    new_users.loc[2, "identifierHash"] = "-1097895247965112460"
    result = score_text(to_csv_text(new_users), model)
    assert len(result.rejected) == 0
    assert result.scored["identifierHash"].iloc[:3].tolist() == [
        -9223372036854775808, 9223372036854775807, -1097895247965112460]


def test_ids_near_the_int64_limits_are_not_merged(model, new_users):
    new_users.loc[0, "identifierHash"] = "9223372036854775807"
    new_users.loc[1, "identifierHash"] = "9223372036854775806"
    new_users.loc[2, "identifierHash"] = "-9223372036854775808"
    new_users.loc[3, "identifierHash"] = "-9223372036854775807"
    new_users.loc[4, "identifierHash"] = "not an id"  # a missing id must not change the others
    result = score_text(to_csv_text(new_users), model)
    assert reasons_by_line(result) == {6: f'identifierHash "not an id" is not {ID_TEXT}'}
    assert result.scored["identifierHash"].iloc[:4].tolist() == [
        9223372036854775807, 9223372036854775806, -9223372036854775808, -9223372036854775807]


def test_duplicate_id_keeps_the_first_and_names_its_line(model, new_users):
    new_users.loc[7, "identifierHash"] = new_users.loc[2, "identifierHash"]
    new_users.loc[9, "identifierHash"] = "+" + new_users.loc[2, "identifierHash"].lstrip("-")
    new_users.loc[11, "identifierHash"] = new_users.loc[2, "identifierHash"]
    result = score_text(to_csv_text(new_users), model)
    reasons = reasons_by_line(result)
    assert reasons[9] == "duplicate identifierHash (first seen on line 4)"
    assert reasons[13] == "duplicate identifierHash (first seen on line 4)"
    assert reasons[11].startswith('identifierHash "+')  # "+123" is not an id: no sign allowed
    assert len(reasons) == 3
    assert result.scored["identifierHash"].is_unique


def test_several_reasons_are_joined_in_rule_order(model, new_users):
    row = 3
    new_users.loc[row, ["identifierHash", "productsSold", "productsBought"]] = ["1e5", "", "-2"]
    new_users.loc[row, ["daysSinceLastLogin", "seniority"]] = ["4000", "3000"]
    result = score_text(to_csv_text(new_users), model)
    assert reasons_by_line(result) == {5: "; ".join([
        f'identifierHash "1e5" is not {ID_TEXT}', "productsSold is empty",
        'productsBought "-2" is negative', "daysSinceLastLogin 4000 is greater than seniority 3000",
    ])}


def test_bad_seniority_is_not_a_reason_and_no_seniority_column_skips_the_check(model, new_users):
    new_users.loc[0, ["daysSinceLastLogin", "seniority"]] = ["500", "soon"]
    assert len(score_text(to_csv_text(new_users), model).rejected) == 0
    new_users.loc[0, ["daysSinceLastLogin", "seniority"]] = ["5000", "3000"]
    without = new_users.drop(columns=["seniority"])
    assert len(score_text(to_csv_text(without), model).rejected) == 0


def test_lines_count_blank_lines_and_quoted_line_breaks(model, new_users):
    new_users.loc[1, "country"] = "two\nlines"
    new_users.loc[2, "productsSold"] = "x"
    lines = to_csv_text(new_users).split("\n")
    text = "\n".join(lines[:2] + [""] + lines[2:4] + ["", ""] + lines[4:])
    # header 1, row0 2, blank 3, row1 4-5 (quoted break), blank 6, blank 7, row2 on line 8
    result = score_text(text, model)
    assert reasons_by_line(result) == {8: f'productsSold "x" is not {INT_TEXT}'}


GARBAGE = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
             max_size=12),
    st.integers(-(10 ** 20), 10 ** 20).map(str),
    st.floats().map(repr),
    st.sampled_from(["", "-0", "0", "007", "1e3", "1.0", " 5", "-1.0979E+18", "=1+1", "True",
                     "<script>x</script>", '"', "a,b", "\r\n", "9223372036854775808"]),
)
TARGET_COLUMNS = ["identifierHash", "socialNbFollowers",
                  "socialNbFollows", "socialProductsLiked", "productsListed", "productsSold",
                  "productsWished", "productsBought", "daysSinceLastLogin", "seniority",
                  "country"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_rows=st.integers(1, 12), seed=st.integers(0, 10_000),
       edits=st.lists(st.tuples(st.integers(0, 11), st.sampled_from(TARGET_COLUMNS), GARBAGE),
                      max_size=20),
       copies=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=3))
def test_rows_are_conserved_under_garbage(model, n_rows, seed, edits, copies):
    users = make_users(n_rows, seed=seed).astype(str)
    touched = set()
    for row, col, value in edits:
        if row < n_rows:
            users.loc[row, col] = value
            touched.add(row)
    for src, dst in copies:
        if src < n_rows and dst < n_rows and src != dst:
            users.loc[dst, "identifierHash"] = users.loc[src, "identifierHash"]
            touched.add(dst)
    result = score_text(rfc4180_text(users), model)
    assert len(result.scored) + len(result.rejected) == result.rows_in == n_rows
    assert result.scored["identifierHash"].is_unique
    assert result.rejected["reject_reason"].str.len().gt(0).all()
    lines = result.rejected["line"].tolist()
    assert lines == sorted(set(lines)) and all(line >= 2 for line in lines)
    # A row nobody edited, whose id no other row shares, is scored.
    shared = users["identifierHash"].duplicated(keep=False)
    clean = [r for r in range(n_rows) if r not in touched and not shared.iat[r]]
    assert set(users.loc[clean, "identifierHash"].astype("int64")) <= \
        set(result.scored["identifierHash"])


# --------------------------------------------------------------------------------------------
# File-level faults, columns, solutions
# --------------------------------------------------------------------------------------------

def test_missing_model_column_is_exit_2_naming_it(model_path, new_users, tmp_path, capsys,
                                                   monkeypatch):
    path = write_csv(new_users.drop(columns=["productsSold", "productsBought"]),
                     tmp_path / "in.csv")
    code, out, err = run_cli([path, "-o", tmp_path / "out.csv", "--model", model_path], capsys,
                             monkeypatch)
    assert code == 2
    assert "lacks the column(s) the model needs: productsSold, productsBought" in err
    assert not (tmp_path / "out.csv").exists()


def test_extra_columns_are_ignored_with_a_warning(model_path, new_users, tmp_path, capsys,
                                                  monkeypatch):
    new_users["note"] = "hello"
    new_users["zz"] = "1"
    path = write_csv(new_users, tmp_path / "in.csv")
    code, out, err = run_cli([path, "-o", tmp_path / "out.csv", "--model", model_path], capsys,
                             monkeypatch)
    assert code == 0
    assert "warning: ignoring column(s) not in the schema: note, zz" in err
    assert "accepted: 40" in out


@pytest.mark.parametrize(("text", "phrase"), [
    ("", "the file is empty"),
    (",".join(make_users(1).columns) + "\n", "header but no data rows"),
    ("identifierHash;productsSold\n1;2\n", "semicolon-separated"),
])
def test_file_level_faults_are_exit_2(model_path, tmp_path, capsys, monkeypatch, text, phrase):
    path = tmp_path / "in.csv"
    path.write_text(text)
    code, _, err = run_cli([path, "-o", tmp_path / "out.csv", "--model", model_path], capsys,
                           monkeypatch)
    assert code == 2 and phrase in err


def test_row_with_wrong_field_count_fails_the_file(model_path, new_users, tmp_path, capsys,
                                                   monkeypatch):
    lines = to_csv_text(new_users).split("\n")
    lines[2] += ",extra"
    path = tmp_path / "in.csv"
    path.write_text("\n".join(lines))
    code, _, err = run_cli([path, "-o", tmp_path / "out.csv", "--model", model_path], capsys,
                           monkeypatch)
    assert code == 2 and "line 3 has 25 fields, expected 24" in err


def test_algorithm_and_k_pick_a_precomputed_solution(model_path, new_users, tmp_path, capsys,
                                                     monkeypatch):
    path = write_csv(new_users, tmp_path / "in.csv")
    out = tmp_path / "out.csv"
    code, stdout, _ = run_cli([path, "-o", out, "--model", model_path, "--algorithm", "ward",
                               "--k", "3"], capsys, monkeypatch)
    assert code == 0 and "solution: ward, k = 3" in stdout
    scored = pd.read_csv(out)
    assert set(scored["algorithm"]) == {"ward"} and set(scored["k"]) == {3}
    assert scored["cluster"].between(0, 2).all()
    # --k alone keeps the chosen algorithm; --algorithm alone keeps the chosen k
    run_cli([path, "-o", out, "--model", model_path, "--k", "3"], capsys, monkeypatch)
    assert set(pd.read_csv(out)["algorithm"]) == {"kmeans"}
    run_cli([path, "-o", out, "--model", model_path, "--algorithm", "ward"], capsys, monkeypatch)
    assert set(pd.read_csv(out)["k"]) == {4}


@pytest.mark.parametrize("args", [["--algorithm", "dbscan"], ["--k", "9"], ["--k", "0"],
                                  ["--k", "-3"], ["--algorithm", "ward", "--k", "2"]])
def test_unknown_solution_is_exit_2_listing_the_available(model_path, new_users, tmp_path,
                                                          capsys, monkeypatch, args):
    path = write_csv(new_users, tmp_path / "in.csv")
    code, _, err = run_cli([path, "-o", tmp_path / "o.csv", "--model", model_path, *args],
                           capsys, monkeypatch)
    assert code == 2
    assert "available: kmeans k = 3, 4; ward k = 3, 4." in err
    assert not (tmp_path / "o.csv").exists()


def test_output_paths_that_cannot_be_files_are_exit_2(model_path, new_users, tmp_path, capsys,
                                                      monkeypatch):
    path = write_csv(new_users, tmp_path / "in.csv")
    (tmp_path / "folder").mkdir()
    code, out, err = run_cli([path, "-o", tmp_path / "folder", "--model", model_path],
                             capsys, monkeypatch)
    assert code == 2 and "is a folder" in err and err.count("\n") == 1 and out == ""
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop.name)
    code, _, err = run_cli([loop, "-o", tmp_path / "o.csv", "--model", model_path],
                           capsys, monkeypatch)
    assert code == 2 and "symbolic link" in err and err.count("\n") == 1
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run_cli([path, "-o", locked / "o.csv", "--model", model_path],
                           capsys, monkeypatch)
    if os.geteuid() != 0:  # root may write anywhere
        assert code == 2 and "Permission denied" in err and err.count("\n") == 1


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_output_files_respect_the_umask(model_path, new_users, tmp_path, capsys, monkeypatch,
                                        umask):
    path = write_csv(new_users, tmp_path / "in.csv")
    previous = os.umask(umask)
    try:
        run_cli([path, "-o", tmp_path / "o.csv", "--rejects", tmp_path / "r.csv", "--model",
                 model_path], capsys, monkeypatch)
    finally:
        os.umask(previous)
    for name in ("o.csv", "r.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask


def test_missing_model_says_run_segment_first(new_users, tmp_path, capsys, monkeypatch):
    path = write_csv(new_users, tmp_path / "in.csv")
    code, _, err = run_cli([path, "-o", tmp_path / "o.csv", "--model", tmp_path / "nope.json"],
                           capsys, monkeypatch)
    assert code == 2 and "run `c2c segment` first" in err


def test_unusable_model_is_exit_2(new_users, tmp_path, capsys, monkeypatch):
    path = write_csv(new_users, tmp_path / "in.csv")
    bad = tmp_path / "model.json"
    bad.write_text('{"schema_version": 99}')
    code, _, err = run_cli([path, "-o", tmp_path / "o.csv", "--model", bad], capsys, monkeypatch)
    assert code == 2 and "schema_version 99" in err


def test_help_says_ward_users_join_the_nearest_centroid(capsys, monkeypatch):
    code, out, _ = run_cli(["--help"], capsys, monkeypatch)
    assert code == 0
    assert "joins the Ward cluster with the nearest centroid" in " ".join(out.split())


# --------------------------------------------------------------------------------------------
# End to end through the CLI
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("zipped", [False, True])
def test_cli_end_to_end(model, model_path, tmp_path, capsys, monkeypatch, zipped):
    users = make_users(120, seed=8).astype(str)
    users.loc[5, "productsSold"] = "-1"
    users.loc[6, "country"] = '=HYPERLINK("http://evil.example","click")'
    users.loc[6, "identifierHash"] = "-1.0979E+18"
    name = "in.csv.zip" if zipped else "in.csv"
    path = write_csv(users, tmp_path / name, zipped=zipped)
    out, rej = tmp_path / "out" / "scored.csv", tmp_path / "out" / "rejected.csv"
    code, stdout, _ = run_cli([path, "-o", out, "--rejects", rej, "--model", model_path],
                              capsys, monkeypatch)
    assert code == 1
    assert "rows in:  120" in stdout and "accepted: 118" in stdout and "rejected: 2" in stdout
    scored = pd.read_csv(out, dtype={"identifierHash": "int64"})
    rejected = pd.read_csv(rej, dtype=str, keep_default_na=False)
    assert list(scored.columns) == scoring.SCORED_COLUMNS
    assert list(rejected.columns) == [*users.columns, "line", "reject_reason"]
    assert len(scored) + len(rejected) == 120
    assert rejected["line"].tolist() == ["7", "8"]
    assert rejected.loc[1, "country"] == "'" + users.loc[6, "country"]  # neutralised
    assert rejected.loc[1, "identifierHash"] == "-1.0979E+18"  # a number: left alone
    expected = scoring.score_frame(make_users(120, seed=8).drop(index=[5, 6]), model)
    assert (scored["cluster"].to_numpy() == expected["cluster"].to_numpy()).all()
    assert (scored["distance"].to_numpy() == expected["distance"].to_numpy()).all()
    counts = scored["tier"].value_counts()
    for tier in ("inactive", "moderate", "active"):
        assert f"  {tier:<9} {counts.get(tier, 0):,}" in stdout
    assert not list((tmp_path / "out").glob(".*tmp"))  # no temporary file left behind


def test_clean_file_exits_0_and_output_is_deterministic(model_path, tmp_path, capsys,
                                                        monkeypatch):
    path = write_csv(make_users(200, seed=9), tmp_path / "in.csv")
    outputs = []
    for i in range(2):
        out = tmp_path / f"out{i}.csv"
        code, _, _ = run_cli([path, "-o", out, "--model", model_path], capsys, monkeypatch)
        assert code == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith((",".join(scoring.SCORED_COLUMNS) + "\r\n").encode())


def test_failed_run_leaves_previous_output_untouched(model_path, new_users, tmp_path, capsys,
                                                     monkeypatch):
    out = tmp_path / "out.csv"
    out.write_text("previous")
    path = write_csv(new_users.drop(columns=["productsSold"]), tmp_path / "in.csv")
    code, _, _ = run_cli([path, "-o", out, "--model", model_path], capsys, monkeypatch)
    assert code == 2 and out.read_text() == "previous"


def test_write_is_atomic_when_writing_fails(model, new_users, tmp_path, monkeypatch):
    result = score_text(to_csv_text(new_users), model)
    out = tmp_path / "out.csv"
    out.write_text("previous")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(output, "_text_columns", boom)
    with pytest.raises(OSError):
        output.write_outputs(result, out)
    assert out.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_refuses_to_overwrite_the_input(model_path, new_users, tmp_path, capsys, monkeypatch):
    path = write_csv(new_users, tmp_path / "in.csv")
    before = path.read_bytes()
    code, _, err = run_cli([path, "-o", path, "--model", model_path], capsys, monkeypatch)
    assert code == 2 and "Refusing to overwrite the input" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize(("cell", "written"), [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+cmd", "'+cmd"), ("-", "'-"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-1097895247965112460", "-1097895247965112460"), ("+5", "+5"), ("-1.0979E+18", "-1.0979E+18"),
    ("plain", "plain"), ("", ""),
])
def test_neutralise(cell, written):
    assert output.neutralise(cell) == written


def test_line_numbers_match_csv_records():
    text = 'a,b\r\n1,2\r\n\r\n"x\ny",3\n4,5\r6,7'
    assert rules.record_lines(text).tolist() == [1, 2, 4, 6, 7]
    assert rules.record_lines("\ufeffa\n" + '"' + "x" * 200_000 + '"\n') is None


def test_unreadable_input_is_input_error(model, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        scoring.score_file(tmp_path / "missing.csv", model, limits=LIMITS)


# --------------------------------------------------------------------------------------------
# The real data
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_model(real_artifacts) -> dict:
    """The model of this session's pipeline run on the real data."""
    return scoring.load_model(real_artifacts[0] / "model.json")


@pytest.mark.realdata
def test_real_file_rows_add_up(real_data, real_artifacts, tmp_path, capsys, monkeypatch):
    out, rej = tmp_path / "scored.csv", tmp_path / "rejected.csv"
    code, stdout, _ = run_cli([real_data, "-o", out, "--rejects", rej, "--model",
                               real_artifacts[0] / "model.json"], capsys, monkeypatch)
    scored = pd.read_csv(out)
    rejected = pd.read_csv(rej)
    rows = real_artifacts[1]["rows_in"]  # the pipeline read the same file
    assert len(scored) + len(rejected) == rows
    assert code == (1 if len(rejected) else 0)
    assert re.search(rf"rows in:\s+{rows:,}", stdout)
    assert scored["identifierHash"].is_unique


def test_csv_quoting_round_trips_awkward_cells(model, new_users, tmp_path):
    new_users.loc[0, "productsSold"] = "bad"
    new_users.loc[0, "country"] = 'a "quoted", \r\n multi\rline'
    result = score_text(to_csv_text(new_users), model)
    rej = tmp_path / "rej.csv"
    output.write_outputs(result, tmp_path / "out.csv", rej)
    rows = list(csv.reader(io.StringIO(rej.read_bytes().decode("utf-8"), newline="")))
    assert len(rows) == 2
    assert rows[1][new_users.columns.get_loc("country")] == 'a "quoted", \r\n multi\rline'


def test_parity_comparison_tolerates_one_ulp_but_not_a_different_cluster():
    """The browser-parity check must pass on any CPU: a distance one ulp apart is the same
    result, a different cluster, tier or id is not."""
    import math

    from tests.scoring_helpers import assert_same_csv

    distance = 0.5415504050790976
    header = "identifierHash,cluster,tier,distance,margin\n"
    python = header + f"-42,2,active,{distance!r},0.768054980591324\n"
    nudged = header + f"-42,2,active,{math.nextafter(distance, 1.0)!r},0.7680549805913242\n"
    assert_same_csv(nudged, python)
    for wrong in (nudged.replace(",2,active", ",1,active"), nudged.replace("-42", "-43"),
                  nudged.replace("active", "moderate"), nudged.replace("0.54155", "0.54156")):
        with pytest.raises(AssertionError):
            assert_same_csv(wrong, python)


def test_the_label_table_is_capped_but_always_covers_the_chosen_and_kmeans_solutions():
    from analysis.scoring.keys import label_table, stored_labels

    rows = np.array([[0.0], [0.1], [0.2], [0.8], [0.9], [1.0]])
    keys = np.arange(6, dtype=np.int64)[:, None]
    centroids = {"kmeans_k2": np.array([[0.1], [0.9]]), "ward_k2": np.array([[0.1], [0.9]]),
                 "ward_k3": np.array([[0.0], [0.5], [1.0]])}
    labels = {"kmeans_k2": np.array([0, 0, 0, 1, 1, 1]),   # nearest centroid: nothing needed
              "ward_k2": np.array([0, 0, 1, 1, 1, 0]),     # rows 2 and 5 differ
              "ward_k3": np.array([1, 1, 0, 0, 1, 1])}     # rows 0, 1, 2, 3, 5 differ
    whole = label_table(keys, rows, labels, centroids, 1e-9)
    assert whole["solutions"] == sorted(labels) and whole["left_out"] == []
    capped = label_table(keys, rows, labels, centroids, 1e-9, always={"kmeans_k2"}, max_rows=3)
    assert capped["solutions"] == ["kmeans_k2", "ward_k2"] and capped["left_out"] == ["ward_k3"]
    assert len(capped["rows"]) == 2 < len(whole["rows"])
    np.testing.assert_array_equal(stored_labels(keys, capped, "ward_k2"), [-1, -1, 1, -1, -1, 0])
    np.testing.assert_array_equal(stored_labels(keys, capped, "ward_k3"), [-1] * 6)
    # a solution in `always` is covered whatever the cap
    forced = label_table(keys, rows, labels, centroids, 1e-9, always={"ward_k3"}, max_rows=1)
    assert forced["solutions"] == ["kmeans_k2", "ward_k3"]
    assert len(forced["rows"]) == 5


def test_the_score_page_names_the_solutions_left_out_of_the_label_table():
    from analysis.report.charts.score import explanation

    model = build_test_model(make_users(300, seed=4))
    assert "except under" not in explanation(model, 200)
    model["label_table"]["left_out"] = ["ward_k3", "ward_k4"]
    text = explanation(model, 200)
    assert "except under Ward k = 3, Ward k = 4" in text and "label_table_max_rows" in text
