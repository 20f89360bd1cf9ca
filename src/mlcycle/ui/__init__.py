"""The dashboard, ``mlcycle ui``: one web app over the whole loop, for the data scientist, the domain expert
and the business.

    app = mlcycle.ui.create_app("mlcycle-demo")         # one use case
    app = mlcycle.ui.create_app(root="use-cases/")      # every use case under a folder: the portfolio

Pages (``/uc/<use case>/…``): overview, design, experiments (paged, sorted and filtered by the
database), models, monitoring, decisions, review and actions. It reads the stores the lifecycle
writes — MLflow's tracking and registry, the monitoring store — and its actions call the same
functions as the CLI.
"""

from __future__ import annotations

from mlcycle.ui.app import create_app

__all__ = ["create_app"]
