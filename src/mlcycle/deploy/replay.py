"""Replay a later period as production traffic: day by day, predictions first, that day's actuals a day later.

Used by the demo, and useful on its own to rehearse a deployment on history. Talks HTTP to a
running service like any client would; measures latency on the client side.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace


@dataclass
class ReplayResult:
    requests: int = 0
    failed: int = 0
    days: int = 0
    feedback: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def _post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any, float]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body, default=str).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            payload = json.loads(answer.read())
            return answer.status, payload, (time.perf_counter() - started) * 1000
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), (time.perf_counter() - started) * 1000


def run(
    ws: Workspace,
    base_url: str,
    frame: pd.DataFrame,
    *,
    concurrency: int = 1,
    explain_examples: int = 3,
    console: Console | None = None,
) -> ReplayResult:
    """Replay ``frame`` (rows after the training cut-off) through the service at ``base_url``."""
    design = ws.spec
    time_column, groups, target = design.time_column, design.group_columns, design.target
    assert time_column, "replay needs a time column"
    inputs = [time_column, *[c for c in ws.schema.input_columns if c != time_column]]
    result = ReplayResult()
    days = sorted(frame[time_column].dt.normalize().unique())
    previous: pd.DataFrame | None = None
    progress = Progress(console=console, transient=True) if console else None
    task = progress.add_task("replaying days", total=len(days)) if progress else None
    if progress:
        progress.start()
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            for day in days:
                if previous is not None:  # yesterday's actuals arrive today, before today's orders
                    items = [
                        {
                            **{g: str(r[g]) for g in groups},
                            time_column: f"{r[time_column]:%Y-%m-%d}",
                            "actual": float(r[target]),
                        }
                        for _, r in previous.iterrows()
                    ]
                    status, _, _ = _post(f"{base_url}/feedback", {"items": items})
                    result.feedback += len(items) if status == 200 else 0
                today = frame[frame[time_column].dt.normalize() == day]
                rows = [
                    {c: (f"{r[c]:%Y-%m-%d}" if c == time_column else r[c]) for c in inputs} for _, r in today.iterrows()
                ]
                rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in rows]
                answers = list(pool.map(lambda row: _post(f"{base_url}/predict", {"records": [row]}), rows))
                for status, _, elapsed in answers:
                    result.requests += 1
                    result.latencies_ms.append(elapsed)
                    result.failed += status != 200
                previous = today
                result.days += 1
                if progress and task is not None:
                    progress.advance(task)
    finally:
        if progress:
            progress.stop()
    last = frame[frame[time_column].dt.normalize() == days[-1]].head(explain_examples)
    rows = [
        {
            c: (f"{r[c]:%Y-%m-%d}" if c == time_column else (r[c].item() if hasattr(r[c], "item") else r[c]))
            for c in inputs
        }
        for _, r in last.iterrows()
    ]
    status, body, _ = _post(f"{base_url}/explain", {"records": rows})
    if status == 200:
        result.explanations = [e["sentence"] for e in body["explanations"]]
    return result
