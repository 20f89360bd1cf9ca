"""Monitoring: the reference profile saved with each model (drift, performance and review build on it)."""

from mlcycle.monitor.profile import Profile, profile

__all__ = ["Profile", "profile"]
