"""Today's process, as a forecaster: what every model is judged against, in money too.

A baseline predicts ``rows`` from ``history``. For the methods that look back in time
(``seasonal_naive``, ``last_value``), counted in steps of the time column (days, or hours
with ``time_unit: hour``), the actuals of ``rows`` themselves count as history once their
step has passed — a shop ordering for tomorrow knows what sold last week — so
each row is predicted only from values strictly before it, within its own group.
Rows a method cannot predict (no value a season earlier yet) get NaN; callers score the
rest and say how many were skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlcycle.contract.spec import Design, positive_mask

# How many seasons back seasonal_naive may reach when the same day a season ago is absent
# (the shop was closed): a week later it would be the same weekday two weeks ago.
MAX_SEASONS_BACK = 3


def describe(design: Design) -> str:
    baseline = design.value.baseline
    if baseline.method == "seasonal_naive":
        if design.time_unit == "hour":
            if baseline.season == 24:
                return "same hour yesterday (seasonal naive, 24 hours)"
            return f"the value {baseline.season} hours earlier (seasonal naive)"
        if baseline.season == 7:
            return "same weekday last week (seasonal naive, 7 days)"
        return f"the value {baseline.season} days earlier (seasonal naive)"
    return {
        "mean": "the historical mean",
        "last_value": "the last known value",
        "majority_class": "always the most frequent class",
        "column": f"today's predictions in column {baseline.column!r}",
    }[baseline.method]


def reach(design: Design) -> pd.Timedelta | None:
    """How far before a row's own time the baseline may look for an actual: ``MAX_SEASONS_BACK`` seasons for
    ``seasonal_naive``; for ``last_value`` the last actual of the series however old (None); nothing for the
    methods that read no actuals of the served rows (a zero span). Monitoring reads the log that far back."""
    method = design.value.baseline.method
    if method == "seasonal_naive":
        return pd.Timedelta(MAX_SEASONS_BACK * design.value.baseline.season, unit=design.time_step)
    if method == "last_value":
        return None
    return pd.Timedelta(0)


def predict(design: Design, history: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The baseline's prediction for each of ``rows`` (NaN where it has none).

    For classification the prediction is 1 for the positive class and 0 otherwise.
    """
    method = design.value.baseline.method
    target = _target(design, history)
    if method == "column":
        values = rows[design.value.baseline.column]
        return _as_label(design, values) if design.task == "classification" else values.to_numpy(dtype=float)
    if method == "mean":
        return _per_group(design, history.assign(_y=target), rows, "mean")
    if method == "majority_class":
        return np.full(len(rows), float(target.mean() >= 0.5))
    table = _lookup_table(design, history, rows)
    if method == "seasonal_naive":
        return _seasonal(design, table, rows)
    return _last_value(design, table, rows)


def _target(design: Design, frame: pd.DataFrame) -> pd.Series:
    if design.task == "classification":
        return positive_mask(design, frame[design.target]).astype(float)
    return frame[design.target].astype(float)


def _as_label(design: Design, values: pd.Series) -> np.ndarray:
    return positive_mask(design, values).to_numpy(dtype=float)


def _lookup_table(design: Design, history: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Every known actual, one per (group, day): history plus the rows' own actuals."""
    keys = [*design.group_columns, design.time_column]
    parts = [history[[*keys, design.target]]]
    if design.target in rows.columns and rows is not history:
        parts.append(rows[[*keys, design.target]])
    table = pd.concat(parts, ignore_index=True).dropna(subset=[design.target])
    table = table.assign(
        _y=_target(design, table), _step=pd.to_datetime(table[design.time_column]).dt.floor(design.time_step)
    )
    return table.drop_duplicates(subset=[*design.group_columns, "_step"], keep="last")


def _seasonal(design: Design, table: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    groups = design.group_columns
    wanted = rows[groups].copy()
    step = pd.to_datetime(rows[design.time_column]).dt.floor(design.time_step)
    values = table.set_index([*groups, "_step"])["_y"]
    result = np.full(len(rows), np.nan)
    for k in range(1, MAX_SEASONS_BACK + 1):
        todo = np.isnan(result)
        if not todo.any():
            break
        lookup = wanted.assign(_step=step - pd.Timedelta(k * design.value.baseline.season, unit=design.time_step))
        index = pd.MultiIndex.from_frame(lookup[[*groups, "_step"]]) if groups else pd.Index(lookup["_step"])
        found = values.reindex(index).to_numpy(dtype=float)
        result = np.where(todo, found, result)
    return result


def _last_value(design: Design, table: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    groups = design.group_columns
    left = rows[groups].assign(
        _step=pd.to_datetime(rows[design.time_column]).dt.floor(design.time_step), _order=np.arange(len(rows))
    )
    merged = pd.merge_asof(
        left.sort_values("_step"),
        table[[*groups, "_step", "_y"]].sort_values("_step"),
        on="_step",
        by=groups or None,
        allow_exact_matches=False,
    )
    return merged.sort_values("_order")["_y"].to_numpy(dtype=float)


def _per_group(design: Design, history: pd.DataFrame, rows: pd.DataFrame, how: str) -> np.ndarray:
    overall = history["_y"].agg(how)
    groups = [g for g in design.group_columns if g in rows.columns]
    if not groups:
        return np.full(len(rows), float(overall))
    per_group = history.groupby(groups)["_y"].agg(how)
    index = pd.MultiIndex.from_frame(rows[groups]) if len(groups) > 1 else pd.Index(rows[groups[0]])
    return per_group.reindex(index).fillna(overall).to_numpy(dtype=float)
