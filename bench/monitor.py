"""Monitoring at volume: ``mlcycle monitor`` over a prediction log of ten million rows on PostgreSQL, against
the floor of reading those rows once, measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/monitor.py                  # 10,000,000 logged predictions
    PYTHONPATH=. .venv/bin/python bench/monitor.py --rows 1000000   # a quicker look

The example use case is trained and promoted once (its champion's reference profile and estimator are what
monitoring compares with). A fresh PostgreSQL database (``--admin-url``, the machine's by default; dropped at
the end) receives the log, written with PostgreSQL's ``COPY`` through the store's own ``log_table``: a year of
days after the training cut-off, the example's 20 products, every product-day predicted many times (as stores
ordering the same products would), each row with its inputs document; the actuals come back once per
product and day, by series and time, as a shop's sales feed sends them. Each contender runs in its own process,
so its time and peak memory (``ru_maxrss`` from ``os.wait4``) are its own:

- **floor** — every logged row read once, in chunks, with pandas ``read_sql`` (no computation at all);
- **mlcycle monitor** — the latest window and the one before (what a scheduled run computes);
- **mlcycle monitor --since** — every window of the log, oldest first (a backfill: all the rows).

Target (issue 15): the scheduled run under two minutes, every run under 2 GiB.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import uuid
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from bench.batch import BIN, measured

ADMIN_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
DAYS = 364  # 52 weekly windows

FLOOR = """
import sys
import pandas as pd, sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
rows = 0
with engine.connect().execution_options(stream_results=True, max_row_buffer=200_000) as connection:
    columns = "request_id, created_at, model_version, series_key, event_time, output, inputs"
    query = f"SELECT {columns} FROM mlcycle_predictions"
    for chunk in pd.read_sql_query(query, connection, chunksize=200_000):
        rows += len(chunk)
print(rows)
"""


def fill(uc: object, url: str, rows: int) -> datetime:
    """``rows`` predictions over ``DAYS`` days after training, and one actual per product and day; returns the
    first day."""
    from mlcycle.store import FeedbackItem, open_store
    from mlcycle.store.records import series_key

    data = uc.data  # type: ignore[attr-defined]
    name = uc.name  # type: ignore[attr-defined]
    items = sorted(data["item"].astype(str).unique())
    prices = data.groupby(data["item"].astype(str))["price"].median()
    first = datetime(2011, 9, 1)
    per_day = rows // DAYS
    rng = np.random.default_rng(0)
    store = open_store(uc.state_dir, url)  # type: ignore[attr-defined]
    try:
        for day in range(DAYS):
            when = first + timedelta(days=day)
            n = per_day + (rows - per_day * DAYS if day == DAYS - 1 else 0)
            item = np.array(items)[np.arange(n) % len(items)]
            price = prices.reindex(item).to_numpy() * rng.uniform(0.9, 1.1, n)
            date = when.strftime("%Y-%m-%d")
            inputs = (
                f'{{"date": "{date}", "item": "'
                + pd.Series(item)
                + '", "price": '
                + pd.Series(price.round(2)).astype(str)
                + "}"
            )
            store.predictions.log_table(
                pd.DataFrame(
                    {
                        "request_id": [uuid.UUID(int=day << 64 | i).hex for i in range(n)],
                        "created_at": when - timedelta(hours=12),
                        "model_name": name,
                        "model_version": "1",
                        "source": "batch",
                        "series_key": [series_key([i]) for i in item],
                        "event_time": when,
                        "inputs": inputs,
                        "output": rng.gamma(2.0, 60.0, n),
                        "output_label": None,
                        "explanation": None,
                        "latency_ms": rng.uniform(0.5, 3.0, n),
                        "warnings": None,
                    }
                )
            )
            sold = rng.gamma(2.0, 60.0, len(items)).round()
            store.feedback.add(
                [FeedbackItem(float(v), series_key=series_key([i]), event_time=when) for i, v in zip(items, sold)]
            )
        assert store.predictions.count() == rows
    finally:
        store.close()
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--admin-url", default=ADMIN_URL, help="a PostgreSQL where a database may be created")
    parser.add_argument("--no-backfill", action="store_true", help="leave out `monitor --since` (every window)")
    args = parser.parse_args()
    import sqlalchemy as sa
    from bench.serve import prepare

    import mlcycle

    folder = prepare()
    uc = mlcycle.UseCase.load(folder)
    database = f"mlcycle_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    url = args.admin_url.rsplit("/", 1)[0] + f"/{database}"
    try:
        first = fill(uc, url, args.rows)
        uri = f"sqlite:///{uc.state_dir / 'mlflow.db'}"
        env = {**os.environ, "MLCYCLE_STORE_URL": url, "MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}
        monitor = [str(BIN / "mlcycle"), "monitor", "-u", str(folder)]
        floor_s, floor_mib, floor_out = measured([sys.executable, "-c", FLOOR, url], env)
        assert int(floor_out.strip().splitlines()[-1]) == args.rows, floor_out
        latest_s, latest_mib, _ = measured(monitor, env)
        every_s, every_mib = (
            (math.nan, math.nan) if args.no_backfill else measured([*monitor, "--since", f"{first:%Y-%m-%d}"], env)[:2]
        )
        print(
            f"monitor bench: {uc.name}, {args.rows:,} predictions over {DAYS} days on PostgreSQL, "
            f"{os.cpu_count()} cores"
        )
        print(f"{'contender':52s} {'seconds':>9s} {'peak MiB':>9s}")
        for label, seconds, mib in (
            ("floor: every logged row read once (pandas)", floor_s, floor_mib),
            ("mlcycle monitor: the latest window and the one before", latest_s, latest_mib),
            ("mlcycle monitor --since: every window of the log", every_s, every_mib),
        ):
            print(f"{label:52s} {seconds:9.1f} {mib:9.0f}")
        print(f"{'ratio (every window / floor)':52s} {every_s / floor_s:8.2f}x")
        print("target: the scheduled run under 120 s, every run under 2,048 MiB")
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
