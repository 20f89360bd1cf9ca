"""The model as MLflow stores it: a pyfunc wrapping the fitted trial Pipeline.

Why a pyfunc and not ``mlflow.sklearn``: MLflow 3 saves scikit-learn models with skops by
default, which refuses LightGBM and our own feature transformer unless every type is
trusted by hand. The pyfunc is saved with cloudpickle (classes by reference), so
``mlflow.pyfunc.load_model`` and ``mlflow models serve --env-manager local`` load it with no
extra arguments wherever mlcycle is installed. It takes the raw input columns (time, series
keys, listed features) and builds the data variant's features itself, lags included, from
the history it carries.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel
from sklearn.pipeline import Pipeline

from mlcycle.data.history import LagHistory
from mlcycle.exceptions import DataError
from mlcycle.explain import Explainer
from mlcycle.metrics import decision


class MlcycleModel(PythonModel):
    """A fitted trial: ``predict`` gives the forecast (regression) or the decided label (classification)."""

    # Our predict takes a DataFrame and says so through the logged signature; MLflow's wrapper that
    # validates inputs from type hints would only add a warning and per-call overhead.
    _skip_type_hint_validation = True

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        task: str,
        input_columns: list[str],
        threshold: float | None = None,
        labels: tuple[Any, Any] = (0, 1),
        explainer: Explainer | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.task = task
        self.input_columns = input_columns
        self.threshold = threshold
        self.labels = labels  # (negative, positive), as the data writes them
        self.explainer = explainer
        self.meta = meta or {}
        self.schema: dict[str, Any] | None = None  # filled by load_context from the logged artifacts
        self.profile: dict[str, Any] | None = None

    def load_context(self, context: Any) -> None:
        """Read the input schema and the reference profile saved next to the model."""
        import json

        artifacts = getattr(context, "artifacts", None) or {}
        for name in ("schema", "profile"):
            if name in artifacts:
                with open(artifacts[name], encoding="utf-8") as handle:
                    setattr(self, name, json.load(handle))

    @property
    def features(self) -> Any:
        return self.pipeline.named_steps["features"]

    def _frame(self, model_input: Any) -> pd.DataFrame:
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        missing = [c for c in self.input_columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"missing input column(s): {', '.join(missing)}; the model reads {', '.join(self.input_columns)}"
            )
        return frame

    def predict_value(self, model_input: Any, history: LagHistory | None = None) -> np.ndarray:
        """Regression: the forecast. Classification: the probability of the positive class.

        Lag features read ``history`` when given (the service's, or every actual known now), else what the
        model kept from training."""
        return self.predict_built(self.features.transform(self._frame(model_input), history))

    def predict_built(self, built: pd.DataFrame) -> np.ndarray:
        """The same, from features already built (the service builds them once per request)."""
        return decision.values(self.pipeline[1:], built, self.task)

    # Deliberately unannotated: log_model would try to read a signature from type hints and warn.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        values = self.predict_value(model_input)
        if self.task == "classification":
            return np.asarray(decision.labels(values, self.threshold, self.labels))
        return values
