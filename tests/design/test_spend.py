"""Spend: compute and team time recorded as it happens, priced, against the development budget; the gate's
"within budget" row; `mlcycle log-work`; status and the design card show it."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import mlcycle
from mlcycle.cli import app
from mlcycle.contract import spec
from mlcycle.design import spend
from mlcycle.develop import gate
from mlcycle.develop.trial import TrialSpec
from mlcycle.store import open_store
from tests.conftest import minimal_design


@dataclass(frozen=True)
class _Entry:
    at: datetime
    kind: str
    what: str
    quantity: float
    cost: float


def _design(**budget: Any) -> spec.Design:
    design = minimal_design()
    design["value"]["development_budget"] = 10_000
    design["requirements"] = {"budget": {"team_size": 2, "team_day_cost": 600, "compute_cost_per_hour": 3.0, **budget}}
    return spec.parse(design)


def test_logged_team_days_and_compute_add_up_against_the_budget() -> None:
    entries = [
        _Entry(datetime(2026, 11, 2, 9), "compute", "search", 40.0, spend.compute_cost(_design(), 40.0)),
        _Entry(datetime(2026, 11, 2, 10), "compute", "promotion", 20.0, 1.0),
        _Entry(datetime(2026, 11, 3, 9), "team", "work", 5.0, 3000.0),
    ]
    spent = spend.summarise(_design(), entries)
    assert spent.compute_minutes == 60 and spent.compute_cost == pytest.approx(2.0 + 1.0)
    assert (spent.team_days, spent.team_cost, spent.team_estimated) == (5.0, 3000.0, False)
    assert spent.total == pytest.approx(3003.0) and spent.within_budget and spent.remaining == pytest.approx(6997.0)
    assert spent.payback_periods(1000.0) == pytest.approx(3.003) and math.isinf(spent.payback_periods(-5))
    assert spent.by_what == {"search": 2.0, "promotion": 1.0, "work": 3000.0}
    assert "3,003 EUR of the 10,000 development budget (30%)" in spent.describe()


def test_unlogged_team_time_is_estimated_from_the_team_size_and_labelled() -> None:
    entries = [_Entry(datetime(2026, 11, 2, 9), "compute", "search", 1.0, 0.05)]  # a Monday
    spent = spend.summarise(_design(), entries, now=datetime(2026, 11, 13, 17))  # two working weeks later
    assert spent.team_estimated and spent.team_days == 2 * 10 and spent.team_cost == 2 * 10 * 600
    assert not spent.within_budget and "estimated" in spent.describe()
    assert spend.summarise(_design(), []).total == 0 and spend.summarise(_design(), []).within_budget


def test_serving_compute_is_measured_on_the_log_else_estimated_from_the_gate() -> None:
    design = _design()  # 60 predictions a month, running cost 10 a month, 3.0 an hour of compute
    measured = spend.serving_cost(design, predictions=700, scoring_ms=7_000 * 3_600, days=7.0)
    assert measured is not None and measured.basis == "measured"
    per_month = 365.25 / 12 / 7
    assert measured.predictions_per_period == pytest.approx(700 * per_month)
    assert measured.scoring_hours_per_period == pytest.approx(7.0 * per_month)
    assert measured.cost_per_period == pytest.approx(3.0 * 7.0 * per_month)
    assert measured.share_of_running_cost == pytest.approx(measured.cost_per_period / 10)
    assert "measured on the prediction log" in measured.describe()
    estimated = spend.serving_cost(design, latency_ms=120.0)
    assert estimated is not None and estimated.basis == "estimated"
    assert estimated.scoring_hours_per_period == pytest.approx(60 * 0.12 / 3600)
    assert spend.serving_cost(design, latency_ms=120.0, predictions_per_period=600).predictions_per_period == 600
    assert spend.serving_cost(design) is None


def test_the_gate_refuses_a_use_case_over_its_budget(example_dir: Path) -> None:
    uc = mlcycle.UseCase.load(example_dir)
    chosen = gate.Candidate("run", TrialSpec(1, "with_lags", "lightgbm", {}), {"net_value": 1.0})
    over = spend.Spend(
        "GBP", 1000.0, 30.0, 1.5, 3.0, 1800.0, False, {"work": 1800.0, "search": 1.5}, datetime(2026, 1, 1)
    )
    kwargs: dict[str, Any] = {"latency_p95_ms": 1, "additivity_gap": 0, "refit_minutes": 0}
    rows = {r.requirement: r for r in gate.evaluate(uc.workspace, chosen, spent=over, **kwargs)}
    row = rows["within budget"]
    assert not row.passed and row.detail == "802 GBP over the development budget" and row.threshold == "≤ 1,000 GBP"
    assert "within budget" not in {r.requirement for r in gate.evaluate(uc.workspace, chosen, **kwargs)}


def test_search_promotion_and_log_work_are_recorded_and_shown(promoted_example: Any) -> None:
    uc, report = promoted_example
    entries = open_store(uc.state_dir).history.spend()
    assert [(e.kind, e.what) for e in entries][:2] == [("compute", "search"), ("compute", "promotion")]
    assert all(e.quantity > 0 for e in entries[:2]) and entries[0].run_id is not None
    assert entries[1].run_id == report.promotion_run_id
    row = next(r for r in report.rows if r.requirement == "within budget")
    assert row.passed  # the search alone, priced at the example's compute cost, is far under its budget

    runner = CliRunner()
    done = runner.invoke(
        app, ["log-work", "--days", "2", "--note", "feature review with the buyers", "-u", str(uc.folder)]
    )
    assert done.exit_code == 0, done.output
    assert "logged 2 day(s)" in done.output and "spent" in done.output
    refused = runner.invoke(app, ["log-work", "--days", "-1", "--note", "x", "-u", str(uc.folder)])
    assert refused.exit_code == 2 and "--days" in refused.output
    state = json.loads(runner.invoke(app, ["status", "--json", "-u", str(uc.folder)]).output)
    assert state["spend"]["team_days"] == 2 and not state["spend"]["team_estimated"]
    assert state["spend"]["compute_minutes"] == pytest.approx(sum(e.quantity for e in entries if e.kind == "compute"))
    assert state["spend"]["payback_basis"] == "validated"
    serving = state["spend"]["serving"]  # nothing served yet: from the gate's latency and the design's volume
    assert serving["basis"] == "estimated" and serving["scoring_hours_per_period"] > 0
    card = uc.design()
    assert card.spend is not None and card.spend.team_days == 2
    assert "spent so far" in card.html_path.read_text(encoding="utf-8")
