"""Ground truth from files, and the audit record of one decision."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlcycle.deploy import series
from mlcycle.deploy.batch import read_table
from mlcycle.exceptions import DataError, UseCaseError
from mlcycle.store import FeedbackItem, open_store

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace


def items_from_frame(ws: Workspace, frame: pd.DataFrame) -> list[FeedbackItem]:
    """Feedback rows: ``request_id`` + ``actual`` (or the target's name), or series keys + time + target."""
    design = ws.spec
    value_column = "actual" if "actual" in frame.columns else design.target
    if value_column not in frame.columns:
        raise DataError(f"feedback needs a column 'actual' or {design.target!r}; got {', '.join(frame.columns)}")
    actuals = [_plain(v) for v in frame[value_column]]
    if "request_id" in frame.columns:
        return [FeedbackItem(v, request_id=str(r)) for r, v in zip(frame["request_id"], actuals)]
    keys = series.key_columns(design)
    missing = [k for k in keys if k not in frame.columns]
    if missing or not keys:
        raise DataError(
            f"feedback needs request_id, or the columns {', '.join(keys) or '(series keys and time)'}; "
            f"missing {', '.join(missing) or 'request_id'}"
        )
    rows = frame[keys].to_dict("records")
    items, problems = series.feedback_items(design, [(v, None, row) for v, row in zip(actuals, rows)])
    if problems:
        shown = "; ".join(f"row {p.row + 1}: {p.field}: {p.message}" for p in problems[:3])
        raise DataError(f"{len(problems)} feedback row(s) name no time the predictions can be found at ({shown})")
    return items


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def load(ws: Workspace, path: Path) -> int:
    store = open_store(ws.state_dir)
    items = items_from_frame(ws, read_table(path))
    unknown = store.feedback.add(items)
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise DataError(f"{len(unknown)} request id(s) match no logged prediction ({shown}); nothing was stored")
    return len(items)


def audit(ws: Workspace, request_id: str) -> dict[str, Any]:
    """Everything about one decision: the prediction as logged, the model version's gate report, the actual."""
    store = open_store(ws.state_dir)
    stored = store.predictions.get(request_id)
    if stored is None:
        raise UseCaseError(f"no logged prediction with request id {request_id!r}")
    record: dict[str, Any] = dataclasses.asdict(stored)
    from mlcycle.develop.tracking import Tracker

    client = Tracker(ws.state_dir, ws.name).client
    try:
        version = client.get_model_version(ws.name, record["model_version"])
        gate = json.loads(version.tags.get("mlcycle.gate", "null"))
        record["model"] = {
            "name": ws.name,
            "version": record["model_version"],
            "source_run": version.run_id,
            "gate": gate,
            "aliases": list(version.aliases),
        }
    except Exception:
        record["model"] = {
            "name": ws.name,
            "version": record["model_version"],
            "gate": None,
            "note": "this version is no longer in the registry",
        }
    actual = store.feedback.frame()
    match = actual[actual["request_id"] == request_id]
    record["actual"] = None if match.empty else (match["actual_label"].iloc[0] or match["actual"].iloc[0])
    return record
