"""Data drift: each column of a current window against the reference profile saved with the model.

    from mlcycle.monitor import profile, drift
    ref = profile(reference_df)                  # small, JSON-able; saved with every model
    report = drift(ref, current_df)              # per column: statistic, value, threshold, drifted
    report.to_frame()

Defaults, as in the design: normalised Wasserstein for numeric columns, Jensen–Shannon distance
for categorical ones, warn at 0.05 and alert at 0.1 (Evidently's choice above 1,000 rows).
Vectorised over each column; the reference is never re-read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcycle.monitor.profile import Profile
from mlcycle.monitor.statistics import get
from mlcycle.monitor.statistics._base import unseen_share


@dataclass(frozen=True)
class DriftRow:
    column: str
    statistic: str
    value: float
    threshold: float
    drifted: bool
    warn: float
    level: str  # "ok" | "warn" | "alert" | "no data"
    p_value: float | None = None
    unseen_share: float | None = None
    rows: int = 0


@dataclass
class DriftReport:
    rows: list[DriftRow] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per column: column, statistic, value, threshold, drifted."""
        frame = pd.DataFrame([{"column": r.column, "statistic": r.statistic, "value": r.value,
                               "threshold": r.threshold, "drifted": r.drifted} for r in self.rows],
                             columns=["column", "statistic", "value", "threshold", "drifted"])
        return frame.astype({"drifted": bool})

    def details(self) -> pd.DataFrame:
        return pd.DataFrame([r.__dict__ for r in self.rows])

    @property
    def drifted(self) -> list[str]:
        return [r.column for r in self.rows if r.drifted]


def drift(reference: Profile | dict[str, Any], current: pd.DataFrame, *, numeric: str = "wasserstein",
          categorical: str = "jensen_shannon", statistic: str | None = None, warn: float = 0.05, alert: float = 0.1,
          per_feature: dict[str, dict[str, Any]] | None = None, columns: list[str] | None = None) -> DriftReport:
    """Compare every profiled column present in ``current`` with its reference."""
    if isinstance(reference, dict):
        reference = Profile.from_dict(reference)
    overrides = per_feature or {}
    report = DriftReport()
    for name, ref in reference.columns.items():
        if name not in current.columns or (columns is not None and name not in columns):
            continue
        own = overrides.get(name, {})
        own = own.model_dump() if hasattr(own, "model_dump") else dict(own)
        chosen = own.get("statistic") or statistic or (numeric if ref.kind == "numeric" else categorical)
        column_alert = own.get("alert") if own.get("alert") is not None else alert
        column_warn = own.get("warn") if own.get("warn") is not None else min(warn, column_alert)
        series = current[name]
        values = series.to_numpy(dtype=float, na_value=np.nan) if ref.kind == "numeric" else series.to_numpy(dtype=object)
        present = int(np.isfinite(values).sum()) if ref.kind == "numeric" else int(series.notna().sum())
        if present == 0:
            report.rows.append(DriftRow(name, chosen, math.nan, column_alert, False, column_warn, "no data"))
            continue
        measured = get(chosen, ref.kind).compute(ref, values)
        value = measured.value
        level = "alert" if value > column_alert else ("warn" if value > column_warn else "ok")
        report.rows.append(DriftRow(
            name, chosen, value, column_alert, bool(value > column_alert), column_warn, level, measured.p_value,
            unseen_share(ref, values) if ref.kind == "categorical" else None, present))
    return report
