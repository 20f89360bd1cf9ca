"""The commands through Typer's runner: output, files written and exit codes (0 ok, 1 check failed, 2 bad input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from typer.testing import CliRunner

from mlcycle.main import app
from tests.conftest import minimal_design, small_sales

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_init_writes_the_example(tmp_path: Path) -> None:
    result = invoke("init", str(tmp_path / "shop"), "--example", "sales")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "shop" / "mlcycle.yaml").is_file()
    assert (tmp_path / "shop" / "data" / "sales.csv.gz").is_file()
    assert "wrote use case store-sales" in result.output


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    invoke("init", str(tmp_path))
    again = invoke("init", str(tmp_path))
    assert again.exit_code == 2
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert invoke("init", str(tmp_path), "--force").exit_code == 0


def test_init_unknown_example(tmp_path: Path) -> None:
    result = invoke("init", str(tmp_path), "--example", "weather")
    assert result.exit_code == 2 and "no example called 'weather'; examples: sales" in result.stderr


def test_design_on_the_example_is_a_go_and_writes_the_card(example_copy: Path) -> None:
    result = invoke("design", "--use-case", str(example_copy))
    assert result.exit_code == 0, result.output
    assert "GO — store-sales" in result.output
    assert "Money per month (GBP)" in result.output
    assert (example_copy / ".mlcycle/reports/design.html").is_file()
    assert (example_copy / ".mlcycle/reports/design.md").is_file()


def test_design_no_go_exits_1(make_use_case: Any) -> None:
    design = minimal_design()
    design["value"]["running_cost_per_period"] = 10_000
    result = invoke("design", "-u", str(make_use_case(design)))
    assert result.exit_code == 1
    assert "NO-GO" in result.output


def test_malformed_design_exits_2_with_one_clear_message(make_use_case: Any) -> None:
    design = minimal_design()
    design["requirements"] = {"quality": {"metric": "f1", "min": 0.8}}
    result = invoke("design", "--use-case", str(make_use_case(design)))
    assert result.exit_code == 2
    assert "mlcycle.yaml: requirements.quality.metric: must be a metric for a regression task" in result.stderr
    assert "Traceback" not in result.stderr + result.output


def test_missing_use_case_folder_exits_2(tmp_path: Path) -> None:
    result = invoke("design", "--use-case", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "mlcycle init" in result.stderr


def test_data_check_passes_on_the_example(example_copy: Path) -> None:
    result = invoke("data", "check", "--use-case", str(example_copy))
    assert result.exit_code == 0, result.output
    assert "no blocking problem" in result.output
    assert (example_copy / ".mlcycle/schema.json").is_file()


def test_data_check_exits_1_and_lists_blocking_problems(make_use_case: Any) -> None:
    frame = small_sales()
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    folder = make_use_case(minimal_design(), frame)
    result = invoke("data", "check", "-u", str(folder))
    assert result.exit_code == 1
    assert "duplicates" in result.output and "blocking problems found" in result.output


def test_data_error_exits_2(make_use_case: Any) -> None:
    folder = make_use_case({**minimal_design(), "target": "sold"})
    result = invoke("data", "check", "-u", str(folder))
    assert result.exit_code == 2
    assert "target: target column 'sold' is not in the data" in result.stderr


def test_demo_runs_design_and_development(demoed: tuple[Path, str]) -> None:
    folder, output = demoed
    assert "Act 1 — design" in output and "verdict            GO" in output
    assert "Act 2 — development" in output and "Promotion gate" in output
    assert (folder / ".mlcycle/reports/design.html").is_file()
    assert (folder / ".mlcycle/reports/experiment.html").is_file()
    if "registered store-sales version 1" in output:  # then the loop runs to its end
        assert "Act 3 — deployment" in output and "Act 4 — monitoring" in output
        assert "review             " in output and (folder / ".mlcycle/reports/monitoring.html").is_file()
        assert f"mlcycle ui --use-case {folder}" in output  # the demo ends by naming the dashboard
    else:
        assert "skipped: no champion was registered" in output
    rerun = invoke("demo", str(folder), "--trials", "2")  # reuses the use case already there
    assert rerun.exit_code == 0 and "reusing use case store-sales" in rerun.output


def test_demo_refuses_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = invoke("demo", str(tmp_path))
    assert result.exit_code == 2 and "holds no mlcycle.yaml" in result.stderr


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("mlcycle ")


def test_init_then_design_then_check_on_an_edited_design(tmp_path: Path) -> None:
    """A user edits the example: tighter gate and a forbidden feature; the contract follows the edit."""
    invoke("init", str(tmp_path))
    design = yaml.safe_load((tmp_path / "mlcycle.yaml").read_text())
    design["requirements"]["compliance"]["forbidden_features"] = ["price"]
    (tmp_path / "mlcycle.yaml").write_text(yaml.safe_dump(design))
    result = invoke("design", "-u", str(tmp_path))
    assert result.exit_code == 2
    assert "experiments.data_variants.calendar.features[1]: 'price' is forbidden" in result.stderr
