"""Shared fixtures: the real bundled example, and small crafted use cases built from dicts."""

from __future__ import annotations

import contextlib
import copy
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mlcycle
from mlcycle.examples import write as write_example
from tests.cpython_106905 import tolerate_cpython_106905


@pytest.fixture(scope="session")
def example_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sales use case, written once per session. Tests must not modify it."""
    folder = tmp_path_factory.mktemp("example")
    write_example("sales", folder)
    return folder


@pytest.fixture(scope="session")
def example_design_dict(example_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((example_dir / "mlcycle.yaml").read_text())


@pytest.fixture()
def example_copy(tmp_path: Path) -> Path:
    """A private copy of the example, free to modify."""
    write_example("sales", tmp_path)
    return tmp_path


def small_sales(days: int = 60, items: tuple[str, ...] = ("A", "B"), seed: int = 0) -> pd.DataFrame:
    """A small daily panel with a weekly rhythm, like the example but crafted."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    rows = []
    for item in items:
        for d in dates:
            weekly = 10 + 5 * (d.day_of_week == 5)
            rows.append(
                {
                    "date": d.strftime("%Y-%m-%d"),
                    "item": item,
                    "price": 2.0 + rng.normal(0, 0.1),
                    "units": int(rng.poisson(weekly)),
                }
            )
    return pd.DataFrame(rows)


def minimal_design(**overrides: Any) -> dict[str, Any]:
    design: dict[str, Any] = {
        "name": "small-sales",
        "task": "regression",
        "target": "units",
        "time_column": "date",
        "group_columns": ["item"],
        "data": {"source": "data.csv"},
        "value": {
            "predictions_per_period": 60,
            "cost": {"under_per_unit": 2.0, "over_per_unit": 1.0},
            "running_cost_per_period": 10,
            "development_budget": 100,
        },
        "experiments": {"data_variants": {"basic": {"features": ["item", "price", "day_of_week"]}}},
    }
    for key, value in overrides.items():
        design[key] = value
    return design


@pytest.fixture()
def make_use_case(tmp_path: Path) -> Callable[..., Path]:
    """Write a design dict (and a data frame) into a fresh folder; returns the folder."""
    counter = iter(range(1000))

    def make(design: dict[str, Any] | None = None, frame: pd.DataFrame | None = None, source: str = "data.csv") -> Path:
        folder = tmp_path / f"uc{next(counter)}"
        folder.mkdir()
        design = copy.deepcopy(design if design is not None else minimal_design())
        (folder / "mlcycle.yaml").write_text(yaml.safe_dump(design, sort_keys=False))
        data = small_sales() if frame is None else frame
        if source.endswith(".parquet"):
            data.to_parquet(folder / source)
        else:
            data.to_csv(folder / source, index=False)
        return folder

    return make


@pytest.fixture()
def load(make_use_case: Callable[..., Path]) -> Callable[..., mlcycle.UseCase]:
    def _load(design: dict[str, Any] | None = None, frame: pd.DataFrame | None = None) -> mlcycle.UseCase:
        return mlcycle.UseCase.load(make_use_case(design, frame))

    return _load


POSTGRES_ADMIN_URL = os.environ.get("MLCYCLE_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test")


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create a database of our own on the machine's PostgreSQL; drop it afterwards.

    Skipped when no server answers — except in CI, where PostgreSQL is part of the machine
    and a missing server must fail loudly rather than quietly test less.
    """
    import sqlalchemy

    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    except sqlalchemy.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN_URL}: {exc.orig}")
    name = f"mlcycle_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database shared by the session."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def searched_example(tmp_path_factory: pytest.TempPathFactory) -> tuple[mlcycle.UseCase, object]:
    """The sales example after a short real search (6 trials, local executor), shared by the session."""
    folder = tmp_path_factory.mktemp("searched")
    write_example("sales", folder)
    uc = mlcycle.UseCase.load(folder)
    result = uc.experiment(trials=6, executor="local")
    return uc, result


@pytest.fixture(scope="session")
def promoted_example(searched_example: tuple[mlcycle.UseCase, object]) -> tuple[mlcycle.UseCase, object]:
    """The searched example with its best trial promoted through the gate."""
    uc, _ = searched_example
    return uc, uc.promote()


DEMO_TRIALS = "8"  # as README.md runs it: tests/test_readme.py takes this run for its `mlcycle demo --trials 8`


@pytest.fixture(scope="session")
def demoed(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> tuple[Path, str]:
    """The whole loop on the example — `mlcycle demo DIR --trials 8` — run once per test run: (folder, output).

    Shared by the CLI's demo test, the dashboard's tests and the README's; they read it after the demo, and some
    change it (a rollback, a second demo), so each worker gets its own copy. Under pytest-xdist the run itself
    happens once for all workers, under a lock in the folder they share (the demo takes a minute and a half;
    it used to run once per worker, and once more for the README). The copy's MLflow database still points at the
    first folder's artifacts, which stay in place, read only, until the run ends."""
    import fcntl
    import shutil

    from typer.testing import CliRunner

    from mlcycle.main import app

    def run(folder: Path) -> str:
        result = CliRunner().invoke(app, ["demo", str(folder), "--trials", DEMO_TRIALS])
        assert result.exit_code == 0, result.output
        return result.output

    if worker_id == "master":  # no xdist: nothing to share
        folder = tmp_path_factory.mktemp("demoed") / "demo"
        return folder, run(folder)
    shared = tmp_path_factory.getbasetemp().parent / "demoed-once"  # one per run of pytest, seen by every worker
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "output.txt").exists():
            output = run(shared / "demo")
            (shared / "output.txt").write_text(output, encoding="utf-8")
    folder = tmp_path_factory.mktemp("demoed") / "demo"
    shutil.copytree(shared / "demo", folder)
    output = (shared / "output.txt").read_text(encoding="utf-8")
    return folder, output.replace(str(shared / "demo"), str(folder))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The use-case zoo first: `make test` runs two workers, a file on one worker each (--dist loadfile), and the
    zoo is the longest file by far (about eight minutes); started last, it ran alone at the end on one core."""
    items.sort(key=lambda item: item.nodeid.split("::")[0] != "tests/usecases/test_zoo.py")


tolerate_cpython_106905()
