"""The search: defaults first, failures recorded and survived, budgets kept, the best trial feasible."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import mlflow
import pytest

import mlcycle
from mlcycle.develop import search
from mlcycle.develop.trial import TrialResult, TrialSpec
from tests.conftest import minimal_design, small_sales


def _use_case(make_use_case: Any, **experiments: Any) -> mlcycle.UseCase:
    design = minimal_design()
    design["experiments"] = {
        "data_variants": {
            "basic": {"features": ["item", "price", "day_of_week"]},
            "lagged": {"extends": "basic", "lags": [7]},
        },
        **experiments,
    }
    return mlcycle.UseCase.load(make_use_case(design, small_sales(days=120)))


def test_a_failing_trial_does_not_stop_the_search(make_use_case: Any) -> None:
    uc = _use_case(
        make_use_case,
        algorithms={"ridge": {}, "gradient_boosting": {"max_leaf_nodes": [1]}},
        search={"trials": 6, "sampler": "random"},
    )
    result = uc.experiment(executor="local", workers=2, report=False)
    assert len(result.trials) == 6
    failed = [t for t in result.trials if t.state == "failed"]
    assert failed and all(t.spec.algorithm == "gradient_boosting" for t in failed)
    assert all("max_leaf_nodes" in (t.error or "") for t in failed)
    assert result.best is not None and result.best.spec.algorithm == "ridge"
    mlflow.set_tracking_uri(f"sqlite:///{uc.state_dir / 'mlflow.db'}")
    runs = mlflow.search_runs(
        experiment_names=["small-sales"],
        filter_string="tags.`mlcycle.state` = 'failed'",
        output_format="list",
    )
    assert {r.data.tags["mlcycle.error"] for r in runs} and all(r.info.status == "FAILED" for r in runs)


def test_each_algorithm_default_is_tried_first(make_use_case: Any) -> None:
    uc = _use_case(make_use_case, algorithms={"ridge": {}, "lightgbm": {}}, search={"trials": 4})
    result = uc.experiment(executor="local", workers=2, report=False, track=False)
    first = [(t.spec.algorithm, t.spec.variant) for t in result.trials[:4]]
    assert first == [("ridge", "basic"), ("ridge", "lagged"), ("lightgbm", "basic"), ("lightgbm", "lagged")]
    lightgbm = result.trials[2].spec.params
    assert lightgbm["objective"] == "quantile" and lightgbm["num_leaves"] == 31  # training for money by default


def test_grid_sampler_enumerates_the_choices(make_use_case: Any) -> None:
    uc = _use_case(
        make_use_case, algorithms={"ridge": {"alpha": [0.1, 10.0]}}, search={"sampler": "grid", "trials": 50}
    )
    result = uc.experiment(executor="local", workers=2, report=False, track=False)
    seen = sorted((t.spec.variant, t.spec.params["alpha"]) for t in result.trials)
    assert seen == [("basic", 0.1), ("basic", 10.0), ("lagged", 0.1), ("lagged", 10.0)]


def test_the_trial_budget_is_kept(make_use_case: Any) -> None:
    uc = _use_case(make_use_case, algorithms={"ridge": {}}, search={"trials": 3})
    assert len(uc.experiment(executor="local", workers=2, report=False, track=False).trials) == 3


def test_the_time_budget_stops_new_trials(make_use_case: Any) -> None:
    design = minimal_design()
    design["requirements"] = {"budget": {"max_training_minutes": 0.001}}
    uc = mlcycle.UseCase.load(make_use_case(design, small_sales(days=120)))
    result = uc.experiment(trials=50, executor="local", workers=1, report=False, track=False)
    assert len(result.trials) < 50
    assert result.stopped_by == "the training budget: requirements.budget.max_training_minutes is 0.001 min"


def test_best_trial_is_a_feasible_one() -> None:
    primary = mlcycle.metrics.CATALOGUE["net_value"]  # type: ignore[attr-defined]

    def trial(number: int, value: float, quality: float) -> TrialResult:
        result = TrialResult(
            TrialSpec(number, "v", "ridge", {}), "complete", metrics={"business": {"net_value": value}}
        )
        result.constraints = {"quality": quality}
        return result

    results = [trial(0, 900.0, +5.0), trial(1, 500.0, -1.0), trial(2, 700.0, -0.5)]
    assert search._best(results, primary).spec.number == 2


def test_leaderboard_has_three_views_and_the_baseline_row(searched_example: Any) -> None:
    uc, result = searched_example
    board = result.leaderboard
    assert board.iloc[-1]["algorithm"] == "baseline"
    for name in ("mae", "stockout_rate", "service_level", "net_value", "money_lost"):
        assert name in board.columns
    ranked = board[board["algorithm"] != "baseline"]["net_value"].tolist()
    assert ranked == sorted(ranked, reverse=True)
    assert (uc.reports_dir / "experiment.html").is_file()
    html = (uc.reports_dir / "experiment.html").read_text()
    assert "Leaderboard" in html and "<svg" in html and "By algorithm" in html and "money depends on" in html


def test_the_example_champion_beats_the_baseline_in_money(searched_example: Any) -> None:
    _, result = searched_example
    best = result.best
    assert best is not None
    assert best.value("money_lost") < best.baseline["business"]["money_lost"]
    assert best.value("net_value") > 0


def test_mlflow_reads_what_mlcycle_wrote(searched_example: Any) -> None:
    uc, result = searched_example
    mlflow.set_tracking_uri(f"sqlite:///{uc.state_dir / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["store-sales"], filter_string="tags.`mlcycle.kind` = 'trial'")
    assert len(runs) == len(result.trials)
    complete = runs[runs["tags.mlcycle.state"] == "complete"]
    for column in (
        "params.variant",
        "params.algorithm",
        "metrics.mae",
        "metrics.mae_std",
        "metrics.baseline_money_lost",
        "metrics.net_value",
        "metrics.fit_seconds",
        "metrics.latency_p95_ms",
        "tags.mlcycle.design_hash",
        "tags.mlcycle.data_hash",
        "tags.mlflow.parentRunId",
    ):
        assert column in complete.columns and complete[column].notna().all(), column
    parent = mlflow.get_run(complete["tags.mlflow.parentRunId"].iloc[0])
    assert parent.data.tags["mlcycle.kind"] == "search"
    assert parent.data.tags["mlcycle.best_run_id"] == result.best_run_id


def test_tracking_uri_can_point_elsewhere(make_use_case: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("MLCYCLE_TRACKING_URI", uri)
    uc = _use_case(make_use_case, algorithms={"ridge": {}}, search={"trials": 2})
    uc.experiment(executor="local", workers=1, report=False)
    client = mlflow.tracking.MlflowClient(uri)
    experiment = client.get_experiment_by_name("small-sales")
    assert experiment is not None and len(client.search_runs([experiment.experiment_id])) == 3  # search + 2 trials
    assert not (uc.state_dir / "mlflow.db").exists()


def test_experiment_cli_exits_0_and_prints_the_leaderboard(make_use_case: Any) -> None:
    from typer.testing import CliRunner

    from mlcycle.cli import app

    design = copy.deepcopy(minimal_design())
    design["experiments"]["algorithms"] = {"ridge": {}}
    folder = make_use_case(design, small_sales(days=120))
    result = CliRunner().invoke(app, ["experiment", "-u", str(folder), "--trials", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Leaderboard" in result.output and "baseline" in result.output and "net_value" in result.output
    bad = CliRunner().invoke(app, ["experiment", "-u", str(folder), "--executor", "dask"])
    assert bad.exit_code == 2
