"""The input limits of the project's config, for tests that read files directly."""

from analysis.config import load_config
from analysis.intake.reader import InputLimits

LIMITS = InputLimits.of(load_config().validation)
