"""c2c-segments: segment the users of a C2C fashion marketplace into activity tiers."""

__version__ = "0.1.0"
