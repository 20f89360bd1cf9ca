"""The compliance rows of the gate on the loans case (``cases.LOANS``), each planted problem on and off.

The zoo runs the case with both problems planted and expects both rows to refuse it; here each is removed in
turn, and the gate must refuse exactly what is left — so each row fails because of its own problem, not the
other's, and passes once it is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import mlcycle
from mlcycle.exceptions import GateFailed
from tests.usecases.cases import loans_data, loans_design

PROXY = "no proxy for forbidden gender"
FAIRNESS = "fairness: false-negative rate across gender"


@pytest.mark.parametrize(
    ("proxy", "disparity", "refused"),
    [(False, False, set()), (True, False, {PROXY}), (False, True, {FAIRNESS})],
    ids=["neither", "proxy-only", "disparity-only"],
)
def test_each_planted_problem_fails_its_own_row(
    tmp_path: Path, proxy: bool, disparity: bool, refused: set[str]
) -> None:
    folder = tmp_path / "loans"
    (folder / "data").mkdir(parents=True)
    loans_data(proxy=proxy, disparity=disparity).to_csv(folder / "data" / "applications.csv", index=False)
    (folder / "mlcycle.yaml").write_text(yaml.safe_dump(loans_design()), encoding="utf-8")
    uc = mlcycle.UseCase.load(folder)
    uc.experiment(trials=1)
    if refused:
        with pytest.raises(GateFailed) as failed:
            uc.promote()
        report = failed.value.report
    else:
        report = uc.promote()
    rows = {row.requirement: row for row in report.rows}
    assert {name for name, row in rows.items() if not row.passed} == refused, report.to_frame()
    assert PROXY in rows and FAIRNESS in rows  # both measured every time
    fairness = rows[FAIRNESS]
    assert fairness.threshold == "difference ≤ 0.15"
    column = report.fairness[0]
    assert column["column"] == "gender" and {g["name"] for g in column["groups"]} == {"F", "M"}
    gap = column["disparities"]["false_negative_rate"]["difference"]
    assert (gap["value"] > 0.15) == disparity, gap
