"""The batch's audit documents: built column by column, they say what a JSON request's rows would say."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

from mlcycle.deploy.scoring import json_documents, json_rows


def per_row(frame: pd.DataFrame) -> list[object]:
    """The reference: a dict and a json.dumps per row."""
    return json.loads(json.dumps(json_rows(frame), default=str))


def test_documents_of_every_kind_of_column_read_back_as_the_rows() -> None:
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime(["2011-09-01", None, "2012-01-01 10:00"], format="ISO8601"),
            "count": [1, 2, 3],
            "price": [0.1, np.nan, np.inf],
            "text": ['a "quoted" b', None, "é\u202e٣"],
            "flag": [True, False, True],
            "mixed": [1, "x", None],
            "nullable": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    documents = json_documents(frame)
    assert [json.loads(d) for d in documents] == per_row(frame)
    assert json.loads(documents[1]) == {
        "when": None,
        "count": 2,
        "price": None,
        "text": None,
        "flag": False,
        "mixed": "x",
        "nullable": None,
    }
    assert json_documents(frame.iloc[:0]) == []


@settings(max_examples=40, deadline=None)
@given(
    data_frames(
        [
            column("a", dtype=float),
            column("b", elements=st.text(max_size=5) | st.none()),
            column("c", dtype=int, elements=st.integers(-(2**40), 2**40)),
        ]
    )
)
def test_documents_match_the_rows_on_any_numbers_and_text(frame: pd.DataFrame) -> None:
    assert [json.loads(d) for d in json_documents(frame)] == per_row(frame)


def test_numbers_repeated_or_signed_zero_are_written_as_dumps_writes_them() -> None:
    """Each distinct number is written once and copied (a batch's prices repeat): the text must stay dumps' own,
    -0.0 apart from 0.0 although they are one value to a hash."""
    frame = pd.DataFrame({"price": [2.95, 0.0, -0.0, 2.95, np.nan, 1e-7, -0.0, 0.0, 1 / 3, np.inf]})
    assert json_documents(frame) == [json.dumps(row) for row in json_rows(frame)]
