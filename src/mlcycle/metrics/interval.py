"""Intervals on money figures: how sure a figure is, from the rows it was measured on.

Every money figure mlcycle shows — the design's estimate, the validated figure from development,
the money realised in monitoring — is a mean of money per prediction scaled to a period. Its
interval comes from a bootstrap of the rows it was measured on, resampled by **day** when the
design has a time column (the rows of one day move together: a busy Saturday is busy for every
product, so resampling single rows would make the interval too narrow) and by row otherwise.

The figures are ratios of sums (money over rows), so a resample is a vector of weights over the
units (days or rows): one matrix product gives every resample at once — a thousand resamples of
a year of days take milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

LEVEL = 0.90  # the intervals shown: 90 % — wide enough to mean something, narrow enough to decide on
RESAMPLES = 1_000


@dataclass(frozen=True)
class Interval:
    """A figure's interval: ``low`` – ``high`` at ``level``, and how it was obtained (``method``)."""

    low: float
    high: float
    level: float
    method: str

    def holds_above(self, value: float) -> bool:
        """The whole interval is above ``value``: the conclusion does not depend on luck in the sample."""
        return self.low > value

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high

    def shifted(self, by: float) -> Interval:
        return Interval(self.low + by, self.high + by, self.level, self.method)

    def scaled(self, factor: float, offset: float = 0.0) -> Interval:
        """``factor · x + offset`` of the interval (a negative factor swaps its ends)."""
        ends = sorted((self.low * factor + offset, self.high * factor + offset))
        return Interval(ends[0], ends[1], self.level, self.method)

    def text(self, digits: int = 0, suffix: str = "") -> str:
        """``2,310 – 3,520 GBP (90 %)``."""
        return f"{self.low:,.{digits}f} – {self.high:,.{digits}f}{suffix} ({self.level:.0%})"

    def to_dict(self) -> dict[str, float | str]:
        return {"low": self.low, "high": self.high, "level": self.level, "method": self.method}

    @classmethod
    def from_dict(cls, data: dict[str, float | str] | None) -> Interval | None:
        if not data:
            return None
        return cls(float(data["low"]), float(data["high"]), float(data["level"]), str(data["method"]))


@dataclass(frozen=True)
class Resampled:
    """The bootstrap of per-row figures: their mean in each resample (``means``: resamples × figures)."""

    means: np.ndarray
    units: int
    unit: str  # "day" | "row"

    @property
    def method(self) -> str:
        return f"bootstrap over {self.units:,} {self.unit}s, {len(self.means):,} resamples"

    def interval(self, values: np.ndarray, level: float = LEVEL) -> Interval:
        """The interval of a figure computed from the resampled means (one value per resample)."""
        finite = values[np.isfinite(values)]
        if len(finite) < 2:
            return Interval(math.nan, math.nan, level, self.method)
        tail = (1 - level) / 2
        low, high = np.quantile(finite, [tail, 1 - tail])
        return Interval(float(low), float(high), level, self.method)


def resample_means(
    values: np.ndarray,
    days: pd.Series | np.ndarray | None = None,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Resampled | None:
    """Bootstrap the column means of ``values`` (rows × figures), resampling whole days when ``days`` is given.

    None when there are fewer than two units to resample: one day, or one row, says nothing of its spread.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if days is not None:
        codes, uniques = pd.factorize(pd.to_datetime(pd.Series(days)).dt.normalize(), sort=True)
        units, unit = len(uniques), "day"
    else:
        codes, units, unit = np.arange(len(values)), len(values), "row"
    if units < 2:
        return None
    sums = np.zeros((units, values.shape[1]))
    np.add.at(sums, codes, values)
    counts = np.bincount(codes, minlength=units).astype(float)
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, units, size=(resamples, units))  # each resample: `units` draws with replacement
    drawn += np.arange(resamples)[:, None] * units
    weights = np.bincount(drawn.ravel(), minlength=resamples * units).reshape(resamples, units).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (weights @ sums) / (weights @ counts)[:, None]
    return Resampled(means, units, unit)


def mean_interval(
    values: np.ndarray, days: pd.Series | np.ndarray | None = None, *, level: float = LEVEL, seed: int = 0
) -> Interval | None:
    """The interval of the mean of ``values`` (one figure per row), by :func:`resample_means`."""
    resampled = resample_means(values, days, seed=seed)
    return None if resampled is None else resampled.interval(resampled.means[:, 0], level)


def weighted_mean_interval(parts: list[tuple[int, Interval]], centre: float, level: float = LEVEL) -> Interval | None:
    """The interval of a weighted mean of figures from their own intervals (``parts``: weight, interval — e.g.
    each monitoring window's labelled rows and its realised interval): each interval read as a normal standard
    error, combined as the sampling error of the weighted mean. None without a usable part."""
    usable = [(n, i) for n, i in parts if n > 0 and math.isfinite(i.high - i.low)]
    if not usable:
        return None
    total = sum(n for n, _ in usable)
    error = math.sqrt(sum((n * (i.high - i.low) / (2 * _z(i.level))) ** 2 for n, i in usable)) / total
    half = _z(level) * error
    method = f"from {len(usable)} windows' bootstrap intervals, as the sampling error of their weighted mean"
    return Interval(centre - half, centre + half, level, method)


def _z(level: float) -> float:
    """The two-sided normal quantile of ``level`` (1.645 for 90 %)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


__all__ = [
    "LEVEL",
    "RESAMPLES",
    "Interval",
    "Resampled",
    "mean_interval",
    "resample_means",
    "weighted_mean_interval",
]
