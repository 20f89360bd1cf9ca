"""A use case as the phases see it: the validated design, where its files live, and its data.

Every phase function (the search, the gate, the service, monitoring, the review, retraining)
takes a :class:`Workspace` — a small frozen value — rather than the :class:`~mlcycle.usecase.UseCase`
facade, so no phase depends on the layer above it. Retraining learns from other rows than the
design's source: it makes a second workspace with :meth:`Workspace.with_frame`, and nothing of the
first one changes.

The data is read at most once per workspace (``raw_data`` and ``data`` are cached on first use).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

import pandas as pd

from mlcycle.contract import spec as spec_mod
from mlcycle.contract.spec import Design
from mlcycle.data import load as data_load
from mlcycle.data.schema import Schema, infer
from mlcycle.exceptions import DesignError, UseCaseError

DESIGN_FILE = "mlcycle.yaml"
STATE_DIR = ".mlcycle"


@dataclass(frozen=True)
class Workspace:
    """One use case's folder: ``mlcycle.yaml`` (read and checked into ``spec``), its data and ``.mlcycle/``."""

    folder: Path
    spec: Design
    # Rows to use instead of reading ``spec.data.source`` (retraining's data with served actuals).
    given: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @classmethod
    def load(cls, folder: str | Path = ".") -> Workspace:
        """Read and check ``folder/mlcycle.yaml``. Raises DesignError naming each bad YAML path."""
        folder = Path(folder).resolve()
        if not folder.is_dir():
            raise UseCaseError(
                f"{folder} is not a folder. Create a use case with `mlcycle init {folder} --example sales`"
            )
        path = folder / DESIGN_FILE
        if not path.is_file():
            raise UseCaseError(
                f"{folder} holds no {DESIGN_FILE}; create one with `mlcycle init {folder} --example sales`"
            )
        return cls(folder, spec_mod.load(path))

    def with_frame(self, frame: pd.DataFrame, train_until: date | datetime | None) -> Workspace:
        """The same use case learning from ``frame`` up to ``train_until``; nothing in the folder changes."""
        until = train_until.date() if isinstance(train_until, datetime) else train_until
        spec = self.spec.model_copy(update={"data": self.spec.data.model_copy(update={"train_until": until})})
        return replace(self, spec=spec, given=frame)

    # ── where things live ────────────────────────────────────────────────────────────
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def design_path(self) -> Path:
        return self.folder / DESIGN_FILE

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
        """The data source as read (or the frame given), checked against the design (layer 3 of the contract)."""
        frame = self.given if self.given is not None else data_load.read_source(self.spec, self.folder)
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
    def training_data(self) -> pd.DataFrame:
        """Rows the development phase learns from: up to ``data.train_until``."""
        return data_load.training_rows(self.spec, self.data).reset_index(drop=True)

    @property
    def schema(self) -> Schema:
        """The inferred schema: the one ``check_data`` wrote, else inferred now."""
        if self.schema_path.is_file():
            return Schema.load(self.schema_path)
        return infer(self.spec, self.data)


__all__ = ["DESIGN_FILE", "STATE_DIR", "Workspace"]
