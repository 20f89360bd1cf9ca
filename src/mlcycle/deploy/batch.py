"""Batch scoring: the same model, schema, features and prediction log as the service, for a file.

Rows that fail validation (or lack the history their lags need) go to a rejects file with
the reason; the rest are scored in chunks of ``deployment.max_batch_rows``. When the design
asks for it (``deployment.order_proposal``, a forecast with a time column), an order proposal
is written too: the predicted units per series for the latest time in the file, rounded up —
what a shop's ordering process reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Console
from rich.progress import Progress

from mlcycle.deploy.scoring import score_frame
from mlcycle.deploy.serving import Serving
from mlcycle.exceptions import DataError, ModelError, RequestRejected, UseCaseError
from mlcycle.store import open_store

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace


@dataclass
class BatchResult:
    scored: int
    rejected: int
    version: str
    output: Path
    rejects: Path | None
    orders: Path | None


def read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"--input {path} does not exist")
    try:
        return pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    except Exception as exc:
        raise DataError(f"--input {path} could not be read: {exc}") from None


def write_table(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def run(
    ws: Workspace,
    input_path: Path,
    output_path: Path,
    *,
    explain: bool = False,
    console: Console | None = None,
) -> BatchResult:
    store = open_store(ws.state_dir)
    serving = Serving(ws, store)
    try:
        serving.load_champion()
    except ModelError as refused:
        raise UseCaseError(f"cannot score: {refused}") from None
    frame = read_table(input_path)
    chunk = ws.spec.deployment.max_batch_rows
    scored_parts, rejected_parts = [], []
    version = serving.current.version if serving.current else "?"
    progress = Progress(console=console, transient=True) if console else None
    task = progress.add_task("scoring", total=len(frame)) if progress else None
    if progress:
        progress.start()
    try:
        for start in range(0, len(frame), chunk):
            part = frame.iloc[start : start + chunk].reset_index(drop=True)
            bad: dict[int, str] = {}
            for _ in range(2):  # validate, drop the bad rows, score the rest
                keep = [i for i in range(len(part)) if i not in bad]
                if not keep:
                    break
                try:
                    table = part.iloc[keep].reset_index(drop=True)
                    result = score_frame(serving, table, explain=explain, source="batch", max_rows=chunk)
                except RequestRejected as error:
                    if error.status != 422 or any(d.get("row") is None for d in error.detail):
                        raise DataError(f"the batch cannot be scored: {error.detail[0]['message']}") from None
                    for d in error.detail:
                        original = keep[int(str(d["row"]))]
                        bad[original] = "; ".join(filter(None, [bad.get(original), f"{d['field']}: {d['message']}"]))
                    continue
                store.predictions.log(result.records)
                out = part.iloc[keep].copy()
                out["prediction"] = result.outputs
                out["request_id"] = result.request_ids
                if explain and result.explanations:
                    out["explanation"] = [e["sentence"] for e in result.explanations]
                scored_parts.append(out)
                break
            if bad:
                rejected_parts.append(part.iloc[sorted(bad)].assign(reason=[bad[i] for i in sorted(bad)]))
            if progress and task is not None:
                progress.advance(task, len(part))
    finally:
        if progress:
            progress.stop()
        store.close()
    scored = pd.concat(scored_parts, ignore_index=True) if scored_parts else frame.iloc[:0]
    write_table(scored, output_path)
    rejects_path = None
    if rejected_parts:
        rejects_path = output_path.with_name(output_path.stem + ".rejects" + output_path.suffix)
        write_table(pd.concat(rejected_parts, ignore_index=True), rejects_path)
    orders = _order_proposal(ws, scored, output_path)
    return BatchResult(len(scored), sum(len(p) for p in rejected_parts), version, output_path, rejects_path, orders)


def _order_proposal(ws: Workspace, scored: pd.DataFrame, output_path: Path) -> Path | None:
    """Each series' prediction for the latest time in the file, rounded up to whole units, with the columns the
    design asks for beside it (``deployment.order_proposal``); None when the design asks for none."""
    design = ws.spec
    proposal = design.deployment.order_proposal
    if proposal is None or design.task != "regression" or not design.time_column or scored.empty:
        return None
    times = pd.to_datetime(scored[design.time_column])
    latest = scored[times == times.max()]
    columns = [*design.group_columns, design.time_column]
    extra = [c for c in proposal.columns if c in latest.columns and c not in columns]
    orders = latest[[*columns, *extra]].copy()
    orders[f"order_{design.target}"] = [max(0, math.ceil(v)) for v in latest["prediction"]]
    path = output_path.with_name(output_path.stem + ".orders.csv")
    write_table(orders, path)
    return path
