"""The monitoring commands through Typer's runner: monitor, status --json, retrain's exit code."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from mlcycle.cli import app
from mlcycle.develop import registry
from mlcycle.develop.tracking import Tracker
from tests.deploy.conftest import copy_use_case
from tests.monitor.conftest import serve_period

runner = CliRunner()


def test_monitor_then_status_then_retrain(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    folder = str(uc.folder)
    champion = registry.alias_version(Tracker(uc.state_dir, uc.name), uc.name, registry.CHAMPION)
    empty = runner.invoke(app, ["monitor", "-u", folder])
    assert empty.exit_code == 2 and "nothing to monitor" in empty.stderr
    serve_period(uc, "2011-08-31", "2011-09-21")
    result = runner.invoke(app, ["monitor", "-u", folder, "--since", "2011-09-01"])
    assert result.exit_code == 0, result.output
    assert "4 window(s) of 7d" in result.output and "report:" in result.output
    assert (uc.reports_dir / "monitoring.html").is_file()
    bad = runner.invoke(app, ["monitor", "-u", folder, "--window", "a week"])
    assert bad.exit_code == 2 and "such as 12h, 7d or 2w" in bad.stderr
    state = json.loads(runner.invoke(app, ["status", "-u", folder, "--json"]).output)
    assert state["champion"]["version"] == champion and state["champion"]["gate"]["rows"]  # its gate report
    assert state["last_window"]["start"].startswith("2011-09-19") and state["serving"]["retired"] is None
    # every money figure with its interval: the design's estimate, the validated figure, the realised one
    if state["design"] is not None:
        assert state["design"]["intervals"]["added_value_at_gate_per_period"]["level"] == 0.9
    figures = state["champion"]["gate"]["figures"]
    assert figures["net_value_low"] <= figures["net_value"] <= figures["net_value_high"]
    realised = state["last_window"]["intervals"]["realised_value"]
    assert realised["low"] <= state["last_window"]["realised_value"] <= realised["high"]
    assert realised["method"].startswith("bootstrap over ") and "days" in realised["method"]
    assert runner.invoke(app, ["status", "-u", folder]).exit_code == 0
    retrained = runner.invoke(app, ["retrain", "-u", folder, "--trials", "2"])
    assert retrained.exit_code in (0, 1), retrained.output
    promoted = f"replaced version {champion} as champion" in retrained.output
    assert (retrained.exit_code == 0) == promoted  # exit 1 exactly when the champion stays
    now = json.loads(runner.invoke(app, ["status", "-u", folder, "--json"]).output)["champion"]
    assert (now["version"] != champion and now["previous"] == champion) if promoted else now["version"] == champion
