"""The one configuration file (``config.toml`` at the project root, or ``$C2C_CONFIG``), typed.

:func:`load_config` parses the TOML once into :class:`Settings`, a tree of pydantic models with
one section per stage. A bad value raises :class:`ConfigError` (exit 2) naming the file, the key,
the value and the allowed range. Stages receive only their own section (``settings.kmeans``,
``settings.selection``, ...) or explicit arguments; the manifest records
``settings.model_dump()``, the whole configuration as plain JSON types.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from analysis.errors import C2CError
from analysis.vocabulary import CLUSTER_DIGITS, TIERS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = PROJECT_ROOT / "config.toml"

Share = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class ConfigError(C2CError):
    """The configuration file is missing, not TOML, or holds a value out of range (exit 2)."""

    exit_code = 2


class Section(BaseModel):
    """A config table: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(Section):
    """Where the raw export lives and how to obtain it (``c2c fetch-data``)."""

    raw_dir: str
    filename: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]
    url: str
    mirrors: list[str]


def _ordered(section: Section, low: str, high: str) -> Section:
    """``section`` if its setting ``low`` does not exceed ``high``; ValueError naming both."""
    if getattr(section, low) > getattr(section, high):
        raise ValueError(f"{low} ({getattr(section, low)}) must not exceed {high} "
                         f"({getattr(section, high)})")
    return section


class ValidationConfig(Section):
    """The raw-data suite's tunables (see validation/raw_suite.py)."""

    min_rows: PositiveInt
    max_rows: PositiveInt
    examples: Annotated[int, Field(ge=1, le=100)]
    max_input_bytes: Annotated[int, Field(ge=1024)]
    max_unzip_ratio: Annotated[float, Field(ge=1.0)]
    max_count: PositiveInt
    max_days: PositiveInt
    days_per_month: PositiveInt
    days_per_year: PositiveInt
    seniority_tolerance: Annotated[float, Field(ge=0.0, le=1.0)]
    rename_cutoff: Share

    @model_validator(mode="after")
    def _rows_ordered(self) -> ValidationConfig:
        return _ordered(self, "min_rows", "max_rows")


class FeaturesConfig(Section):
    """Platform defaults removed before the transform, and the upper cap quantile."""

    default_followers: NonNegativeInt
    default_follows: NonNegativeInt
    cap_quantile: Annotated[float, Field(gt=0.5, le=1.0)]


class PlaceholderConfig(Section):
    """Detection of the login placeholder (see analysis/features/placeholder.py)."""

    cohort_gap_days: PositiveInt
    min_share: Annotated[float, Field(gt=0.0, le=1.0)]
    spike_ratio: Annotated[float, Field(gt=1.0)]
    window_days: Annotated[int, Field(ge=1, le=60)]
    min_seniorities: Annotated[int, Field(ge=2, le=1000)]


class KMeansConfig(Section):
    """The k range every algorithm is evaluated on, and K-Means' own parameters."""

    k_min: Annotated[int, Field(ge=2, le=len(CLUSTER_DIGITS))]
    k_max: Annotated[int, Field(ge=2, le=len(CLUSTER_DIGITS))]  # one base-36 digit per label
    n_init: Annotated[int, Field(ge=1, le=100)]
    max_iter: Annotated[int, Field(ge=10, le=10_000)]
    random_state: NonNegativeInt

    @model_validator(mode="after")
    def _range_ordered(self) -> KMeansConfig:
        return _ordered(self, "k_min", "k_max")

    @property
    def ks(self) -> list[int]:
        """Every k evaluated: k_min..k_max."""
        return list(range(self.k_min, self.k_max + 1))


class WardConfig(Section):
    dendrogram_merges: Annotated[int, Field(ge=2, le=500)]


class SelectionConfig(Section):
    """The rule that chooses one solution (see analysis/evaluation/choice.py)."""

    min_cluster_share: Annotated[float, Field(ge=0.0, lt=0.5)]
    k_min_choice: Annotated[int, Field(ge=2, le=len(CLUSTER_DIGITS))]
    min_stability: Share
    min_tier_share: Annotated[float, Field(ge=0.0, lt=0.34)]


class GapConfig(Section):
    n_refs: Annotated[int, Field(ge=2, le=100)]
    n_points: Annotated[int, Field(ge=100, le=100_000)]
    random_state: NonNegativeInt


class StabilityConfig(Section):
    resamples: Annotated[int, Field(ge=1, le=10_000)]
    max_resample_users: Annotated[int, Field(ge=1_000)]
    random_state: NonNegativeInt
    n_jobs: Annotated[int, Field(ge=1, le=64)]


class TiersConfig(Section):
    """Weights of the activity score, one per clustering feature (all >= 0, not all 0)."""

    weights: dict[str, Annotated[float, Field(ge=0.0)]]
    colors: dict[str, Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]]

    @model_validator(mode="after")
    def _some_weight(self) -> TiersConfig:
        if not any(self.weights.values()):
            raise ValueError("at least one weight must be above 0")
        if sorted(self.colors) != sorted(TIERS):
            raise ValueError(f"colors must name exactly the tiers {', '.join(TIERS)}")
        return self


class SegmentsConfig(Section):
    min_segment_share: Annotated[float, Field(ge=0.0, lt=0.1)]


class BaselineConfig(Section):
    active_days: PositiveInt
    inactive_days: PositiveInt

    @model_validator(mode="after")
    def _days_ordered(self) -> BaselineConfig:
        return _ordered(self, "active_days", "inactive_days")


class DesignsConfig(Section):
    """The design comparison (analysis/segments/designs.py): bootstrap resamples of the
    clusterings that are not published (the published one reuses [stability])."""

    resamples: Annotated[int, Field(ge=2, le=1000)]


class CampaignsConfig(Section):
    """Campaign files, control groups and sizing (analysis/campaigns)."""

    control_share: Annotated[float, Field(gt=0.0, lt=0.5)]
    salt: Annotated[str, Field(min_length=1, max_length=64)]
    base_rate: Annotated[float, Field(gt=0.0, lt=1.0)]
    alpha: Annotated[float, Field(gt=0.0, lt=0.5)]
    power: Annotated[float, Field(gt=0.5, lt=1.0)]
    max_uplift_pp: Annotated[float, Field(gt=0.0, le=100.0)]
    sizing_countries: Annotated[int, Field(ge=1, le=50)]
    sizing_languages: Annotated[int, Field(ge=1, le=50)]
    rows_in_site: bool


class PcaConfig(Section):
    sample_size: Annotated[int, Field(ge=100, le=5000)]
    random_state: NonNegativeInt


class ProfilesConfig(Section):
    top_n: Annotated[int, Field(ge=1, le=50)]


class SiteConfig(Section):
    output_dir: str
    cache_dir: str
    cache_keep: PositiveInt
    cell_timeout: Annotated[int, Field(ge=5, le=3600)]
    jobs: Annotated[int, Field(ge=1, le=64)]
    explore_countries: Annotated[int, Field(ge=1, le=200)]


class HistoryConfig(Section):
    dir: str
    keep: PositiveInt


class DriftConfig(Section):
    psi_bins: Annotated[int, Field(ge=2, le=100)]
    psi_epsilon: Annotated[float, Field(gt=0.0, lt=0.1)]
    psi_moderate: Annotated[float, Field(gt=0.0)]
    psi_major: Annotated[float, Field(gt=0.0)]
    ks_threshold: Share
    bootstrap_resamples: Annotated[int, Field(ge=100, le=100_000)]
    bootstrap_seed: NonNegativeInt
    ci_level: Annotated[float, Field(gt=0.5, lt=1.0)]


class ScoringConfig(Section):
    model: str
    browser_max_bytes: PositiveInt
    tie_tolerance: Annotated[float, Field(gt=0.0, lt=1e-3)]
    round_digits: Annotated[int, Field(ge=3, le=15)]
    page_size: Annotated[int, Field(ge=5, le=1000)]
    show_rejects: NonNegativeInt
    label_table_max_rows: PositiveInt
    throughput_rows: PositiveInt
    throughput_seed: NonNegativeInt


class ScaleConfig(Section):
    """``c2c bench --scale``: export sizes, the generator's seed, the memory sampling period,
    the largest export whose Ward is checked against the float64 reference, and the committed
    result the Method page's cost curve is drawn from (a path below the project root)."""

    sizes: list[PositiveInt]
    seed: NonNegativeInt
    sample_seconds: Annotated[float, Field(gt=0.0, le=10.0)]
    reference_max_users: NonNegativeInt
    measured: str


class Settings(Section):
    """The whole configuration: one section per stage, in the file's order."""

    data: DataConfig
    validation: ValidationConfig
    features: FeaturesConfig
    placeholder: PlaceholderConfig
    kmeans: KMeansConfig
    ward: WardConfig
    selection: SelectionConfig
    gap: GapConfig
    stability: StabilityConfig
    tiers: TiersConfig
    segments: SegmentsConfig
    baseline: BaselineConfig
    designs: DesignsConfig
    campaigns: CampaignsConfig
    pca: PcaConfig
    profiles: ProfilesConfig
    site: SiteConfig
    history: HistoryConfig
    drift: DriftConfig
    scoring: ScoringConfig
    scale: ScaleConfig

    @model_validator(mode="after")
    def _choice_in_range(self) -> Settings:
        if not self.kmeans.k_min <= self.selection.k_min_choice <= self.kmeans.k_max:
            raise ValueError(f"[selection].k_min_choice ({self.selection.k_min_choice}) must lie "
                             f"in the k range {self.kmeans.k_min}..{self.kmeans.k_max}")
        return self

    def record(self) -> dict[str, Any]:
        """The configuration as plain JSON types (what the manifest records)."""
        return self.model_dump(mode="json")

    def updated(self, changes: dict[str, dict[str, Any]]) -> Settings:
        """A validated copy with ``changes`` ({section: {key: value}}, nested tables merged key
        by key, e.g. ``{"tiers": {"colors": {"active": "#123456"}}}``) applied."""
        return parse_config(_merged(self.record(), changes), "updated config")


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied; tables (dicts) are merged recursively."""
    out = dict(base)
    for key, value in changes.items():
        out[key] = (_merged(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def config_path() -> Path:
    """The config file in force: ``$C2C_CONFIG`` if set, else the project's ``config.toml``."""
    return Path(os.environ.get("C2C_CONFIG", DEFAULT_CONFIG))


def _describe(error: dict[str, Any]) -> str:
    """One pydantic error as ``[section].key = value: why``."""
    loc = [str(part) for part in error["loc"]]
    where = f"[{loc[0]}]" + (f".{'.'.join(loc[1:])}" if len(loc) > 1 else "")
    shown = error.get("input")
    value = "" if isinstance(shown, dict) or error["type"] == "missing" else f" = {shown!r}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}{value}: {message}"


def parse_config(data: dict[str, Any], source: str = "config") -> Settings:
    """Validate a parsed TOML document; ConfigError naming every bad key otherwise."""
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(_describe(e) for e in err.errors())
        raise ConfigError(f"{source}: {problems}") from None


def load_config(path: Path | None = None) -> Settings:
    """Read and validate the config file (``config_path()`` by default)."""
    path = Path(path or config_path())
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as err:
        raise ConfigError(f"Cannot read the config {path}: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"Cannot parse the config {path}: {err}") from None
    return parse_config(data, str(path))


def default_data_path(data: DataConfig) -> Path:
    """``$C2C_DATA`` if set, else ``<raw_dir>/<filename>`` (the zip, or its unzipped CSV)."""
    if os.environ.get("C2C_DATA"):
        return Path(os.environ["C2C_DATA"])
    raw = PROJECT_ROOT / data.raw_dir
    zipped = raw / data.filename
    unzipped = raw / data.filename.removesuffix(".zip")
    return unzipped if unzipped.exists() and not zipped.exists() else zipped
