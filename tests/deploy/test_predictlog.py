"""Group commit: a lone write waits for one commit; concurrent writes share commits; a bad record fails alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mlcycle.deploy.predictlog import PredictionLog, PredictionRecord
from mlcycle.store import open_store


def record(i: int) -> PredictionRecord:
    return PredictionRecord(f"r{i}", "m", "1", {"x": float(i)}, output=float(i))


def test_a_lone_write_is_committed_before_write_returns(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    log = PredictionLog(store)
    log.write([record(1)])
    assert store.predictions.get("r1") is not None and log.commits == 1
    log.close()


def test_concurrent_writes_share_commits(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    log = PredictionLog(store)
    futures = [log.submit([record(i)]) for i in range(500)]
    for future in futures:
        future.result(timeout=30)
    assert store.predictions.count() == 500
    assert log.commits < 500  # what queued during a commit went into the next one together
    log.close()


def test_one_bad_record_fails_only_its_own_request(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    log = PredictionLog(store)
    log.write([record(1)])
    with log._condition:  # hold the writer so the three submissions land in one group
        futures = [log.submit([record(2)]), log.submit([record(1)]), log.submit([record(3)])]
    assert futures[0].result(timeout=30) is None and futures[2].result(timeout=30) is None
    with pytest.raises(sa.exc.IntegrityError):
        futures[1].result(timeout=30)
    assert store.predictions.count() == 3
    log.close()


def test_close_commits_what_is_queued(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    log = PredictionLog(store)
    futures = [log.submit([record(i)]) for i in range(50)]
    log.close()
    assert all(f.done() for f in futures) and store.predictions.count() == 50
