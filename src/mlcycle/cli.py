"""The ``mlcycle`` command: one thin function per command over the Python API.

Each command parses its options, calls one library function and renders the result.
Errors mlcycle raises on purpose become one clear message on stderr and an exit code:
2 for bad input (the message names the field), 1 for a check or gate that failed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from mlcycle import __version__
from mlcycle.design.card import DesignCard
from mlcycle.exceptions import MlcycleError
from mlcycle.usecase import UseCase, init as init_use_case

app = typer.Typer(
    name="mlcycle",
    help="Carry one ML use case through design → development → deployment → monitoring, and back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Data quality and the inferred schema.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

UseCaseOption = Annotated[Path, typer.Option("--use-case", "-u", help="The use-case folder (holds mlcycle.yaml).")]
F = TypeVar("F", bound=Callable[..., Any])


def _user_errors(fn: F) -> F:
    """Turn MlcycleError into one message on stderr and its exit code — never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MlcycleError as exc:
            err.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        out.print(f"mlcycle {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """mlcycle — is the model worth it, and is it still?"""


# ── rendering ────────────────────────────────────────────────────────────────────────
def _money(value: float, currency: str) -> str:
    if math.isinf(value):
        return "never"
    return f"{value:,.0f} {currency}"


def render_design(card: DesignCard) -> None:
    v = card.value
    colour = "green" if v.go else "red"
    reasons = "\n".join(f"• {r}" for r in v.reasons)
    out.print(Panel(reasons, title=f"[bold {colour}]{v.verdict.upper()}[/] — {card.design.name}", border_style=colour,
                    expand=False))
    table = Table(title=f"Money per {v.period} ({v.currency})", show_header=True, header_style="bold")
    table.add_column("if a model cut money lost by", justify="right")
    table.add_column("money lost", justify="right")
    table.add_column("added value", justify="right")
    table.add_column(f"payback ({v.period}s)", justify="right")
    table.add_row("today", _money(v.baseline_money_lost_per_period, v.currency), "—", "—")
    for s in v.scenarios:
        payback = "never" if math.isinf(s.payback_periods) else f"{s.payback_periods:.1f}"
        table.add_row(f"{s.improvement:.0%}", _money(s.money_lost_per_period, v.currency),
                      _money(s.added_value_per_period, v.currency), payback)
    out.print(table)
    out.print(f"break-even at {v.break_even_improvement:.1%} less money lost; payback within "
              f"{v.horizon_periods} {v.period}s at {v.payback_improvement:.1%}; the gate asks {v.required_by_design:.0%}.")
    out.print(f"design card: {card.html_path}  (and {card.markdown_path.name if card.markdown_path else ''})")


def render_issues(issues: list[Any], schema_path: Path) -> None:
    if issues:
        table = Table(show_header=True, header_style="bold")
        for column in ("severity", "check", "column", "finding"):
            table.add_column(column)
        style = {"error": "bold red", "warning": "yellow", "info": "dim"}
        for issue in issues:
            table.add_row(f"[{style[issue.severity]}]{issue.severity}[/]", issue.check, issue.column or "", issue.message)
        out.print(table)
    blocking = sum(1 for i in issues if i.blocking)
    verdict = "[bold red]blocking problems found[/]" if blocking else "[bold green]no blocking problem[/]"
    out.print(f"{verdict}: {blocking} error(s), {sum(i.severity == 'warning' for i in issues)} warning(s). "
              f"Schema written to {schema_path}")


# ── commands ─────────────────────────────────────────────────────────────────────────
@app.command("init")
@_user_errors
def init_command(
    folder: Annotated[Path, typer.Argument(help="Folder to create the use case in.")],
    example: Annotated[str, typer.Option(help="Bundled example to write.")] = "sales",
    force: Annotated[bool, typer.Option(help="Overwrite an existing mlcycle.yaml.")] = False,
) -> None:
    """Write a use case with the bundled example data and design."""
    uc = init_use_case(folder, example=example, overwrite=force)
    out.print(f"wrote use case [bold]{uc.name}[/] to {uc.folder}")
    out.print(f"next: mlcycle design --use-case {folder}")


@app.command("design")
@_user_errors
def design_command(use_case: UseCaseOption = Path(".")) -> None:
    """Validate the design, profile the data, price today's process → go / no-go and the design card.

    Exits 1 on a no-go.
    """
    uc = UseCase.load(use_case)
    with out.status("pricing today's process on history…"):
        card = uc.design()
    render_design(card)
    if not card.value.go:
        raise typer.Exit(1)


@data_app.command("check")
@_user_errors
def data_check_command(use_case: UseCaseOption = Path(".")) -> None:
    """Check data quality and write the inferred schema (.mlcycle/schema.json). Exits 1 on a blocking problem."""
    uc = UseCase.load(use_case)
    with out.status("checking the data…"):
        issues = uc.check_data()
    render_issues(issues, uc.schema_path)
    if any(i.blocking for i in issues):
        raise typer.Exit(1)


@app.command("demo")
@_user_errors
def demo_command(
    folder: Annotated[Path, typer.Argument(help="Where to create the example use case.")] = Path("mlcycle-demo"),
) -> None:
    """The whole loop on the bundled retail example. Exits 0 when it ran, whatever it found."""
    from mlcycle import demo

    demo.run(folder, out)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
