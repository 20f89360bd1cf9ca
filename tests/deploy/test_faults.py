"""Injected faults against the real server: killed processes, a store that goes away.

The promises: every prediction answered 200 is in the audit log (answered = stored); with
``compliance.audit_log`` the service answers 503 with Retry-After rather than a prediction it could not
log; without it, it answers and counts what went unlogged; when the store comes back the service
recovers without a restart and nothing is stored twice; a dead worker is replaced; a dead parent
takes its workers with it, so the port is free for the next ``mlcycle serve``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case, sales_rows
from tests.servers import children, port_is_free, private_postgres, running


@pytest.fixture()
def use_case(promoted_example: Any, tmp_path: Path) -> Any:
    return copy_use_case(promoted_example[0], tmp_path / "uc")


def set_audit_log(uc: Any, on: bool) -> None:
    design = yaml.safe_load((uc.folder / "mlcycle.yaml").read_text())
    design.setdefault("requirements", {}).setdefault("compliance", {})["audit_log"] = on
    (uc.folder / "mlcycle.yaml").write_text(yaml.safe_dump(design, sort_keys=False))


class Traffic:
    """Clients sending /predict in a loop; what came back, by status, and the request ids answered 200."""

    def __init__(self, port: int, rows: list[dict[str, Any]], clients: int = 4) -> None:
        self.port = port
        self.rows = rows
        self.answered: list[str] = []
        self.statuses: dict[int, int] = {}
        self.retry_after: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def _client(self) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60) as client:
            while not self._stop.is_set():
                try:
                    answer = client.post("/predict", json={"records": self.rows})
                except httpx.HTTPError:
                    time.sleep(0.05)  # a worker died under this connection: the next one is new
                    continue
                with self._lock:
                    self.statuses[answer.status_code] = self.statuses.get(answer.status_code, 0) + 1
                    if answer.status_code == 200:
                        self.answered.extend(answer.json()["request_ids"])
                    elif "retry-after" in answer.headers:
                        self.retry_after.add(answer.headers["retry-after"])

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)

    def count(self, status: int) -> int:
        with self._lock:
            return self.statuses.get(status, 0)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.2)


def test_killed_workers_are_replaced_and_a_killed_parent_takes_them_along(use_case: Any) -> None:
    uc = use_case
    with running(uc.folder, workers=2) as (port, parent):
        wait_for(lambda: len(children(parent.pid)) >= 2, 30, "two workers")
        workers = children(parent.pid)
        with Traffic(port, sales_rows(uc, 2)) as traffic:
            time.sleep(2)
            victim = max(workers)
            os.kill(victim, signal.SIGKILL)
            wait_for(lambda: len(children(parent.pid) - {victim}) >= len(workers), 60, "a new worker")
            before = traffic.count(200)
            wait_for(lambda: traffic.count(200) > before + 20, 60, "answers after the worker was replaced")
            os.kill(parent.pid, signal.SIGKILL)
            wait_for(
                lambda: not any(Path(f"/proc/{w}").exists() for w in children(parent.pid) | workers), 60, "orphans"
            )
        parent.wait(timeout=10)
        wait_for(lambda: port_is_free(port), 60, "the port to be free")
    stored = open_store(uc.state_dir).predictions.ids()
    missing = [r for r in traffic.answered if r not in stored]
    print(f"\nworkers killed: answered {len(traffic.answered)}, stored {len(stored)}, missing {len(missing)}")
    assert len(traffic.answered) > 50 and missing == []
    with running(uc.folder, workers=2, port=port) as (again, _):  # the same port: nothing holds it
        answer = httpx.post(f"http://127.0.0.1:{again}/predict", json={"records": sales_rows(uc, 1)}, timeout=30)
        assert answer.status_code == 200
        assert len(open_store(uc.state_dir).predictions.ids()) == len(stored) + 1


@contextlib.contextmanager
def small_disk(size_mb: int = 8) -> Iterator[Path]:
    """A tmpfs of its own, to fill up: a real 'disk full' for SQLite (needs root, as CI has)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder = Path(f"/tmp/mlcycle-disk-{os.getpid()}-{time.monotonic_ns()}")
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}M", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True, check=False)
    return filler


def health(port: int) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}/health", timeout=30)


def store_goes_away(uc: Any, env: dict[str, str], down: Callable[[], None], up: Callable[[], None]) -> dict[str, Any]:
    """Serve with traffic; take the store down, then bring it back. Returns what the clients saw and the store."""
    with running(uc.folder, env=env) as (port, _), Traffic(port, sales_rows(uc, 2)) as traffic:
        wait_for(lambda: traffic.count(200) > 20, 60, "answers before the fault")
        down()
        refused_before = traffic.count(503)
        wait_for(lambda: health(port).json()["store"]["state"] == "unavailable", 60, "/health to see it")
        during = health(port)
        time.sleep(2)
        answered_down = traffic.count(200)
        time.sleep(2)
        answered_down = traffic.count(200) - answered_down  # answered while the store was surely down
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
        up()
        wait_for(lambda: health(port).json()["store"]["state"] == "ok", 60, "/health to see it back")
        back = traffic.count(200)
        wait_for(lambda: traffic.count(200) > back + 20, 60, "answers after the store came back")
    previous = os.environ.get("MLCYCLE_STORE_URL")
    os.environ.update(env)
    try:
        stored = open_store(uc.state_dir).predictions.ids()
    finally:
        os.environ.pop("MLCYCLE_STORE_URL", None)
        if previous is not None:
            os.environ["MLCYCLE_STORE_URL"] = previous
    unlogged = sum(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("mlcycle_unlogged_predictions_total")
    )
    return {
        "answered": traffic.answered,
        "stored": stored,
        "refused": traffic.count(503) - refused_before,
        "retry_after": traffic.retry_after,
        "during": during,
        "answered_down": answered_down,
        "unlogged": unlogged,
    }


def disk_filled(uc: Any, *, audit_log: bool) -> dict[str, Any]:
    """Serve on SQLite in a small tmpfs, fill the disk, then free it: what the clients saw and what was stored."""
    set_audit_log(uc, audit_log)
    with small_disk() as disk:
        env = {"MLCYCLE_STORE_URL": f"sqlite:///{disk / 'monitor.db'}"}
        filler: list[Path] = []
        return store_goes_away(uc, env, down=lambda: filler.append(fill(disk)), up=lambda: filler[0].unlink())


def assert_nothing_answered_unlogged(seen: dict[str, Any], fault: str) -> None:
    """The audit log's promise: every 200 is stored once, and while the store was down nothing was answered."""
    missing = [r for r in seen["answered"] if r not in seen["stored"]]
    print(
        f"\n{fault}, audit log on: answered {len(seen['answered'])}, stored {len(seen['stored'])}, "
        f"refused 503 {seen['refused']}"
    )
    assert missing == [] and len(seen["answered"]) == len(set(seen["answered"]))
    assert seen["refused"] > 0 and seen["retry_after"] and seen["answered_down"] == 0
    assert seen["during"].status_code == 503


def test_sqlite_disk_full_with_an_audit_log_refuses_then_recovers(use_case: Any) -> None:
    seen = disk_filled(use_case, audit_log=True)
    assert_nothing_answered_unlogged(seen, "SQLite disk full")
    assert "full" in seen["during"].json()["store"]["error"]


def test_sqlite_disk_full_without_an_audit_log_answers_and_counts(use_case: Any) -> None:
    seen = disk_filled(use_case, audit_log=False)
    unlogged = [r for r in seen["answered"] if r not in seen["stored"]]
    print(
        f"\nSQLite disk full, audit log off: answered {len(seen['answered'])}, stored {len(seen['stored'])}, "
        f"unlogged {len(unlogged)} (metrics: {seen['unlogged']:g})"
    )
    assert seen["answered_down"] > 0 and seen["refused"] == 0
    assert seen["during"].status_code == 200 and seen["during"].json()["store"]["state"] == "unavailable"
    assert len(unlogged) > 0 and seen["unlogged"] >= 1
    assert set(seen["stored"]) <= set(seen["answered"])  # nothing stored that was not answered, nothing twice


def test_private_postgresql_stopped_with_an_audit_log_refuses_then_recovers(use_case: Any) -> None:
    set_audit_log(use_case, True)
    with private_postgres() as server:
        seen = store_goes_away(use_case, {"MLCYCLE_STORE_URL": server.url}, down=server.stop, up=server.start)
    assert_nothing_answered_unlogged(seen, "PostgreSQL stopped")
