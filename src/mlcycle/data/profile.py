"""A short profile of a table: what a person reads first about new data."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: str
    missing: int
    distinct: int
    summary: str


@dataclass(frozen=True)
class DataProfile:
    rows: int
    columns: list[ColumnProfile]
    time_start: pd.Timestamp | None = None
    time_end: pd.Timestamp | None = None
    time_steps: int | None = None
    groups: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def missing_cells(self) -> int:
        return sum(c.missing for c in self.columns)


def kind_of(series: pd.Series) -> str:
    """The schema type of a column: boolean, integer, number, datetime or string."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        non_null = series.dropna()
        if len(non_null) and (non_null == non_null.round()).all() and non_null.abs().max() < 2**53:
            return "integer"  # integers that picked up a NaN are still counts
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "string"


def profile_frame(
    frame: pd.DataFrame, *, time_column: str | None = None, group_columns: list[str] | None = None
) -> DataProfile:
    columns = []
    for name in frame.columns:
        series = frame[name]
        kind = kind_of(series)
        if kind in ("integer", "number"):
            described = series.describe()
            summary = f"{described['min']:g} … {described['max']:g}, mean {described['mean']:.4g}"
        elif kind == "datetime":
            dated = series.dropna()
            summary = f"{dated.min():%Y-%m-%d} … {dated.max():%Y-%m-%d}" if len(dated) else "no dates at all"
        elif kind == "boolean":
            summary = f"{series.mean():.1%} true"
        else:
            top = series.value_counts().head(3)
            summary = ", ".join(f"{value} ({count})" for value, count in top.items())
        columns.append(ColumnProfile(str(name), kind, int(series.isna().sum()), int(series.nunique()), summary))
    start = end = steps = groups = None
    if time_column and time_column in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[time_column]):
        if frame[time_column].notna().any():  # a time column with no time at all has no span to show
            start, end = frame[time_column].min(), frame[time_column].max()
            steps = int(frame[time_column].nunique())
    present = [g for g in (group_columns or []) if g in frame.columns]
    if present:
        groups = int(frame[present].drop_duplicates().shape[0])
    return DataProfile(len(frame), columns, start, end, steps, groups)
