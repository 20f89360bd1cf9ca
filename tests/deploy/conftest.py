"""A served copy of the promoted example: each test module gets its own folder, store and app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import mlcycle
from mlcycle.deploy import create_app


def copy_use_case(uc: mlcycle.UseCase, target: Path) -> mlcycle.UseCase:
    """A copy with its own monitoring store; MLflow's database is copied, its artifacts shared read-only."""
    shutil.copytree(uc.folder, target, ignore=shutil.ignore_patterns("monitor.db*", "reports"))
    return mlcycle.UseCase.load(target)


@pytest.fixture(scope="module")
def served(
    promoted_example: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[mlcycle.UseCase, TestClient]]:
    uc, _ = promoted_example
    copy = copy_use_case(uc, tmp_path_factory.mktemp("served") / "uc")
    with TestClient(create_app(copy.workspace, poll_seconds=0.5)) as client:
        yield copy, client


def sales_rows(uc: mlcycle.UseCase, n: int = 3, day: str = "2011-09-01") -> list[dict[str, Any]]:
    rows = uc.data[uc.data["date"] == day].head(n)
    return [{"date": day, "item": str(r.item), "price": float(r.price)} for r in rows.itertuples()]
