"""Data variants as features: listed columns, calendar features, lags and rolling means per series.

One transformer, :class:`FeatureBuilder`, builds the features at training, at batch
scoring and online, so the three can never disagree. It is the first step of every
trial's scikit-learn Pipeline and is saved inside the model.

No leakage, by construction: a lag or rolling mean at time t reads only target values
strictly before t's day, within its own series. Where the values come from:

- at ``fit`` the transformer keeps, per series, the tail of the target it was trained
  on (as many days as the longest lag or window) — the *history*;
- at ``transform`` the rows may carry their own target column (known actuals, as in
  validation folds or replayed production data); those values join the history, each
  one usable only by rows of later days;
- online, the caller sends raw columns only (time, series keys, listed features) and the
  service adds actuals to the history as feedback arrives (``extend_history``).

A row whose lag day is absent (the shop was closed, or the history does not reach that
far) gets NaN, never a silent zero; the models handle missing values, and
:meth:`FeatureBuilder.missing_history` tells a caller which rows lack it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlcycle.design.spec import CALENDAR_FEATURES, Design


def lag_name(target: str, days: int) -> str:
    return f"{target}_lag_{days}"


def mean_name(target: str, days: int) -> str:
    return f"{target}_mean_{days}"


@lru_cache(maxsize=32)
def _holiday_days(country: str, first_year: int, last_year: int) -> frozenset[pd.Timestamp]:
    import holidays

    code, _, subdivision = country.partition("-")
    calendar = holidays.country_holidays(code, subdiv=subdivision or None, years=range(first_year, last_year + 1))
    return frozenset(pd.Timestamp(day) for day in calendar)


def calendar_features(times: pd.Series, names: list[str], holidays_country: str | None = None) -> pd.DataFrame:
    """The requested calendar features of a datetime column."""
    times = pd.to_datetime(times)
    out: dict[str, Any] = {}
    for name in names:
        if name == "day_of_week":
            out[name] = times.dt.day_of_week
        elif name == "day_of_month":
            out[name] = times.dt.day
        elif name == "day_of_year":
            out[name] = times.dt.day_of_year
        elif name == "week_of_year":
            out[name] = times.dt.isocalendar().week.astype("int64")
        elif name == "month":
            out[name] = times.dt.month
        elif name == "quarter":
            out[name] = times.dt.quarter
        elif name == "year":
            out[name] = times.dt.year
        elif name == "is_weekend":
            out[name] = (times.dt.day_of_week >= 5).astype("int64")
        elif name == "is_holiday":
            if not holidays_country or times.isna().all():
                out[name] = np.zeros(len(times), dtype="int64")
            else:
                days = _holiday_days(holidays_country, int(times.dt.year.min()), int(times.dt.year.max()))
                out[name] = times.dt.normalize().isin(days).astype("int64")
        else:
            raise KeyError(name)
    return pd.DataFrame(out, index=times.index)


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Raw rows → the features of one data variant (see the module docstring).

    Parameters are the variant's definition as the design resolves it; ``features``
    lists data columns and calendar feature names in the order the model sees them.
    """

    def __init__(self, *, target: str, features: list[str], time_column: str | None = None,
                 group_columns: list[str] | None = None, lags: list[int] | None = None,
                 rolling_means: list[int] | None = None, holidays: str | None = None) -> None:
        self.target = target
        self.features = features
        self.time_column = time_column
        self.group_columns = group_columns
        self.lags = lags
        self.rolling_means = rolling_means
        self.holidays = holidays

    # ── what the variant needs ───────────────────────────────────────────────────────
    @property
    def _groups(self) -> list[str]:
        return list(self.group_columns or [])

    @property
    def _lags(self) -> list[int]:
        return list(self.lags or [])

    @property
    def _means(self) -> list[int]:
        return list(self.rolling_means or [])

    @property
    def needs_history(self) -> bool:
        return bool(self._lags or self._means)

    @property
    def lookback_days(self) -> int:
        return max([*self._lags, *self._means, 0])

    @property
    def raw_columns(self) -> list[str]:
        """Columns a caller must send: the time column, series keys and listed data columns."""
        columns = [self.time_column] if self.time_column and (self.needs_history or self._calendar) else []
        columns += [g for g in self._groups if g not in columns and (self.needs_history or g in self.features)]
        columns += [f for f in self.features if f not in CALENDAR_FEATURES and f not in columns]
        return columns

    @property
    def _calendar(self) -> list[str]:
        return [f for f in self.features if f in CALENDAR_FEATURES]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [*self.features, *(lag_name(self.target, k) for k in self._lags),
                 *(mean_name(self.target, k) for k in self._means)]
        return np.array(names, dtype=object)

    # ── fit / transform ──────────────────────────────────────────────────────────────
    def fit(self, X: pd.DataFrame, y: Any = None) -> FeatureBuilder:
        self.feature_names_out_ = list(self.get_feature_names_out())
        self.history_ = self._known(X, y).pipe(self._tail) if self.needs_history else None
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.raw_columns if c not in X.columns]
        if missing:
            raise KeyError(f"missing input column(s): {', '.join(missing)}")
        out = pd.DataFrame(index=X.index)
        for name in self.features:
            if name in CALENDAR_FEATURES:
                continue
            out[name] = X[name]
        if self._calendar:
            calendar = calendar_features(X[self.time_column], self._calendar, self.holidays)
            for name in self._calendar:
                out[name] = calendar[name]
        out = out[list(self.features)]
        if self.needs_history:
            history = self._history_with(X)
            day = pd.to_datetime(X[self.time_column]).dt.normalize()
            for k in self._lags:
                out[lag_name(self.target, k)] = self._lookup(history, X, day - pd.Timedelta(days=k))
            for k in self._means:
                out[mean_name(self.target, k)] = self._window_mean(history, X, day, k)
        return out

    def extend_history(self, actuals: pd.DataFrame) -> None:
        """Add known actuals (time, series keys, target) to the history the model keeps."""
        if self.needs_history:
            self.history_ = self._tail(pd.concat([self.history_, self._known(actuals)], ignore_index=True))

    def missing_history(self, X: pd.DataFrame) -> np.ndarray:
        """True for rows whose every lag and window lacks a value: the history does not cover them."""
        if not self.needs_history:
            return np.zeros(len(X), dtype=bool)
        built = self.transform(X)
        derived = [c for c in built.columns if c not in self.features]
        return built[derived].isna().all(axis=1).to_numpy()

    # ── internals ────────────────────────────────────────────────────────────────────
    def _known(self, X: pd.DataFrame, y: Any = None) -> pd.DataFrame:
        """Rows with a known target: (series keys, day, value)."""
        if y is not None:
            values = pd.Series(np.asarray(y, dtype=float), index=X.index)
        elif self.target in X.columns:
            values = pd.to_numeric(X[self.target], errors="coerce").astype(float)
        else:
            return pd.DataFrame(columns=[*self._groups, "_day", "_y"])
        known = X[self._groups].copy()
        known["_day"] = pd.to_datetime(X[self.time_column]).dt.normalize()
        known["_y"] = values
        return known.dropna(subset=["_y", "_day"])

    def _tail(self, known: pd.DataFrame) -> pd.DataFrame:
        """One value per (series, day), the last per series ``lookback_days`` only."""
        known = known.drop_duplicates(subset=[*self._groups, "_day"], keep="last")
        if known.empty:
            return known.reset_index(drop=True)
        last = known.groupby(self._groups)["_day"].transform("max") if self._groups else known["_day"].max()
        keep = known["_day"] >= last - pd.Timedelta(days=self.lookback_days)
        return known[keep].sort_values([*self._groups, "_day"]).reset_index(drop=True)

    def _history_with(self, X: pd.DataFrame) -> pd.DataFrame:
        parts = [self.history_] if getattr(self, "history_", None) is not None else []
        if self.target in X.columns:
            parts.append(self._known(X))
        if not parts:
            return pd.DataFrame(columns=[*self._groups, "_day", "_y"])
        history = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        return history.drop_duplicates(subset=[*self._groups, "_day"], keep="last")

    def _index(self, keys: pd.DataFrame, day: pd.Series) -> pd.Index:
        if not self._groups:
            return pd.Index(day)
        frame = keys[self._groups].reset_index(drop=True).assign(_day=day.reset_index(drop=True))
        return pd.MultiIndex.from_frame(frame)

    def _lookup(self, history: pd.DataFrame, X: pd.DataFrame, day: pd.Series) -> np.ndarray:
        if history.empty:
            return np.full(len(X), np.nan)
        values = history.set_index([*self._groups, "_day"])["_y"]
        return values.reindex(self._index(X, day)).to_numpy(dtype=float)

    def _window_mean(self, history: pd.DataFrame, X: pd.DataFrame, day: pd.Series, days: int) -> np.ndarray:
        """Mean of the values on days [t − days, t − 1], per series: strictly before t."""
        if history.empty:
            return np.full(len(X), np.nan)
        ordered = history.sort_values([*self._groups, "_day"])
        window = dict(window=f"{days}D", on="_day", closed="left")
        # Sorted by (series, day) and grouped in order of appearance, the rolled values line up row for row.
        rolled = (ordered.groupby(self._groups, sort=False, dropna=False).rolling(**window)["_y"].mean()
                  if self._groups else ordered.rolling(**window)["_y"].mean())
        table = ordered.assign(_mean=rolled.to_numpy())
        exact = table.set_index([*self._groups, "_day"])["_mean"].reindex(self._index(X, day)).to_numpy(dtype=float, copy=True)
        present = table.set_index([*self._groups, "_day"]).index
        absent = ~self._index(X, day).isin(present)
        if absent.any():
            exact[absent] = self._mean_by_scan(history, X[absent], day[absent], days)
        return exact

    def _mean_by_scan(self, history: pd.DataFrame, X: pd.DataFrame, day: pd.Series, days: int) -> np.ndarray:
        """Window means for days the history does not contain (new days): a merge over the window."""
        keys = X[self._groups].reset_index(drop=True).assign(_t=day.reset_index(drop=True), _row=np.arange(len(X)))
        joined = keys.merge(history, on=self._groups, how="left") if self._groups else keys.merge(history, how="cross")
        inside = (joined["_day"] < joined["_t"]) & (joined["_day"] >= joined["_t"] - pd.Timedelta(days=days))
        means = joined[inside].groupby("_row")["_y"].mean()
        return means.reindex(np.arange(len(X))).to_numpy(dtype=float)


def builder_for(design: Design, variant: str, frame_columns: list[str] | None = None) -> FeatureBuilder:
    """The FeatureBuilder of one data variant of the design."""
    definition = design.variant_definition(variant)
    features = definition["features"]
    if features is None:
        forbidden = set(design.requirements.compliance.forbidden_features)
        reserved = {design.target, design.time_column}
        features = [c for c in (frame_columns or []) if c not in reserved and c not in forbidden]
    return FeatureBuilder(
        target=design.target, features=list(features), time_column=design.time_column,
        group_columns=list(design.group_columns), lags=definition["lags"], rolling_means=definition["rolling_means"],
        holidays=design.data.holidays,
    )
