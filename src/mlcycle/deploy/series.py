"""Where a row belongs — its series and its time step — written once for predictions and for feedback.

A prediction is logged with its series key and its time step; an actual sent back without
the prediction's request id names the same series and time, and monitoring joins the two on
them. So the service's predictions, feedback over HTTP and feedback from a file all use
these functions: a key written one way and read another would leave actuals that never
meet their predictions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from mlcycle.contract.spec import Design
from mlcycle.store import FeedbackItem, series_key


@dataclass(frozen=True)
class KeyProblem:
    """Why one feedback entry cannot be matched to a prediction: which entry, which field, what to send."""

    row: int
    field: str | None
    message: str


def key_columns(design: Design) -> list[str]:
    """The columns that name a row without its request id: the group columns, then the time column."""
    return [*design.group_columns, *([design.time_column] if design.time_column else [])]


def series_of(design: Design, row: Mapping[str, Any]) -> str | None:
    """The row's series identity; a use case with a time column and no group columns is one series (``[]``),
    so its feedback by time finds its predictions and feeds its lags. None without either."""
    if not design.group_columns and not design.time_column:
        return None
    return series_key(row[g] for g in design.group_columns)


def steps(design: Design, values: Sequence[Any] | pd.Series) -> tuple[list[datetime | None], list[int]]:
    """Each value floored to the design's time step (None where there is no value), and the positions of the
    values that are not times at all. Value by value, as ``pd.Timestamp`` reads it: a request scores its rows in
    tens of microseconds each, where building a Series per row would cost ten times more."""
    out: list[datetime | None] = []
    bad: list[int] = []
    for i, value in enumerate(values):
        try:
            moment = pd.Timestamp(value)
        except (ValueError, TypeError):
            bad.append(i)
            out.append(None)
            continue
        out.append(None if pd.isna(moment) else moment.floor(design.time_step).to_pydatetime())
    return out, bad


def steps_of(design: Design, rows: Sequence[Mapping[str, Any]]) -> list[datetime | None]:
    """Each validated row's time step for a whole request: its distinct times parsed once, in one ISO-8601
    parse (a 1,000-row request spent more time reading its times value by value than scoring). Values one
    parse cannot take together — mixed offsets, ``datetime`` objects beside text — go value by value, with
    the same result."""
    column = design.time_column
    if not column:
        return [None] * len(rows)
    return step_values(design, [row.get(column) for row in rows])


def step_values(design: Design, values: Sequence[Any] | pd.Series) -> list[datetime | None]:
    """:func:`steps_of` for a column of times, distinct values parsed once."""
    values = list(values)
    try:
        distinct = list(dict.fromkeys(values))
    except TypeError:  # an unhashable value: nothing to share
        return steps(design, values)[0]
    try:
        parsed = pd.to_datetime(pd.Series(distinct, dtype=object), format="ISO8601")
    except (ValueError, TypeError):
        found = steps(design, distinct)[0]
    else:
        if parsed.dtype == object:
            found = steps(design, distinct)[0]
        else:
            found = [None if pd.isna(when) else when.to_pydatetime() for when in parsed.dt.floor(design.time_step)]
    by_value = dict(zip(distinct, found, strict=True))
    return [by_value[v] for v in values]


def step_series(design: Design, column: pd.Series) -> pd.Series:
    """A batch's time column floored to the design's step: vectorised when it holds times already (a parquet
    file's), else its distinct values parsed once as a request's are."""
    if pd.api.types.is_datetime64_any_dtype(column) and getattr(column.dt, "tz", None) is None:
        return column.dt.floor(design.time_step)
    return pd.Series(step_values(design, column.tolist()), index=column.index, dtype=object)


def series_of_rows(design: Design, rows: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """:func:`series_of` for each row of a request, each distinct series written once."""
    if not design.group_columns and not design.time_column:
        return [None] * len(rows)
    groups = design.group_columns
    keys: dict[tuple[Any, ...], str] = {}  # by type too: True == 1 as a dict key, yet it is written "True"
    out: list[str | None] = []
    for row in rows:
        values = tuple(row[g] for g in groups)
        typed = (*values, *map(type, values))
        try:
            key = keys.get(typed)
        except TypeError:  # an unhashable value
            key = None
        if key is None:
            key = series_key(values)
            with contextlib.suppress(TypeError):
                keys[typed] = key
        out.append(key)
    return out


def series_keys(design: Design, table: pd.DataFrame) -> list[str | None]:
    """:func:`series_of_rows` for a table's rows (a batch), each distinct series written once: the values as
    a JSON request would send them (missing as None), as text."""
    groups = design.group_columns
    if not groups and not design.time_column:
        return [None] * len(table)
    if not groups:
        return [series_key(())] * len(table)
    # each column factorised on its own and the codes combined: a key is written per distinct series, not per row
    codes = np.zeros(len(table), dtype=np.int64)
    seen: list[list[Any]] = [[]]  # the group values behind each combined code so far
    for name in groups:
        column = table[name]
        if pd.api.types.is_object_dtype(column):  # as text first: True, 1 and 1.0 are one value to a hash
            column = column.astype(str).mask(column.isna())
        column_codes, uniques = pd.factorize(column, use_na_sentinel=True)
        values = [*uniques.tolist(), None]  # a missing value's code, -1, reads the None at the end
        width = len(values)
        codes, pairs = pd.factorize(codes * width + np.where(column_codes < 0, width - 1, column_codes))
        seen = [[*seen[p // width], values[p % width]] for p in pairs.tolist()]
    keys = np.array([series_key(values) for values in seen], dtype=object)
    return keys[codes].tolist()


def step_of(design: Design, row: Mapping[str, Any]) -> datetime | None:
    """The row's time step, or None without a time column or value (a prediction's rows were validated)."""
    column = design.time_column
    if not column or row.get(column) is None:
        return None
    return steps(design, [row[column]])[0][0]


def feedback_items(
    design: Design, entries: Sequence[tuple[Any, str | None, Mapping[str, Any]]]
) -> tuple[list[FeedbackItem], list[KeyProblem]]:
    """Feedback entries — (actual, request id or None, the other fields sent) — as items for the store, and a
    problem for each entry that names neither a request id nor every key column."""
    keys = key_columns(design)
    made: list[tuple[int, FeedbackItem]] = []
    problems: list[KeyProblem] = []
    keyed: list[tuple[int, Any, Mapping[str, Any]]] = []
    for i, (actual, request_id, fields) in enumerate(entries):
        if request_id:
            made.append((i, FeedbackItem(actual, request_id=str(request_id))))
            continue
        missing = [k for k in keys if k not in fields]
        if missing or not keys:
            field = missing[0] if missing else "request_id"
            problems.append(
                KeyProblem(i, field, f"give the prediction's request_id, or the keys {', '.join(keys) or '(none)'}")
            )
            continue
        keyed.append((i, actual, fields))
    column = design.time_column
    when, bad = steps(design, [fields[column] for _, _, fields in keyed]) if column else ([None] * len(keyed), [])
    unparsed = set(bad)
    for position, (i, actual, fields) in enumerate(keyed):
        if position in unparsed:
            problems.append(KeyProblem(i, column, f"not a date: {fields[str(column)]!r}"))
        elif column and when[position] is None:
            problems.append(KeyProblem(i, column, "is empty: give the time the prediction was for"))
        else:
            made.append((i, FeedbackItem(actual, series_key=series_of(design, fields), event_time=when[position])))
    return [item for _, item in sorted(made, key=lambda m: m[0])], sorted(problems, key=lambda p: p.row)


__all__ = [
    "KeyProblem",
    "feedback_items",
    "key_columns",
    "series_keys",
    "series_of",
    "series_of_rows",
    "step_of",
    "step_series",
    "step_values",
    "steps",
    "steps_of",
]
