"""mlcycle: one machine-learning use case through design, development, deployment and monitoring.

import mlcycle
uc = mlcycle.UseCase.load("mlcycle-demo")
card = uc.design()
"""

from mlcycle._version import __version__
from mlcycle.exceptions import (
    AlertNotDelivered,
    BadInput,
    CheckFailed,
    DataCheckFailed,
    DataError,
    DesignError,
    GateFailed,
    MlcycleError,
    ModelError,
    RequestRejected,
    StoreError,
    UsageError,
    UseCaseError,
)
from mlcycle.usecase import UseCase, init

from mlcycle.funding import portfolio  # isort: skip

# Each registry tells the contract its names when it is imported (mlcycle.contract.vocabulary).
# Importing any part of mlcycle runs this file first, so no design is read against half a vocabulary.
from mlcycle.develop import algorithms as _algorithms  # noqa: F401  isort: skip
from mlcycle.metrics import catalogue as _catalogue  # noqa: F401  isort: skip
from mlcycle.monitor import alerts as _alerts  # noqa: F401  isort: skip
from mlcycle.metrics import statistics as _statistics  # noqa: F401  isort: skip

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
    "RequestRejected",
    "StoreError",
    "UsageError",
    "UseCase",
    "UseCaseError",
    "__version__",
    "init",
    "portfolio",
]
