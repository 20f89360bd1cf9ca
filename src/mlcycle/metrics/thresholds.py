"""Drift thresholds calibrated on the reference: how far each statistic moves by chance in a window of n rows.

A fixed threshold means different things at different window sizes: a Wasserstein distance of 0.1
is a real shift on 50,000 rows and everyday noise on 120. NannyML derives its thresholds from the
reference period's own chunk-to-chunk spread; mlcycle does the same, at a ladder of window sizes,
so that each monitoring window is judged at its own size (traffic grows and shrinks).

How, at promotion, for every column and the drift statistic the design chose for it:

1. the reference rows are cut into windows of n rows — in time order when the design has a time
   column, so that a reference window holds what a monitoring window holds (every series,
   consecutive days, a week's own ups and downs); shuffled with a fixed seed otherwise;
2. each window is measured against the whole reference (a seasonal column against the profile of
   its own month, as monitoring will measure it);
3. distances are positive and skewed, so the spread is taken on the log scale: the mean plus two
   standard deviations warns, plus three alerts — about one window in 750 of unchanged data under
   log-normality (NannyML: the mean plus three standard deviations).

A size needs at least ``MIN_WINDOWS`` reference windows; a reference too short for any size gets no
levels, and monitoring falls back to the design's fixed defaults and says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from mlcycle.contract.spec import Drift
from mlcycle.data.reference import ChanceLevels, ColumnProfile, Profile
from mlcycle.metrics.statistics import Statistic, get

SIZES = (30, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
MIN_WINDOWS = 20  # fewer reference windows than this at a size say too little about its chance variation
MAX_WINDOWS = 100  # more add precision nobody needs and cost time at promotion
WARN_SD, ALERT_SD = 2.0, 3.0
FLOOR = 1e-6  # a column constant in every reference window still needs a threshold above zero


def statistic_for(
    name: str, kind: str, overrides: Mapping[str, Any], numeric: str, categorical: str, statistic: str | None
) -> str:
    """The drift statistic a column is measured with: its own override, the design's one statistic, or its kind's."""
    given = overrides.get(name, {})
    own = given.model_dump() if hasattr(given, "model_dump") else dict(given)
    return str(own.get("statistic") or statistic or (numeric if kind == "numeric" else categorical))


def for_design(settings: Drift, reference: Profile) -> dict[str, list[str]]:
    """Column → the statistics to calibrate: the one the design measures it with."""
    return {
        name: [
            statistic_for(
                name, column.kind, settings.per_feature, settings.numeric, settings.categorical, settings.statistic
            )
        ]
        for name, column in reference.columns.items()
    }


def seasonal_key(statistic: str) -> str:
    """The name under which a seasonal column's levels (measured against its month) are kept."""
    return f"{statistic}@month"


def calibrate(
    frame: pd.DataFrame,
    reference: Profile,
    statistics: Mapping[str, Iterable[str]],
    *,
    times: pd.Series | None = None,
    window_rows: int | None = None,
    seed: int = 0,
) -> dict[str, dict[str, ChanceLevels]]:
    """Chance levels per column and statistic (``statistics``: column → the statistics to calibrate).

    ``frame``: the reference rows (as profiled); ``times``: their times, when the design has a time
    column; ``window_rows``: the rows of one monitoring window of the reference, calibrated as a size of
    its own so the common case needs no interpolation.

    With a time column each size is measured twice — on windows in time order and on windows of rows
    drawn at random — and the higher thresholds kept: the first holds the reference's real
    week-to-week movement, the second the sampling noise alone. Without the second, a column that every
    week of the reference holds in the same shares (the 20 products of a shop, each sold every day)
    would get a threshold of zero and alert on a single missing row.
    """
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(len(frame))
    orders = [shuffled]
    months: np.ndarray | None = None
    by_month: list[np.ndarray] = []
    if times is not None:
        stamps = pd.to_datetime(times).to_numpy()
        months = pd.to_datetime(times).dt.month.to_numpy()
        in_time = np.argsort(stamps, kind="stable")
        orders = [in_time, shuffled]
        by_month = [in_time, np.lexsort((rng.random(len(frame)), months))]  # random rows, one month at a time
    sizes = sorted({*SIZES, *([window_rows] if window_rows else [])})
    sizes = [n for n in sizes if len(frame) // n >= MIN_WINDOWS]
    out: dict[str, dict[str, ChanceLevels]] = {}
    for name, chosen in statistics.items():
        column = reference.columns.get(name)
        if column is None or name not in frame.columns:
            continue
        values = _values(frame[name], column.kind)
        for statistic in chosen:
            levels = _levels(column, values, statistic, sizes, orders, None)
            if levels is not None:
                out.setdefault(name, {})[statistic] = levels
            if months is not None and name in reference.seasons:
                levels = _levels(column, values, statistic, sizes, by_month, (months, reference.seasons[name]))
                if levels is not None:
                    out.setdefault(name, {})[seasonal_key(statistic)] = levels
    return out


def _values(series: pd.Series, kind: str) -> np.ndarray:
    if kind == "numeric":
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return series.astype("string").to_numpy(dtype=object, na_value=None)


def _levels(
    column: ColumnProfile,
    values: np.ndarray,
    statistic: str,
    sizes: list[int],
    orders: list[np.ndarray],
    seasons: tuple[np.ndarray, dict[str, ColumnProfile]] | None,
) -> ChanceLevels | None:
    """The levels of one column and statistic: per size, the higher of the thresholds each order of rows gives."""
    measure = get(statistic, column.kind)
    rows, warn, alert, counted = [], [], [], []
    for n in sizes:
        found = []
        for order in orders:
            measured = _measured(
                column, measure, values[order], n, None if seasons is None else seasons[0][order], seasons
            )
            if len(measured) >= MIN_WINDOWS:
                logs = np.log(np.maximum(measured, FLOOR))
                mean, sd = float(logs.mean()), float(logs.std(ddof=1))
                found.append((math.exp(mean + WARN_SD * sd), math.exp(mean + ALERT_SD * sd), len(measured)))
        if len(found) < len(orders):
            continue
        rows.append(int(n))
        warn.append(max(max(f[0] for f in found), FLOOR))
        alert.append(max(max(f[1] for f in found), FLOOR))
        counted.append(min(f[2] for f in found))
    if not rows:
        return None
    return ChanceLevels(rows, warn, alert, counted)


def _measured(
    column: ColumnProfile,
    measure: Statistic,
    values: np.ndarray,
    n: int,
    months: np.ndarray | None,
    seasons: tuple[np.ndarray, dict[str, ColumnProfile]] | None,
) -> np.ndarray:
    """The statistic of each window of ``n`` consecutive values (at most ``MAX_WINDOWS`` of them, evenly spread)."""
    starts = np.arange(len(values) // n) * n
    if len(starts) > MAX_WINDOWS:
        starts = starts[np.linspace(0, len(starts) - 1, MAX_WINDOWS).round().astype(int)]
    measured = []
    for start in starts:
        chunk = values[start : start + n]
        if column.kind == "numeric" and not np.isfinite(chunk).any():
            continue
        if column.kind != "numeric" and all(v is None for v in chunk):
            continue
        against = column
        if seasons is not None and months is not None:
            month = int(np.bincount(months[start : start + n]).argmax())
            against = seasons[1].get(str(month), column)
        measured.append(measure.compute(against, chunk).value)
    found = np.asarray(measured, dtype=float)
    return found[np.isfinite(found)]


def window_rows(times: pd.Series, length: pd.Timedelta) -> int | None:
    """The rows one monitoring window of ``length`` holds in the reference: the median over its full windows."""
    stamps = pd.to_datetime(times).dropna()
    if stamps.empty:
        return None
    slots = ((stamps - stamps.min()) // length).astype(np.int64)
    counts = slots.value_counts().sort_index()
    if len(counts) >= 3:
        counts = counts.iloc[1:-1]  # the first and last windows are usually partial
    return max(int(counts.median()), 1)


__all__ = ["MIN_WINDOWS", "SIZES", "calibrate", "for_design", "seasonal_key", "statistic_for", "window_rows"]
