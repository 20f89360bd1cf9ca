"""The promotion report: the gate table — each requirement, its threshold, the measured figure, pass or fail."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlcycle.report import html

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace
    from mlcycle.develop.gate import GateReport


def write(ws: Workspace, report: GateReport) -> Path:
    return html.render("promotion.html.j2", ws.reports_dir / "promotion.html", d=ws.spec, g=report)
