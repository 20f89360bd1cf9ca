"""Where trials run: ``local`` (a process pool, the default) or ``ray`` (Ray tasks). Chosen by value."""

from __future__ import annotations

from mlcycle.develop.executors._base import Executor
from mlcycle.exceptions import UsageError


def get_executor(name: str = "local", *, address: str | None = None, workers: int | None = None) -> Executor:
    """The executor called ``name``; Ray is imported only when asked for."""
    if name == "local":
        from mlcycle.develop.executors.local import LocalExecutor

        return LocalExecutor(workers)
    if name == "ray":
        from mlcycle.develop.executors.ray import RayExecutor

        return RayExecutor(address, workers)
    raise UsageError(f"unknown executor {name!r}; valid: local, ray")


__all__ = ["Executor", "get_executor"]
