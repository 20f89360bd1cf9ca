"""mlcycle's service vs `mlflow models serve`, same registered model, same cores, same worker count.

    .venv/bin/python bench/serve.py [--requests 600] [--workers 1]

Drives both servers on 127.0.0.1 with the same bounded load through MLflow's scoring format
(``/invocations``, ``dataframe_split``): single-row requests at concurrency 1 and 16 over
keep-alive connections, and 1,000-row batches. mlcycle logs every prediction (as in
production); MLflow logs nothing. Prints requests/s, p50 and p99 for each, the ratios, and
the in-process floor (one row through the model, no HTTP).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(port: int, process: subprocess.Popen[bytes], path: str = "/ping") -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if process.poll() is not None:
                raise SystemExit(
                    f"server exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
                ) from None
            time.sleep(0.3)
    raise SystemExit("server did not start")


def load(port: int, bodies: list[bytes], concurrency: int) -> tuple[float, np.ndarray, int]:
    """Send every body once, ``concurrency`` keep-alive connections at a time.

    Returns (seconds, latencies in ms, errors)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = iter(range(len(bodies)))

    def worker() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        bad = 0
        while True:
            with lock:
                i = next(queue, None)
            if i is None:
                break
            started = time.perf_counter()
            connection.request("POST", "/invocations", body=bodies[i], headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            mine.append((time.perf_counter() - started) * 1000)
            bad += answer.status != 200
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, np.array(latencies), errors


def prepare() -> Path:
    """A fresh example use case with a champion (its history ends at the training cut-off)."""
    import mlcycle
    from mlcycle.examples import write

    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    write("sales", folder)
    uc = mlcycle.UseCase.load(folder)
    uc.experiment(trials=6, report=False)
    uc.promote()
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--workers", type=int, default=1, help="worker processes for both servers")
    args = parser.parse_args()
    import mlcycle

    folder = prepare()
    uc = mlcycle.UseCase.load(folder)
    day = uc.data.loc[uc.data["date"] > str(uc.spec.data.train_until), "date"].min()  # the next trading day
    rows = uc.data[uc.data["date"] == day][["date", "item", "price"]].copy()
    rows["date"] = rows["date"].dt.strftime("%Y-%m-%d")
    columns = list(rows.columns)
    singles = [
        json.dumps({"dataframe_split": {"columns": columns, "data": [row]}}).encode()
        for row in (rows.values.tolist() * (args.requests // len(rows) + 1))[: args.requests]
    ]
    big = rows.sample(1000, replace=True, random_state=0).values.tolist()
    batches = [json.dumps({"dataframe_split": {"columns": columns, "data": big}}).encode()] * 30

    floor = in_process_floor(uc, rows.iloc[[0]])
    uri = f"sqlite:///{uc.state_dir / 'mlflow.db'}"
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_REGISTRY_URI": uri,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    servers = {
        "mlcycle": (
            [str(BIN / "mlcycle"), "serve", "-u", str(folder), "--workers", str(args.workers)],
            "--port",
            "/health",
        ),
        "mlflow": (
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{uc.name}@champion",
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "--workers",
                str(args.workers),
            ],
            "--port",
            "/ping",
        ),
    }
    results: dict[str, dict[str, tuple[float, float, float, int]]] = {}
    for name, (command, port_flag, health) in servers.items():
        port = free_port()
        process = subprocess.Popen(
            [*command, port_flag, str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait(port, process, health)
            load(port, singles[:50], 1)  # warm-up
            results[name] = {}
            for label, bodies, concurrency in (
                ("1 row, concurrency 1", singles, 1),
                ("1 row, concurrency 16", singles, 16),
                ("1,000 rows, concurrency 1", batches, 1),
            ):
                seconds, latencies, errors = load(port, bodies, concurrency)
                results[name][label] = (
                    len(bodies) / seconds,
                    float(np.percentile(latencies, 50)),
                    float(np.percentile(latencies, 99)),
                    errors,
                )
        finally:
            process.terminate()
            process.wait(timeout=30)

    print(
        f"serving bench: {uc.name}, {os.cpu_count()} cores, {args.workers} worker(s) each; "
        "mlcycle logs every prediction"
    )
    print(f"in-process floor, one row: {floor[0]:.3f} ms through the Pipeline, {floor[1]:.3f} ms through the lean path")
    print(f"{'scenario':28s} {'server':8s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>6s}")
    for label in results["mlcycle"]:
        for name in ("mlcycle", "mlflow"):
            rps, p50, p99, errors = results[name][label]
            print(f"{label:28s} {name:8s} {rps:8.1f} {p50:8.2f} {p99:8.2f} {errors:6d}")
        m, f = results["mlcycle"][label], results["mlflow"][label]
        print(f"{'':28s} {'ratio':8s} {m[0] / f[0]:7.2f}x {m[1] / f[1]:7.2f}x {m[2] / f[2]:7.2f}x   (mlcycle / mlflow)")


def in_process_floor(uc: object, row: object) -> tuple[float, float]:
    from mlcycle.deploy.serving import Serving
    from mlcycle.store import open_store

    serving = Serving(uc, open_store(uc.state_dir))  # type: ignore[arg-type]
    loaded = serving.load_champion()
    record = row.assign(date=row["date"].astype(str)).to_dict("records")  # type: ignore[attr-defined]
    times = []
    for call in (lambda: loaded.model.predict_value(row), lambda: loaded.fast.predict(record)):  # type: ignore[union-attr]
        call()
        started = time.perf_counter()
        for _ in range(200):
            call()
        times.append((time.perf_counter() - started) / 200 * 1000)
    return times[0], times[1]


if __name__ == "__main__":
    main()
