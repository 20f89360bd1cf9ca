"""The monitoring history's contract: windows replaced per start, one open episode per subject, reviews
and what was done about them, use-case status."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mlcycle.exceptions import StoreError
from mlcycle.store import Store, StoredWindow, open_store


def _window(**changes: object) -> StoredWindow:
    window = StoredWindow(
        start=datetime(2011, 8, 29),
        end=datetime(2011, 9, 5),
        computed_at=datetime(2026, 1, 1),
        model_version="1",
        predictions=5,
        labelled=0,
        metric="mae",
        metric_value=None,
        baseline_metric_value=None,
        realised_value=None,
        estimated_value=2927.0,
        validated_value=None,
        latency_p95_ms=1.5,
        error_rate=0.2,
        drifted=1,
        details={"drift": []},
    )
    return dataclasses.replace(window, **changes)  # type: ignore[arg-type]


def test_windows_reviews_and_status(store: Store) -> None:
    store.history.save_window(_window())
    store.history.save_window(_window(end=datetime(2011, 9, 4), predictions=4))  # the same window, recomputed
    store.history.save_window(_window(start=datetime(2011, 9, 5), end=datetime(2011, 9, 12), predictions=7))
    windows = store.history.windows()
    assert len(windows) == 2 and windows[0].predictions == 4 and windows[0].details == {"drift": []}
    assert [w.predictions for w in store.history.windows(last=1)] == [7]
    review = store.history.add_review("retrain", "1", ["price drifted"], {"labelled": 300})
    assert store.history.review(review).action is None  # type: ignore[union-attr]
    store.history.record_action(review, "retrain", {"new_version": "2"})
    stored = store.history.review(review)
    assert stored is not None and stored.action == "retrain" and stored.action_detail == {"new_version": "2"}
    assert store.history.reviews()[0].numbers == {"labelled": 300} and store.history.review(review + 1) is None
    assert store.history.get_status("retired") is None
    store.history.set_status("retired", {"reason": "back to design"})
    store.history.set_status("retired", {"reason": "back to design"})
    assert store.history.get_status("retired") == {"reason": "back to design"}
    store.history.set_status("retired", None)
    assert store.history.get_status("retired") is None


def test_one_open_episode_per_rule_and_subject(store: Store) -> None:
    assert store.history.open_alert("drift", "price", 0.3, 0.1, "price drifted", datetime(2026, 1, 1))
    assert not store.history.open_alert("drift", "price", 0.4, 0.1, "price drifted", datetime(2026, 1, 2))
    assert store.history.open_alert("drift", "units", 0.2, 0.1, "units drifted", datetime(2026, 1, 2))
    assert store.history.close_alert("drift", "price", datetime(2026, 1, 3))
    assert not store.history.close_alert("drift", "price", datetime(2026, 1, 4))
    assert [a.subject for a in store.history.open_alerts()] == ["units"]
    episodes = store.history.alerts()
    assert [(a.subject, a.closed_at) for a in episodes] == [("price", datetime(2026, 1, 3)), ("units", None)]
    assert episodes[0].value == 0.3 and episodes[0].message == "price drifted"


def test_writers_at_once_open_one_episode_and_keep_one_window(store: Store) -> None:
    """Two monitoring runs at once (here eight writers, each on its own connection, released together) open the
    episode once and keep the window once: the database decides, so no writer fails and none doubles a row."""
    writers = 8
    together = threading.Barrier(writers)

    def monitor_once(i: int) -> bool:
        together.wait()
        opened = store.history.open_alert("drift", "price", 0.3 + i, 0.1, "price drifted", datetime(2026, 1, 1))
        store.history.save_window(_window(predictions=i))
        return opened

    with ThreadPoolExecutor(writers) as pool:
        opened = list(pool.map(monitor_once, range(writers)))
    assert opened.count(True) == 1
    assert len(store.history.alerts()) == 1 and len(store.history.open_alerts()) == 1
    assert [w.predictions in range(writers) for w in store.history.windows()] == [True]


def test_an_alert_a_sink_did_not_take_waits_until_it_does(store: Store) -> None:
    first = store.history.queue_alert("webhook http://hooks/a", {"id": "e1", "state": "raised"}, "timed out")
    store.history.queue_alert("log /tmp/alerts.log", {"id": "e2"}, "disk full")
    store.history.queue_alert("webhook http://hooks/a", {"id": "e3", "state": "cleared"}, "HTTP 503")
    assert [q.event["id"] for q in store.history.queued_alerts("webhook http://hooks/a")] == ["e1", "e3"]
    store.history.alert_sent(first, "refused")
    waiting = store.history.queued_alerts()[0]
    assert (waiting.event, waiting.attempts, waiting.last_error) == ({"id": "e1", "state": "raised"}, 2, "refused")
    store.history.alert_sent(first)
    store.history.alert_sent(first)  # another run delivered it first: no error
    assert [q.event["id"] for q in store.history.queued_alerts()] == ["e2", "e3"]


def test_actions_are_recorded_before_they_run_and_closed_after(store: Store) -> None:
    first = store.history.start_action("key k1 (ops)", "rollback", {"reason": "bad week"})
    second = store.history.start_action("local user ann", "retrain", {"trials": 5})
    assert [(a.actor, a.action, a.outcome) for a in store.history.actions()] == [
        ("key k1 (ops)", "rollback", "started"),
        ("local user ann", "retrain", "started"),
    ]
    store.history.end_action(first, "done", {"from": "2", "to": "1"})
    store.history.end_action(second, "failed", {"error": "no data"})
    done, failed = store.history.actions()
    assert done.outcome == "done" and done.detail == {"reason": "bad week", "from": "2", "to": "1"}
    assert done.ended_at is not None and failed.detail["error"] == "no data"
    assert [a.id for a in store.history.actions(last=1)] == [second]
    with pytest.raises(StoreError, match="no action 999"):
        store.history.end_action(999, "done", {})
    with pytest.raises(StoreError, match="'done' or 'failed'"):
        store.history.end_action(first, "maybe", {})


def test_spend_is_kept_in_order_and_refuses_negative_amounts(store: Store) -> None:
    first = store.history.add_spend("compute", "search", 12.5, 2.08, "local user ann", run_id="abc")
    store.history.add_spend("team", "work", 1.5, 900.0, "local user bob", note="feature review with the buyers")
    entries = store.history.spend()
    assert [(e.kind, e.what, e.quantity, e.cost) for e in entries] == [
        ("compute", "search", 12.5, 2.08),
        ("team", "work", 1.5, 900.0),
    ]
    assert entries[0].id == first and entries[0].run_id == "abc" and entries[1].note.startswith("feature review")
    with pytest.raises(StoreError, match="cannot be negative"):
        store.history.add_spend("team", "work", -1, 0, "local user ann")
    with pytest.raises(StoreError, match="'compute' or 'team'"):
        store.history.add_spend("lunch", "work", 1, 0, "local user ann")
    assert len(store.history.spend()) == 2


def test_one_holder_of_a_store_lock_at_a_time_and_a_killed_holder_lets_go(store: Store, tmp_path: Path) -> None:
    with store.exclusive("monitor"):
        with pytest.raises(StoreError, match="another monitor run has held the store"):
            with store.exclusive("monitor", wait_seconds=0.3):
                pass
        with store.exclusive("retrain", wait_seconds=0):  # another name, another lock
            pass
    url = store.engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    fork = multiprocessing.get_context("fork")
    held = fork.Event()
    holder = fork.Process(target=_hold, args=(tmp_path, url, held))  # its own process, its own engine
    holder.start()
    assert held.wait(30)
    with pytest.raises(StoreError):
        with store.exclusive("monitor", wait_seconds=0.3):
            pass
    os.kill(holder.pid, signal.SIGKILL)  # type: ignore[arg-type]
    holder.join()
    with store.exclusive("monitor", wait_seconds=5):  # SIGKILL left no stale lock behind
        pass


def _hold(folder: Path, url: str, held: Any) -> None:
    with open_store(folder, url).exclusive("monitor"):
        held.set()
        time.sleep(600)
