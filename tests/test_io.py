"""analysis.intake.reader: reading the raw export as text, refusing unreadable files, typing
cells."""

from __future__ import annotations

import codecs
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.intake.kinds import PATTERNS
from analysis.intake.reader import coerce_types, load_users, read_raw_table, to_numpy_dtypes
from analysis.intake.schema import COLUMNS
from tests.limits import LIMITS
from tests.synthetic import to_csv_text, write_csv

INT64 = np.iinfo(np.int64)


@pytest.fixture
def text(users) -> str:
    """The synthetic users as the export writes them."""
    return to_csv_text(users.head(50))


def _write(tmp_path, content: str | bytes, name: str = "users.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _zip(tmp_path, members: dict[str, str], name: str = "users.csv.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return path


def _error(path) -> str:
    with pytest.raises(InputError) as info:
        read_raw_table(path, LIMITS)
    message = str(info.value)
    assert message.startswith("Cannot read ") and message.endswith(".")
    assert "\n" not in message
    return message


# --- reading -----------------------------------------------------------------------------------

def test_csv_and_zip_read_identically_as_text(tmp_path, users):
    plain = read_raw_table(write_csv(users, tmp_path / "u.csv"), LIMITS)
    zipped = read_raw_table(write_csv(users, tmp_path / "u.csv.zip", zipped=True), LIMITS)
    pd.testing.assert_frame_equal(plain, zipped)
    assert list(plain.columns) == list(COLUMNS)
    assert plain.shape == (len(users), len(COLUMNS))
    assert all(pd.api.types.is_string_dtype(t) for t in plain.dtypes)
    assert plain["identifierHash"].tolist() == users["identifierHash"].astype(str).tolist()
    assert set(plain["hasAnyApp"]) <= {"True", "False"}


def test_nothing_is_coerced_or_treated_as_missing(tmp_path):
    path = _write(tmp_path, "a,b,c,d\n007,NA,,True\n-1.0979E+18,null,nan, x \n")
    raw = read_raw_table(path, LIMITS)
    assert raw.to_dict("list") == {"a": ["007", "-1.0979E+18"], "b": ["NA", "null"],
                                   "c": ["", "nan"], "d": ["True", " x "]}


def test_bom_crlf_and_blank_lines_are_tolerated(tmp_path, text):
    crlf = codecs.BOM_UTF8 + text.replace("\n", "\r\n\r\n").encode()
    raw = read_raw_table(_write(tmp_path, crlf), LIMITS)
    assert raw.columns[0] == "identifierHash"
    assert len(raw) == 50


def test_missing_file(tmp_path):
    assert "does not exist" in _error(tmp_path / "nope.csv")


def test_directory(tmp_path):
    assert "is a directory" in _error(tmp_path)


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file(tmp_path, content):
    assert "is empty" in _error(_write(tmp_path, content))


def test_header_only(tmp_path, text):
    assert "header but no data rows" in _error(_write(tmp_path, text.splitlines()[0] + "\n"))


def test_truncated_last_row_names_its_line(tmp_path, text):
    cut = text[: text.rindex(",", 0, len(text) - 40)]  # stop mid-way through the last row
    message = _error(_write(tmp_path, cut))
    assert "line 51" in message and "expected 24" in message and "truncated" in message


def test_rows_with_wrong_field_counts_are_named(tmp_path, text):
    lines = text.splitlines()
    lines[5] += ",extra"
    lines[9] = ",".join(lines[9].split(",")[:20])
    message = _error(_write(tmp_path, "\n".join(lines) + "\n"))
    assert "line 6 has 25 fields, expected 24" in message
    assert "line(s) 10" in message


@pytest.mark.parametrize("sep, word", [(";", "semicolon"), ("\t", "tab")])
def test_other_delimiter(tmp_path, users, sep, word):
    content = users.head(5).to_csv(index=False, sep=sep)
    message = _error(_write(tmp_path, content))
    assert word in message and "comma-separated" in message


def test_latin1_bytes_name_offset_and_line(tmp_path, text):
    lines = text.splitlines()
    lines[3] = lines[3].replace("Royaume-Uni", "Royaume-Uni\u00e9").replace("France", "Fran\u00e7e")
    data = "\n".join(lines).encode("latin-1")
    message = _error(_write(tmp_path, data))
    offset = data.index(next(b for b in data if b >= 0x80).to_bytes(1, "big"))
    assert "not UTF-8" in message and f"offset {offset}" in message and "line 4" in message


def test_binary_garbage(tmp_path):
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    assert "binary data" in _error(_write(tmp_path, data, "users.csv"))


def test_zip_without_csv(tmp_path):
    message = _error(_zip(tmp_path, {"readme.txt": "hello"}))
    assert "no CSV file" in message and "readme.txt" in message


def test_zip_with_two_csvs(tmp_path, text):
    message = _error(_zip(tmp_path, {"a.csv": text, "b.csv": text}))
    assert "2 CSV files" in message and "a.csv" in message and "b.csv" in message


def test_corrupt_zip(tmp_path, users):
    good = write_csv(users, tmp_path / "u.csv.zip", zipped=True).read_bytes()
    assert "not a valid zip" in _error(_write(tmp_path, good[: len(good) // 2], "cut.zip"))


def test_blank_first_line(tmp_path, text):
    assert "first line is blank" in _error(_write(tmp_path, "\n" + text))


def test_repeated_header_names(tmp_path):
    assert "repeats column(s) 'a'" in _error(_write(tmp_path, "a,b,a\n1,2,3\n"))


# --- typing ------------------------------------------------------------------------------------

def _raw(frame: pd.DataFrame) -> pd.DataFrame:
    """A typed frame back to the text a clean read gives."""
    return frame.astype(str)


def test_clean_frame_types_back_exactly(users):
    typed, errors = coerce_types(_raw(users))
    assert errors.empty and list(errors.columns) == ["row", "column", "value", "expected"]
    assert str(typed["identifierHash"].dtype) == "Int64"
    assert str(typed["hasAnyApp"].dtype) == "boolean"
    assert str(typed["seniorityAsMonths"].dtype) == "Float64"
    pd.testing.assert_frame_equal(to_numpy_dtypes(typed), users, check_dtype=False)
    assert to_numpy_dtypes(typed)["identifierHash"].dtype == np.int64


@pytest.mark.parametrize("column, value", [
    ("identifierHash", "-1.0979E+18"),
    ("identifierHash", "1.5"),
    ("identifierHash", str(INT64.max + 1)),
    ("identifierHash", str(INT64.min - 1)),
    ("socialNbFollowers", "3.0"),
    ("socialNbFollowers", " 3"),
    ("productsPassRate", "abc"),
    ("productsPassRate", "nan"),
    ("hasAnyApp", "true"),
    ("hasAnyApp", "1"),
])
def test_bad_cells_become_na_and_are_listed(users, column, value):
    raw = _raw(users)
    raw.loc[7, column] = value
    typed, errors = coerce_types(raw)
    assert pd.isna(typed.loc[7, column])
    assert errors.to_dict("records") == [
        {"row": 7, "column": column, "value": value, "expected": COLUMNS[column]}]


def test_int64_bounds_and_leading_zeros_are_exact(users):
    raw = _raw(users.head(4))
    raw["identifierHash"] = [str(INT64.max), str(INT64.min), "-0", "000123"]
    typed, errors = coerce_types(raw)
    assert errors.empty
    assert typed["identifierHash"].tolist() == [INT64.max, INT64.min, 0, 123]


def test_empty_cells_are_missing_not_type_errors(users):
    raw = _raw(users)
    raw.loc[2, ["socialNbFollowers", "country", "hasIosApp"]] = ""
    typed, errors = coerce_types(raw)
    assert errors.empty
    assert typed.loc[2, ["socialNbFollowers", "country", "hasIosApp"]].isna().all()


def test_extra_columns_stay_text(users):
    raw = _raw(users).assign(note="x")
    typed, _ = coerce_types(raw)
    assert typed["note"].tolist() == ["x"] * len(raw)


INT64_VALUES = st.integers(min_value=int(INT64.min), max_value=int(INT64.max))
BEYOND_INT64 = st.one_of(st.integers(max_value=int(INT64.min) - 1),
                         st.integers(min_value=int(INT64.max) + 1))


@settings(deadline=None, max_examples=30)
@given(st.lists(INT64_VALUES, min_size=1, max_size=40), st.lists(BEYOND_INT64, max_size=5))
def test_int64_text_parses_exactly_and_only_in_range(good, beyond):
    cells = [str(v) for v in good + beyond]
    typed, errors = coerce_types(pd.DataFrame({"identifierHash": cells}, dtype=str))
    assert typed["identifierHash"].iloc[: len(good)].tolist() == good
    assert errors["value"].tolist() == [str(v) for v in beyond]


@settings(deadline=None)
@given(st.text(alphabet="0123456789-+.eE ", max_size=25))
def test_int_pattern_agrees_with_python_int(text):
    import re

    accepted = re.fullmatch(PATTERNS["int64"], text) is not None
    try:
        value = int(text) if re.fullmatch(r"-?[0-9]+", text) else None
    except ValueError:
        value = None
    assert accepted == (value is not None and INT64.min <= value <= INT64.max)


def test_load_users_gives_numpy_dtypes_when_clean(tmp_path, users):
    loaded = load_users(write_csv(users, tmp_path / "u.csv.zip", zipped=True), LIMITS)
    assert loaded["identifierHash"].dtype == np.int64
    assert loaded["hasAnyApp"].dtype == bool
    assert loaded["productsPassRate"].dtype == np.float64
    pd.testing.assert_frame_equal(loaded, users, check_dtype=False)


def test_load_users_keeps_nullable_dtype_only_where_cells_are_bad(tmp_path, users):
    bad = users.astype(str)
    bad.loc[3, "productsSold"] = "many"
    loaded = load_users(write_csv(bad, tmp_path / "u.csv"), LIMITS)
    assert str(loaded["productsSold"].dtype) == "Int64" and pd.isna(loaded.loc[3, "productsSold"])
    assert loaded["productsListed"].dtype == np.int64
