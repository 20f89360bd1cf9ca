"""Retraining: a new search on data that now includes the served period, and a challenger that must earn its place.

1. The data: the design's data up to the start of the latest monitored window, with the served
   period's actuals from the feedback (they win over the source where both exist) and the served
   rows the source does not have. The latest window is held out: it is where the two models meet.
2. A new search (same design, same Optuna space) on that data — tracked like any other, tagged
   with the review that asked for it.
3. The best trial goes through the promotion gate with one more row: on the latest window's
   labelled traffic, the challenger must lose less money than the champion (shadow scoring, same
   rows, same actuals). Only if every row passes is it registered as champion; the champion it
   replaces becomes ``previous``. Otherwise nothing changes.

The review, the search run, the promotion run and the model version point at each other:
``mlcycle.review_id`` on the runs and the version, ``mlcycle.replaces`` on the version, and the
review row records the action with the run ids and versions.
"""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlcycle.contract.spec import as_labels
from mlcycle.design import spend
from mlcycle.develop import gate as gate_mod
from mlcycle.develop import registry, search
from mlcycle.develop.gate import GateReport, GateRow, row
from mlcycle.develop.tracking import TAG, Tracker
from mlcycle.exceptions import GateFailed, UseCaseError
from mlcycle.monitor import performance as performance_mod
from mlcycle.monitor import shadow
from mlcycle.store import Store, open_store

if TYPE_CHECKING:
    from rich.console import Console

    from mlcycle.data.workspace import Workspace
    from mlcycle.develop.search import ExperimentResult


@dataclass
class RetrainResult:
    review_id: int | None
    window: tuple[datetime, datetime]
    training_rows: int
    served_rows: int  # rows of the training data that came from the prediction log and feedback
    experiment: ExperimentResult
    gate: GateReport | None  # None when no trial completed
    champion: str  # the version challenged
    promoted: bool
    scores: dict[str, shadow.ShadowScore]
    workspace: Workspace = field(repr=False)  # the use case as retrained: its data, its train_until

    @property
    def summary(self) -> str:
        if self.gate is None:
            return "no trial completed: the champion stays"
        if self.promoted:
            return f"version {self.gate.version} replaced version {self.champion} as champion"
        failed = [r.requirement for r in self.gate.rows if not r.passed]
        return f"the challenger was refused ({'; '.join(failed)}): version {self.champion} stays champion"


def retraining_data(ws: Workspace, store: Store, before: datetime) -> tuple[pd.DataFrame, int]:
    """The design's data before ``before``, with the served period's actuals; returns (frame, rows from the log).

    With a time column, served actuals replace or extend the rows of the same series and time; without
    one, every labelled prediction logged before ``before`` joins the data as a new row.
    """
    design = ws.spec
    time_column = design.time_column
    base = ws.data[ws.data[time_column] < before] if time_column else ws.data
    labelled = performance_mod.labelled_predictions(ws, store, None, before, by="event").dropna(subset=["actual"])
    if labelled.empty:
        return base.reset_index(drop=True), 0
    served = shadow.labelled_rows(ws, store, labelled)
    target = ws.data[design.target]
    served[design.target] = (
        pd.Series(
            as_labels(design, served["_actual"], target.dropna().unique()),
            index=served.index,
            dtype=target.dtype,
        )
        if design.task == "classification"
        else served["_actual"]
    )
    served = served.drop(columns=["_actual", "_actual_label"])
    if not time_column:
        extra = served[[c for c in served.columns if c in base.columns]]
        return pd.concat([base, extra], ignore_index=True), len(extra)
    keys = [*design.group_columns, time_column]
    served = served.drop_duplicates(subset=keys, keep="last")
    merged = base.merge(served[[*keys, design.target]], on=keys, how="left", suffixes=("", "__fed"))
    fed = merged.pop(f"{design.target}__fed")
    merged[design.target] = fed.combine_first(merged[design.target]).astype(base[design.target].dtype, errors="ignore")
    known = pd.MultiIndex.from_frame(base[keys])
    extra = served[~pd.MultiIndex.from_frame(served[keys]).isin(known)]
    frame = pd.concat([merged, extra[[c for c in extra.columns if c in base.columns]]], ignore_index=True)
    frame = frame.sort_values([time_column, *design.group_columns], kind="stable").reset_index(drop=True)
    return frame, int(fed.notna().sum() + len(extra))


def retrain(
    ws: Workspace,
    *,
    trials: int | None = None,
    executor: str | None = None,
    console: Console | None = None,
    review_id: int | None = None,
    store: Store | None = None,
) -> RetrainResult:
    store = store or open_store(ws.state_dir)
    started = time.perf_counter()
    tracker = Tracker(ws.state_dir, ws.name)
    champion = registry.alias_version(tracker, ws.name, registry.CHAMPION)
    if champion is None:
        raise UseCaseError("no champion to challenge: promote a model first (`mlcycle promote`)")
    latest = store.history.windows(last=1)
    if not latest:
        raise UseCaseError(
            "no monitored window yet: run `mlcycle monitor` first — retraining holds out the latest "
            "window to compare the challenger with the champion"
        )
    window = latest[0]
    start, end = window.start, window.end
    held_out = performance_mod.labelled_predictions(ws, store, start, end, by="event").dropna(subset=["actual"])
    if held_out.empty:
        raise UseCaseError(
            f"the latest window ({start:%Y-%m-%d} → {end:%Y-%m-%d}) has no actuals yet, so a challenger "
            "cannot be compared with the champion; load feedback (`mlcycle feedback`) and monitor again"
        )
    if review_id is None:
        reviews = store.history.reviews()
        review_id = reviews[-1].id if reviews else None
    link = {f"{TAG}review_id": str(review_id)} if review_id is not None else {}

    frame, served_rows = retraining_data(ws, store, start)
    twin = ws.with_frame(frame, start - timedelta(days=1) if ws.spec.time_column else None)
    experiment = search.experiment(
        twin, trials=trials, executor=executor, console=console, tags={**link, f"{TAG}retrain_of": champion}
    )
    metric = window.metric
    rows = shadow.labelled_rows(ws, store, held_out)
    known = performance_mod.known_actuals(ws, store) if ws.spec.time_column else None  # read once for both models
    champion_score = shadow.score(ws, store, shadow.load_version(ws, champion), rows, metric=metric, known=known)
    scores = {champion: champion_score}

    def beats_champion(model: Any) -> GateRow:
        challenger = shadow.score(ws, store, model, rows, metric=metric, known=known)
        scores["challenger"] = challenger
        money = f"{ws.spec.value.currency} per {ws.spec.value.period}"
        won = challenger.money_lost < champion_score.money_lost
        gap = champion_score.money_lost - challenger.money_lost
        spread = shadow.saving(champion_score, challenger)
        within = f" ({spread.text()})" if spread else ""
        return row(
            "beats the champion on the latest window",
            f"< {champion_score.money_lost:,.0f} {money} lost (version {champion}, {rows.shape[0]} rows)",
            f"{challenger.money_lost:,.0f} {money} lost",
            won,
            f"{gap:,.0f} {money} less than the champion{within}"
            if won
            else f"{-gap:,.0f} {money} more than the champion{within}",
        )

    gate: GateReport | None = None
    if experiment.best is not None:
        try:
            gate = gate_mod.promote(
                twin,
                experiment.best_run_id,
                challenge=beats_champion,
                tags={**link, f"{TAG}replaces": champion},
                spent=spend.summarise(ws.spec, store.history.spend()),
            )
        except GateFailed as failed:
            gate = failed.report
    promoted = gate is not None and gate.registered
    minutes = (time.perf_counter() - started) / 60
    store.history.add_spend(
        "compute",
        "retrain",
        minutes,
        spend.compute_cost(ws.spec, minutes),
        f"local user {getpass.getuser()}",
        run_id=experiment.parent_run_id,
    )
    result = RetrainResult(
        review_id,
        (start, end),
        len(twin.training_data),
        served_rows,
        experiment,
        gate,
        champion,
        promoted,
        scores,
        twin,
    )
    if review_id is not None:
        store.history.record_action(
            review_id,
            "retrain",
            {
                "search_run": experiment.parent_run_id,
                "best_run": experiment.best_run_id,
                "promotion_run": gate.promotion_run_id if gate else None,
                "challenged": champion,
                "new_version": gate.version if promoted and gate else None,
                "promoted": promoted,
                "window": [start, end],
                "money_lost": {k: v.money_lost for k, v in scores.items()},
                "summary": result.summary,
            },
        )
    return result


__all__ = ["RetrainResult", "retrain", "retraining_data"]
