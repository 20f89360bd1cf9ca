"""A use case: one folder with its design, its data and its state (DESIGN.md §1).

This is the Python API the CLI is a thin layer over::

    uc = mlcycle.UseCase.load("mlcycle-demo")   # reads and checks mlcycle.yaml
    card = uc.design()                           # baseline, money, go / no-go → DesignCard
    issues = uc.check_data()                     # list of DataIssue; uc.schema is the inferred schema
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlcycle.data import load as data_load
from mlcycle.data import quality
from mlcycle.data.quality import DataIssue
from mlcycle.data.schema import Schema, infer
from mlcycle.design import card as card_mod
from mlcycle.contract import spec as spec_mod
from mlcycle.design.card import DesignCard
from mlcycle.exceptions import DesignError, UseCaseError

if TYPE_CHECKING:
    from rich.console import Console

    from mlcycle.develop.gate import GateReport, GateRow
    from mlcycle.develop.search import ExperimentResult
    from mlcycle.monitor.retrain import RetrainResult
    from mlcycle.monitor.review import Review
    from mlcycle.monitor.window import MonitoringResult

DESIGN_FILE = "mlcycle.yaml"
STATE_DIR = ".mlcycle"


class UseCase:
    """One use case's folder: ``mlcycle.yaml``, its data, and the state folder ``.mlcycle/``."""

    def __init__(self, folder: Path, spec: spec_mod.Design) -> None:
        self.folder = folder
        self.spec = spec

    @classmethod
    def load(cls, folder: str | Path = ".") -> UseCase:
        """Read and check ``folder/mlcycle.yaml``. Raises DesignError naming each bad YAML path."""
        folder = Path(folder).resolve()
        if not folder.is_dir():
            raise UseCaseError(f"{folder} is not a folder. Create a use case with `mlcycle init {folder} --example sales`")
        path = folder / DESIGN_FILE
        if not path.is_file():
            raise UseCaseError(f"{folder} holds no {DESIGN_FILE}; create one with `mlcycle init {folder} --example sales`")
        return cls(folder, spec_mod.load(path))

    # ── where things live ────────────────────────────────────────────────────────────
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state_dir(self) -> Path:
        return self.folder / STATE_DIR

    @property
    def reports_dir(self) -> Path:
        return self.state_dir / "reports"

    @property
    def schema_path(self) -> Path:
        return self.state_dir / "schema.json"

    # ── data ─────────────────────────────────────────────────────────────────────────
    @cached_property
    def raw_data(self) -> pd.DataFrame:
        """The data source as read, checked against the design (layer 3 of the contract)."""
        frame = data_load.read_source(self.spec, self.folder)
        problems = spec_mod.check_against_data(self.spec, frame)
        if problems:
            raise DesignError(problems)
        return frame

    @cached_property
    def data(self) -> pd.DataFrame:
        """The data in time order (then by series), as every phase uses it."""
        frame = self.raw_data
        if self.spec.time_column:
            frame = frame.sort_values([self.spec.time_column, *self.spec.group_columns], kind="stable")
        return frame.reset_index(drop=True)

    @property
    def schema(self) -> Schema:
        """The inferred schema: the one `check_data` wrote, else inferred now."""
        if self.schema_path.is_file():
            return Schema.load(self.schema_path)
        return infer(self.spec, self.data)

    # ── the design phase ─────────────────────────────────────────────────────────────
    def design(self) -> DesignCard:
        """Profile the data, price today's process, decide go / no-go, write the design card."""
        card = card_mod.build(self.spec, self.data, self.folder)
        return card_mod.write(card, self.reports_dir)

    def check_data(self) -> list[DataIssue]:
        """Run every data-quality check and write the inferred schema to ``.mlcycle/schema.json``.

        Returns all issues; those with ``blocking`` True would make a model wrong.
        """
        issues = quality.check(self.spec, self.raw_data)
        infer(self.spec, self.data).save(self.schema_path)
        return issues

    # ── the development phase ────────────────────────────────────────────────────────
    @property
    def training_data(self) -> pd.DataFrame:
        """Rows the development phase learns from: up to ``data.train_until``."""
        return data_load.training_rows(self.spec, self.data).reset_index(drop=True)

    def experiment(self, trials: int | None = None, executor: str | None = None, *, address: str | None = None,
                   workers: int | None = None, console: Console | None = None, track: bool = True,
                   report: bool = True, tags: dict[str, str] | None = None) -> ExperimentResult:
        """Search data variants × algorithms × hyperparameters; every trial tracked in MLflow.

        Returns the leaderboard and the best feasible trial; writes the experiment report.
        """
        from mlcycle.develop import search
        from mlcycle.develop.tracking import file_hash

        result = search.run(self.spec, self.training_data, self.folder, self.state_dir, trials=trials,
                            executor=executor, address=address, workers=workers, track=track, console=console,
                            design_hash=file_hash(self.folder / DESIGN_FILE), tags=tags)
        if report:
            from mlcycle.report import experiment as report_mod

            result.report_path = report_mod.experiment(self, result)
        return result

    def promote(self, run_id: str | None = None, *, force: bool = False, reason: str | None = None,
                challenge: Callable[[Any], GateRow] | None = None, tags: dict[str, str] | None = None) -> GateReport:
        """Refit the best (or given) trial, log it, run the promotion gate; register it as champion if it passes.

        Raises GateFailed (nothing registered) when a requirement is not met, unless ``force``.
        ``challenge`` adds a gate row measured on the logged model (retraining: "beats the champion").
        """
        from mlcycle.develop import gate

        return gate.promote(self, run_id, force=force, reason=reason, challenge=challenge, tags=tags)

    # ── monitoring and the loop back ─────────────────────────────────────────────────
    def monitor(self, window: str | None = None, since: str | datetime | None = None,
                until: str | datetime | None = None) -> MonitoringResult:
        """Drift, performance, money, latency and errors of the latest window; stores it, fires alerts.

        With ``since``, every window from then on is computed (a backfill); the latest is returned
        and all are stored. Writes ``.mlcycle/reports/monitoring.html``.
        """
        return self.monitor_windows(window, since, until)[-1]

    def monitor_windows(self, window: str | None = None, since: str | datetime | None = None,
                        until: str | datetime | None = None) -> list[MonitoringResult]:
        """As :meth:`monitor`, returning every window computed, oldest first."""
        from mlcycle.monitor import window as window_mod

        return window_mod.monitor(self, window, _when(since), _when(until))

    def review(self) -> Review:
        """The verdict on the champion — healthy, retrain, rollback or retire — with reasons and numbers."""
        from mlcycle.monitor import review

        return review.review(self)

    def rollback(self) -> tuple[str, str]:
        """Move ``champion`` back to ``previous``; returns (from, to) versions."""
        from mlcycle.monitor import review

        return review.rollback(self)

    def retire(self, reason: str) -> dict[str, object]:
        """Stop serving this use case (the service answers 410 with the reason); history is kept."""
        from mlcycle.monitor import review

        return review.retire(self, reason)

    def retrain(self, trials: int | None = None, executor: str | None = None, *, console: Console | None = None,
                review_id: int | None = None) -> RetrainResult:
        """A new search on the data including the served period's actuals; the challenger replaces the
        champion only through the promotion gate and only if it beats the champion on the latest window."""
        from mlcycle.monitor import retrain

        return retrain.retrain(self, trials=trials, executor=executor, console=console, review_id=review_id)

    def status(self) -> dict[str, object]:
        """Where the use case stands: design verdict, champion and gate, last window, open alerts, last review."""
        from mlcycle.monitor import status

        return status.status(self)

    def __repr__(self) -> str:
        return f"UseCase({self.name!r}, folder={str(self.folder)!r})"


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
