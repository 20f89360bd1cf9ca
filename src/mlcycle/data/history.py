"""The table lag features read: known actuals, one value per (series, time step), as sorted arrays.

A :class:`LagHistory` is immutable. Extending it with new actuals returns a new table, so
whoever holds one — a request being scored, a shadow comparison — reads the same values to
the end while feedback builds the next. Who owns which table:

- the fitted :class:`~mlcycle.data.features.FeatureBuilder` keeps the tail of its training
  data (``history_``): what a model knows the day it is registered;
- the service owns the table it serves with (``deploy.serving``), starting from the model's
  and extended as actuals come back; the model itself never changes;
- shadow scoring and replay build a table of every actual known now.

Lags and window means are searches in one sorted array of combined (series id, step) keys:
a lag is an exact search, a window mean a difference of cumulative sums between two searches.
The same vectorised code serves a 12,000-row training set and a single online request.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SERIES_STRIDE = 10**12  # steps per series id in the combined key: more than any date range, in hours too
_DAY_OFFSET = 5_000_000  # keeps days before 1970 positive (about 13,000 years)


def offset(unit: str) -> int:
    return _DAY_OFFSET * (24 if unit == "h" else 1)


def step_numbers(times: pd.Series, unit: str) -> np.ndarray:
    """Whole time steps (days or hours) since a fixed origin, for the combined (series, step) key."""
    steps = pd.to_datetime(times).to_numpy(dtype="datetime64[ns]").astype(f"datetime64[{unit}]").astype(np.int64)
    return steps + offset(unit)


def series_ids(groups: list[str], frame: pd.DataFrame, ids: dict[Any, int], *, grow: bool = False) -> np.ndarray:
    """Each row's series id in ``ids`` (its group values, a tuple for several columns): -1 for a series not in
    ``ids``, or with ``grow`` a new id added to it. A table without group columns is one series, id 0."""
    if not groups:
        return np.zeros(len(frame), dtype=np.int64)
    columns = [frame[g].tolist() for g in groups]
    keys = zip(*columns) if len(columns) > 1 else columns[0]
    if grow:
        return np.fromiter((ids.setdefault(k, len(ids)) for k in keys), dtype=np.int64, count=len(frame))
    return np.fromiter((ids.get(k, -1) for k in keys), dtype=np.int64, count=len(frame))


def combined(series_ids: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """One sortable key per (series, step); -1 for a series the table has never seen."""
    return np.where(series_ids < 0, -1, series_ids * SERIES_STRIDE + steps)


class LagHistory:
    """Known actuals as a table (``frame``: the group columns, ``_step``, ``_y``; one row per series and step,
    sorted) and the arrays searched on it.

    ``groups`` name the series columns, ``unit`` is the time step (``D`` or ``h``).
    """

    def __init__(self, frame: pd.DataFrame, groups: list[str], unit: str) -> None:
        self.groups = list(groups)
        self.unit = unit
        self.frame = (
            frame.drop_duplicates(subset=[*self.groups, "_step"], keep="last")
            .sort_values([*self.groups, "_step"])
            .reset_index(drop=True)
        )
        self.ids: dict[Any, int] = {}
        self.keys = combined(
            series_ids(self.groups, self.frame, self.ids, grow=True), step_numbers(self.frame["_step"], unit)
        )
        self.values = self.frame["_y"].to_numpy(dtype=float)  # keys are sorted: ids follow the sorted groups
        self.cumulative = np.r_[0.0, np.cumsum(self.values)]

    @classmethod
    def empty(cls, groups: list[str], unit: str) -> LagHistory:
        frame = pd.DataFrame(
            {
                **{g: pd.Series([], dtype=object) for g in groups},
                "_step": pd.Series([], dtype="datetime64[ns]"),
                "_y": pd.Series([], dtype=float),
            }
        )
        return cls(frame, groups, unit)

    def tail(self, lookback: int) -> LagHistory:
        """Only the last ``lookback`` steps of each series: all a forecast from now on can read."""
        known = self.frame
        if known.empty:
            return self
        last = known.groupby(self.groups)["_step"].transform("max") if self.groups else known["_step"].max()
        keep = known["_step"] >= last - pd.Timedelta(lookback, unit=self.unit)
        return LagHistory(known[keep], self.groups, self.unit)

    def extended(self, known: pd.DataFrame) -> LagHistory:
        """A new table with ``known`` rows added (columns as ``frame``); a later actual for a step replaces it."""
        if known.empty:
            return self
        return LagHistory(pd.concat([self.frame, known], ignore_index=True), self.groups, self.unit)

    def searchable(self, own: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[Any, int]]:
        """Sorted keys, values, cumulative sums and series ids — with ``own``, the rows' own known actuals
        (validation folds, replayed data) joined for this one search, the table itself unchanged."""
        if own is None or own.empty:
            return self.keys, self.values, self.cumulative, self.ids
        ids = dict(self.ids)
        extra = series_ids(self.groups, own, ids, grow=True)
        keys = np.concatenate([self.keys, combined(extra, step_numbers(own["_step"], self.unit))])
        values = np.concatenate([self.values, own["_y"].to_numpy(dtype=float)])
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        last = np.r_[keys[1:] != keys[:-1], True] if len(keys) else np.zeros(0, dtype=bool)
        keys, values = keys[last], values[last]  # a later actual for the same (series, step) wins
        return keys, values, np.r_[0.0, np.cumsum(values)], ids


def lag(keys: np.ndarray, values: np.ndarray, query: np.ndarray, steps: int) -> np.ndarray:
    """The value ``steps`` steps before each query key in its own series, NaN where there is none."""
    wanted = query - steps
    pos = np.searchsorted(keys, wanted)
    found = (pos < len(keys)) & (query >= 0)
    found[found] = keys[pos[found]] == wanted[found]
    out = np.full(len(query), np.nan)
    out[found] = values[pos[found]]
    return out


def window_mean(keys: np.ndarray, cumulative: np.ndarray, query: np.ndarray, steps: int) -> np.ndarray:
    """Mean of the values on steps [t − steps, t − 1] of the row's series: strictly before t."""
    lo = np.searchsorted(keys, query - steps, side="left")
    hi = np.searchsorted(keys, query, side="left")
    count = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (cumulative[hi] - cumulative[lo]) / count
    return np.where((count > 0) & (query >= 0), mean, np.nan)


__all__ = ["LagHistory", "combined", "lag", "offset", "series_ids", "step_numbers", "window_mean"]
