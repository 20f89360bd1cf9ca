"""Deployment: the prediction microservice, batch scoring, explanations and the prediction log.

``create_app(workspace)`` builds the FastAPI app (for uvicorn, tests, or embedding); imported lazily
so that ``import mlcycle.deploy`` stays light.
"""

from __future__ import annotations

from typing import Any


def create_app(workspace: Any, **options: Any) -> Any:
    from mlcycle.deploy.app import create_app as _create_app

    return _create_app(workspace, **options)


__all__ = ["create_app"]
