"""The prediction log's contract: whole batches, immutable rows, retention, failed requests, many writers."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from mlcycle.exceptions import UsageError
from mlcycle.store import PredictionRef, Store, StoredPrediction
from tests.store.conftest import record


def test_a_batch_is_written_and_read_back(store: Store) -> None:
    store.predictions.log([record(i) for i in range(50)])
    assert store.predictions.count() == 50
    one = store.predictions.get("req-00007")
    assert isinstance(one, StoredPrediction)
    assert one is not None and one.output == 47.0 and one.inputs["item"] == "85123A"
    assert one.inputs["promo"] is None
    frame = next(store.predictions.frame())
    assert len(frame) == 50 and set(frame["model_version"]) == {"1"}
    wide = store.predictions.inputs(["req-00001", "req-00002"])
    assert list(wide.loc["req-00002", ["item", "price"]]) == ["85123A", 4.55]
    assert store.predictions.ids() == {f"req-{i:05d}" for i in range(50)}
    assert store.predictions.refs(["req-00003", "nope"]) == [
        PredictionRef("req-00003", '["85123A"]', datetime(2011, 9, 4), "1", 43.0)
    ]


def test_recent_pages_newest_first_and_filters(store: Store) -> None:
    store.predictions.log([record(i) for i in range(30)])
    store.predictions.log([record(i, version="2") for i in range(30, 35)])
    page = store.predictions.recent(limit=10)
    assert [p.request_id for p in page[:3]] == ["req-00034", "req-00033", "req-00032"] and len(page) == 10
    assert [p.request_id for p in store.predictions.recent(limit=2, offset=5)] == ["req-00029", "req-00028"]
    assert {p.model_version for p in store.predictions.recent(limit=100, model_version="2")} == {"2"}
    assert len(store.predictions.recent(limit=100, model_version="1")) == 30
    assert store.predictions.recent(limit=5, source="batch") == []
    assert store.predictions.recent(limit=10, offset=100) == []


def test_records_are_frozen(store: Store) -> None:
    store.predictions.log([record(1)])
    one = store.predictions.get("req-00001")
    with pytest.raises(AttributeError):
        one.output = 0.0  # type: ignore[misc, union-attr]


def test_a_duplicate_request_id_fails_the_whole_batch(store: Store) -> None:
    store.predictions.log([record(1)])
    with pytest.raises(sa.exc.IntegrityError):
        store.predictions.log([record(2), record(1)])
    assert store.predictions.count() == 1 and store.predictions.get("req-00002") is None


def test_retention_prunes_old_rows_but_keeps_registered_versions(store: Store) -> None:
    old = datetime(2020, 1, 1)
    store.predictions.log([record(1, "1", old), record(2, "2", old), record(3, "2")])
    deleted = store.predictions.prune(datetime(2021, 1, 1), keep_versions={"1"})
    assert deleted == 1
    assert store.predictions.get("req-00002") is None and store.predictions.get("req-00001") is not None
    assert store.predictions.inputs(["req-00002"]).empty  # its inputs went with it


def test_concurrent_writers_lose_nothing(store: Store) -> None:
    def write(start: int) -> None:
        for batch in range(5):
            store.predictions.log([record(start + batch * 10 + i) for i in range(10)])

    threads = [threading.Thread(target=write, args=(t * 1000,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.predictions.count() == 200


def test_windows_of_time_and_failed_requests(store: Store) -> None:
    assert store.predictions.span("event") == (None, None)
    store.predictions.log([record(i, when=datetime(2026, 1, 1, 12) + timedelta(minutes=i)) for i in range(5)])
    assert store.predictions.span("event") == (datetime(2011, 9, 1), datetime(2011, 9, 5))
    assert store.predictions.span("created") == (datetime(2026, 1, 1, 12), datetime(2026, 1, 1, 12, 4))
    by_event = next(store.predictions.frame(datetime(2011, 9, 2), datetime(2011, 9, 4), by="event"))
    assert list(by_event["request_id"]) == ["req-00001", "req-00002"]
    with pytest.raises(UsageError, match="by must be 'created' or 'event'"):
        next(store.predictions.frame(by="arrival"))  # type: ignore[arg-type]
    store.predictions.log_errors(
        [(datetime(2026, 1, 1, 12, 1), "/predict", 422), (datetime(2026, 1, 2), "/predict", 500)]
    )
    assert store.predictions.request_counts(datetime(2026, 1, 1), datetime(2026, 1, 1, 23)) == (5, 1)


def test_usage_is_added_up_in_the_store(store: Store) -> None:
    assert store.predictions.usage(datetime(2000, 1, 1)) == (0, 0.0, None)
    store.predictions.log([record(i, when=datetime(2026, 1, 1, 12) + timedelta(minutes=i)) for i in range(5)])
    assert store.predictions.usage(datetime(2026, 1, 1, 12, 2)) == (3, 4.5, datetime(2026, 1, 1, 12, 2))


def test_a_batch_as_columns_is_stored_as_its_records_would_be(store: Store) -> None:
    """log_table (batch scoring's path) and log (the service's) leave the same rows behind."""
    import json

    import pandas as pd

    from mlcycle.store import LOGGED_COLUMNS

    records = [record(i) for i in range(6)]
    records[2].warnings = [{"field": "price", "message": "above the training range"}]
    records[3].explanation = {"sentence": "because"}
    store.predictions.log(records[:3])
    table = pd.DataFrame(
        {
            name: [
                json.dumps(getattr(r, name)) if name in ("inputs", "explanation", "warnings") else getattr(r, name)
                for r in records
            ]
            for name in LOGGED_COLUMNS
        }
    )
    table.loc[[0, 1, 2, 4, 5], "explanation"] = None
    table.loc[[0, 1, 3, 4, 5], "warnings"] = None
    table["request_id"] = [f"tab-{i:05d}" for i in range(6)]
    store.predictions.log_table(table)
    for i in range(3):
        by_record, by_table = store.predictions.get(f"req-{i:05d}"), store.predictions.get(f"tab-{i:05d}")
        assert by_record is not None and by_table is not None
        assert {**vars(by_table), "request_id": by_record.request_id} == vars(by_record)
    assert store.predictions.get("tab-00003").explanation == {"sentence": "because"}  # type: ignore[union-attr]
    assert list(store.predictions.inputs(["tab-00005"]).loc["tab-00005"]) == ["2011-09-01", "85123A", 7.55, None]
    with pytest.raises(sa.exc.IntegrityError):  # one repeated id: none of the batch is written
        store.predictions.log_table(table.assign(request_id=[f"new-{i}" for i in range(5)] + ["tab-00000"]))
    assert store.predictions.count() == 9
