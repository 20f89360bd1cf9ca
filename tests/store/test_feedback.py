"""The feedback log's contract: idempotent, corrections replace, a batch naming an unknown id stores nothing."""

from __future__ import annotations

from datetime import datetime

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
