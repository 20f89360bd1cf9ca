"""Batch scoring at volume: ``mlcycle predict`` (every row validated and logged) against the floor, measured in
the same run.

    PYTHONPATH=. .venv/bin/python bench/batch.py                  # 10,000,000 rows
    PYTHONPATH=. .venv/bin/python bench/batch.py --rows 1000000   # a quicker look

The example use case is trained and promoted once; the input is the next trading day's rows drawn with
replacement (every row has the history its lags need), written as parquet. Each contender runs in its own
process, so its time and its peak memory (its process tree's, sampled from /proc: mlcycle's log process
counts) are its own:

- **mlcycle** — ``mlcycle predict --input big.parquet --output scored.parquet``: streamed, validated, scored,
  every row logged to the SQLite prediction log, the scored rows written;
- **floor** — the champion's MLflow pyfunc ``predict`` on the same frames (the same record batches, the same
  ``max_batch_rows`` slices, the date column read as a time as its signature asks), with no validation, no
  logging and nothing written.

Target (issue 15): mlcycle within 1.5× the floor's time, peak memory under 2 GiB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BIN = Path(sys.executable).parent

FLOOR = """
import sys, time
import mlflow, pandas as pd, pyarrow.parquet as pq
from mlcycle.deploy.batch import READ_ROWS
model = mlflow.pyfunc.load_model(sys.argv[1])
rows, step = 0, int(sys.argv[3])
with pq.ParquetFile(sys.argv[2]) as parquet:
    for batch in parquet.iter_batches(batch_size=READ_ROWS):
        frame = batch.to_pandas()
        frame["date"] = pd.to_datetime(frame["date"])  # the model's signature takes a time
        for start in range(0, len(frame), step):
            rows += len(model.predict(frame.iloc[start : start + step]))
print(rows)
"""


def tree_mib(pid: int) -> float:
    """Resident MiB of a process and all its descendants now (mlcycle's log process is one), from /proc."""
    try:
        with open(f"/proc/{pid}/status") as status:
            kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        with open(f"/proc/{pid}/task/{pid}/children") as listed:
            children = [int(c) for c in listed.read().split()]
    except (OSError, StopIteration, ValueError):  # gone meanwhile
        return 0.0
    return kib / 1024 + sum(tree_mib(child) for child in children)


def measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak resident MiB, stdout) of one child process; the peak is the larger of the process's own
    (``ru_maxrss``) and the sum over it and its descendants, sampled every 50 ms. Its output goes to files, not
    pipes: a pipe nobody reads while we wait fills up and stops the child (warnings per chunk are enough)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        peak = [0.0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], tree_mib(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        done.set()
        sampler.join()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            err.seek(0)
            raise SystemExit(f"{command[:3]} failed ({process.returncode}): {err.read().decode()[-3000:]}")
        out.seek(0)
        return seconds, max(usage.ru_maxrss / 1024, peak[0]), out.read().decode()


def big_input(uc: object, rows: int, path: Path) -> None:
    """``rows`` rows of the day after training, drawn with replacement, written a million at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = uc.data  # type: ignore[attr-defined]
    spec = uc.spec  # type: ignore[attr-defined]
    day = data.loc[data["date"] > str(spec.data.train_until), "date"].min()
    pool = data[data["date"] == day][["date", "item", "description", "price"]].reset_index(drop=True)
    pool["date"] = pool["date"].dt.strftime("%Y-%m-%d")
    writer = None
    for start in range(0, rows, 1_000_000):
        part = pool.sample(min(1_000_000, rows - start), replace=True, random_state=start).reset_index(drop=True)
        table = pa.Table.from_pandas(part, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    from bench.serve import prepare

    import mlcycle

    folder = prepare()
    uc = mlcycle.UseCase.load(folder)
    source = folder / "big.parquet"
    big_input(uc, args.rows, source)
    uri = f"sqlite:///{uc.state_dir / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}
    step = uc.spec.deployment.max_batch_rows

    floor_s, floor_mib, floor_out = measured(
        [sys.executable, "-c", FLOOR, f"models:/{uc.name}@champion", str(source), str(step)], env
    )
    assert int(floor_out.strip().splitlines()[-1]) == args.rows, floor_out
    ours_s, ours_mib, ours_out = measured(
        [
            str(BIN / "mlcycle"),
            "predict",
            "-u",
            str(folder),
            "--input",
            str(source),
            "--output",
            str(folder / "o.parquet"),
        ],
        env,
    )
    logged = mlcycle.UseCase.load(folder)
    from mlcycle.store import open_store

    count = open_store(logged.state_dir).predictions.count()
    assert count == args.rows, f"{count:,} rows logged of {args.rows:,}: {ours_out}"

    print(f"batch bench: {uc.name}, {args.rows:,} rows of parquet, {os.cpu_count()} cores, chunks of {step:,} rows")
    print(f"{'contender':44s} {'seconds':>9s} {'rows/s':>10s} {'peak MiB':>9s}")
    for label, seconds, mib in (
        ("floor: MLflow pyfunc predict, nothing logged", floor_s, floor_mib),
        ("mlcycle predict: validated, logged, written", ours_s, ours_mib),
    ):
        print(f"{label:44s} {seconds:9.1f} {args.rows / seconds:10,.0f} {mib:9.0f}")
    print(f"{'ratio (mlcycle / floor)':44s} {ours_s / floor_s:8.2f}x {'':10s} {ours_mib / floor_mib:8.2f}x")
    print(f"{count:,} predictions in the log; target: ≤ 1.5× the floor's time, peak < 2,048 MiB")


if __name__ == "__main__":
    main()
