"""Where a row belongs, written once: predictions and feedback (HTTP and files) agree on series and time step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcycle.contract import spec
from mlcycle.deploy import series
from mlcycle.store import FeedbackItem
from tests.conftest import minimal_design


def _design(**overrides: Any) -> spec.Design:
    return spec.parse(minimal_design(**overrides))


def test_a_prediction_and_its_feedback_get_the_same_keys() -> None:
    design = _design()
    row = {"item": "A", "date": "2024-03-05T17:45:00", "price": 2.0}
    items, problems = series.feedback_items(design, [(3, None, {"item": "A", "date": "2024-03-05"})])
    assert problems == []
    assert items == [FeedbackItem(3, series_key=series.series_of(design, row), event_time=series.step_of(design, row))]
    assert items[0].event_time == datetime(2024, 3, 5) and items[0].series_key == '["A"]'


def test_hourly_steps_and_one_series_without_groups() -> None:
    design = _design(group_columns=[], time_unit="hour")
    items, _ = series.feedback_items(design, [(1.5, None, {"date": "2024-03-05 17:45"})])
    assert items == [FeedbackItem(1.5, series_key="[]", event_time=datetime(2024, 3, 5, 17))]


def test_groups_without_a_time_column_and_ids_keep_their_order() -> None:
    raw = minimal_design(time_column=None)
    raw["value"]["predictions_per_period"] = 100
    design = spec.parse(raw)
    entries = [(1, None, {"item": "B"}), (2, "req-1", {}), (3, None, {"item": "A"})]
    items, problems = series.feedback_items(design, entries)
    assert problems == [] and [i.actual for i in items] == [1, 2, 3]
    assert items[0] == FeedbackItem(1, series_key='["B"]', event_time=None) and items[1].request_id == "req-1"


def test_problems_name_the_entry_and_the_field() -> None:
    design = _design()
    entries = [
        (1, None, {"item": "A"}),
        (2, None, {"item": "A", "date": "soon"}),
        (3, None, {"item": "A", "date": None}),
    ]
    items, problems = series.feedback_items(design, entries)
    assert [(p.row, p.field) for p in problems] == [(0, "date"), (1, "date"), (2, "date")]
    assert "request_id, or the keys item, date" in problems[0].message and "not a date: 'soon'" in problems[1].message
    assert "is empty" in problems[2].message and items == []


GROUP_COLUMNS = {
    "text": st.lists(st.sampled_from(["A", "B", "85123", None]), min_size=1, max_size=30),
    "whole": st.lists(st.integers(-2, 3), min_size=1, max_size=30),
    "fraction": st.lists(st.sampled_from([1.0, 2.5, float("nan")]), min_size=1, max_size=30),
    "mixed": st.lists(st.sampled_from([1, "1", 1.5, True, None]), min_size=1, max_size=30),
}


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(st.sampled_from(sorted(GROUP_COLUMNS)), min_size=1, max_size=3), data=st.data())
def test_a_tables_series_keys_are_its_rows_keys(kinds: list[str], data: st.DataObject) -> None:
    """A batch writes each row's series as the service writes that row sent alone (the feedback join needs
    one key for one series): text, whole numbers, fractions with gaps, a column of mixed types."""
    n = data.draw(st.integers(1, 30))
    columns = {f"g{i}": data.draw(GROUP_COLUMNS[kind].map(lambda v: (v * 30)[:n])) for i, kind in enumerate(kinds)}
    table = pd.DataFrame(columns)
    if "text" in kinds:
        table = table.astype({f"g{i}": "str" for i, kind in enumerate(kinds) if kind == "text"})
    design = _design(group_columns=list(columns))
    rows = [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in table.astype(object).to_dict("records")]
    assert series.series_keys(design, table) == series.series_of_rows(design, rows)
