"""A use case: one folder with its design, its data and its state (README: "The same from Python").

This is the Python API the CLI is a thin layer over::

    uc = mlcycle.UseCase.load("mlcycle-demo")   # reads and checks mlcycle.yaml
    card = uc.design()                           # baseline, money, go / no-go → DesignCard
    issues = uc.check_data()                     # list of DataIssue; uc.schema is the inferred schema
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import logging
import math
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from mlcycle.contract import spec as spec_mod
from mlcycle.data import quality
from mlcycle.data.quality import DataIssue
from mlcycle.data.schema import Schema, infer
from mlcycle.data.workspace import DESIGN_FILE, STATE_DIR, Workspace
from mlcycle.design import spend as spend_mod
from mlcycle.design.spend import Spend
from mlcycle.exceptions import GateFailed, UseCaseError
from mlcycle.report import card as card_mod
from mlcycle.report.card import DesignCard

# The later phases are imported by the methods that run them: `import mlcycle` (and so every
# command) would otherwise load Optuna, SQLAlchemy and MLflow's client before doing anything.
if TYPE_CHECKING:
    from rich.console import Console

    from mlcycle.develop.gate import GateReport, GateRow
    from mlcycle.develop.search import ExperimentResult
    from mlcycle.monitor.retrain import RetrainResult
    from mlcycle.monitor.review import Review
    from mlcycle.monitor.status import Status
    from mlcycle.monitor.window import MonitoringResult
    from mlcycle.store import Store


T = TypeVar("T")


class UseCase:
    """One use case's folder: ``mlcycle.yaml``, its data, and the state folder ``.mlcycle/``.

    The facade for users and the CLI. Each method hands the phase its :class:`Workspace` (the
    validated design, the paths, the data) and writes the phase's report; the phases never see
    this class.
    """

    def __init__(self, folder: Path, spec: spec_mod.Design) -> None:
        self.workspace = Workspace(folder, spec)

    @classmethod
    def load(cls, folder: str | Path = ".") -> UseCase:
        """Read and check ``folder/mlcycle.yaml``. Raises DesignError naming each bad YAML path."""
        workspace = Workspace.load(folder)
        return cls(workspace.folder, workspace.spec)

    # ── what the workspace knows, for users of the facade ─────────────────────────────
    @property
    def folder(self) -> Path:
        return self.workspace.folder

    @property
    def spec(self) -> spec_mod.Design:
        return self.workspace.spec

    @property
    def name(self) -> str:
        return self.workspace.name

    @property
    def state_dir(self) -> Path:
        return self.workspace.state_dir

    @property
    def reports_dir(self) -> Path:
        return self.workspace.reports_dir

    @property
    def schema_path(self) -> Path:
        return self.workspace.schema_path

    @property
    def raw_data(self) -> pd.DataFrame:
        """The data source as read, checked against the design (layer 3 of the contract)."""
        return self.workspace.raw_data

    @property
    def data(self) -> pd.DataFrame:
        """The data in time order (then by series), as every phase uses it."""
        return self.workspace.data

    @property
    def training_data(self) -> pd.DataFrame:
        """Rows the development phase learns from: up to ``data.train_until``."""
        return self.workspace.training_data

    @property
    def schema(self) -> Schema:
        """The inferred schema: the one `check_data` wrote, else inferred now."""
        return self.workspace.schema

    def with_frame(self, frame: pd.DataFrame, train_until: date | datetime | None) -> UseCase:
        """The same use case learning from ``frame`` up to ``train_until``; nothing in the folder changes."""
        twin = UseCase(self.folder, self.spec)
        twin.workspace = self.workspace.with_frame(frame, train_until)
        return twin

    # ── the design phase ─────────────────────────────────────────────────────────────
    def design(self) -> DesignCard:
        """Profile the data, price today's process, decide go / no-go, write the design card."""
        card = card_mod.build(self.spec, self.data, self.folder)
        spent = self.spend()
        if spent.since is not None:
            card = dataclasses.replace(card, spend=spent)
        return card_mod.write(card, self.reports_dir)

    def check_data(self) -> list[DataIssue]:
        """Run every data-quality check and write the inferred schema to ``.mlcycle/schema.json``.

        Returns all issues; those with ``blocking`` True would make a model wrong.
        """
        issues = quality.check(self.spec, self.raw_data)
        infer(self.spec, self.data).save(self.schema_path)
        summary = {  # read by `mlcycle portfolio`: a use case's data problems are a risk to whoever funds it
            "errors": sum(i.severity == "error" for i in issues),
            "warnings": sum(i.severity == "warning" for i in issues),
            "issues": [{"check": i.check, "severity": i.severity, "column": i.column} for i in issues],
        }
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        (self.reports_dir / "data_check.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        return issues

    # ── the development phase ────────────────────────────────────────────────────────
    def experiment(
        self,
        trials: int | None = None,
        executor: str | None = None,
        *,
        address: str | None = None,
        workers: int | None = None,
        console: Console | None = None,
        track: bool = True,
        report: bool = True,
        tags: dict[str, str] | None = None,
    ) -> ExperimentResult:
        """Search data variants × algorithms × hyperparameters; every trial tracked in MLflow.

        Returns the leaderboard and the best feasible trial; writes the experiment report.
        """
        from mlcycle.develop import search
        from mlcycle.report import experiment as experiment_report

        started = time.perf_counter()
        result = search.experiment(
            self.workspace,
            trials=trials,
            executor=executor,
            address=address,
            workers=workers,
            track=track,
            console=console,
            tags=tags,
        )
        if track:
            self._record_compute("search", time.perf_counter() - started, result.parent_run_id)
        if report:
            result.report_path = experiment_report.experiment(self.workspace, result)
        return result

    def promote(
        self,
        run_id: str | None = None,
        *,
        force: bool = False,
        reason: str | None = None,
        challenge: Callable[[Any], GateRow] | None = None,
        tags: dict[str, str] | None = None,
    ) -> GateReport:
        """Refit the best (or given) trial, log it, run the promotion gate; register it as champion if it passes.

        Raises GateFailed (nothing registered) when a requirement is not met, unless ``force``; the
        promotion report is written either way. ``challenge`` adds a gate row measured on the logged
        model (retraining: "beats the champion").
        """
        from mlcycle.develop import gate
        from mlcycle.report import model_card
        from mlcycle.report import promotion as promotion_report

        started, spent = time.perf_counter(), self.spend()
        try:
            report = gate.promote(
                self.workspace, run_id, force=force, reason=reason, challenge=challenge, tags=tags, spent=spent
            )
        except GateFailed as failed:
            self._record_compute("promotion", time.perf_counter() - started, failed.report.promotion_run_id)
            failed.report.report_path = promotion_report.write(self.workspace, failed.report)
            raise
        self._record_compute("promotion", time.perf_counter() - started, report.promotion_run_id)
        report.report_path = promotion_report.write(self.workspace, report)
        report.model_card = model_card.write(self.workspace, report)
        return report

    # ── what it costs ────────────────────────────────────────────────────────────────
    def spend(self) -> Spend:
        """What the use case has cost so far — compute of every search, promotion and retrain, and team days —
        against the development budget (the team estimated from ``team_size`` while none is logged)."""
        from mlcycle.store import open_store

        return spend_mod.summarise(self.spec, open_store(self.state_dir).history.spend())

    def log_work(self, days: float, note: str) -> Spend:
        """Record ``days`` of team time (priced at ``requirements.budget.team_day_cost``); returns the new spend."""
        from mlcycle.store import open_store

        if not (days > 0 and math.isfinite(days)):
            raise UseCaseError(f"--days must be a positive number of days, e.g. 1.5; got {days}")
        if not note.strip():
            raise UseCaseError("--note must say what the time was spent on, e.g. 'feature review with the buyers'")
        cost = days * self.spec.requirements.budget.team_day_cost
        store = open_store(self.state_dir)
        store.history.add_spend("team", "work", days, cost, _actor(), note=note.strip())
        return spend_mod.summarise(self.spec, store.history.spend())

    def _record_compute(self, what: str, seconds: float, run_id: str | None) -> None:
        """Price and keep a search's, promotion's or retrain's minutes; a store that cannot take them is said
        on the log, not raised: the work itself is done and tracked in MLflow."""
        from mlcycle.exceptions import StoreError
        from mlcycle.store import open_store

        minutes = seconds / 60
        try:
            open_store(self.state_dir).history.add_spend(
                "compute", what, minutes, spend_mod.compute_cost(self.spec, minutes), _actor(), run_id=run_id
            )
        except StoreError as error:
            logging.getLogger("mlcycle").warning(
                "the %s's %.1f compute minutes were not recorded: %s", what, minutes, error
            )

    # ── monitoring and the loop back ─────────────────────────────────────────────────
    def monitor(
        self,
        window: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> MonitoringResult:
        """Drift, performance, money, latency and errors of the latest window; stores it, fires alerts.

        With ``since``, every window from then on is computed (a backfill); the latest is returned
        and all are stored. Writes ``.mlcycle/reports/monitoring.html``.
        """
        return self.monitor_windows(window, since, until)[-1]

    def monitor_windows(
        self,
        window: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> list[MonitoringResult]:
        """As :meth:`monitor`, returning every window computed, oldest first."""
        from mlcycle.monitor import window as window_mod
        from mlcycle.report import monitoring as monitoring_report
        from mlcycle.store import open_store

        store = open_store(self.state_dir)
        results = window_mod.monitor(self.workspace, window, _when(since), _when(until), store=store)
        path = monitoring_report.write(self.workspace, store)
        for result in results:
            result.report_path = path
        return results

    def review(self) -> Review:
        """The verdict on the champion — healthy, retrain, rollback or retire — with reasons and numbers."""
        from mlcycle.monitor import review as review_mod

        return self._then_report(lambda store: review_mod.review(self.workspace, store))

    def rollback(self) -> tuple[str, str]:
        """Move ``champion`` back to ``previous``; returns (from, to) versions."""
        from mlcycle.monitor import review as review_mod

        return self._then_report(lambda store: review_mod.rollback(self.workspace, store))

    def retire(self, reason: str) -> dict[str, object]:
        """Stop serving this use case (the service answers 410 with the reason); history is kept."""
        from mlcycle.monitor import review as review_mod

        return self._then_report(lambda store: review_mod.retire(self.workspace, reason, store))

    def retrain(
        self,
        trials: int | None = None,
        executor: str | None = None,
        *,
        console: Console | None = None,
        review_id: int | None = None,
    ) -> RetrainResult:
        """A new search on the data including the served period's actuals; the challenger replaces the
        champion only through the promotion gate and only if it beats the champion on the latest window."""
        from mlcycle.monitor import retrain as retrain_mod
        from mlcycle.report import experiment as experiment_report
        from mlcycle.report import model_card
        from mlcycle.report import promotion as promotion_report

        def retrain(store: Store) -> RetrainResult:
            return retrain_mod.retrain(
                self.workspace, trials=trials, executor=executor, console=console, review_id=review_id, store=store
            )

        result = self._then_report(retrain)
        result.experiment.report_path = experiment_report.experiment(result.workspace, result.experiment)
        if result.gate is not None:
            result.gate.report_path = promotion_report.write(result.workspace, result.gate)
            if result.gate.registered:
                result.gate.model_card = model_card.write(result.workspace, result.gate)
        return result

    def status(self) -> Status:
        """Where the use case stands: design verdict, champion and gate, last window, open alerts, last review."""
        from mlcycle.monitor import status as status_mod

        return status_mod.status(self.workspace)

    def _then_report(self, act: Callable[[Store], T]) -> T:
        """Run a step of the loop on the store, then rewrite the monitoring report so it shows the latest
        review and what was done about it (when any window was monitored)."""
        from mlcycle.report import monitoring as monitoring_report
        from mlcycle.store import open_store

        store = open_store(self.state_dir)
        done = act(store)
        if store.history.windows(last=1):
            monitoring_report.write(self.workspace, store)
        return done

    def __repr__(self) -> str:
        return f"UseCase({self.name!r}, folder={str(self.folder)!r})"


def _actor() -> str:
    return f"local user {getpass.getuser()}"


def _when(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return pd.Timestamp(value).to_pydatetime()
    except ValueError:
        raise UseCaseError(f"not a date or time: {value!r}; write it as 2011-09-01 or 2011-09-01T12:00") from None


def init(folder: str | Path, *, example: str = "sales", overwrite: bool = False) -> UseCase:
    """Write a bundled example into ``folder`` and load it."""
    from mlcycle import examples

    folder = Path(folder)
    examples.write(example, folder, overwrite=overwrite)
    return UseCase.load(folder)


__all__ = ["DESIGN_FILE", "STATE_DIR", "UseCase", "init"]
