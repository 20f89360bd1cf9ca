"""Monitoring: the reference profile saved with each model, drift against it, the monitoring store,
windows, the review and the loop back (see ``window``, ``review``, ``retrain``)."""

from mlcycle.data.reference import Profile, ProfileBuilder, profile
from mlcycle.monitor.drift import DriftReport, drift

__all__ = ["DriftReport", "Profile", "ProfileBuilder", "drift", "profile"]
