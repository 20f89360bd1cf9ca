"""Monitoring: the reference profile saved with each model, drift against it, and the monitoring store."""

from mlcycle.monitor.drift import DriftReport, drift
from mlcycle.monitor.profile import Profile, profile

__all__ = ["DriftReport", "Profile", "drift", "profile"]
