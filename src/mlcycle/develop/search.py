"""The search: Optuna over data variant × algorithm × hyperparameters, jointly, in the parent process.

The parent owns the study (ask / tell) and every MLflow call; workers only fit and score
(see :mod:`mlcycle.develop.executors`). Per trial:

1. ask Optuna for a configuration (each algorithm's default is enqueued first, so even a
   short search has sensible candidates);
2. fit the first fold; report its primary metric; a :class:`~optuna.pruners.MedianPruner`
   stops trials that are hopeless against the ones before;
3. fit the remaining folds and measure single-row latency; tell Optuna the mean primary
   metric, with the gate rows known at search time — quality floor, latency, forbidden
   features — as constraints, so the best trial is a feasible one.

The search stops at ``search.trials``, ``search.timeout_minutes`` or
``budget.max_training_minutes``, whichever comes first. A trial that raises is recorded as
failed, with its error, and the search goes on.
"""

from __future__ import annotations

import itertools
import math
import time
import traceback
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import optuna
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mlcycle.contract.spec import Design
from mlcycle.data.features import builder_for
from mlcycle.data.workspace import Workspace
from mlcycle.develop import algorithms
from mlcycle.develop.executors import get_executor
from mlcycle.develop.tracking import TAG, Tracker, file_hash, frame_hash
from mlcycle.develop.trial import FoldPredictions, TrialResult, TrialSpec, Workbench, score, views
from mlcycle.metrics import catalogue

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class ExperimentResult:
    trials: list[TrialResult]
    leaderboard: pd.DataFrame
    baseline: dict[str, dict[str, float]]
    primary: str
    best: TrialResult | None
    parent_run_id: str | None
    elapsed_seconds: float
    stopped_by: str
    executor: str
    report_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def best_run_id(self) -> str | None:
        return self.best.run_id if self.best else None

    def count(self, state: str) -> int:
        return sum(t.state == state for t in self.trials)


# ── the search space ─────────────────────────────────────────────────────────────────
def search_space(design: Design, algorithm: str, context: algorithms.Context) -> dict[str, dict[str, Any]]:
    """The algorithm's default space, overridden by the design; ranges know whether they are integers."""
    known = algorithms.REGISTRY[algorithm]
    space = {k: dict(v) for k, v in known.space_for(context).items()}
    for name, spec in (design.experiments.algorithms or {}).get(algorithm, {}).items():
        if spec.is_range:
            space[name] = {"low": spec.low, "high": spec.high, "log": spec.log}
        else:
            space[name] = {"choices": list(spec.choices or [])}
    for name, bounds in space.items():
        default = known.space.get(name, {})
        bounds["int"] = "low" in bounds and isinstance(default.get("low"), int) and isinstance(default.get("high"), int)
    return space


def _default_params(design: Design, algorithm: str, context: algorithms.Context) -> dict[str, Any]:
    """The algorithm's default configuration, moved inside the design's space where it narrows it."""
    defaults = algorithms.REGISTRY[algorithm].defaults_for(context)
    out = {}
    for name, spec in search_space(design, algorithm, context).items():
        value = defaults.get(name)
        if "choices" in spec:
            out[name] = value if value in spec["choices"] else spec["choices"][0]
        else:
            value = spec["low"] if value is None else min(max(value, spec["low"]), spec["high"])
            out[name] = round(value) if spec["int"] else float(value)
    return out


def _suggest(trial: optuna.Trial, design: Design, context: algorithms.Context) -> TrialSpec:
    variant = trial.suggest_categorical("variant", list(design.experiments.data_variants))
    algorithm = trial.suggest_categorical("algorithm", list(design.experiments.algorithms or {}))
    params: dict[str, Any] = {}
    for name, spec in search_space(design, algorithm, context).items():
        key = f"{algorithm}.{name}"
        if "choices" in spec:
            params[name] = trial.suggest_categorical(key, spec["choices"])
        elif spec["int"]:
            params[name] = trial.suggest_int(key, int(spec["low"]), int(spec["high"]), log=spec.get("log", False))
        else:
            params[name] = trial.suggest_float(key, float(spec["low"]), float(spec["high"]), log=spec.get("log", False))
    return TrialSpec(trial.number, variant, algorithm, params)


def _optuna_params(spec_variant: str, algorithm: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "variant": spec_variant,
        "algorithm": algorithm,
        **{f"{algorithm}.{k}": v for k, v in params.items()},
    }


def _grid(design: Design, context: algorithms.Context) -> list[dict[str, Any]]:
    """Every combination, for the grid sampler (the spec guarantees lists of choices)."""
    combos = []
    for algorithm in design.experiments.algorithms or {}:
        space = search_space(design, algorithm, context)
        names = list(space)
        for values in itertools.product(*(space[n]["choices"] for n in names)):
            for variant in design.experiments.data_variants:
                combos.append(_optuna_params(variant, algorithm, dict(zip(names, values))))
    return combos


def _study(design: Design, direction: str, context: algorithms.Context, n_folds: int) -> tuple[optuna.Study, int]:
    search = design.experiments.search
    # Constraints reach TPE through Trial.set_constraint (Optuna ≥ 5): infeasible trials rank last.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if search.sampler == "tpe":
            sampler: optuna.samplers.BaseSampler = optuna.samplers.TPESampler(
                multivariate=True, group=True, seed=0, n_startup_trials=max(5, min(10, search.trials // 3))
            )
        else:
            sampler = optuna.samplers.RandomSampler(seed=0)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=4) if n_folds > 1 else optuna.pruners.NopPruner()
    study = optuna.create_study(
        direction=cast(Literal["minimize", "maximize"], direction), sampler=sampler, pruner=pruner
    )
    budget = search.trials
    if search.sampler == "grid":
        combos = _grid(design, context)
        budget = min(budget, len(combos))
        for combo in combos[:budget]:
            study.enqueue_trial(combo)
    else:
        for algorithm in design.experiments.algorithms or {}:
            for variant in design.experiments.data_variants:
                study.enqueue_trial(_optuna_params(variant, algorithm, _default_params(design, algorithm, context)))
    return study, budget


# ── gate rows known at search time ───────────────────────────────────────────────────
def constraint_values(design: Design, result: TrialResult, frame_columns: list[str]) -> dict[str, float]:
    """Each ≤ 0 when satisfied: quality floor/ceiling, latency p95, no forbidden feature."""
    values: dict[str, float] = {}
    quality = design.requirements.quality
    if quality is not None:
        measured = result.value(quality.metric)
        if math.isnan(measured):
            measured = catalogue.CATALOGUE[quality.metric].loss(math.inf)
        if catalogue.CATALOGUE[quality.metric].direction == "zero":
            measured = abs(measured)
        values["quality"] = measured - quality.max if quality.max is not None else (quality.min or 0.0) - measured
    if result.latency is not None:
        values["latency"] = result.latency.p95_ms - design.requirements.latency_p95_ms
    forbidden = set(design.requirements.compliance.forbidden_features)
    used = set(builder_for(design, result.spec.variant, frame_columns).features)
    values["forbidden_features"] = float(len(used & forbidden))
    return {k: float(v) for k, v in values.items()}


def feasible(result: TrialResult) -> bool:
    return all(v <= 0 for v in result.constraints.values())


# ── the loop ─────────────────────────────────────────────────────────────────────────
def experiment(
    ws: Workspace,
    *,
    trials: int | None = None,
    executor: str | None = None,
    address: str | None = None,
    workers: int | None = None,
    track: bool = True,
    console: Console | None = None,
    tags: dict[str, str] | None = None,
) -> ExperimentResult:
    """The search on a workspace's training rows, tracked against its design file's hash."""
    return run(
        ws.spec,
        ws.training_data,
        ws.folder,
        ws.state_dir,
        trials=trials,
        executor=executor,
        address=address,
        workers=workers,
        track=track,
        console=console,
        design_hash=file_hash(ws.design_path),
        tags=tags,
    )


def run(
    design: Design,
    frame: pd.DataFrame,
    folder: Path,
    state_dir: Path,
    *,
    trials: int | None = None,
    executor: str | None = None,
    address: str | None = None,
    workers: int | None = None,
    track: bool = True,
    console: Console | None = None,
    design_hash: str = "",
    prune: bool = True,
    tags: dict[str, str] | None = None,
) -> ExperimentResult:
    """Run the search on the training rows ``frame``; returns every trial and the leaderboard.

    ``prune=False`` fits every fold of every trial (benchmarks use it so runs do equal work).
    """
    search = design.experiments.search
    if trials is not None:
        design = design.model_copy(deep=True)
        design.experiments.search.trials = trials
        search = design.experiments.search
    name = executor or search.executor
    started = time.perf_counter()
    bench = Workbench.create(design, frame, folder)
    metric_views = views(design, folder)
    primary = catalogue.resolve(design.metrics.primary, folder)
    direction = "maximize" if primary.direction == "higher" else "minimize"
    n_folds = len(bench.folds)
    study, budget = _study(design, direction, bench.context, n_folds if prune else 1)
    allowed = design.requirements.budget.max_training_minutes
    deadline = started + 60 * min(search.timeout_minutes, allowed)
    # what stops it, in words: the design's budget when it is the tighter limit
    out_of_time = (
        f"the training budget: requirements.budget.max_training_minutes is {allowed:g} min"
        if allowed <= search.timeout_minutes
        else f"experiments.search.timeout_minutes ({search.timeout_minutes:g} min)"
    )
    tracker = Tracker(state_dir, design.name) if track else None
    tags = {f"{TAG}design_hash": design_hash, f"{TAG}data_hash": frame_hash(frame), **(tags or {})}
    parent = None
    if tracker is not None:
        parent = tracker.start_search(
            f"search-{time.strftime('%Y%m%d-%H%M%S')}",
            tags,
            {
                "sampler": search.sampler,
                "trials": budget,
                "executor": name,
                "primary": primary.name,
                "folds": n_folds,
                "newsvendor_quantile": bench.quantile,
            },
        )

    results: list[TrialResult] = []
    in_flight: dict[Future[Any], tuple[optuna.Trial, TrialSpec, int, list[FoldPredictions]]] = {}
    asked = 0
    stopped_by = "trials"
    progress = _progress(console)
    task = progress.add_task("trials", total=budget, best="—") if progress else None

    def finish(trial: optuna.Trial, result: TrialResult) -> None:
        if result.state == "complete":
            value = result.value(primary.name)
            result.constraints = constraint_values(design, result, list(frame.columns))
            for key, constraint in result.constraints.items():
                trial.set_constraint(key, constraint)
            if math.isnan(value):
                result.state, result.error = "failed", f"the primary metric {primary.name} is undefined (NaN)"
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, value)
        elif result.state == "pruned":
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        if tracker is not None and parent is not None:
            result.run_id = tracker.log_trial(result, parent, tags)
        results.append(result)
        if progress is not None and task is not None:
            best = _best(results, primary)
            progress.update(task, advance=1, best=f"{primary.name} {best.value(primary.name):,.4g}" if best else "—")

    with get_executor(name, address=address or search.address, workers=workers) as pool:
        pool.start(bench)
        if progress is not None:
            progress.start()
        try:
            while True:
                while len(in_flight) < pool.slots and asked < budget:
                    if time.perf_counter() >= deadline:
                        stopped_by = out_of_time
                        break
                    trial = study.ask()
                    asked += 1
                    spec = _suggest(trial, design, bench.context)
                    staged = prune and n_folds > 1
                    first = [0] if staged else list(range(n_folds))
                    in_flight[pool.submit(spec, first, not staged)] = (trial, spec, 1 if staged else 2, [])
                if not in_flight:
                    break
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in done:
                    trial, spec, phase, earlier = in_flight.pop(future)
                    try:
                        predictions, latency = future.result()
                    except Exception as exc:  # the trial's own failure: record it, keep searching
                        finish(trial, TrialResult(spec, "failed", error=_describe(exc)))
                        continue
                    if phase == 1:
                        partial = score(bench, spec, predictions, metric_views)
                        trial.report(partial.value(primary.name), step=0)
                        if trial.should_prune():
                            partial.state = "pruned"
                            finish(trial, partial)
                            continue
                        rest = list(range(1, n_folds))
                        in_flight[pool.submit(spec, rest, True)] = (trial, spec, 2, predictions)
                        continue
                    result = score(bench, spec, [*earlier, *predictions], metric_views)
                    result.latency = latency
                    finish(trial, result)
        finally:
            if progress is not None:
                progress.stop()

    results.sort(key=lambda r: r.spec.number)
    best = _best(results, primary)
    baseline = next((r.baseline for r in results if r.baseline), {})
    board = leaderboard(results, primary, baseline)
    elapsed = time.perf_counter() - started
    if tracker is not None and parent is not None:
        summary = {
            "elapsed_seconds": elapsed,
            "trials_complete": sum(r.state == "complete" for r in results),
            "trials_pruned": sum(r.state == "pruned" for r in results),
            "trials_failed": sum(r.state == "failed" for r in results),
        }
        if best is not None:
            summary[f"best_{primary.name}"] = best.value(primary.name)
        tracker.finish_search(parent, summary, {f"{TAG}best_run_id": best.run_id or "" if best else ""})
    return ExperimentResult(results, board, baseline, primary.name, best, parent, elapsed, stopped_by, name)


def _best(results: list[TrialResult], primary: catalogue.Metric) -> TrialResult | None:
    complete = [r for r in results if r.state == "complete" and not math.isnan(r.value(primary.name))]
    if not complete:
        return None
    pool = [r for r in complete if feasible(r)] or complete
    return min(pool, key=lambda r: primary.loss(r.value(primary.name)))


def leaderboard(
    results: list[TrialResult], primary: catalogue.Metric, baseline: dict[str, dict[str, float]]
) -> pd.DataFrame:
    """Complete trials, best first, with the three views side by side; the baseline as the last row."""
    rows = []
    for r in results:
        if r.state != "complete":
            continue
        row: dict[str, Any] = {
            "trial": r.spec.number,
            "variant": r.spec.variant,
            "algorithm": r.spec.algorithm,
            "params": _short(r.spec.params),
            "feasible": feasible(r),
            primary.name: r.value(primary.name),
        }
        for view in r.metrics.values():
            row.update({k: v for k, v in view.items() if k not in row})
        row["fit_seconds"] = r.fit_seconds
        row["latency_p95_ms"] = r.latency.p95_ms if r.latency else math.nan
        row["run_id"] = r.run_id
        rows.append(row)
    board = pd.DataFrame(
        rows,
        columns=None
        if rows
        else [
            "trial",
            "variant",
            "algorithm",
            "params",
            "feasible",
            primary.name,
            "fit_seconds",
            "latency_p95_ms",
            "run_id",
        ],
    )
    if not board.empty:
        board = board.iloc[np.argsort([primary.loss(v) for v in board[primary.name]], kind="stable")]
        board.insert(0, "rank", range(1, len(board) + 1))
    if baseline:
        base: dict[str, Any] = {
            "rank": None,
            "trial": None,
            "variant": "—",
            "algorithm": "baseline",
            "params": "",
            "feasible": None,
        }
        for view in baseline.values():
            base.update(view)
        board = pd.concat([board, pd.DataFrame([base])], ignore_index=True)
    return board.reset_index(drop=True)


def _short(params: dict[str, Any]) -> str:
    parts = []
    for k, v in params.items():
        parts.append(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(parts)


def _describe(exc: BaseException) -> str:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return last


def _progress(console: Console | None) -> Progress | None:
    if console is None:
        return None
    return Progress(
        TextColumn("[bold]search"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("trials · best {task.fields[best]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
