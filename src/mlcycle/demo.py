"""The main job: the lifecycle on the bundled retail example, act by act.

Each act calls the same library functions as its command and renders the same output,
so the demo is also the proof that the commands fit together.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule

from mlcycle.exceptions import UseCaseError
from mlcycle.usecase import DESIGN_FILE, UseCase, init


def prepare(folder: Path) -> tuple[UseCase, bool]:
    """Create the example in ``folder``, or reuse the use case already there."""
    if (folder / DESIGN_FILE).is_file():
        return UseCase.load(folder), False
    if folder.exists() and any(folder.iterdir()):
        raise UseCaseError(f"{folder} exists, is not empty and holds no {DESIGN_FILE}; pick an empty or new folder")
    return init(folder, example="sales"), True


def run(folder: Path, console: Console) -> None:
    from mlcycle.cli import render_design, render_issues

    started = time.perf_counter()
    uc, created = prepare(folder)
    console.print(f"{'created' if created else 'reusing'} use case [bold]{uc.name}[/] in {uc.folder}")

    console.print(Rule("Act 1 — design: is it worth building?"))
    with console.status("pricing today's process on history…"):
        card = uc.design()
    render_design(card)

    console.print(Rule("data check: can we trust the data?"))
    with console.status("checking the data…"):
        issues = uc.check_data()
    render_issues(issues, uc.schema_path)

    v = card.value
    blocking = sum(i.blocking for i in issues)
    lines = [
        f"verdict            [bold]{v.verdict.upper()}[/]",
        f"today's process    {v.baseline}: loses {v.baseline_money_lost_per_period:,.0f} {v.currency} per {v.period} "
        f"({v.baseline_cost_per_prediction:,.2f} per prediction)",
        f"break-even         {v.break_even_improvement:.1%} less money lost; payback in {v.horizon_periods} "
        f"{v.period}s needs {v.payback_improvement:.1%}; the gate asks {v.required_by_design:.0%}",
        f"data               {card.profile.rows:,} rows, {blocking} blocking problem(s), "
        f"{sum(i.severity == 'warning' for i in issues)} warning(s)",
        f"design card        {card.html_path}",
        f"schema             {uc.schema_path}",
        f"took               {time.perf_counter() - started:.1f} s",
    ]
    console.print(Panel("\n".join(lines), title=f"mlcycle demo — {uc.name}", expand=False))
