"""The promotion report: the gate table — each requirement, its threshold, the measured figure, pass or fail."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlcycle.report import html

if TYPE_CHECKING:
    from mlcycle.develop.gate import GateReport
    from mlcycle.usecase import UseCase


def write(uc: UseCase, report: GateReport) -> Path:
    return html.render("promotion.html.j2", uc.reports_dir / "promotion.html", d=uc.spec, g=report)
