"""Every error mlcycle raises on purpose.

The tree, and what the command line does with each branch::

    MlcycleError                  root: catch this to catch everything mlcycle means to raise
    ├── BadInput                  the user gave us something we cannot use      → exit code 2
    │   ├── DesignError           mlcycle.yaml is malformed or contradicts its data
    │   ├── DataError             a data source cannot be read or lacks what the design needs
    │   ├── UseCaseError          the use-case folder is missing, or not a use case
    │   ├── StoreError            the monitoring store cannot be reached or refuses a request
    │   ├── ModelError            a registered model cannot be loaded, or fails its smoke prediction
    │   ├── RequestRejected       the service refuses a request (HTTP status, and a message per field)
    │   └── UsageError            the Python API was called in a way it cannot serve
    ├── CheckFailed               the input is fine, but a check or gate said no  → exit code 1
    │   ├── DataCheckFailed       `mlcycle data check` found blocking problems
    │   └── GateFailed            the promotion gate refused a model
    └── AlertNotDelivered         an alert sink (a webhook) did not take an alert; monitoring reports it, goes on

Messages are written for the person who will read them: what was expected, what came,
and how to fix it. DesignError carries the YAML path of each problem so callers (and
tests) can tell exactly which key was wrong.

Nothing else is raised on purpose: a design or data that a user can write reaches one of
these, never a bare ``ValueError`` or ``KeyError`` (``tests/test_exceptions.py`` walks the
source to keep it so). The one exception is inside Pydantic validators of the design, whose
contract is ``ValueError``; :func:`mlcycle.contract.spec.parse` turns those into DesignError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class MlcycleError(Exception):
    """Root of every error mlcycle raises on purpose."""

    exit_code: int = 2


class BadInput(MlcycleError):
    """Something the user supplied cannot be used as it is. The CLI exits with code 2."""

    exit_code = 2


class CheckFailed(MlcycleError):
    """The input is valid but a check or gate refused it. The CLI exits with code 1."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a design file: where (dotted YAML path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DesignError(BadInput):
    """mlcycle.yaml is malformed, or says something its data contradicts.

    ``problems`` holds every problem found, each with its YAML path (``requirements.quality.max``),
    so a user fixes them all in one go rather than one per run.
    """

    def __init__(self, problems: list[Problem] | Problem | str, *, file: str = "mlcycle.yaml") -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.file = file
        super().__init__(self._render())

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.problems]

    def _render(self) -> str:
        if len(self.problems) == 1:
            return f"{self.file}: {self.problems[0]}"
        lines = [f"{self.file}: {len(self.problems)} problems"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class DataError(BadInput):
    """A data source cannot be read, or lacks a column or type the design relies on."""


class UseCaseError(BadInput):
    """The folder given as a use case is missing, or holds no mlcycle.yaml."""


class StoreError(BadInput):
    """The monitoring store cannot be reached, or refuses what was asked (an unknown key id …)."""


class ModelError(BadInput):
    """A registered model version cannot be loaded, is not an mlcycle model, or fails its smoke prediction."""


class RequestRejected(BadInput):
    """The service refuses a request: ``status`` (400, 413, 422 …) and ``detail``, a list of {row, field, message}."""

    def __init__(
        self, status: int, detail: list[dict[str, Any]] | str, *, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.plain = isinstance(detail, str)  # one message for the whole request (401, 410 …), not per field
        self.headers = headers or {}
        self.detail = detail if isinstance(detail, list) else [{"row": None, "field": None, "message": detail}]
        super().__init__(detail if isinstance(detail, str) else "; ".join(str(d.get("message")) for d in self.detail))


class UsageError(BadInput):
    """A function of the Python API was called in a way it cannot serve (explaining before fitting, …)."""


class AlertNotDelivered(MlcycleError):
    """An alert sink did not take an alert after its retries. Monitoring reports it and carries on."""


class DataCheckFailed(CheckFailed):
    """`mlcycle data check` found problems that block training. ``issues`` lists them all."""

    def __init__(self, issues: list[Any]) -> None:
        self.issues = issues
        blocking = [i for i in issues if getattr(i, "blocking", True)]
        lines = [f"data check found {len(blocking)} blocking problem(s):"]
        lines += [f"  - {i}" for i in blocking]
        super().__init__("\n".join(lines))


class GateFailed(CheckFailed):
    """The promotion gate refused the model: ``report`` lists each requirement, measured figure and verdict."""

    def __init__(self, report: Any) -> None:
        self.report = report
        failed = [row for row in report.rows if not row.passed]
        lines = [
            f"promotion gate failed on {len(failed)} of {len(report.rows)} requirement(s); nothing was registered:"
        ]
        lines += [f"  - {row.requirement}: {row.detail}" for row in failed]
        super().__init__("\n".join(lines))


__all__ = [
    "AlertNotDelivered",
    "BadInput",
    "CheckFailed",
    "DataCheckFailed",
    "DataError",
    "DesignError",
    "GateFailed",
    "MlcycleError",
    "ModelError",
    "Problem",
    "RequestRejected",
    "StoreError",
    "UsageError",
    "UseCaseError",
]
