"""Served histories for monitoring tests: real traffic through the service, real feedback, real models.

``serve_period`` sends each day of the held-back sales data through ``/predict`` (one request
per day) and, when asked, that day's actuals through ``/feedback`` — the prediction log and the
feedback table are then exactly what production would leave behind. ``actual`` and
``transform`` craft histories (actuals the model cannot match, a price change).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from fastapi.testclient import TestClient

import mlcycle
from mlcycle.deploy import create_app


def serve_period(
    uc: mlcycle.UseCase,
    start: str,
    end: str,
    *,
    feedback: bool | int = True,
    actual: Callable[[pd.DataFrame], pd.Series] | None = None,
    transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> int:
    """Serve days in (start, end]; feed back every actual (True), none (False) or only the first N (int)."""
    rows = uc.data[(uc.data["date"] > start) & (uc.data["date"] <= end)]
    if transform is not None:
        rows = transform(rows.copy())
    sent = 0
    with TestClient(create_app(uc.workspace)) as client:
        for day, today in rows.groupby("date"):
            records = [
                {"date": f"{day:%Y-%m-%d}", "item": str(r.item), "price": float(r.price)} for r in today.itertuples()
            ]
            answer = client.post("/predict", json={"records": records})
            assert answer.status_code == 200, answer.text
            truth = actual(today) if actual is not None else today["units"]
            items = [
                {"item": str(item), "date": f"{day:%Y-%m-%d}", "actual": float(value)}
                for item, value in zip(today["item"], truth)
            ]
            if feedback is not True:
                items = items[: max(0, int(feedback) - sent)] if feedback else []
            if items:
                assert client.post("/feedback", json={"items": items}).status_code == 200
                sent += len(items)
    return sent


def edit_design(folder: Path, change: Callable[[dict[str, Any]], None]) -> mlcycle.UseCase:
    """Rewrite the copy's mlcycle.yaml through ``change`` and load it again."""
    path = folder / "mlcycle.yaml"
    design = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(design)
    path.write_text(yaml.safe_dump(design, sort_keys=False), encoding="utf-8")
    return mlcycle.UseCase.load(folder)
