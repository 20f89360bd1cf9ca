"""The package version, at the bottom so that any layer may print it."""

__version__ = "0.1.0"
