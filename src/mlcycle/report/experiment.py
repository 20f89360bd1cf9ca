"""The experiment report: leaderboard with three views, search history, algorithms and variants compared,
and what the best trial's money depends on."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from mlcycle.develop.trial import TrialResult, Workbench, predict
from mlcycle.metrics import decision
from mlcycle.report import html, plots

if TYPE_CHECKING:
    from pathlib import Path

    from mlcycle.data.workspace import Workspace
    from mlcycle.develop.search import ExperimentResult

TOP = 15


def history_plot(result: ExperimentResult) -> str:
    complete = [t for t in result.trials if t.state == "complete"]
    if not complete:
        return ""
    from mlcycle.metrics import catalogue

    primary = catalogue.CATALOGUE.get(result.primary)
    numbers = [t.spec.number for t in complete]
    values = [t.value(result.primary) for t in complete]
    figure, axis = plt.subplots(figsize=(9, 3.2), dpi=100)
    algorithms = sorted({t.spec.algorithm for t in complete})
    colours = plt.get_cmap("tab10")
    for i, algorithm in enumerate(algorithms):
        points = [(n, v) for n, v, t in zip(numbers, values, complete) if t.spec.algorithm == algorithm]
        xs, ys = zip(*points)
        axis.scatter(xs, ys, s=18, color=colours(i), label=algorithm)
    best, running = [], None
    for v in values:
        running = v if running is None or (primary and primary.is_better(v, running)) else running
        best.append(running)
    axis.step(numbers, best, where="post", color="#1d2733", lw=1.5, label="best so far")
    base = next((view.get(result.primary) for view in result.baseline.values() if result.primary in view), None)
    if base is not None and not math.isnan(base):
        axis.axhline(base, color="#c0392b", ls="--", lw=1, label="baseline")
    axis.set_xlabel("trial")
    axis.set_ylabel(result.primary)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, frameon=False, ncol=3)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    return plots.to_svg(figure)


def compare(board: pd.DataFrame, by: str, primary: str, loss: Any) -> list[dict[str, Any]]:
    trials = board[board["algorithm"] != "baseline"]
    rows = []
    for key, group in trials.groupby(by):
        values = group[primary].to_numpy(dtype=float)
        best = min(values, key=loss)
        rows.append(
            {
                by: key,
                "trials": len(group),
                "best": best,
                "median": float(np.median(values)),
                "best_mae": float(group.loc[group[primary] == best, "mae"].iloc[0]) if "mae" in group else math.nan,
            }
        )
    return sorted(rows, key=lambda r: loss(r["best"]))


def importance(ws: Workspace, best: TrialResult) -> list[tuple[str, float]]:
    """Money lost per period when each feature is shuffled, on the last validation fold."""
    bench = Workbench.create(ws.spec, ws.training_data, ws.folder)
    train_idx, valid_idx = bench.folds[-1]
    train, valid = bench.frame.iloc[train_idx], bench.frame.iloc[valid_idx]
    pipeline = bench.pipeline(best.spec).fit(train, bench.target(train))
    built = pipeline[:1].transform(valid)
    y = bench.target(valid)
    costs = bench.costs
    task = ws.spec.task
    threshold = best.threshold

    def money(estimator: Any, X: pd.DataFrame, y_true: np.ndarray) -> float:
        """Minus money lost per period, deciding as the trial did (its threshold, for classifiers)."""
        values = predict(estimator, X, task)
        decided = decision.decide(values, threshold) if task == "classification" else values
        return -costs.per_period(costs.money_lost(y_true, decided).mean())

    result = permutation_importance(pipeline[1:], built, y, scoring=money, n_repeats=3, random_state=0)
    pairs = sorted(zip(built.columns, result.importances_mean), key=lambda p: -p[1])
    return [(str(name), float(value)) for name, value in pairs]


def experiment(ws: Workspace, result: ExperimentResult) -> Path:
    from mlcycle.metrics import catalogue

    board = result.leaderboard
    primary = catalogue.resolve(result.primary, ws.folder)
    metrics = [m for names in ws.spec.views.values() for m in names]
    top = pd.concat([board[board["algorithm"] != "baseline"].head(TOP), board[board["algorithm"] == "baseline"]])
    features: list[tuple[str, float]] = []
    if result.best is not None:
        features = importance(ws, result.best)
    context = dict(
        ws=ws,
        d=ws.spec,
        r=result,
        metrics=metrics,
        primary=result.primary,
        top=top.to_dict("records"),
        history=history_plot(result),
        by_algorithm=compare(board, "algorithm", result.primary, primary.loss) if len(board) > 1 else [],
        by_variant=compare(board, "variant", result.primary, primary.loss) if len(board) > 1 else [],
        features=features,
        currency=ws.spec.value.currency,
        period=ws.spec.value.period,
    )
    return html.render("experiment.html.j2", ws.reports_dir / "experiment.html", **context)
