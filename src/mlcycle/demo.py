"""The main job: the lifecycle on the bundled retail example, act by act.

Each act calls the same library functions as its command and renders the same output,
so the demo is also the proof that the commands fit together.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule

from mlcycle.exceptions import UseCaseError
from mlcycle.metrics.interval import weighted_mean_interval
from mlcycle.report import terminal
from mlcycle.usecase import DESIGN_FILE, UseCase, init


def prepare(folder: Path) -> tuple[UseCase, bool]:
    """Create the example in ``folder``, or reuse the use case already there."""
    if (folder / DESIGN_FILE).is_file():
        return UseCase.load(folder), False
    if folder.exists() and any(folder.iterdir()):
        raise UseCaseError(f"{folder} exists, is not empty and holds no {DESIGN_FILE}; pick an empty or new folder")
    return init(folder, example="sales"), True


def run(folder: Path, console: Console, *, trials: int | None = None) -> None:
    from mlcycle.exceptions import GateFailed

    started = time.perf_counter()
    uc, created = prepare(folder)
    console.print(f"{'created' if created else 'reusing'} use case [bold]{uc.name}[/] in {uc.folder}")

    console.print(Rule("Act 1 — design: is it worth building?"))
    with console.status("pricing today's process on history…"):
        card = uc.design()
    terminal.design_card(console, card)

    console.print(Rule("data check: can we trust the data?"))
    with console.status("checking the data…"):
        issues = uc.check_data()
    terminal.data_issues(console, issues, uc.schema_path)

    console.print(Rule("Act 2 — development: which model, and is it worth it?"))
    result = uc.experiment(trials=trials, console=console)
    terminal.leaderboard(console, result, uc.spec.views)
    console.print(Rule("promotion gate: does the best model meet the design?"))
    try:
        with console.status("refitting, logging and measuring the candidate…"):
            gate = uc.promote()
    except GateFailed as failed:
        gate = failed.report
    terminal.gate(console, gate)

    replayed = None
    loop: dict[str, Any] = {}
    if gate.registered:
        console.print(Rule("Act 3 — deployment: the champion in the shop's ordering process"))
        replayed = replay_served(uc, console)
        loop = _monitor_and_review(uc, console, trials)

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
        *_development_lines(v, gate, result),
        *_deployment_lines(replayed),
        *_loop_lines(v, loop),
        f"took               {time.perf_counter() - started:.1f} s",
        f"dashboard          mlcycle ui --use-case {uc.folder}",
    ]
    console.print(Panel("\n".join(lines), title=f"mlcycle demo — {uc.name}", expand=False))


def _development_lines(v: Any, gate: Any, result: Any) -> list[str]:
    money = lambda x: f"{x:,.0f} {v.currency}"  # noqa: E731
    lines = [
        f"search             {result.count('complete')} trials complete, {result.count('pruned')} pruned, "
        f"{result.count('failed')} failed in {result.elapsed_seconds:.0f} s; report {result.report_path}"
    ]
    if result.best is None:
        return [*lines, "champion           none: no trial completed"]
    figures = gate.figures
    lost, base = figures.get("money_lost", float("nan")), figures.get("baseline_money_lost", float("nan"))
    spec = result.best.spec
    at_gate = v.baseline_money_lost_per_period * v.required_by_design - v.running_cost_per_period
    status = f"registered as version {gate.version} (champion)" if gate.registered else "refused by the gate"
    lines += [
        f"champion           trial {spec.number}: {spec.algorithm} on {spec.variant} — {status}",
        f"money lost / {v.period:<5} baseline {money(base)} vs champion {money(lost)} (validation folds)",
        f"added value        estimate at the gate {money(at_gate)}{_between(v.spread and v.spread.at_gate)}"
        f" | validated {money(figures.get('net_value', float('nan')))}"
        f"{_between(figures.get('net_value_low'), figures.get('net_value_high'))} | realised: see monitoring below",
    ]
    return lines


def _between(low: Any, high: float | None = None) -> str:
    """`` (low – high)`` for an interval or a pair of ends, or nothing when there is none."""
    if low is not None and hasattr(low, "low"):
        low, high = low.low, low.high
    if low is None or high is None or low != low or high != high:
        return ""
    return f" ({low:,.0f} – {high:,.0f})"


def replay_served(uc: UseCase, console: Console) -> Any:
    """Serve the champion on a free port and replay the months after the training cut-off through it."""
    import socket
    import threading

    import uvicorn

    from mlcycle.deploy import replay
    from mlcycle.deploy.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from mlcycle.deploy.server import NoDelayH11Protocol

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(uc.workspace),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            http=NoDelayH11Protocol,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    console.print(
        f"serving {uc.name} on http://127.0.0.1:{port} — replaying "
        f"{uc.spec.data.train_until} onwards day by day, each day's actuals arriving the next day"
    )
    try:
        later = uc.data[uc.data[uc.spec.time_column] > str(uc.spec.data.train_until)]
        result = replay.run(uc.workspace, f"http://127.0.0.1:{port}", later, console=console)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    console.print(
        f"{result.requests:,} requests over {result.days} days ({result.failed} failed), "
        f"{result.feedback:,} actuals fed back; latency p50 {result.percentile(50):.1f} ms, "
        f"p99 {result.percentile(99):.1f} ms (client side, one row per request)"
    )
    for sentence in result.explanations:
        console.print(f"  • {sentence}")
    return result


def _deployment_lines(result: Any) -> list[str]:
    if result is None:
        return ["deployment       skipped: no champion was registered"]
    return [
        f"deployment         {result.requests:,} predictions served and logged over {result.days} days, "
        f"p50 {result.percentile(50):.1f} ms / p99 {result.percentile(99):.1f} ms; {result.feedback:,} actuals fed back"
    ]


def _monitor_and_review(uc: UseCase, console: Console, trials: int | None) -> dict[str, Any]:
    """Act 4: monitor the replayed months week by week, review the champion, act on the verdict."""
    from datetime import datetime, timedelta

    console.print(Rule("Act 4 — monitoring: is it still worth it?"))
    assert uc.spec.data.train_until is not None  # the example keeps its last months for the replay
    since = datetime.combine(uc.spec.data.train_until, datetime.min.time()) + timedelta(days=1)
    with console.status("monitoring the served weeks…"):
        windows = uc.monitor_windows(since=since)
    terminal.windows(console, windows, uc.spec)
    console.print(Rule("review: healthy, retrain, rollback or retire?"))
    review = uc.review()
    terminal.review(console, review)
    loop: dict[str, Any] = {"windows": windows, "review": review, "action": "none: the champion stays"}
    if review.verdict == "retrain":
        console.print(Rule("retrain: a challenger on the data that now includes the served months"))
        result = uc.retrain(trials=trials, console=console, review_id=review.id)
        terminal.retrain(console, result)
        loop["action"] = f"retrained: {result.summary}"
    elif review.verdict == "rollback":
        old, new = uc.rollback()
        loop["action"] = f"rolled back: version {new} is champion again (version {old} kept)"
    elif review.verdict == "retire":
        uc.retire(review.reasons[0])
        loop["action"] = "retired: the service answers 410; the use case goes back to design"
    console.print(f"done: {loop['action']}")
    return loop


def _loop_lines(v: Any, loop: dict[str, Any]) -> list[str]:
    if not loop:
        return []
    windows = loop["windows"]
    labelled = sum(w.performance.labelled for w in windows)
    pairs = [
        (w.performance.realised_value, w.performance.labelled)
        for w in windows
        if w.performance.realised_value is not None
    ]
    realised = sum(r * n for r, n in pairs) / sum(n for _, n in pairs) if pairs else float("nan")
    latest = windows[-1].performance
    alerts = sum(len(w.alerts.raised) for w in windows)
    drift_alerts = sum(1 for w in windows for e in w.alerts.raised if e["rule"] == "drift")
    money = lambda x: "—" if x is None or x != x else f"{x:,.0f} {v.currency}"  # noqa: E731
    review = loop["review"]
    parts = [
        (w.performance.labelled, w.performance.realised_interval) for w in windows if w.performance.realised_interval
    ]
    combined = weighted_mean_interval(parts, realised) if pairs else None
    checks = [(w.performance.estimated or {}).get("check", {}).get("net_value") for w in windows]
    checks = [c for c in checks if c]
    estimator = (
        f"estimated without actuals: mean error {sum(abs(c['error']) for c in checks) / len(checks):,.0f} "
        f"{v.currency}, interval held the realised figure in {sum(bool(c['covered']) for c in checks)} of {len(checks)}"
        if checks
        else "no estimator"
    )
    return [
        f"added value / {v.period:<3} estimate {money(latest.estimated_value)} | "
        f"validated {money(latest.validated_value)} | realised {money(realised)}"
        f"{_between(combined)} "
        f"({labelled:,} predictions with actuals, {len(windows)} weekly windows)",
        f"estimation         {estimator}",
        f"monitoring         {alerts} alert(s) raised, {drift_alerts} of them drift; report {windows[-1].report_path}",
        f"review             [bold]{review.verdict.upper()}[/] — {review.reasons[0]}",
        f"done               {loop['action']}",
    ]
