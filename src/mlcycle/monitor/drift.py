"""Data drift: each column of a current window against the reference profile saved with the model.

    from mlcycle.monitor import profile, drift
    ref = profile(reference_df)                  # small, JSON-able; saved with every model
    report = drift(ref, current_df)              # per column: statistic, value, threshold, drifted
    report.to_frame()

Defaults, as in the design: normalised Wasserstein for numeric columns, Jensen–Shannon distance
for categorical ones. Thresholds: ``auto`` in a design — calibrated on the reference's own
window-to-window variation at the window's size, stored in the profile at promotion — and, for a
profile without them or called without a design, warn at 0.05 and alert at 0.1 (Evidently's choice
above 1,000 rows). Vectorised over each column; the reference is never re-read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcycle.contract.spec import DEFAULT_ALERT, DEFAULT_WARN
from mlcycle.data.reference import ChanceLevels, ColumnProfile, Profile
from mlcycle.exceptions import UsageError
from mlcycle.metrics.statistics import get
from mlcycle.metrics.statistics._base import Measured, Statistic, unseen_share
from mlcycle.metrics.thresholds import MIN_WINDOWS, seasonal_key, statistic_for


@dataclass(frozen=True)
class DriftRow:
    column: str
    statistic: str
    value: float
    threshold: float
    drifted: bool
    warn: float
    level: str  # "ok" | "warn" | "alert" | "too few rows" | "no data"
    p_value: float | None = None
    unseen_share: float | None = None
    rows: int = 0
    basis: str = "design"  # where the thresholds come from: the design, auto (calibrated) or the defaults


@dataclass
class DriftReport:
    rows: list[DriftRow] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per column: column, statistic, value, threshold, drifted."""
        frame = pd.DataFrame(
            [
                {
                    "column": r.column,
                    "statistic": r.statistic,
                    "value": r.value,
                    "threshold": r.threshold,
                    "drifted": r.drifted,
                }
                for r in self.rows
            ],
            columns=["column", "statistic", "value", "threshold", "drifted"],
        )
        return frame.astype({"drifted": bool})

    def details(self) -> pd.DataFrame:
        return pd.DataFrame([r.__dict__ for r in self.rows])

    @property
    def drifted(self) -> list[str]:
        return [r.column for r in self.rows if r.drifted]


def drift(
    reference: Profile | dict[str, Any],
    current: pd.DataFrame | Profile,
    *,
    numeric: str = "wasserstein",
    categorical: str = "jensen_shannon",
    statistic: str | None = None,
    warn: float | str = "auto",
    alert: float | str = "auto",
    per_feature: Mapping[str, Any] | None = None,
    columns: list[str] | None = None,
    min_rows: int = 1,
    month: int | None = None,
) -> DriftReport:
    """Compare every profiled column present in ``current`` with its reference.

    ``current`` is a frame, or — for data streamed in chunks through a ``ProfileBuilder`` — its profile.
    A column with fewer than ``min_rows`` values is measured and shown but judged "too few rows",
    never drifted: on a handful of rows every statistic moves by chance past any fixed threshold
    (a week of one daily series holds seven values).

    ``warn`` / ``alert`` ``"auto"``: each column's thresholds come from the chance levels calibrated on
    the reference (:mod:`mlcycle.metrics.thresholds`) at the window's own number of values; where the
    reference has none, the fixed defaults, and the row says so. ``month``: the month of the year the
    window belongs to — a seasonal column (the target, the prediction) is then compared with the
    reference's same month, when the reference has one.
    """
    if isinstance(reference, dict):
        reference = Profile.from_dict(reference)
    overrides = per_feature or {}
    report = DriftReport()
    for name, ref in reference.columns.items():
        if columns is not None and name not in columns:
            continue
        seasonal = reference.season(name, month)
        against = seasonal or ref
        found = _column(against, current, name)
        if found is None:
            continue
        present, measure, unseen = found
        chosen, own_warn, own_alert = _settings(name, ref.kind, overrides, numeric, categorical, statistic, warn, alert)
        levels = reference.chance.get(name, {}).get(seasonal_key(chosen) if seasonal else chosen)
        column_warn, column_alert, basis = _thresholds(own_warn, own_alert, levels, present)
        if seasonal is not None:
            basis += f"; against the reference's month {month}"
        if present == 0:
            report.rows.append(
                DriftRow(name, chosen, math.nan, column_alert, False, column_warn, "no data", basis=basis)
            )
            continue
        measured = measure(get(chosen, ref.kind))
        value = measured.value
        level = "alert" if value > column_alert else ("warn" if value > column_warn else "ok")
        if present < min_rows:
            level = "too few rows"
        report.rows.append(
            DriftRow(
                name,
                chosen,
                value,
                column_alert,
                level == "alert",
                column_warn,
                level,
                measured.p_value,
                unseen() if ref.kind == "categorical" else None,
                present,
                basis,
            )
        )
    return report


def _thresholds(
    warn: float | None, alert: float | None, levels: ChanceLevels | None, present: int
) -> tuple[float, float, str]:
    """(warn, alert, where they come from): a number of the design wins; auto reads the chance levels at the
    window's size; without levels, the fixed defaults."""
    if alert is not None and warn is not None:
        return min(warn, alert), alert, "design"
    if levels is not None:
        auto_warn, auto_alert = levels.at(max(present, 1))
        basis = f"auto: chance variation of {max(levels.windows)} reference windows"
        if alert is None and warn is None:
            return auto_warn, auto_alert, basis
        if alert is None:
            assert warn is not None
            return min(warn, auto_alert), auto_alert, basis + "; warn from the design"
        return min(auto_warn, alert), alert, "design; warn " + basis
    final_alert = DEFAULT_ALERT if alert is None else alert
    final_warn = DEFAULT_WARN if warn is None else warn
    basis = (
        "design"
        if alert is not None
        else (
            f"default: the reference profile has no calibrated levels for this column (a reference too short "
            f"for {MIN_WINDOWS} windows, or a model promoted before auto thresholds)"
        )
    )
    return min(final_warn, final_alert), final_alert, basis


def _column(
    ref: ColumnProfile, current: pd.DataFrame | Profile, name: str
) -> tuple[int, Callable[[Statistic], Measured], Callable[[], float]] | None:
    """A current column as the loop needs it: how many values it has, how to measure it, its unseen share.

    From a frame the statistic reads the values; from a profile (data streamed through a ``ProfileBuilder``)
    it compares the two profiles. None when ``current`` lacks the column.
    """
    if isinstance(current, Profile):
        cur = current.columns.get(name)
        if cur is None:
            return None
        known = set(ref.categories or [])
        return (
            cur.count - cur.missing,
            lambda statistic: statistic.between(ref, cur),
            lambda: float(sum(s for c, s in zip(cur.categories or [], cur.shares or []) if c not in known)),
        )
    if name not in current.columns:
        return None
    series = current[name]
    # categorical columns stay a Series: its own dtype (often Arrow strings) counts categories fastest
    values: Any = series.to_numpy(dtype=float, na_value=np.nan) if ref.kind == "numeric" else series
    present = int(np.isfinite(values).sum()) if ref.kind == "numeric" else int(series.notna().sum())
    return present, lambda statistic: statistic.compute(ref, values), lambda: unseen_share(ref, values)


def _settings(
    name: str,
    kind: str,
    overrides: Mapping[str, Any],
    numeric: str,
    categorical: str,
    statistic: str | None,
    warn: float | str,
    alert: float | str,
) -> tuple[str, float | None, float | None]:
    """The column's statistic and its warn and alert thresholds — its own override, else the design's;
    None where the threshold is ``auto``."""
    given = overrides.get(name, {})
    own: dict[str, Any] = given.model_dump() if hasattr(given, "model_dump") else dict(given)
    chosen = statistic_for(name, kind, overrides, numeric, categorical, statistic)
    column_alert = float(own["alert"]) if own.get("alert") is not None else _number(alert)
    column_warn = float(own["warn"]) if own.get("warn") is not None else _number(warn)
    return chosen, column_warn, column_alert


def _number(threshold: float | str) -> float | None:
    if isinstance(threshold, str):
        if threshold != "auto":
            raise UsageError(f"a drift threshold is a number or auto; got {threshold!r}")
        return None
    return float(threshold)
