"""The dashboard at volume: the experiments page with 1,000 and 10,000 tracked trials, and the monitoring
page with 500 windows — mlcycle's server time beside MLflow's own ways to list the same runs, measured in
the same run on the same SQLite store.

    .venv/bin/python bench/ui.py                  # 1,000 and 10,000 trials, 500 windows (about 5 minutes)
    .venv/bin/python bench/ui.py --runs 1000      # a quicker look

Contenders, each asked for the first page (50 trials, best net value first) and for a sort by another
metric (MAE, lowest first):

- **mlcycle** — ``GET /uc/<use case>/experiments`` on the dashboard app (in process, through the ASGI
  stack: routing, the leaderboard's queries, the template), i.e. the server's time for the whole page.
- **MLflow UI endpoint** — ``POST /ajax-api/2.0/mlflow/runs/search`` on ``mlflow server`` (what ``mlflow
  ui`` starts) over the same store, with the same order and ``max_results`` 50, timed from this process
  over loopback (a few tenths of a millisecond of it are the socket).
- **mlflow.search_runs** — the Python API a notebook uses: every run of the experiment as a DataFrame
  (its default), and the paged form (``max_results=50`` with the same order).

Trials are logged as mlcycle logs them (the example's metrics of three views, params, tags); each figure
is the median of 7 calls after 2 warm-ups.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPEATS, WARMUP, PAGE = 7, 2, 50
METRICS = ["mae", "rmse", "mape", "bias", "stockout_rate", "overstock_units", "service_level", "net_value"]


def timed(call: Callable[[], object]) -> float:
    """Median milliseconds of ``call`` over REPEATS runs after WARMUP."""
    for _ in range(WARMUP):
        call()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def log_trials(uri: str, experiment: str, count: int, start: int, seed: int) -> str:
    """``count`` trials numbered from ``start``, with mlcycle's params, metrics (and their _std and
    baseline_ twins) and tags; returns the experiment id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    parent = client.create_run(experiment_id, run_name="search", tags={"mlcycle.kind": "search"}).info.run_id
    rng = np.random.default_rng(seed)
    for number in range(start, start + count):
        now = int(time.time() * 1000)
        mae = float(rng.uniform(90, 140))
        values = {m: float(rng.normal(1, 0.2)) for m in METRICS} | {"mae": mae, "net_value": 9000 - 60 * mae}
        metrics = [Metric(k, v, now, 0) for k, v in values.items()]
        metrics += [Metric(f"{k}_std", abs(v) * 0.1, now, 0) for k, v in values.items()]
        metrics += [Metric(f"baseline_{k}", v * 1.2, now, 0) for k, v in values.items()]
        metrics += [Metric("fit_seconds", 1.0, now, 0), Metric("latency_p95_ms", 2.0, now, 0)]
        params = [
            Param("algorithm", ["lightgbm", "ridge", "random_forest"][number % 3]),
            Param("variant", ["base", "calendar", "with_lags"][number % 3]),
            *(Param(f"hp_{i}", f"{rng.uniform():.4f}") for i in range(6)),
        ]
        tags = [
            RunTag("mlflow.parentRunId", parent),
            RunTag("mlcycle.kind", "trial"),
            RunTag("mlcycle.state", "complete"),
            RunTag("mlcycle.trial", str(number)),
            RunTag("mlcycle.feasible", str(mae < 120).lower()),
            RunTag("mlcycle.spec", json.dumps({"variant": "base", "algorithm": "ridge", "params": {}})),
        ]
        run = client.create_run(experiment_id, run_name=f"trial-{number:05d}")
        client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=tags)
        client.set_terminated(run.info.run_id, "FINISHED")
    return experiment_id


def start_mlflow_server(uri: str, artifacts: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mlflow = Path(sys.executable).with_name("mlflow")
    process = subprocess.Popen(
        [
            str(mlflow),
            "server",
            "--backend-store-uri",
            uri,
            "--default-artifact-root",
            artifacts.as_uri(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2).read()
            return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("mlflow server did not start within 120 s")


def ajax_search(url: str, experiment_id: str, order: str) -> Callable[[], object]:
    body = json.dumps({"experiment_ids": [experiment_id], "max_results": PAGE, "order_by": [order]}).encode()

    def call() -> object:
        request = urllib.request.Request(
            f"{url}/ajax-api/2.0/mlflow/runs/search", body, {"Content-Type": "application/json"}
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=120).read())
        assert len(answer["runs"]) == PAGE
        return answer

    return call


def windows_store(state_dir: Path, count: int) -> None:
    """``count`` weekly monitoring windows with 12 drift rows each, as `mlcycle monitor` stores them."""
    from mlcycle.store import StoredWindow, open_store

    store = open_store(state_dir)
    start = datetime(2020, 1, 6)
    rng = np.random.default_rng(1)
    for i in range(count):
        begin = start + timedelta(days=7 * i)
        drift = [
            {
                "column": f"feature_{c:02d}",
                "statistic": "wasserstein",
                "value": float(rng.uniform(0, 0.2)),
                "threshold": 0.1,
                "warn": 0.05,
                "level": "ok",
                "rows": 120,
            }
            for c in range(12)
        ]
        store.history.save_window(
            StoredWindow(
                begin,
                begin + timedelta(days=7),
                datetime(2026, 1, 1),
                "1",
                120,
                120,
                "mae",
                float(rng.uniform(80, 120)),
                100.0,
                float(rng.uniform(1000, 5000)),
                2927.0,
                5077.0,
                1.2,
                0.0,
                1,
                {"drift": drift},
            )
        )


def measure(client: Any, uri: str, experiment_id: str, total: int, state: Path) -> list[tuple[str, ...]]:
    """The four contenders on the store as it is now (``total`` trials)."""
    import mlflow

    first = f"/uc/shop/experiments?state=any&size={PAGE}"
    by_mae = f"/uc/shop/experiments?state=any&size={PAGE}&sort=metric:mae&desc=0"
    assert client.get(first).status_code == 200 and f"{total:,} trials" in client.get(first).text
    ours = (timed(lambda: client.get(first)), timed(lambda: client.get(by_mae)))
    process, url = start_mlflow_server(uri, state / "artifacts")
    try:
        ajax = (
            timed(ajax_search(url, experiment_id, "metrics.`net_value` DESC")),
            timed(ajax_search(url, experiment_id, "metrics.`mae` ASC")),
        )
    finally:
        process.terminate()
        process.wait(30)
    mlflow.set_tracking_uri(uri)
    paged = (
        timed(lambda: mlflow.search_runs([experiment_id], max_results=PAGE, order_by=["metrics.net_value DESC"])),
        timed(lambda: mlflow.search_runs([experiment_id], max_results=PAGE, order_by=["metrics.mae ASC"])),
    )
    everything = timed(lambda: mlflow.search_runs([experiment_id]))
    return [
        (f"{total:,}", "mlcycle experiments page", f"{ours[0]:.1f}", f"{ours[1]:.1f}", "1.0×"),
        (
            f"{total:,}",
            "MLflow UI endpoint (runs/search, 50)",
            f"{ajax[0]:.1f}",
            f"{ajax[1]:.1f}",
            f"{min(ajax[0] / ours[0], ajax[1] / ours[1]):.1f}×",
        ),
        (
            f"{total:,}",
            "mlflow.search_runs, 50 ordered",
            f"{paged[0]:.1f}",
            f"{paged[1]:.1f}",
            f"{min(paged[0] / ours[0], paged[1] / ours[1]):.1f}×",
        ),
        (
            f"{total:,}",
            "mlflow.search_runs, all (default)",
            f"{everything:.1f}",
            "—",
            f"{everything / ours[0]:.1f}×",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--windows", type=int, default=500)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from mlcycle.examples import write
    from mlcycle.ui import create_app

    work = Path(tempfile.mkdtemp(prefix="mlcycle-bench-ui-"))
    folder = work / "shop"
    write("sales", folder)
    state = folder / ".mlcycle"
    state.mkdir()
    uri = f"sqlite:///{state / 'mlflow.db'}"
    name = "store-sales"
    client = TestClient(create_app(folder))
    rows: list[tuple[str, ...]] = []
    logged = 0
    try:
        for total in sorted(args.runs):
            started = time.perf_counter()
            experiment_id = log_trials(uri, name, total - logged, logged, seed=total)
            print(f"logged {total - logged:,} trials in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            logged = total
            rows += measure(client, uri, experiment_id, total, state)
        windows_store(state, args.windows)
        monitoring = timed(lambda: client.get("/uc/shop/monitoring"))
        every = timed(lambda: client.get("/uc/shop/monitoring?every=1"))
        overview = timed(lambda: client.get("/uc/shop/"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{'trials':>7}  {'contender':38} {'first page ms':>14} {'sort by mae ms':>15}  slower than mlcycle")
    for total, who, a, b, ratio in rows:
        print(f"{total:>7}  {who:38} {a:>14} {b:>15}  {ratio:>8}")
    print(
        f"\nmonitoring page, {args.windows} windows × 12 features: {monitoring:.1f} ms (tables: the latest 52 windows;"
        f" ?every=1, all of them: {every:.1f} ms); overview: {overview:.1f} ms"
    )
    print(
        "targets: experiments page under 300 ms and ≥ 10× faster than MLflow's listing at 10,000;"
        " monitoring under 300 ms"
    )


if __name__ == "__main__":
    main()
