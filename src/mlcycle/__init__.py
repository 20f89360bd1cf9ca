"""mlcycle: one machine-learning use case through design, development, deployment and monitoring.

    import mlcycle
    uc = mlcycle.UseCase.load("mlcycle-demo")
    card = uc.design()
"""



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

__version__ = "0.1.0"

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
]
