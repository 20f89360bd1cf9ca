"""Data variants as features: listed columns, calendar features, lags and rolling means per series.

One transformer, :class:`FeatureBuilder`, builds the features at training, at batch
scoring and online, so the three can never disagree. It is the first step of every
trial's scikit-learn Pipeline and is saved inside the model.

Lags and windows count *time steps* of the time column: days, or hours when the design says
``time_unit: hour`` (lag 24 = the same hour yesterday). No leakage, by construction: a lag or
rolling mean at time t reads only target values strictly before t's step, within its own
series. Where the values come from:

- at ``fit`` the transformer keeps, per series, the tail of the target it was trained
  on (as many steps as the longest lag or window) — the *history*;
- at ``transform`` the rows may carry their own target column (known actuals, as in
  validation folds or replayed production data); those values join the history, each
  one usable only by rows of later steps;
- online, the caller sends raw columns only (time, series keys, listed features); the service
  keeps a history of its own (a :class:`~mlcycle.data.history.LagHistory`, extended as
  feedback arrives) and passes it to ``transform`` — the fitted transformer never changes.

A row whose lag step is absent (the shop was closed, or the history does not reach that
far) gets NaN, never a silent zero; the models handle missing values, and
:meth:`FeatureBuilder.missing_history` tells a caller which rows lack it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlcycle.contract.spec import CALENDAR_FEATURES, TIME_UNITS, Design
from mlcycle.data.history import LagHistory, combined, lag, offset, series_ids, step_numbers, window_mean
from mlcycle.exceptions import DataError, UsageError


def lag_name(target: str, steps: int) -> str:
    return f"{target}_lag_{steps}"


def mean_name(target: str, steps: int) -> str:
    return f"{target}_mean_{steps}"


@lru_cache(maxsize=32)
def _holiday_days(country: str, first_year: int, last_year: int) -> frozenset[pd.Timestamp]:
    import holidays

    code, _, subdivision = country.partition("-")
    calendar = holidays.country_holidays(code, subdiv=subdivision or None, years=range(first_year, last_year + 1))
    return frozenset(pd.Timestamp(day) for day in calendar)


def calendar_values(name: str, times: np.ndarray, holidays_country: str | None = None) -> np.ndarray:
    """One calendar feature of datetime64 values, as floats (NaN where the time is missing).

    The one definition both the Pipeline (:func:`calendar_features`) and the service's lean path
    use, on numpy so a single request costs microseconds. Monday is day 0; weeks are ISO weeks;
    ``is_weekend`` and ``is_holiday`` are 0 for a missing time, as a day that is neither.
    """
    times = np.asarray(times).astype("datetime64[s]")
    missing = np.isnat(times)
    d = times.astype("datetime64[D]")
    days = d.astype(np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    if name == "hour":
        out = (times.astype("datetime64[h]").astype(np.int64) % 24).astype(float)
    elif name == "day_of_week":
        out = weekday.astype(float)
    elif name == "day_of_month":
        out = ((d - d.astype("datetime64[M]")).astype(np.int64) + 1).astype(float)
    elif name == "day_of_year":
        out = ((d - d.astype("datetime64[Y]")).astype(np.int64) + 1).astype(float)
    elif name == "week_of_year":  # the ISO week is the week of its Thursday's year
        thursday = d - weekday.astype("timedelta64[D]") + np.timedelta64(3, "D")
        out = ((thursday - thursday.astype("datetime64[Y]")).astype(np.int64) // 7 + 1).astype(float)
    elif name == "month":
        out = (d.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(float)
    elif name == "quarter":
        out = ((d.astype("datetime64[M]").astype(np.int64) % 12) // 3 + 1).astype(float)
    elif name == "year":
        out = (d.astype("datetime64[Y]").astype(np.int64) + 1970).astype(float)
    elif name == "is_weekend":
        return ((weekday >= 5) & ~missing).astype(float)
    elif name == "is_holiday":
        if not holidays_country or missing.all():
            return np.zeros(len(d))
        years = d[~missing].astype("datetime64[Y]").astype(np.int64) + 1970
        known = np.array(
            [
                np.datetime64(day.date(), "D")
                for day in _holiday_days(holidays_country, int(years.min()), int(years.max()))
            ],
            dtype="datetime64[D]",
        )
        return (np.isin(d, known) & ~missing).astype(float)
    else:
        raise UsageError(f"no calendar feature {name!r}; the calendar features are {', '.join(CALENDAR_FEATURES)}")
    out[missing] = np.nan
    return out


def calendar_features(times: pd.Series, names: list[str], holidays_country: str | None = None) -> pd.DataFrame:
    """The requested calendar features of a datetime column: whole numbers, floats only where a time is missing."""
    moments = pd.to_datetime(times)
    raw = moments.to_numpy(dtype="datetime64[ns]")
    out: dict[str, Any] = {}
    for name in names:
        values = calendar_values(name, raw, holidays_country)
        out[name] = values if np.isnan(values).any() else values.astype("int64")
    return pd.DataFrame(out, index=moments.index)


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Raw rows → the features of one data variant (see the module docstring).

    Parameters are the variant's definition as the design resolves it; ``features``
    lists data columns and calendar feature names in the order the model sees them.
    """

    def __init__(
        self,
        *,
        target: str,
        features: list[str],
        time_column: str | None = None,
        group_columns: list[str] | None = None,
        lags: list[int] | None = None,
        rolling_means: list[int] | None = None,
        holidays: str | None = None,
        time_unit: str = "day",
    ) -> None:
        self.target = target
        self.features = features
        self.time_column = time_column
        self.group_columns = group_columns
        self.lags = lags
        self.rolling_means = rolling_means
        self.holidays = holidays
        self.time_unit = time_unit

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
    def lookback(self) -> int:
        """Time steps of history the longest lag or window reads."""
        return max([*self._lags, *self._means, 0])

    @property
    def _unit(self) -> str:
        """numpy / pandas code of one time step: D (day) or h (hour)."""
        return TIME_UNITS[getattr(self, "time_unit", "day")]

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
        names = [
            *self.features,
            *(lag_name(self.target, k) for k in self._lags),
            *(mean_name(self.target, k) for k in self._means),
        ]
        return np.array(names, dtype=object)

    # ── fit / transform ──────────────────────────────────────────────────────────────
    def fit(self, X: pd.DataFrame, y: Any = None) -> FeatureBuilder:
        self.feature_names_out_ = list(self.get_feature_names_out())
        self.history_: LagHistory | None = (
            self._table(self._known(X, y)).tail(self.lookback) if self.needs_history else None
        )
        return self

    def transform(self, X: pd.DataFrame, history: LagHistory | None = None) -> pd.DataFrame:
        """The variant's features of raw rows; lags read ``history`` (default: the fitted one) and the rows' own
        known targets, if they carry the target column."""
        missing = [c for c in self.raw_columns if c not in X.columns]
        if missing:
            raise DataError(
                f"missing input column(s): {', '.join(missing)}; the data variant reads {', '.join(self.raw_columns)}"
            )
        out = {name: X[name] for name in self.features if name not in CALENDAR_FEATURES}
        if self._calendar:
            calendar = calendar_features(X[self.time_column], self._calendar, self.holidays)
            out.update({name: calendar[name] for name in self._calendar})
        built = pd.DataFrame({name: out[name] for name in self.features}, index=X.index)
        if self.needs_history:
            table = self._history(history)
            keys, values, cumulative, ids = table.searchable(self._known(X) if self.target in X.columns else None)
            query = combined(series_ids(table.groups, X, ids), step_numbers(X[self.time_column], self._unit))
            for name, column in self._derived(keys, values, cumulative, query).items():
                built[name] = column
        return built

    def derived_for(
        self, series: list[Any], times: np.ndarray, history: LagHistory | None = None
    ) -> dict[str, np.ndarray]:
        """Lags and window means for new rows from a history alone (the service's lean path).

        ``series`` holds each row's series key (a value, or a tuple for several group columns);
        ``times`` the row's time as any ``datetime64``. Same arrays, same searches as ``transform``.
        """
        keys, values, cumulative, ids = self._history(history).searchable()
        series_ids = (
            np.fromiter((ids.get(k, -1) for k in series), dtype=np.int64, count=len(series))
            if self._groups
            else np.zeros(len(series), dtype=np.int64)
        )
        query = combined(series_ids, times.astype(f"datetime64[{self._unit}]").astype(np.int64) + offset(self._unit))
        return self._derived(keys, values, cumulative, query)

    def _derived(
        self, keys: np.ndarray, values: np.ndarray, cumulative: np.ndarray, query: np.ndarray
    ) -> dict[str, np.ndarray]:
        out = {lag_name(self.target, k): lag(keys, values, query, k) for k in self._lags}
        out.update({mean_name(self.target, k): window_mean(keys, cumulative, query, k) for k in self._means})
        return out

    def transform_in_sample(self, X: pd.DataFrame, y: Any) -> pd.DataFrame:
        """Features of rows whose targets are known, lags read from those rows themselves.

        The fitted history keeps only the last ``lookback`` steps, so ``transform`` on old training
        rows finds no lags; the reference profile of the model's output needs them as production will.
        """
        if not self.needs_history:
            return self.transform(X)
        return self.transform(X, history=self._table(self._known(X, y)))

    def history_from(self, actuals: pd.DataFrame) -> LagHistory | None:
        """All of ``actuals`` (time, series keys, target) as a history, not only its last ``lookback`` steps:
        scoring a past period needs lags from all of it. None when the variant reads no lags."""
        return self._table(self._known(actuals)) if self.needs_history else None

    def extended_history(self, history: LagHistory | None, actuals: pd.DataFrame) -> LagHistory | None:
        """``history`` (default: the fitted one) with known ``actuals`` added, kept to the last ``lookback`` steps.
        A new table: the one given, and the model, stay as they were."""
        if not self.needs_history:
            return None
        return self._history(history).extended(self._known(actuals)).tail(self.lookback)

    def missing_history(
        self, X: pd.DataFrame, built: pd.DataFrame | None = None, history: LagHistory | None = None
    ) -> np.ndarray:
        """True for rows whose every lag and window lacks a value: the history does not cover them."""
        if not self.needs_history:
            return np.zeros(len(X), dtype=bool)
        built = self.transform(X, history) if built is None else built
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
            return pd.DataFrame(
                {
                    **{g: [] for g in self._groups},
                    "_step": pd.Series([], dtype="datetime64[ns]"),
                    "_y": pd.Series([], dtype=float),
                }
            )
        known = X[self._groups].copy()
        known["_step"] = pd.to_datetime(X[self.time_column]).dt.floor(self._unit)
        known["_y"] = values
        return known.dropna(subset=["_y", "_step"])

    def _table(self, known: pd.DataFrame) -> LagHistory:
        return LagHistory(known, self._groups, self._unit)

    def _history(self, history: LagHistory | None) -> LagHistory:
        """The history to read: the one given, else the fitted one."""
        if history is not None:
            return history
        if self.history_ is None:
            return LagHistory.empty(self._groups, self._unit)
        return self.history_

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Models registered before the history was its own table kept it as a frame; read those too."""
        state.pop("_cache", None)
        kept = state.get("history_")
        if isinstance(kept, pd.DataFrame):
            state["history_"] = LagHistory(
                kept, list(state.get("group_columns") or []), TIME_UNITS[state.get("time_unit", "day")]
            )
        self.__dict__.update(state)


def builder_for(design: Design, variant: str, frame_columns: list[str] | None = None) -> FeatureBuilder:
    """The FeatureBuilder of one data variant of the design."""
    definition = design.variant_definition(variant)
    features = definition["features"]
    if features is None:
        forbidden = set(design.requirements.compliance.forbidden_features)
        reserved = {design.target, design.time_column}
        features = [c for c in (frame_columns or []) if c not in reserved and c not in forbidden]
    return FeatureBuilder(
        target=design.target,
        features=list(features),
        time_column=design.time_column,
        group_columns=list(design.group_columns),
        lags=definition["lags"],
        rolling_means=definition["rolling_means"],
        holidays=design.data.holidays,
        time_unit=design.time_unit,
    )
