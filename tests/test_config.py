"""The typed config: a bad value stops every command with exit 2, naming the key and the limit."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w

from analysis.config import PROJECT_ROOT, ConfigError, load_config, parse_config
from analysis.vocabulary import CLUSTER_DIGITS
from tests.clirun import run_cli


@pytest.fixture
def record() -> dict:
    """config.toml as plain data (a fresh copy per test)."""
    return tomllib.loads((PROJECT_ROOT / "config.toml").read_text(encoding="utf-8"))


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "test config")
    assert err.value.exit_code == 2
    return str(err.value)


def test_the_project_config_is_valid_and_round_trips():
    config = load_config()
    assert parse_config(config.record()) == config


def test_a_value_out_of_range_names_the_key_and_the_bound(record):
    record["kmeans"]["k_max"] = len(CLUSTER_DIGITS) + 1
    message = _error(record)
    assert "[kmeans].k_max = 37" in message and f"less than or equal to {len(CLUSTER_DIGITS)}" \
        in message


def test_a_value_of_the_wrong_type_names_the_key(record):
    record["stability"]["resamples"] = "fifty"
    assert "[stability].resamples = 'fifty'" in _error(record)


def test_settings_that_must_be_ordered_name_both(record):
    record["kmeans"]["k_min"], record["kmeans"]["k_max"] = 8, 4
    assert "k_min (8) must not exceed k_max (4)" in _error(record)
    record["kmeans"]["k_min"], record["kmeans"]["k_max"] = 2, 10
    record["baseline"]["active_days"] = record["baseline"]["inactive_days"] + 1
    assert "must not exceed inactive_days" in _error(record)


def test_a_misspelt_or_missing_key_is_an_error(record):
    record["kmeans"]["kmax"] = 12
    assert "[kmeans].kmax" in _error(record)
    del record["kmeans"]["kmax"]
    del record["site"]
    assert "[site]" in _error(record)


def test_every_problem_is_named_at_once(record):
    record["kmeans"]["k_max"] = 99
    record["stability"]["resamples"] = -1
    message = _error(record)
    assert "[kmeans].k_max" in message and "[stability].resamples" in message


def test_updated_merges_nested_tables_and_validates():
    config = load_config()
    changed = config.updated({"tiers": {"colors": {"active": "#123456"}}})
    assert changed.tiers.colors["active"] == "#123456"
    assert changed.tiers.colors["inactive"] == config.tiers.colors["inactive"]
    with pytest.raises(ConfigError):
        config.updated({"kmeans": {"k_max": 1}})


def test_a_command_with_a_bad_config_exits_2_naming_the_file_and_key(record, tmp_path):
    record["kmeans"]["k_max"] = 99
    bad = tmp_path / "bad.toml"
    bad.write_bytes(tomli_w.dumps(record).encode("utf-8"))
    status, text = run_cli("validate", "--data", tmp_path / "none.csv",
                           env={"C2C_CONFIG": str(bad)})
    assert status == 2
    assert str(bad) in text and "[kmeans].k_max = 99" in text
    unreadable = tmp_path / "broken.toml"
    unreadable.write_text("[kmeans\nk_max = 3\n")
    status, text = run_cli("validate", env={"C2C_CONFIG": str(unreadable)})
    assert status == 2 and "Cannot parse the config" in text
