"""The promotion gate: a good candidate passes, each failing requirement is caught on its own,
the registry's aliases move correctly, and MLflow loads the champion by its alias."""

from __future__ import annotations

import json
import math
from typing import Any

import mlflow
import numpy as np
import pytest

import mlcycle
from mlcycle.develop import gate
from mlcycle.develop.trial import TrialSpec
from mlcycle.exceptions import GateFailed, UseCaseError

GOOD_METRICS = {"mae": 90.0, "money_lost": 18_000.0, "baseline_money_lost": 24_000.0, "net_value": 5_500.0}


def _rows(
    uc: mlcycle.UseCase,
    metrics: dict[str, float] | None = None,
    *,
    latency: float = 5.0,
    gap: float | None = 1e-12,
    minutes: float = 0.1,
    variant: str = "with_lags",
) -> dict[str, gate.GateRow]:
    chosen = gate.Candidate("run", TrialSpec(1, variant, "lightgbm", {}), {**GOOD_METRICS, **(metrics or {})})
    rows = gate.evaluate(uc.workspace, chosen, latency_p95_ms=latency, additivity_gap=gap, refit_minutes=minutes)
    return {row.requirement: row for row in rows}


def test_a_good_candidate_passes_every_row(example_dir: Any) -> None:
    rows = _rows(mlcycle.UseCase.load(example_dir))
    assert all(row.passed for row in rows.values()), rows
    assert set(rows) == {
        "quality: mae",
        "beats the baseline in money lost",
        "positive added value after running cost",
        "single-row latency p95",
        "explainability: per prediction",
        "no forbidden feature",
        "training time",
    }


@pytest.mark.parametrize(
    "change, failing, detail",
    [
        (dict(metrics={"mae": 130.0}), "quality: mae", "15 above the ceiling"),
        (
            dict(metrics={"money_lost": 22_000.0}),
            "beats the baseline in money lost",
            "short of the required cut",
        ),
        (
            dict(metrics={"net_value": -300.0}),
            "positive added value after running cost",
            "loses 300 GBP per month",
        ),
        (dict(latency=80.0), "single-row latency p95", "30.0 ms too slow"),
        (dict(gap=None), "explainability: per prediction", "unavailable"),
        (dict(gap=0.5), "explainability: per prediction", "do not add up"),
        (dict(minutes=12.0), "training time", "2.0 min over budget"),
    ],
)
def test_each_failing_requirement_is_caught_alone(
    example_dir: Any, change: dict[str, Any], failing: str, detail: str
) -> None:
    rows = _rows(mlcycle.UseCase.load(example_dir), **change)
    failed = [name for name, row in rows.items() if not row.passed]
    assert failed == [failing]
    assert detail in rows[failing].detail


@pytest.mark.parametrize(
    ("low", "says"),
    [(0.20, "met across the 90% interval"), (0.10, "not across the 90% interval: its lower end is 10.0%")],
)
def test_the_baseline_row_says_whether_the_cut_holds_across_its_interval(
    example_dir: Any, low: float, says: str
) -> None:
    figures = {"improvement_low": low, "improvement_high": 0.31, "net_value_low": 4_000.0, "net_value_high": 7_000.0}
    rows = _rows(mlcycle.UseCase.load(example_dir), figures)
    row = rows["beats the baseline in money lost"]
    assert row.passed and says in row.detail
    assert row.measured == f"25.0% less ({low:.1%} – 31.0%, 90%)"
    money = rows["positive added value after running cost"]
    assert money.measured == "5,500 GBP per month (4,000 – 7,000, 90%)" and "met across" in money.detail


def test_a_forbidden_feature_fails_its_row(example_dir: Any) -> None:
    uc = mlcycle.UseCase.load(example_dir)
    strict = uc.spec.model_copy(deep=True)
    strict.requirements.compliance.forbidden_features = ["price"]
    rows = _rows(mlcycle.UseCase(uc.folder, strict))
    # and the product gives the price away: each product has its price, so the proxy row fails too
    assert [n for n, r in rows.items() if not r.passed] == ["no forbidden feature", "no proxy for forbidden price"]
    assert rows["no forbidden feature"].detail == "uses price"
    assert "strongest: item" in rows["no proxy for forbidden price"].detail


def test_promotion_registers_the_champion_and_mlflow_loads_it(promoted_example: Any) -> None:
    uc, report = promoted_example
    assert report.passed and report.registered and report.version == "1" and report.previous_version is None
    mlflow.set_tracking_uri(f"sqlite:///{uc.state_dir / 'mlflow.db'}")
    mlflow.set_registry_uri(f"sqlite:///{uc.state_dir / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model("models:/store-sales@champion")
    future = uc.data[uc.data["date"] > "2011-08-31"].head(40)[["date", "item", "price"]]
    forecast = model.predict(future)
    assert len(forecast) == 40 and np.isfinite(np.asarray(forecast, dtype=float)).all()
    signature_inputs = [c.name for c in model.metadata.get_input_schema().inputs]
    assert signature_inputs == ["date", "item", "price"]
    version = mlflow.tracking.MlflowClient().get_model_version("store-sales", "1")
    tagged = json.loads(version.tags["mlcycle.gate"])
    assert tagged["passed"] and len(tagged["rows"]) == len(report.rows)
    inner = model.unwrap_python_model()
    assert {"price", "item", "units", "prediction"} <= set(inner.profile["columns"])
    assert set(inner.schema["columns"]) == {"date", "item", "price"}
    assert inner.schema["columns"]["item"]["categories"]
    assert (uc.reports_dir / "promotion.html").is_file()


def test_aliases_move_and_a_failed_gate_registers_nothing(promoted_example: Any) -> None:
    uc, first = promoted_example
    client = mlflow.tracking.MlflowClient(f"sqlite:///{uc.state_dir / 'mlflow.db'}")

    def alias(name: str) -> str | None:
        try:
            return str(client.get_model_version_by_alias("store-sales", name).version)
        except mlflow.exceptions.MlflowException:
            return None

    second = uc.promote()
    assert (alias("champion"), alias("previous")) == (second.version, first.version)

    strict = uc.spec.model_copy(deep=True)
    strict.requirements.beat_baseline_by = 0.9
    versions_before = len(client.search_model_versions("name='store-sales'"))
    with pytest.raises(GateFailed) as caught:
        mlcycle.UseCase(uc.folder, strict).promote()
    assert "beats the baseline in money lost" in str(caught.value) and "nothing was registered" in str(caught.value)
    assert len(client.search_model_versions("name='store-sales'")) == versions_before
    assert (alias("champion"), alias("previous")) == (second.version, first.version)

    with pytest.raises(UseCaseError, match="--force needs --reason"):
        mlcycle.UseCase(uc.folder, strict).promote(force=True)
    forced = mlcycle.UseCase(uc.folder, strict).promote(force=True, reason="buyer asked for the new model before Xmas")
    assert forced.forced and forced.registered and forced.forced_by
    assert (alias("champion"), alias("previous")) == (forced.version, second.version)
    tags = client.get_model_version("store-sales", forced.version).tags
    assert tags["mlcycle.forced_reason"] == "buyer asked for the new model before Xmas"
    assert tags["mlcycle.gate_passed"] == "false"


def test_promote_a_given_trial_run(promoted_example: Any, searched_example: Any) -> None:
    uc, _ = promoted_example
    _, result = searched_example
    other = next(t for t in result.trials if t.state == "complete" and t.run_id != result.best_run_id)
    candidate = gate.candidate(gate.Tracker(uc.state_dir, uc.name), other.run_id)
    assert candidate.spec.algorithm == other.spec.algorithm and candidate.spec.params == other.spec.params
    assert math.isclose(candidate.metrics["net_value"], other.value("net_value"), rel_tol=1e-9)
    with pytest.raises(UseCaseError, match="no MLflow run"):
        gate.candidate(gate.Tracker(uc.state_dir, uc.name), "0" * 32)


def test_promote_cli_exits_1_on_a_failed_gate(searched_example: Any, tmp_path: Any) -> None:
    import shutil

    import yaml
    from typer.testing import CliRunner

    from mlcycle.cli import app

    uc, _ = searched_example
    copy = tmp_path / "copy"
    shutil.copytree(uc.folder, copy)
    design = yaml.safe_load((copy / "mlcycle.yaml").read_text())
    design["requirements"]["latency_p95_ms"] = 0.001
    (copy / "mlcycle.yaml").write_text(yaml.safe_dump(design))
    result = CliRunner().invoke(app, ["promote", "-u", str(copy)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "single-row latency p95" in result.output and "fail" in result.output
    assert "nothing was registered" in result.stderr
