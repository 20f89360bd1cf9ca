"""The ``mlcycle`` command: one thin function per command over the Python API.

Each command parses its options, calls one library function and renders the result.
Errors mlcycle raises on purpose become one clear message on stderr and an exit code:
2 for bad input (the message names the field), 1 for a check or gate that failed.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from mlcycle._version import __version__
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

# Wide enough for the leaderboard's three views when the output goes to a log rather than a terminal.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 150)
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


def render_leaderboard(result: Any, views: dict[str, list[str]], top: int = 10) -> None:
    board = result.leaderboard
    if board.empty or (board["algorithm"] == "baseline").all():
        errors = sorted({t.error for t in result.trials if t.state == "failed" and t.error})
        out.print(f"[red]no trial completed[/] ({result.count('failed')} failed, {result.count('pruned')} pruned)")
        for error in errors[:5]:
            out.print(f"  [red]•[/] {error}")
        return
    table = Table(title=f"Leaderboard — best {result.primary} first (fold means)", header_style="bold")
    for column in ("#", "trial", "algorithm", "variant", "gates"):
        table.add_column(column, justify="right" if column in ("#", "trial") else "left")
    headers = [(view, name) for view, names in views.items() for name in names]
    colours = {"data_scientist": "cyan", "domain_expert": "magenta", "business": "green"}
    for view, name in headers:
        table.add_column(f"[{colours[view]}]{name}[/]", justify="right")
    shown = pd_concat_top(board, top)
    for row in shown.to_dict("records"):
        is_baseline = row["algorithm"] == "baseline"
        gates = "" if is_baseline else ("[green]met[/]" if row.get("feasible") else "[red]missed[/]")
        cells = ["" if is_baseline else str(int(row["rank"])), "" if is_baseline else str(int(row["trial"])),
                 row["algorithm"], row["variant"], gates]
        cells += [_cell(row.get(name)) for _, name in headers]
        table.add_row(*cells, style="bold" if is_baseline else None)
    out.print(table)
    out.print("gates: the requirements known at search time (quality, latency, forbidden features); "
              "the best trial is the best that meets them.")
    notes: dict[str, list[int]] = {}
    for trial in result.trials:
        for note in trial.notes:
            notes.setdefault(note, []).append(trial.spec.number)
    for note, numbers in notes.items():
        shown = ", ".join(str(n) for n in numbers[:8]) + (" …" if len(numbers) > 8 else "")
        out.print(f"[yellow]note[/] (trial {shown}): {note}")
    out.print(f"{result.count('complete')} complete, {result.count('pruned')} pruned, {result.count('failed')} failed "
              f"in {result.elapsed_seconds:.0f} s on the {result.executor} executor (stopped by {result.stopped_by}).")
    if result.best is not None:
        out.print(f"best: trial {result.best.spec.number} — {result.best.spec.algorithm} on {result.best.spec.variant}, "
                  f"MLflow run {result.best.run_id}")
    if result.report_path:
        out.print(f"report: {result.report_path}")


def pd_concat_top(board: Any, top: int) -> Any:
    import pandas as pd

    return pd.concat([board[board["algorithm"] != "baseline"].head(top), board[board["algorithm"] == "baseline"]])


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


@app.command("experiment")
@_user_errors
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
    render_leaderboard(result, uc.spec.views)


def render_gate(report: Any) -> None:
    table = Table(title=f"Promotion gate — trial {report.spec['number']} ({report.spec['algorithm']} on "
                        f"{report.spec['variant']})", header_style="bold")
    for column in ("requirement", "threshold", "measured", "result", "detail"):
        table.add_column(column)
    for row in report.rows:
        table.add_row(row.requirement, row.threshold, row.measured,
                      "[green]pass[/]" if row.passed else "[bold red]fail[/]", row.detail)
    out.print(table)
    for note in report.notes:
        out.print(f"[yellow]note[/]: {note}")
    if report.registered:
        forced = f" [bold yellow](forced by {report.forced_by}: {report.reason})[/]" if report.forced else ""
        previous = f"; version {report.previous_version} is now 'previous'" if report.previous_version else ""
        out.print(f"[green]registered[/] {report.use_case} version {report.version} as 'champion'{previous}{forced}")
    if report.report_path:
        out.print(f"report: {report.report_path}")


@app.command("promote")
@_user_errors
def promote_command(
    run_id: Annotated[str | None, typer.Argument(help="MLflow run id of a trial (default: the best of the last search).")] = None,
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
        render_gate(failed.report)
        raise
    render_gate(report)


keys_app = typer.Typer(help="API keys of the service (only hashes are stored).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command("serve")
@_user_errors
def serve_command(
    use_case: UseCaseOption = Path("."),
    host: Annotated[str, typer.Option(help="Interface to bind; 127.0.0.1 unless API keys exist.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (they share the store and follow the alias).")] = 1,
) -> None:
    """The prediction microservice on the champion (FastAPI + uvicorn)."""
    from mlcycle.deploy import server

    uc = UseCase.load(use_case)
    server.serve(uc, host=host, port=port, workers=workers, console=err)


@app.command("predict")
@_user_errors
def predict_command(
    input: Annotated[Path, typer.Option("--input", help="CSV or parquet file of rows to score.")],
    output: Annotated[Path, typer.Option("--output", help="Where to write the scored rows (CSV or parquet).")],
    use_case: UseCaseOption = Path("."),
    explain: Annotated[bool, typer.Option(help="Add a plain-language explanation per row.")] = False,
) -> None:
    """Batch scoring with the champion: same schema, features and logging as the service."""
    from mlcycle.deploy import batch

    uc = UseCase.load(use_case)
    result = batch.run(uc, input, output, explain=explain, console=out)
    out.print(f"scored {result.scored:,} rows with {uc.name} version {result.version} → {result.output}")
    if result.rejects:
        out.print(f"[yellow]rejected {result.rejected:,} rows[/] (reason per row) → {result.rejects}")
    if result.orders:
        out.print(f"order proposal → {result.orders}")


@app.command("feedback")
@_user_errors
def feedback_command(
    input: Annotated[Path, typer.Option("--input", help="CSV/parquet: request_id + actual, or series keys + time + target.")],
    use_case: UseCaseOption = Path("."),
) -> None:
    """Load ground truth for logged predictions."""
    from mlcycle.deploy import feedback

    uc = UseCase.load(use_case)
    stored = feedback.load(uc, input)
    out.print(f"stored {stored:,} actuals")


@app.command("audit")
@_user_errors
def audit_command(
    request_id: Annotated[str, typer.Option("--request-id", help="The request id of one prediction.")],
    use_case: UseCaseOption = Path("."),
) -> None:
    """The full record of one decision: inputs, model version and its gate report, output, explanation."""
    import json as json_mod

    from mlcycle.deploy import feedback

    uc = UseCase.load(use_case)
    record = feedback.audit(uc, request_id)
    out.print_json(json_mod.dumps(record, default=str))


@keys_app.command("create")
@_user_errors
def keys_create(
    scope: Annotated[str, typer.Option(help="predict, feedback or admin.")],
    note: Annotated[str | None, typer.Option(help="Who or what the key is for.")] = None,
    use_case: UseCaseOption = Path("."),
) -> None:
    """Create a key; its secret is shown once and only its hash is stored."""
    from mlcycle.monitor.store import open_store

    store = open_store(UseCase.load(use_case).state_dir)
    key_id, secret = store.create_key(scope, note)
    out.print(f"key {key_id} ({scope}) — keep this secret, it is not shown again:")
    print(secret)


@keys_app.command("list")
@_user_errors
def keys_list(use_case: UseCaseOption = Path(".")) -> None:
    """The keys: id, scope, note, created, revoked."""
    from mlcycle.monitor.store import open_store

    keys = open_store(UseCase.load(use_case).state_dir).keys()
    table = Table(header_style="bold")
    for column in ("id", "scope", "note", "created", "revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(key.id, key.scope, key.note or "", f"{key.created_at:%Y-%m-%d %H:%M}",
                      f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "")
    out.print(table)


@keys_app.command("revoke")
@_user_errors
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id.")], use_case: UseCaseOption = Path(".")) -> None:
    """Revoke a key (services notice within seconds)."""
    from mlcycle.monitor.store import open_store

    open_store(UseCase.load(use_case).state_dir).revoke_key(key_id)
    out.print(f"revoked key {key_id}")


# ── monitoring and the loop back ─────────────────────────────────────────────────────
def render_windows(results: list[Any], uc: UseCase, window: str | None = None) -> None:
    from mlcycle.monitor.window import watched_metric

    design = uc.spec
    name = watched_metric(uc)
    table = Table(title=f"Monitoring — {design.name}: {len(results)} window(s) of {window or design.monitoring.window}",
                  header_style="bold")
    for column in ("window", "model", "predictions", "actuals", name or "metric", "today's", "realised", "p95 ms",
                   "errors", "drifted", "alerts raised"):
        table.add_column(column, justify="left" if column in ("window", "drifted", "alerts raised") else "right",
                         no_wrap=column == "window")
    for r in results:
        p = r.performance
        value = p.value(name) if name and p.metrics else float("nan")
        base = p.baseline_value(name) if name else float("nan")
        span = f"{r.start:%d %b %H:%M} → {r.end:%d %b %H:%M}" if r.end - r.start < timedelta(days=1) \
            else f"{r.start:%d %b} → {r.end:%d %b %y}"
        table.add_row(span, r.model_version or "—", f"{p.predictions:,}",
                      f"{p.labelled:,}", _cell(value), _cell(base), _cell(p.realised_value), _cell(r.latency_p95_ms),
                      "—" if r.error_rate is None else f"{r.error_rate:.1%}",
                      ", ".join(d.column for d in r.drift.rows if d.drifted) or "—",
                      ", ".join(e["subject"] for e in r.alerts.raised) or "—")
    out.print(table)
    latest = results[-1]
    if latest.performance.note:
        out.print(f"[yellow]{latest.performance.note}[/]")
    p = latest.performance
    out.print(f"added value per {design.value.period} ({design.value.currency}): design estimate {_cell(p.estimated_value)}"
              f" | validated {_cell(p.validated_value)} | realised {_cell(p.realised_value)} in the latest window. "
              f"today's = {name or 'the metric'} of today's process on the same rows.")
    for event in [e for r in results for e in r.alerts.raised]:
        out.print(f"[bold red]alert[/]   {event['at'][:10]}  {event['message']}")
    for event in [e for r in results for e in r.alerts.cleared]:
        out.print(f"[green]cleared[/] {event['at'][:10]}  {event['rule']}: {event['subject']}")
    for problem in {p for r in results for p in r.alerts.sink_errors}:
        out.print(f"[yellow]alert sink failed[/] {problem}")
    if latest.report_path:
        out.print(f"report: {latest.report_path}")


@app.command("monitor")
@_user_errors
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
            render_windows(results, uc, window)
        except MlcycleError as exc:
            if pause is None:
                raise
            err.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)  # a repeating run keeps going
        if pause is None:
            return
        out.print(f"next run in {every} (Ctrl-C to stop)")
        time_mod.sleep(pause)
        since = None


def render_review(review: Any) -> None:
    colours = {"healthy": "green", "retrain": "yellow", "rollback": "magenta", "retire": "red"}
    colour = colours[review.verdict]
    body = "\n".join(f"• {reason}" for reason in review.reasons)
    out.print(Panel(body, title=f"[bold {colour}]{review.verdict.upper()}[/] — version {review.model_version} "
                                f"(exit code {review.exit_code})", border_style=colour, expand=False))


@app.command("review")
@_user_errors
def review_command(use_case: UseCaseOption = Path(".")) -> None:
    """The verdict on the champion, with reasons and numbers. Exits 0 healthy, 3 retrain, 4 rollback, 5 retire."""
    uc = UseCase.load(use_case)
    with out.status("reviewing…"):
        review = uc.review()
    render_review(review)
    raise typer.Exit(review.exit_code)


@app.command("rollback")
@_user_errors
def rollback_command(use_case: UseCaseOption = Path(".")) -> None:
    """Move the alias 'champion' back to 'previous'; a running service follows within seconds."""
    uc = UseCase.load(use_case)
    old, new = uc.rollback()
    out.print(f"rolled back {uc.name}: champion is version {new} again (version {old} stays registered)")


@app.command("retire")
@_user_errors
def retire_command(
    reason: Annotated[str, typer.Option(help="Why the use case stops, shown to every caller of the service.")],
    use_case: UseCaseOption = Path("."),
) -> None:
    """Stop serving the use case: the service answers 410 with the reason; every record is kept."""
    uc = UseCase.load(use_case)
    uc.retire(reason)
    out.print(f"retired {uc.name}: the service now answers 410 — {reason}")


@app.command("retrain")
@_user_errors
def retrain_command(
    use_case: UseCaseOption = Path("."),
    trials: Annotated[int | None, typer.Option(help="Trials for the new search (default: the design's).")] = None,
    executor: Annotated[str | None, typer.Option(help="local or ray (default: the design's).")] = None,
) -> None:
    """New search on data with the served period's actuals; the challenger replaces the champion only through
    the gate and only if it beats the champion on the latest window. Exits 1 when the champion stays."""
    uc = UseCase.load(use_case)
    result = uc.retrain(trials=trials, executor=executor, console=out)
    render_retrain(result, uc)
    if not result.promoted:
        raise typer.Exit(1)


def render_retrain(result: Any, uc: UseCase) -> None:
    start, end = result.window
    out.print(f"retrained on {result.training_rows:,} rows ({result.served_rows:,} from the served period's "
              f"feedback), holding out {start:%Y-%m-%d} → {end:%Y-%m-%d}; {result.experiment.count('complete')} "
              f"trials complete")
    if result.gate is not None:
        render_gate(result.gate)
    colour = "green" if result.promoted else "yellow"
    out.print(f"[bold {colour}]{result.summary}[/]")


def render_status(state: dict[str, Any]) -> None:
    design, champion, last = state["design"], state["champion"], state["last_window"]
    lines = [f"design        {design['verdict'].upper() if design else 'not run yet (mlcycle design)'}"]
    if design:
        lines.append(f"              estimate {design['estimated_added_value_per_period']:,.0f} {design['currency']} "
                     f"per {design['period']} at the gate's cut")
    retired = state["serving"]["retired"]
    lines.append(f"serving       {'[bold red]RETIRED[/] — ' + retired['reason'] if retired else 'in service'}")
    if champion["version"]:
        gate = champion["gate"] or {}
        lines.append(f"champion      version {champion['version']} (gate {'passed' if gate.get('passed') else 'forced' if gate.get('forced') else '—'})"
                     f"; previous {champion['previous'] or '—'}")
    else:
        lines.append("champion      none (mlcycle promote)")
    if last:
        lines.append(f"last window   {last['start']:%Y-%m-%d} → {last['end']:%Y-%m-%d}: {last['predictions']:,} predictions, "
                     f"{last['labelled']:,} with actuals, {last['metric']} {_cell(last['metric_value'])}, realised "
                     f"{_cell(last['realised_value'])} vs estimate {_cell(last['estimated_value'])}, {last['drifted']} drifted")
    else:
        lines.append("last window   none (mlcycle monitor)")
    lines.append(f"open alerts   {len(state['open_alerts'])}")
    lines += [f"              • {a['message']}" for a in state["open_alerts"]]
    review = state["last_review"]
    lines.append(f"last review   {review['verdict']} ({review['at']:%Y-%m-%d %H:%M}){' → ' + review['action'] if review['action'] else ''}"
                 if review else "last review   none (mlcycle review)")
    out.print(Panel("\n".join(lines), title=f"status — {state['use_case']}", expand=False))


@app.command("status")
@_user_errors
def status_command(
    use_case: UseCaseOption = Path("."),
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Where the use case stands: design verdict, champion and its gate, last window, open alerts, last review."""
    import json as json_mod

    state = UseCase.load(use_case).status()
    if json:
        print(json_mod.dumps(state, default=str, indent=1))
        return
    render_status(state)


@app.command("demo")
@_user_errors
def demo_command(
    folder: Annotated[Path, typer.Argument(help="Where to create the example use case.")] = Path("mlcycle-demo"),
    trials: Annotated[int | None, typer.Option(help="Trials for the search (default: the design's, ~2 minutes).")] = None,
) -> None:
    """The whole loop on the bundled retail example. Exits 0 when it ran, whatever it found."""
    from mlcycle import demo

    demo.run(folder, out, trials=trials)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
