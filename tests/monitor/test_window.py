"""Monitoring windows on real served traffic: the grid, storage, drift only while actuals are missing,
a crafted price change raising a drift alert, the error-rate rule, and the report."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mlcycle.contract.spec import parse_duration
from mlcycle.deploy import create_app
from mlcycle.exceptions import UseCaseError
from mlcycle.store import STORE_ENV, open_store
from tests.conftest import fresh_postgres_database
from tests.deploy.conftest import copy_use_case, sales_rows
from tests.monitor.conftest import edit_design, serve_period


def test_durations() -> None:
    assert parse_duration("12h").total_seconds() == 12 * 3600
    assert parse_duration("2w").days == 14
    with pytest.raises(UseCaseError, match="such as 12h, 7d or 2w"):
        parse_duration("7 days")


def test_nothing_logged_is_said_plainly(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    with pytest.raises(UseCaseError, match="no predictions are logged yet"):
        uc.monitor()


def test_weekly_windows_on_a_grid_stored_and_replaced(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    served = serve_period(uc, "2011-08-31", "2011-09-21")
    results = uc.monitor_windows(since="2011-09-01")
    assert [r.start for r in results] == [
        datetime(2011, 8, 29),
        datetime(2011, 9, 5),
        datetime(2011, 9, 12),
        datetime(2011, 9, 19),
    ]
    assert all(r.start.weekday() == 0 for r in results)  # 7-day windows run Monday to Sunday
    assert sum(r.performance.predictions for r in results) == served
    assert sum(r.performance.labelled for r in results) == served
    assert results[-1].end == datetime(2011, 9, 22)  # the open window ends after the latest prediction
    store = open_store(uc.state_dir)
    assert len(store.history.windows()) == 4
    latest = uc.monitor()  # the latest window again: replaces its stored result, adds nothing
    assert latest.start == datetime(2011, 9, 19) and len(store.history.windows()) == 4
    row = store.history.windows()[-1]
    assert row.labelled == latest.performance.labelled and row.metric == "mae"
    assert row.metric_value == pytest.approx(latest.performance.value("mae"))
    assert row.realised_value == pytest.approx(latest.performance.realised_value)
    assert {d["column"] for d in row.details["drift"]} >= {"item", "price", "prediction", "units"}


def test_without_actuals_drift_is_shown_alone(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    serve_period(uc, "2011-08-31", "2011-09-07", feedback=False)
    result = uc.monitor()
    assert result.performance.labelled == 0 and result.performance.metrics == {}
    assert result.performance.realised_value is None and "no actuals yet" in result.performance.note
    levels = {r.column: r.level for r in result.drift.rows}
    assert levels["units"] == "no data"  # no actuals: no target drift, and no number pretending otherwise
    assert {c for c, level in levels.items() if level != "no data"} == {"item", "price", "prediction"}
    assert not any(c.rule in ("performance", "value") for c in result.conditions)


def test_a_price_change_raises_one_drift_alert_and_the_report_shows_it(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")

    def doubled_after_the_12th(rows: Any) -> Any:  # a documented shift: prices doubled from 12 September
        rows.loc[rows["date"] >= "2011-09-12", "price"] *= 2
        return rows

    serve_period(uc, "2011-08-31", "2011-09-25", transform=doubled_after_the_12th)
    results = uc.monitor_windows(since="2011-09-01")
    price = {r.start: next(d for d in r.drift.rows if d.column == "price") for r in results}
    assert not price[datetime(2011, 9, 5)].drifted
    assert price[datetime(2011, 9, 12)].drifted and price[datetime(2011, 9, 19)].drifted
    raised = [e for r in results for e in r.alerts.raised if e["subject"] == "price"]
    assert len(raised) == 1 and raised[0]["at"].startswith("2011-09-19")  # once per episode, at the window's end
    log = (uc.state_dir / "alerts.log").read_text(encoding="utf-8")
    assert log.count('"subject": "price"') == 1
    html = results[-1].report_path.read_text(encoding="utf-8")
    assert 'id="drift"' in html and 'class="alert"' in html and "price drifted" in html and "<svg" in html
    latest = next(d for d in results[-1].drift.rows if d.column == "price")
    with TestClient(
        create_app(uc.workspace, poll_seconds=0.05)
    ) as client:  # the service shows the latest window's drift
        deadline = time.monotonic() + 10
        while 'mlcycle_drift{column="price"' not in client.get("/metrics").text and time.monotonic() < deadline:
            time.sleep(0.05)
        line = next(x for x in client.get("/metrics").text.splitlines() if x.startswith('mlcycle_drift{column="price"'))
        assert float(line.split()[-1]) == pytest.approx(latest.value)


def test_failed_requests_raise_the_error_rate_alert(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    uc = edit_design(uc.folder, lambda d: d["monitoring"].update(errors={"alert_above": 0.2}))
    with TestClient(create_app(uc.workspace, poll_seconds=0.2)) as client:
        for _ in range(6):
            assert client.post("/predict", json={"records": sales_rows(uc, 1)}).status_code == 200
        for _ in range(4):
            bad = [{"date": "2011-09-01", "item": "85123A", "price": "cheap"}]
            assert client.post("/predict", json={"records": bad}).status_code == 422
    result = uc.monitor()
    assert result.errors == 4 and result.error_rate == pytest.approx(0.4)
    assert [e["rule"] for e in result.alerts.raised if e["rule"] == "errors"] == ["errors"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_monitor_runs_at_once_keep_each_window_and_episode_once(
    promoted_example: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """Two `mlcycle monitor` processes over the same weeks at once — cron overlapping a hand-run backfill: both
    succeed, and the store holds each window once and the price episode once, told to the sinks once."""
    with contextlib.ExitStack() as stack:
        if backend == "postgresql":
            monkeypatch.setenv(STORE_ENV, stack.enter_context(fresh_postgres_database()))
        uc = copy_use_case(promoted_example[0], tmp_path / "uc")

        def doubled_after_the_12th(rows: Any) -> Any:
            rows.loc[rows["date"] >= "2011-09-12", "price"] *= 2
            return rows

        serve_period(uc, "2011-08-31", "2011-09-25", transform=doubled_after_the_12th)
        command = [
            str(Path(sys.executable).with_name("mlcycle")),
            "monitor",
            "-u",
            str(uc.folder),
            "--since",
            "2011-09-01",
        ]
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
        outputs = [run.communicate(timeout=300)[0].decode() for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        store = open_store(uc.state_dir)
        starts = [w.start for w in store.history.windows()]
        assert starts == sorted(set(starts)) and len(starts) == 4
        assert [(a.rule, a.subject) for a in store.history.alerts() if a.subject == "price"] == [("drift", "price")]
        log = (uc.state_dir / "alerts.log").read_text(encoding="utf-8")
        assert log.count('"subject": "price"') == 1
        assert sum("price drifted" in output for output in outputs) == 1  # told by the run that opened it
        report = (uc.state_dir / "reports" / "monitoring.html").read_text(encoding="utf-8")
        assert report.rstrip().endswith("</html>") and not list((uc.state_dir / "reports").glob("*.tmp"))
        store.close()
