"""The portfolio: use cases at different stages ranked by expected value per unit of budget still unspent."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import mlcycle
from mlcycle.cli import app
from mlcycle.exceptions import GateFailed
from mlcycle.funding import Entry, advice, rank
from tests.usecases.cases import DIABETES, LOANS, Case


def _entry(name: str, added: float | None, budget: float, spent: float, **changes: Any) -> Entry:
    plain = Entry(
        name,
        f"/{name}",
        "promoted",
        "EUR",
        "month",
        12,
        added,
        None,
        None,
        "validated",
        0.9,
        budget,
        spent,
        False,
        None,
    )
    from mlcycle.funding import _scored

    return _scored(replace(plain, **changes))


def test_value_over_the_horizon_per_unit_of_budget_left_ranks_first() -> None:
    cheap = _entry("cheap", 1_000, budget=10_000, spent=8_000)  # 12,000 for the 2,000 left: 6
    rich = _entry("rich", 5_000, budget=100_000, spent=10_000)  # 60,000 for the 90,000 left: 0.67
    spent_out = _entry("spent-out", 500, budget=5_000, spent=6_000)  # nothing left to spend: 6,000 per 1
    losing = _entry("losing", -200, budget=1_000, spent=0)
    unpriced = _entry("new-one", None, budget=0, spent=0, stage="new")
    retired = _entry("old", 9_000, budget=1_000, spent=1_000, stage="retired")
    assert cheap.score == pytest.approx(6.0) and rich.score == pytest.approx(60_000 / 90_000)
    ranked = rank([losing, rich, retired, unpriced, cheap, spent_out])
    assert [e.name for e in ranked][:3] == ["spent-out", "cheap", "rich"]
    assert {e.name for e in ranked[3:]} == {"losing", "new-one", "old"}  # no value added: after every one that adds
    assert [e.name for e in rank([cheap, rich, spent_out], "value")] == ["rich", "cheap", "spent-out"]
    assert [e.name for e in rank([cheap, rich, spent_out], "name")] == ["cheap", "rich", "spent-out"]
    words = advice(rank([losing, rich, retired, unpriced, cheap]))
    assert words.startswith("Fund cheap next") and "Then rich" in words
    assert "Hold: " in words and "losing" in words and "new-one (not designed yet" in words and "Retired: old" in words


def _write(case: Case, folder: Path) -> Path:
    folder.mkdir(parents=True)
    source = folder / case.design["data"]["source"]
    source.parent.mkdir(parents=True, exist_ok=True)
    data = case.data()
    data.to_parquet(source, index=False) if source.suffix == ".parquet" else data.to_csv(source, index=False)
    (folder / "mlcycle.yaml").write_text(yaml.safe_dump(case.design, sort_keys=False), encoding="utf-8")
    return folder


def test_the_example_and_zoo_cases_at_their_stages(promoted_example: Any, tmp_path: Path) -> None:
    uc, report = promoted_example
    root = tmp_path / "use-cases"
    loans = mlcycle.UseCase.load(_write(LOANS, root / "credit" / "loans"))  # two levels down
    loans.design()
    loans.check_data()  # warns: title gives the forbidden gender away
    loans.experiment(trials=1)
    with pytest.raises(GateFailed):  # refused on its planted proxy and disparity: experimented, not promoted
        loans.promote()
    _write(DIABETES, root / "diabetes")  # written, nothing run: new
    runner = CliRunner()
    done = runner.invoke(app, ["portfolio", str(uc.folder), str(root), "--json"])
    assert done.exit_code == 0, done.output
    ranked = json.loads(done.output)
    assert ranked["by"] == "score" and "per unit of development budget still unspent" in ranked["rule"]
    rows = {u["name"]: u for u in ranked["use_cases"]}
    assert [u["rank"] for u in ranked["use_cases"]] == [1, 2, 3]
    assert (rows["store-sales"]["stage"], rows["loans"]["stage"], rows["diabetes-progression"]["stage"]) == (
        "promoted",
        "experimented",
        "new",
    )
    example = rows["store-sales"]
    assert example["rank"] == 1 and example["basis"] == "validated"
    assert example["added_value"] == pytest.approx(report.figures["net_value"])
    assert example["low"] < example["added_value"] < example["high"] and 0 <= example["pays_back_probability"] <= 1
    assert example["score"] == pytest.approx(
        example["added_value"] * example["horizon_periods"] / (example["budget"] - example["spent"])
    )
    loans = rows["loans"]
    assert loans["basis"] == "estimated" and loans["added_value"] < 0  # a model that only just meets its gate
    assert "data check: 0 error(s), 1 warning(s)" in loans["risks"]
    refused = next(r for r in loans["risks"] if r.startswith("last promotion refused"))
    assert "no proxy for forbidden gender" in refused and "fairness: false-negative rate across gender" in refused
    assert rows["diabetes-progression"]["added_value"] is None and rows["diabetes-progression"]["rank"] == 3
    assert (
        ranked["advice"].startswith("Fund store-sales next")
        and "diabetes-progression (not designed yet" in ranked["advice"]
    )

    table = runner.invoke(app, ["portfolio", str(uc.folder), str(root), "--by", "name"])
    assert table.exit_code == 0 and "What to fund next" in table.output and "ranked by name" in table.output
    wrong = runner.invoke(app, ["portfolio", str(root), "--by", "luck"])
    assert wrong.exit_code == 2 and "--by" in wrong.output
    empty = runner.invoke(app, ["portfolio", str(tmp_path / "nothing-here")])
    assert empty.exit_code == 2 and "no use case in" in empty.output
    assert [e.name for e in mlcycle.portfolio([root]).entries] == ["loans", "diabetes-progression"]
