"""What the terminal shows: design cards, data issues, leaderboards, gates, windows, reviews and status.

Rich rendering for the CLI and the demo, which both call these with their own
:class:`~rich.console.Console`; nothing here decides or computes anything, it only shows what
a phase returned. The HTML and Markdown reports live beside this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from mlcycle.contract.spec import Design
from mlcycle.contract.vocabulary import View
from mlcycle.data.quality import DataIssue
from mlcycle.develop.gate import GateReport
from mlcycle.develop.search import ExperimentResult
from mlcycle.metrics import fairness
from mlcycle.monitor.retrain import RetrainResult
from mlcycle.monitor.review import Review
from mlcycle.monitor.status import Status
from mlcycle.monitor.window import MonitoringResult, watched_metric
from mlcycle.report.card import DesignCard


def _money(value: float, currency: str) -> str:
    if math.isinf(value):
        return "never"
    return f"{value:,.0f} {currency}"


def cell(value: Any) -> str:
    """A number as a table cell: thousands without decimals, smaller ones to three figures, missing as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def design_card(console: Console, card: DesignCard) -> None:
    """The go / no-go, the money table and where the design card was written."""
    v = card.value
    colour = "green" if v.go else "red"
    reasons = "\n".join(f"• {r}" for r in v.reasons)
    console.print(
        Panel(
            reasons,
            title=f"[bold {colour}]{v.verdict.upper()}[/] — {card.design.name}",
            border_style=colour,
            expand=False,
        )
    )
    table = Table(title=f"Money per {v.period} ({v.currency})", show_header=True, header_style="bold")
    table.add_column("if a model cut money lost by", justify="right")
    table.add_column("money lost", justify="right")
    table.add_column("added value (90 % interval)", justify="right")
    table.add_column(f"payback ({v.period}s)", justify="right")
    table.add_row("today", _money(v.baseline_money_lost_per_period, v.currency), "—", "—")
    for s in v.scenarios:
        payback = "never" if math.isinf(s.payback_periods) else f"{s.payback_periods:.1f}"
        added = _money(s.added_value_per_period, v.currency)
        if v.spread is not None:  # added value is lost today × the cut − running cost: the interval maps through
            low, high = (x * s.improvement - v.running_cost_per_period for x in (v.spread.lost.low, v.spread.lost.high))
            added += f" ({low:,.0f} – {high:,.0f})"
        table.add_row(f"{s.improvement:.0%}", _money(s.money_lost_per_period, v.currency), added, payback)
    console.print(table)
    console.print(
        f"break-even at {v.break_even_improvement:.1%} less money lost; payback within "
        f"{v.horizon_periods} {v.period}s at {v.payback_improvement:.1%}; the gate asks {v.required_by_design:.0%}."
    )
    if v.spread is not None:
        console.print(
            f"today's money lost per {v.period}: {v.spread.lost.text(suffix=' ' + v.currency)}; a model that meets "
            f"the gate adds {v.spread.at_gate.text(suffix=' ' + v.currency)} ({v.spread.lost.method})."
        )
    console.print(f"design card: {card.html_path}  (and {card.markdown_path.name if card.markdown_path else ''})")


def data_issues(console: Console, issues: list[DataIssue], schema_path: Path) -> None:
    """The data-quality findings as a table and the verdict on them."""
    if issues:
        table = Table(show_header=True, header_style="bold")
        for column in ("severity", "check", "column", "finding"):
            table.add_column(column)
        style = {"error": "bold red", "warning": "yellow", "info": "dim"}
        for issue in issues:
            table.add_row(
                f"[{style[issue.severity]}]{issue.severity}[/]",
                issue.check,
                issue.column or "",
                issue.message,
            )
        console.print(table)
    blocking = sum(1 for i in issues if i.blocking)
    verdict = "[bold red]blocking problems found[/]" if blocking else "[bold green]no blocking problem[/]"
    console.print(
        f"{verdict}: {blocking} error(s), {sum(i.severity == 'warning' for i in issues)} warning(s). "
        f"Schema written to {schema_path}"
    )


def leaderboard(console: Console, result: ExperimentResult, views: Mapping[View, list[str]], top: int = 10) -> None:
    """The best trials with the three views' metrics, the baseline row, notes and the best trial."""
    board = result.leaderboard
    if board.empty or (board["algorithm"] == "baseline").all():
        errors = sorted({t.error for t in result.trials if t.state == "failed" and t.error})
        console.print(f"[red]no trial completed[/] ({result.count('failed')} failed, {result.count('pruned')} pruned)")
        for error in errors[:5]:
            console.print(f"  [red]•[/] {error}")
        return
    table = Table(title=f"Leaderboard — best {result.primary} first (fold means)", header_style="bold")
    for column in ("#", "trial", "algorithm", "variant", "gates"):
        table.add_column(column, justify="right" if column in ("#", "trial") else "left")
    headers = [(view, name) for view, names in views.items() for name in names]
    colours = {"data_scientist": "cyan", "domain_expert": "magenta", "business": "green"}
    for view, name in headers:
        table.add_column(f"[{colours[view]}]{name}[/]", justify="right")
    shown = _top(board, top)
    for row in shown.to_dict("records"):
        is_baseline = row["algorithm"] == "baseline"
        gates = "" if is_baseline else ("[green]met[/]" if row.get("feasible") else "[red]missed[/]")
        cells = [
            "" if is_baseline else str(int(row["rank"])),
            "" if is_baseline else str(int(row["trial"])),
            row["algorithm"],
            row["variant"],
            gates,
        ]
        cells += [cell(row.get(name)) for _, name in headers]
        table.add_row(*cells, style="bold" if is_baseline else None)
    console.print(table)
    console.print(
        "gates: the requirements known at search time (quality, latency, forbidden features); "
        "the best trial is the best that meets them."
    )
    notes: dict[str, list[int]] = {}
    for trial in result.trials:
        for note in trial.notes:
            notes.setdefault(note, []).append(trial.spec.number)
    for note, numbers in notes.items():
        shown = ", ".join(str(n) for n in numbers[:8]) + (" …" if len(numbers) > 8 else "")
        console.print(f"[yellow]note[/] (trial {shown}): {note}")
    console.print(
        f"{result.count('complete')} complete, {result.count('pruned')} pruned, {result.count('failed')} failed "
        f"in {result.elapsed_seconds:.0f} s on the {result.executor} executor (stopped by {result.stopped_by})."
    )
    if result.best is not None:
        console.print(
            f"best: trial {result.best.spec.number} — {result.best.spec.algorithm} on {result.best.spec.variant}, "
            f"MLflow run {result.best.run_id}"
        )
    if result.report_path:
        console.print(f"report: {result.report_path}")


def _top(board: pd.DataFrame, top: int) -> pd.DataFrame:
    return pd.concat([board[board["algorithm"] != "baseline"].head(top), board[board["algorithm"] == "baseline"]])


def gate(console: Console, report: GateReport) -> None:
    """The promotion gate's rows, its notes and what was registered."""
    table = Table(
        title=f"Promotion gate — trial {report.spec['number']} ({report.spec['algorithm']} on "
        f"{report.spec['variant']})",
        header_style="bold",
    )
    for column in ("requirement", "threshold", "measured", "result", "detail"):
        table.add_column(column)
    for row in report.rows:
        table.add_row(
            row.requirement,
            row.threshold,
            row.measured,
            "[green]pass[/]" if row.passed else "[bold red]fail[/]",
            row.detail,
        )
    console.print(table)
    for found in report.fairness:
        _fairness(console, found)
    for note in report.notes:
        console.print(f"[yellow]note[/]: {note}")
    if report.registered:
        forced = f" [bold yellow](forced by {report.forced_by}: {report.reason})[/]" if report.forced else ""
        previous = f"; version {report.previous_version} is now 'previous'" if report.previous_version else ""
        console.print(
            f"[green]registered[/] {report.use_case} version {report.version} as 'champion'{previous}{forced}"
        )
    if report.report_path:
        console.print(f"report: {report.report_path}")
    if report.model_card:
        console.print(f"model card: {report.model_card['html']}  (and .md, .json; logged with the model)")


def portfolio(console: Console, ranked: dict[str, Any]) -> None:
    """The ranked use cases (the shape of ``mlcycle portfolio --json``), then what to fund next in words."""
    table = Table(title=f"Portfolio — ranked by {ranked['by']}", header_style="bold")
    for column in ("#", "use case", "stage", "added value / period", "pays back", "budget · spent", "payback", "risks"):
        table.add_column(column, justify="right" if column in ("#", "pays back", "payback") else "left")
    for e in ranked["use_cases"]:
        value = "—"
        if e["added_value"] is not None:
            value = f"{e['added_value']:,.0f} {e['currency']} ({e['basis']})"
            if e["low"] is not None and e["high"] is not None:
                value += f"\n{e['low']:,.0f} – {e['high']:,.0f}"
        chance = e["pays_back_probability"]
        table.add_row(
            str(e["rank"]),
            e["name"],
            e["stage"],
            value,
            "—" if chance is None else f"{chance:.0%}",
            f"{e['budget']:,.0f} · {e['spent']:,.0f}" + (" (est.)" if e["spent_estimated"] else ""),
            "—" if e["payback_periods"] is None else f"{e['payback_periods']:,.1f} {e['period']}s",
            "\n".join(e["risks"]) or "—",
        )
    console.print(table)
    console.print(f"[bold]What to fund next[/]: {ranked['advice']}")
    console.print(f"[dim]rule: {ranked['rule']}[/]")


def _fairness(console: Console, found: dict[str, Any]) -> None:
    """A protected column's groups: rows and the decision rates (the whole table is in the HTML report)."""
    if not found["groups"]:
        return
    shown = [
        m for m in found["groups"][0]["figures"] if m in fairness.rates("classification") + fairness.rates("regression")
    ]
    table = Table(title=f"Fairness across {found['column']} (out of fold, 90% intervals)", header_style="bold")
    table.add_column("group")
    table.add_column("rows", justify="right")
    for metric in shown:
        table.add_column(fairness.label(metric), justify="right")
    for group in found["groups"]:
        cells = []
        for metric in shown:
            x = group["figures"][metric]
            cells.append(
                "—"
                if x["value"] is None
                else f"{x['value']:.3g}" + (f"\n({x['low']:.3g} – {x['high']:.3g})" if x["low"] is not None else "")
            )
        table.add_row(group["name"], f"{group['rows']:,}", *cells)
    console.print(table)
    if found["left_out"]:
        console.print("too few rows to compare: " + ", ".join(f"{name} ({n})" for name, n in found["left_out"]))


def windows(console: Console, results: list[MonitoringResult], design: Design, window: str | None = None) -> None:
    """Monitored windows as a table, then the money, alerts raised and cleared, and the report."""
    name = watched_metric(design)
    table = Table(
        title=f"Monitoring — {design.name}: {len(results)} window(s) of {window or design.monitoring.window}",
        header_style="bold",
    )
    for column in (
        "window",
        "model",
        "predictions",
        "actuals",
        name or "metric",
        "today's",
        "realised",
        "estimated",
        "p95 ms",
        "errors",
        "drifted",
        "alerts raised",
    ):
        table.add_column(
            column,
            justify="left" if column in ("window", "drifted", "alerts raised") else "right",
            no_wrap=column == "window",
        )
    for r in results:
        p = r.performance
        value = p.value(name) if name and p.metrics else float("nan")
        base = p.baseline_value(name) if name else float("nan")
        span = (
            f"{r.start:%d %b %H:%M} → {r.end:%d %b %H:%M}"
            if r.end - r.start < timedelta(days=1)
            else f"{r.start:%d %b} → {r.end:%d %b %y}"
        )
        table.add_row(
            span,
            r.model_version or "—",
            f"{p.predictions:,}",
            f"{p.labelled:,}",
            cell(value),
            cell(base),
            cell(p.realised_value) + _under(p.realised_interval.to_dict() if p.realised_interval else None),
            _estimated_cell(p.estimated),
            cell(r.latency_p95_ms),
            "—" if r.error_rate is None else f"{r.error_rate:.1%}",
            ", ".join(d.column for d in r.drift.rows if d.drifted) or "—",
            ", ".join(e["subject"] for e in r.alerts.raised) or "—",
        )
    console.print(table)
    latest = results[-1]
    if latest.performance.note:
        console.print(f"[yellow]{latest.performance.note}[/]")
    p = latest.performance
    console.print(
        f"added value per {design.value.period} ({design.value.currency}): design estimate {cell(p.estimated_value)}"
        f" | validated {cell(p.validated_value)} | realised {cell(p.realised_value)}"
        + (f" ({p.realised_interval.text()})" if p.realised_interval else "")
        + f" in the latest window. today's = {name or 'the metric'} of today's process on the same rows."
    )
    for line in estimation_lines([r.performance.estimated for r in results], design):
        console.print(line)
    for found in latest.performance.fairness:
        groups = ", ".join(f"{g['name']} {g['rows']:,}" for g in found["groups"])
        verdicts = [
            f"{fairness.label(f['metric'])} {f['kind']} {f['value']:.3g} "
            + ("[green]within[/]" if f["passed"] else "[bold red]beyond[/]")
            + f" {f['limit']:g}"
            for f in found["findings"]
            if f["value"] is not None
        ]
        console.print(
            f"fairness across {found['column']} (latest window: {groups}): "
            + ("; ".join(verdicts) or "measured, no limit set")
        )
    for event in [e for r in results for e in r.alerts.raised]:
        console.print(f"[bold red]alert[/]   {event['at'][:10]}  {event['message']}")
    for event in [e for r in results for e in r.alerts.cleared]:
        console.print(f"[green]cleared[/] {event['at'][:10]}  {event['rule']}: {event['subject']}")
    if resent := [e for r in results for e in r.alerts.resent]:
        console.print(f"[green]delivered[/] {len(resent)} alert(s) an earlier run could not")
    for problem in {p for r in results for p in r.alerts.sink_errors}:
        console.print(f"[yellow]alert sink failed[/] {problem}")
    if latest.report_path:
        console.print(f"report: {latest.report_path}")


def review(console: Console, verdict: Review) -> None:
    """The verdict in a coloured panel with its reasons."""
    colours = {"healthy": "green", "retrain": "yellow", "rollback": "magenta", "retire": "red"}
    colour = colours[verdict.verdict]
    body = "\n".join(f"• {reason}" for reason in verdict.reasons)
    console.print(
        Panel(
            body,
            title=f"[bold {colour}]{verdict.verdict.upper()}[/] — version {verdict.model_version} "
            f"(exit code {verdict.exit_code})",
            border_style=colour,
            expand=False,
        )
    )
    spent = verdict.numbers.get("spend")
    if spent:
        payback = spent.get("payback_periods")
        tail = f"; at the realised added value it pays that back in {payback:,.1f} periods" if payback else ""
        console.print(
            f"spend: {spent['total']:,.0f} {spent['currency']} so far"
            + (f" of the {spent['budget']:,.0f} development budget" if spent["budget"] else "")
            + (" (team time estimated)" if spent["team_estimated"] and spent["team_cost"] else "")
            + tail
        )


def retrain(console: Console, result: RetrainResult) -> None:
    """What the retraining learnt from, the challenger's gate and whether it replaced the champion."""
    start, end = result.window
    console.print(
        f"retrained on {result.training_rows:,} rows ({result.served_rows:,} from the served period's "
        f"feedback), holding out {start:%Y-%m-%d} → {end:%Y-%m-%d}; {result.experiment.count('complete')} "
        f"trials complete"
    )
    if result.gate is not None:
        gate(console, result.gate)
    colour = "green" if result.promoted else "yellow"
    console.print(f"[bold {colour}]{result.summary}[/]")


def _estimated_cell(estimated: dict[str, Any] | None) -> str:
    """The window's added value estimated without actuals, marked as an estimate, its interval beneath."""
    value = (estimated or {}).get("figures", {}).get("net_value")
    spread = (estimated or {}).get("intervals", {}).get("net_value")
    return "—" if value is None else f"≈{cell(value)}" + _under(spread)


def _under(spread: dict[str, Any] | None) -> str:
    """An interval on a second line of its table cell, dim and short (thousands as k)."""
    if not spread:
        return ""
    short = lambda x: f"{x / 1000:,.1f}k" if abs(x) >= 1000 else f"{x:,.0f}"  # noqa: E731
    return f"\n[dim]{short(spread['low'])} – {short(spread['high'])}[/]"


def estimation_lines(estimates: list[dict[str, Any] | None], design: Design) -> list[str]:
    """What the estimator says of the latest window, and how good it has been where the actuals came back."""
    money = f"{design.value.currency} per {design.value.period}"
    found = [e for e in estimates if e]
    if not found:
        return []
    latest = found[-1]
    lines = []
    value, spread = latest["figures"].get("net_value"), latest["intervals"].get("net_value")
    if value is not None:
        outside = latest.get("outside_support")
        lines.append(
            f"estimated without actuals (≈): {value:,.0f} {money}"
            + (f" ({spread['low']:,.0f} – {spread['high']:,.0f}, {spread['level']:.0%})" if spread else "")
            + f" on the latest window's {latest['rows']:,} predictions — {latest['method']}"
            + (f"; {outside:.0%} of its rows outside the reference's support" if outside else "")
            + ". Assumes "
            + "; ".join(latest["assumptions"])
            + "."
        )
    checks = [e["check"]["net_value"] for e in found if "net_value" in (e.get("check") or {})]
    if checks:
        errors = [abs(c["error"]) for c in checks]
        covered = sum(bool(c["covered"]) for c in checks)
        lines.append(
            f"the estimator where actuals came back: mean absolute error {sum(errors) / len(errors):,.0f} {money} "
            f"over {len(checks)} window(s); its interval held the realised figure in {covered} of {len(checks)}"
        )
    return lines


def _interval(stored: dict[str, Any] | None) -> str:
    return f" ({stored['low']:,.0f} – {stored['high']:,.0f}, {stored['level']:.0%})" if stored else ""


def status(console: Console, state: Status) -> None:
    """Where the use case stands, one line per part."""
    design, last = state.design, state.last_window
    lines = [f"design        {design['verdict'].upper() if design else 'not run yet (mlcycle design)'}"]
    if design:
        spread = (design.get("intervals") or {}).get("added_value_at_gate_per_period")
        lines.append(
            f"              estimate {design['estimated_added_value_per_period']:,.0f} {design['currency']} "
            f"per {design['period']} at the gate's cut"
            + (f" ({spread['low']:,.0f} – {spread['high']:,.0f}, {spread['level']:.0%})" if spread else "")
        )
    retired = state.retired
    lines.append(f"serving       {'[bold red]RETIRED[/] — ' + retired['reason'] if retired else 'in service'}")
    if state.champion:
        checked = state.gate or {}
        passed = "passed" if checked.get("passed") else "forced" if checked.get("forced") else "—"
        lines.append(f"champion      version {state.champion} (gate {passed}); previous {state.previous or '—'}")
    else:
        lines.append("champion      none (mlcycle promote)")
    if last:
        lines.append(
            f"last window   {last['start']:%Y-%m-%d} → {last['end']:%Y-%m-%d}: {last['predictions']:,} predictions, "
            f"{last['labelled']:,} with actuals, {last['metric']} {cell(last['metric_value'])}, realised "
            f"{cell(last['realised_value'])}{_interval(last['intervals'].get('realised_value'))} vs estimate "
            f"{cell(last['estimated_value'])}, {last['drifted']} drifted"
        )
        estimated = (last.get("estimated") or {}).get("figures", {}).get("net_value")
        if estimated is not None:
            spread = (last.get("estimated") or {}).get("intervals", {}).get("net_value")
            lines.append(f"              estimated without actuals ≈{estimated:,.0f}{_interval(spread)}")
    else:
        lines.append("last window   none (mlcycle monitor)")
    lines.append(f"open alerts   {len(state.open_alerts)}")
    lines += [f"              • {a['message']}" for a in state.open_alerts]
    last_review = state.last_review
    lines.append(
        f"last review   {last_review['verdict']} ({last_review['at']:%Y-%m-%d %H:%M})"
        f"{' → ' + last_review['action'] if last_review['action'] else ''}"
        if last_review
        else "last review   none (mlcycle review)"
    )
    spent = state.spend
    if spent and spent["since"]:
        budget = f" of {spent['budget']:,.0f}" if spent["budget"] else ""
        payback = spent.get("payback_periods")
        lines.append(
            f"spend         {spent['total']:,.0f} {spent['currency']}{budget}: {spent['compute_minutes']:,.1f} compute "
            f"min, {spent['team_days']:,.1f} team days{' (estimated)' if spent['team_estimated'] else ''}"
            + (f"; pays back in {payback:,.1f} periods ({spent['payback_basis']} value)" if payback else "")
        )
    if spent and spent.get("serving"):
        lines.append(f"serving       {spent['serving']['text']}")
    console.print(Panel("\n".join(lines), title=f"status — {state.use_case}", expand=False))


__all__ = [
    "cell",
    "data_issues",
    "design_card",
    "gate",
    "leaderboard",
    "retrain",
    "review",
    "status",
    "windows",
]
