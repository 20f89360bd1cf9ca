"""The feedback log's contract: idempotent, corrections replace, a batch naming an unknown id stores nothing."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from mlcycle.store import FeedbackItem, Store
from tests.store.conftest import record


def test_feedback_is_idempotent_and_unknown_ids_are_named(store: Store) -> None:
    store.predictions.log([record(i) for i in range(3)])
    assert store.feedback.add([FeedbackItem(41, request_id="req-00001")]) == []
    assert store.feedback.add([FeedbackItem(41, request_id="req-00001")]) == []
    assert store.feedback.add([FeedbackItem(43, request_id="req-00001")]) == []  # a correction replaces
    assert store.feedback.add([FeedbackItem(1, request_id="nope"), FeedbackItem(2, request_id="req-00002")]) == ["nope"]
    by_keys = FeedbackItem(12, series_key='["85123A"]', event_time=datetime(2011, 9, 20))
    store.feedback.add([by_keys])
    store.feedback.add([by_keys])
    frame = store.feedback.frame()
    assert len(frame) == 2
    assert frame.loc[frame["request_id"] == "req-00001", "actual"].item() == 43.0


def test_labels_are_kept_as_text_and_followed_by_id(store: Store) -> None:
    store.predictions.log([record(i) for i in range(3)])
    store.feedback.add([FeedbackItem("Yes", request_id="req-00000"), FeedbackItem(True, request_id="req-00001")])
    first = int(store.feedback.frame()["id"].min())
    rows = store.feedback.since(first - 1)
    assert list(rows["actual_label"]) == ["Yes", "True"] and rows["actual"].tolist()[1] == 1.0
    store.feedback.add([FeedbackItem(5, request_id="req-00002")])
    newer = store.feedback.since(int(rows["id"].max()))
    assert list(newer["request_id"]) == ["req-00002"]


def test_each_prediction_is_read_with_the_actual_that_came_back(store: Store) -> None:
    """The store joins the feedback: by request id first, else by series and event time; rows without one are
    kept (null) unless only the labelled are asked for; the window and the chunks hold as in ``frame``."""
    store.predictions.log([record(i) for i in range(4)])  # one a day from 2011-09-01, series ["85123A"]
    store.feedback.add([FeedbackItem(7, request_id="req-00001"), FeedbackItem("Yes", request_id="req-00002")])
    store.feedback.add(
        [
            FeedbackItem(99, series_key='["85123A"]', event_time=datetime(2011, 9, 3)),  # req-00002's own wins
            FeedbackItem(12, series_key='["85123A"]', event_time=datetime(2011, 9, 4)),
        ]
    )
    chunks = list(store.predictions.labelled(by="event", chunk_rows=3))
    assert [len(c) for c in chunks] == [3, 1]
    every = pd.concat(chunks, ignore_index=True)
    assert list(every["request_id"]) == [f"req-{i:05d}" for i in range(4)]
    assert every["actual"].tolist()[1::2] == [7.0, 12.0] and every["actual"].isna().tolist()[::2] == [True, True]
    assert every["actual_label"].fillna("—").tolist() == ["—", "—", "Yes", "—"]
    only = pd.concat(store.predictions.labelled(by="event", only_labelled=True))
    assert list(only["request_id"]) == ["req-00001", "req-00002", "req-00003"]
    window = pd.concat(store.predictions.labelled(datetime(2011, 9, 2), datetime(2011, 9, 4), by="event"))
    assert list(window["request_id"]) == ["req-00001", "req-00002"]
    assert set(window.columns) == {*next(store.predictions.frame()).columns, "actual", "actual_label"}
