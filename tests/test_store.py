"""One conformance suite every store backend must pass: SQLite (the default) and PostgreSQL (for real)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from mlcycle.deploy.predictlog import PredictionRecord
from mlcycle.exceptions import StoreError
from mlcycle.store import FeedbackItem, Store, open_store
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(tmp_path)
        yield opened
        opened.close()
    else:
        with fresh_postgres_database() as url:
            opened = open_store(tmp_path, url)
            yield opened
            opened.close()


def _record(i: int, version: str = "1", when: datetime | None = None) -> PredictionRecord:
    return PredictionRecord(
        request_id=f"req-{i:05d}",
        model_name="store-sales",
        model_version=version,
        inputs={"date": "2011-09-01", "item": "85123A", "price": 2.55 + i, "promo": None},
        output=40.0 + i,
        latency_ms=1.5,
        series_key='["85123A"]',
        event_time=datetime(2011, 9, 1) + timedelta(days=i),
        **({"created_at": when} if when else {}),
    )


def test_a_batch_is_written_and_read_back(store: Store) -> None:
    store.log_predictions([_record(i) for i in range(50)])
    assert store.count_predictions() == 50
    one = store.prediction("req-00007")
    assert one is not None and one["output"] == 47.0 and one["inputs"]["item"] == "85123A"
    assert one["inputs"]["promo"] is None
    frame = next(store.predictions_frame())
    assert len(frame) == 50 and set(frame["model_version"]) == {"1"}
    wide = store.inputs_frame(["req-00001", "req-00002"])
    assert list(wide.loc["req-00002", ["item", "price"]]) == ["85123A", 4.55]


def test_migrations_are_idempotent(store: Store) -> None:
    store.migrate()
    store.migrate()
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM mlcycle_alembic_version")).scalar_one() == "0003"


def test_a_duplicate_request_id_fails_the_whole_batch(store: Store) -> None:
    store.log_predictions([_record(1)])
    with pytest.raises(sa.exc.IntegrityError):
        store.log_predictions([_record(2), _record(1)])
    assert store.count_predictions() == 1 and store.prediction("req-00002") is None


def test_feedback_is_idempotent_and_unknown_ids_are_named(store: Store) -> None:
    store.log_predictions([_record(i) for i in range(3)])
    assert store.add_feedback([FeedbackItem(41, request_id="req-00001")]) == []
    assert store.add_feedback([FeedbackItem(41, request_id="req-00001")]) == []
    assert store.add_feedback([FeedbackItem(43, request_id="req-00001")]) == []  # a correction replaces
    assert store.add_feedback([FeedbackItem(1, request_id="nope"), FeedbackItem(2, request_id="req-00002")]) == ["nope"]
    by_keys = FeedbackItem(12, series_key='["85123A"]', event_time=datetime(2011, 9, 20))
    store.add_feedback([by_keys])
    store.add_feedback([by_keys])
    frame = store.feedback_frame()
    assert len(frame) == 2
    assert frame.loc[frame["request_id"] == "req-00001", "actual"].item() == 43.0


def test_api_keys_store_only_hashes(store: Store) -> None:
    key_id, secret = store.create_key("predict", note="shop tills")
    assert store.key_scope(secret) == "predict" and store.key_scope(secret + "x") is None
    with store.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT hash FROM mlcycle_api_keys")).scalar_one()
    assert secret not in stored and len(stored) == 64
    store.revoke_key(key_id)
    assert store.key_scope(secret) is None and not store.has_keys()
    with pytest.raises(StoreError, match="no active key"):
        store.revoke_key(key_id)
    with pytest.raises(StoreError, match="scope must be one of predict, feedback, admin"):
        store.create_key("root")


def test_retention_prunes_old_rows_but_keeps_registered_versions(store: Store) -> None:
    old = datetime(2020, 1, 1)
    store.log_predictions([_record(1, "1", old), _record(2, "2", old), _record(3, "2")])
    deleted = store.prune(datetime(2021, 1, 1), keep_versions={"1"})
    assert deleted == 1
    assert store.prediction("req-00002") is None and store.prediction("req-00001") is not None
    assert store.inputs_frame(["req-00002"]).empty  # its inputs went with it


def test_concurrent_writers_lose_nothing(store: Store) -> None:
    def write(start: int) -> None:
        for batch in range(5):
            store.log_predictions([_record(start + batch * 10 + i) for i in range(10)])

    threads = [threading.Thread(target=write, args=(t * 1000,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count_predictions() == 200


def test_unreachable_store_says_where(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot reach the monitoring store"):
        open_store(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_windows_reviews_errors_and_status(store: Store) -> None:
    store.log_predictions([_record(i, when=datetime(2026, 1, 1, 12) + timedelta(minutes=i)) for i in range(5)])
    assert store.prediction_span("event") == (datetime(2011, 9, 1), datetime(2011, 9, 5))
    assert store.prediction_span("created") == (datetime(2026, 1, 1, 12), datetime(2026, 1, 1, 12, 4))
    by_event = next(store.predictions_frame(datetime(2011, 9, 2), datetime(2011, 9, 4), by="event"))
    assert list(by_event["request_id"]) == ["req-00001", "req-00002"]
    store.log_errors([(datetime(2026, 1, 1, 12, 1), "/predict", 422), (datetime(2026, 1, 2), "/predict", 500)])
    assert store.request_counts(datetime(2026, 1, 1), datetime(2026, 1, 1, 23)) == (5, 1)
    row = {
        "start": datetime(2011, 8, 29),
        "end": datetime(2011, 9, 5),
        "computed_at": datetime(2026, 1, 1),
        "model_version": "1",
        "predictions": 5,
        "labelled": 0,
        "metric": "mae",
        "metric_value": None,
        "baseline_metric_value": None,
        "realised_value": None,
        "estimated_value": 2927.0,
        "validated_value": None,
        "latency_p95_ms": 1.5,
        "error_rate": 0.2,
        "drifted": 1,
        "details": '{"drift": []}',
    }
    store.save_window(row)
    store.save_window({**row, "end": datetime(2011, 9, 4), "predictions": 4})  # the same window, recomputed
    windows = store.windows()
    assert len(windows) == 1 and windows[0]["predictions"] == 4 and windows[0]["details"] == {"drift": []}
    review = store.add_review("retrain", "1", ["price drifted"], {"labelled": 300})
    store.record_action(review, "retrain", {"new_version": "2"})
    assert store.review(review)["action_detail"] == {"new_version": "2"} and store.reviews()[0]["numbers"] == {
        "labelled": 300
    }
    assert store.get_status("retired") is None
    store.set_status("retired", {"reason": "back to design"})
    assert store.get_status("retired") == {"reason": "back to design"}
    store.set_status("retired", None)
    assert store.get_status("retired") is None
