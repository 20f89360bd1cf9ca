"""The ``mlcycle`` commands: one thin function per command over the Python API.

:mod:`mlcycle.main` adds ``mlcycle demo`` and is the program's entry point.

Each command parses its options, calls one library function and renders the result.
Errors mlcycle raises on purpose become one clear message on stderr and an exit code:
2 for bad input (the message names the field), 1 for a check or gate that failed.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from mlcycle._version import __version__
from mlcycle.exceptions import MlcycleError
from mlcycle.report import terminal
from mlcycle.usecase import UseCase
from mlcycle.usecase import init as init_use_case

app = typer.Typer(
    name="mlcycle",
    help="Carry one ML use case through design → development → deployment → monitoring, and back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Data quality and the inferred schema.", no_args_is_help=True)
app.add_typer(data_app, name="data")

# Wide enough for the leaderboard's three views when the output goes to a log rather than a terminal.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, highlight=False)

UseCaseOption = Annotated[Path, typer.Option("--use-case", "-u", help="The use-case folder (holds mlcycle.yaml).")]
F = TypeVar("F", bound=Callable[..., Any])


def user_errors(fn: F) -> F:
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
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """mlcycle — is the model worth it, and is it still?"""


# ── commands ─────────────────────────────────────────────────────────────────────────
@app.command("init")
@user_errors
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
@user_errors
def design_command(use_case: UseCaseOption = Path(".")) -> None:
    """Validate the design, profile the data, price today's process → go / no-go and the design card.

    Exits 1 on a no-go.
    """
    uc = UseCase.load(use_case)
    with out.status("pricing today's process on history…"):
        card = uc.design()
    terminal.design_card(out, card)
    if not card.value.go:
        raise typer.Exit(1)


@data_app.command("check")
@user_errors
def data_check_command(use_case: UseCaseOption = Path(".")) -> None:
    """Check data quality and write the inferred schema (.mlcycle/schema.json). Exits 1 on a blocking problem."""
    uc = UseCase.load(use_case)
    with out.status("checking the data…"):
        issues = uc.check_data()
    terminal.data_issues(out, issues, uc.schema_path)
    if any(i.blocking for i in issues):
        raise typer.Exit(1)


@app.command("experiment")
@user_errors
def experiment_command(
    use_case: UseCaseOption = Path("."),
    trials: Annotated[int | None, typer.Option(help="Trials to run (default: the design's search.trials).")] = None,
    executor: Annotated[str | None, typer.Option(help="local or ray (default: the design's search.executor).")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster address (default: start a local Ray).")] = None,
) -> None:
    """Search data variants × algorithms × hyperparameters; track every trial in MLflow; print the leaderboard.

    Exits 0 when the search ran, whatever its results: the gate is `promote`'s job.
    """
    if executor not in (None, "local", "ray"):
        raise typer.BadParameter(f"must be local or ray. Got {executor!r}", param_hint="--executor")
    uc = UseCase.load(use_case)
    result = uc.experiment(trials=trials, executor=executor, address=address, console=out)
    terminal.leaderboard(out, result, uc.spec.views)


@app.command("promote")
@user_errors
def promote_command(
    run_id: Annotated[
        str | None, typer.Argument(help="MLflow run id of a trial (default: the best of the last search).")
    ] = None,
    use_case: UseCaseOption = Path("."),
    force: Annotated[bool, typer.Option(help="Register even if the gate fails (needs --reason).")] = False,
    reason: Annotated[str | None, typer.Option(help="Why the gate is overridden, for the audit trail.")] = None,
) -> None:
    """Run the promotion gate on the best (or given) trial; register it as champion if it passes. Exits 1 on a fail."""
    from mlcycle.exceptions import GateFailed

    uc = UseCase.load(use_case)
    try:
        with out.status("refitting, logging and measuring the candidate…"):
            report = uc.promote(run_id, force=force, reason=reason)
    except GateFailed as failed:
        terminal.gate(out, failed.report)
        raise
    terminal.gate(out, report)


@app.command("portfolio")
@user_errors
def portfolio_command(
    roots: Annotated[
        list[Path] | None, typer.Argument(help="Folders holding use cases (default: the current folder).")
    ] = None,
    by: Annotated[str, typer.Option(help="Order: score, value, probability, payback, spend or name.")] = "score",
    as_json: Annotated[bool, typer.Option("--json", help="The ranking as JSON, for scripts.")] = False,
) -> None:
    """Rank every use case by expected value per unit of budget still unspent, with risks: which to fund next."""
    import json

    from mlcycle.funding import ORDERS, portfolio

    if by not in ORDERS:
        raise typer.BadParameter(f"must be one of {', '.join(ORDERS)}. Got {by!r}", param_hint="--by")
    ranked = portfolio(roots or [Path(".")], by=by)
    if as_json:
        typer.echo(json.dumps(ranked.to_json(), indent=1, default=str))
        return
    terminal.portfolio(out, ranked.to_json())


@app.command("log-work")
@user_errors
def log_work_command(
    days: Annotated[float, typer.Option(help="Days of one person's work, e.g. 1.5.")],
    note: Annotated[str, typer.Option(help="What the time went on, for the record.")],
    use_case: UseCaseOption = Path("."),
) -> None:
    """Record team time against the development budget (priced at requirements.budget.team_day_cost)."""
    uc = UseCase.load(use_case)
    spent = uc.log_work(days, note)
    out.print(f"logged {days:g} day(s): {note.strip()}")
    out.print(spent.describe())


keys_app = typer.Typer(help="API keys of the service (only hashes are stored).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command("serve")
@user_errors
def serve_command(
    use_case: UseCaseOption = Path("."),
    host: Annotated[str, typer.Option(help="Interface to bind; 127.0.0.1 unless API keys exist.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (they share the store and follow the alias).")] = 1,
    ui: Annotated[bool, typer.Option("--ui", help="Also serve the dashboard at /ui, behind the same keys.")] = False,
) -> None:
    """The prediction microservice on the champion (FastAPI + uvicorn)."""
    from mlcycle.deploy import server

    uc = UseCase.load(use_case)
    factory = "mlcycle.ui.server:service_with_dashboard" if ui else "mlcycle.deploy.server:app_from_environment"
    server.serve(uc.workspace, host=host, port=port, workers=workers, console=err, factory=factory)


@app.command("ui")
@user_errors
def ui_command(
    use_case: Annotated[
        Path | None, typer.Option("--use-case", "-u", help="One use-case folder (default: the current one).")
    ] = None,
    root: Annotated[
        Path | None, typer.Option(help="A folder of use cases: the portfolio view over all of them.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind; 127.0.0.1 unless API keys exist.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the dashboard in a browser.")] = False,
) -> None:
    """The dashboard: one use case, or every use case under --root (overview, design, experiments, models,
    monitoring, decisions, review and actions)."""
    from mlcycle.ui import server

    if use_case is not None and root is not None:
        raise typer.BadParameter("give --use-case or --root, not both")
    server.serve(
        None if root else (use_case or Path(".")), root, host=host, port=port, open_browser=open_browser, console=err
    )


@app.command("predict")
@user_errors
def predict_command(
    input: Annotated[Path, typer.Option("--input", help="CSV or parquet file of rows to score.")],
    output: Annotated[Path, typer.Option("--output", help="Where to write the scored rows (CSV or parquet).")],
    use_case: UseCaseOption = Path("."),
    explain: Annotated[bool, typer.Option(help="Add a plain-language explanation per row.")] = False,
    executor: Annotated[
        str, typer.Option(help="local: streamed in this process; ray: Ray Data over a cluster (parquet input).")
    ] = "local",
    address: Annotated[
        str | None, typer.Option(help="--executor ray: the cluster's address (ray://host:10001, auto); else local.")
    ] = None,
) -> None:
    """Batch scoring with the champion: same schema, features and logging as the service."""
    from mlcycle.deploy import batch

    uc = UseCase.load(use_case)
    result = batch.run(uc.workspace, input, output, explain=explain, console=out, executor=executor, address=address)
    out.print(
        f"scored {result.scored:,} rows with {uc.name} version {result.version} → {result.output} "
        f"({result.seconds:,.1f} s, {result.rows_per_second:,.0f} rows/s, every row logged)"
    )
    if result.rejects:
        out.print(f"[yellow]rejected {result.rejected:,} rows[/] (reason per row) → {result.rejects}")
    if result.orders:
        out.print(f"order proposal → {result.orders}")


@app.command("feedback")
@user_errors
def feedback_command(
    input: Annotated[
        Path,
        typer.Option("--input", help="CSV/parquet: request_id + actual, or series keys + time + target."),
    ],
    use_case: UseCaseOption = Path("."),
) -> None:
    """Load ground truth for logged predictions."""
    from mlcycle.deploy import feedback

    uc = UseCase.load(use_case)
    stored = feedback.load(uc.workspace, input)
    out.print(f"stored {stored:,} actuals")


@app.command("audit")
@user_errors
def audit_command(
    request_id: Annotated[str, typer.Option("--request-id", help="The request id of one prediction.")],
    use_case: UseCaseOption = Path("."),
) -> None:
    """The full record of one decision: inputs, model version and its gate report, output, explanation."""
    import json as json_mod

    from mlcycle.deploy import feedback

    uc = UseCase.load(use_case)
    record = feedback.audit(uc.workspace, request_id)
    out.print_json(json_mod.dumps(record, default=str))


@keys_app.command("create")
@user_errors
def keys_create(
    scope: Annotated[str, typer.Option(help="view (the dashboard), predict, feedback or admin.")],
    note: Annotated[str | None, typer.Option(help="Who or what the key is for.")] = None,
    use_case: UseCaseOption = Path("."),
) -> None:
    """Create a key; its secret is shown once and only its hash is stored."""
    from mlcycle.store import open_store

    store = open_store(UseCase.load(use_case).state_dir)
    key_id, secret = store.keys.create(scope, note)
    out.print(f"key {key_id} ({scope}) — keep this secret, it is not shown again:")
    print(secret)


@keys_app.command("list")
@user_errors
def keys_list(use_case: UseCaseOption = Path(".")) -> None:
    """The keys: id, scope, note, created, revoked."""
    from mlcycle.store import open_store

    keys = open_store(UseCase.load(use_case).state_dir).keys.all()
    table = Table(header_style="bold")
    for column in ("id", "scope", "note", "created", "revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.id,
            key.scope,
            key.note or "",
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
@user_errors
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id.")], use_case: UseCaseOption = Path(".")
) -> None:
    """Revoke a key (services notice within seconds)."""
    from mlcycle.store import open_store

    open_store(UseCase.load(use_case).state_dir).keys.revoke(key_id)
    out.print(f"revoked key {key_id}")


# ── monitoring and the loop back ─────────────────────────────────────────────────────
@app.command("monitor")
@user_errors
def monitor_command(
    use_case: UseCaseOption = Path("."),
    window: Annotated[str | None, typer.Option(help="Window length: 12h, 7d, 2w (default: the design's).")] = None,
    since: Annotated[str | None, typer.Option(help="Compute every window from this date on (a backfill).")] = None,
    every: Annotated[str | None, typer.Option(help="Run again at this interval (e.g. 1h) until stopped.")] = None,
) -> None:
    """Drift, performance on delayed ground truth, money realised, latency and errors → alerts and the report.

    Without a scheduler: `--every 1h`. With cron: `5 * * * * cd /srv/usecase && mlcycle monitor`.
    """
    import time as time_mod

    from mlcycle.contract.spec import parse_duration

    uc = UseCase.load(use_case)
    pause = parse_duration(every).total_seconds() if every else None
    while True:
        try:
            with out.status("monitoring…"):
                results = uc.monitor_windows(window, since)
            terminal.windows(out, results, uc.spec, window)
        except MlcycleError as exc:
            if pause is None:
                raise
            err.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)  # a repeating run keeps going
        if pause is None:
            return
        out.print(f"next run in {every} (Ctrl-C to stop)")
        time_mod.sleep(pause)
        since = None


@app.command("review")
@user_errors
def review_command(use_case: UseCaseOption = Path(".")) -> None:
    """The verdict on the champion, with reasons and numbers. Exits 0 healthy, 3 retrain, 4 rollback, 5 retire."""
    uc = UseCase.load(use_case)
    with out.status("reviewing…"):
        review = uc.review()
    terminal.review(out, review)
    raise typer.Exit(review.exit_code)


@app.command("rollback")
@user_errors
def rollback_command(use_case: UseCaseOption = Path(".")) -> None:
    """Move the alias 'champion' back to 'previous'; a running service follows within seconds."""
    uc = UseCase.load(use_case)
    old, new = uc.rollback()
    out.print(f"rolled back {uc.name}: champion is version {new} again (version {old} stays registered)")


@app.command("retire")
@user_errors
def retire_command(
    reason: Annotated[str, typer.Option(help="Why the use case stops, shown to every caller of the service.")],
    use_case: UseCaseOption = Path("."),
) -> None:
    """Stop serving the use case: the service answers 410 with the reason; every record is kept."""
    uc = UseCase.load(use_case)
    uc.retire(reason)
    out.print(f"retired {uc.name}: the service now answers 410 — {reason}")


@app.command("retrain")
@user_errors
def retrain_command(
    use_case: UseCaseOption = Path("."),
    trials: Annotated[int | None, typer.Option(help="Trials for the new search (default: the design's).")] = None,
    executor: Annotated[str | None, typer.Option(help="local or ray (default: the design's).")] = None,
) -> None:
    """New search on data with the served period's actuals; the challenger replaces the champion only through
    the gate and only if it beats the champion on the latest window. Exits 1 when the champion stays."""
    uc = UseCase.load(use_case)
    result = uc.retrain(trials=trials, executor=executor, console=out)
    terminal.retrain(out, result)
    if not result.promoted:
        raise typer.Exit(1)


@app.command("status")
@user_errors
def status_command(
    use_case: UseCaseOption = Path("."),
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Where the use case stands: design verdict, champion and its gate, last window, open alerts, last review."""
    import json as json_mod

    state = UseCase.load(use_case).status()
    if json:
        print(json_mod.dumps(state.to_dict(), default=str, indent=1))
        return
    terminal.status(out, state)
