"""Load the one configuration file (``config.toml`` at the project root, or ``$C2C_CONFIG``)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = PROJECT_ROOT / "config.toml"


def config_path() -> Path:
    """The config file in force: ``$C2C_CONFIG`` if set, else the project's ``config.toml``."""
    return Path(os.environ.get("C2C_CONFIG", DEFAULT_CONFIG))


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Parse the TOML config into nested dicts (plain Python types, JSON-serialisable)."""
    with open(path or config_path(), "rb") as fh:
        return tomllib.load(fh)


def default_data_path(config: dict[str, Any]) -> Path:
    """``$C2C_DATA`` if set, else ``data/raw/<filename>`` (zip or its unzipped CSV)."""
    if os.environ.get("C2C_DATA"):
        return Path(os.environ["C2C_DATA"])
    raw = PROJECT_ROOT / config["data"]["raw_dir"]
    zipped = raw / config["data"]["filename"]
    unzipped = raw / config["data"]["filename"].removesuffix(".zip")
    return unzipped if unzipped.exists() and not zipped.exists() else zipped
