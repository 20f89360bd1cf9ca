"""A lean path for online requests: the fitted Pipeline's arithmetic on plain numpy, no DataFrames.

Per-request pandas and scikit-learn overhead dominates a naive service: the booster itself
needs ~0.04 ms for a row, the Pipeline around it ~7 ms. This module reads the *fitted* parts
of the pipeline — the feature builder's history, the encoder's categories, the imputer's
medians, the scaler's means — and applies them to the validated request values directly.

It is a second implementation of the same function, so it is never trusted on faith:
:meth:`FastPath.compile` checks it against the Pipeline on real rows (to 1e-6) and returns
None — the service then uses the Pipeline — if it disagrees or meets a part it does not know.
Requests that ask for explanations always take the Pipeline.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from mlcycle.contract.spec import CALENDAR_FEATURES
from mlcycle.data.features import FeatureBuilder, calendar_values
from mlcycle.data.history import LagHistory
from mlcycle.metrics import decision

TOLERANCE = 1e-6
# A large request's trees are walked on every core this process may use (1,000 rows: 4.5 ms on one thread,
# 2.5 ms on two); a small one stays on one thread, where starting OpenMP's would cost more than it saves.
SPREAD_ROWS = 256
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class FastPath:
    def __init__(self, builder: FeatureBuilder, steps: list[tuple[str, Any, list[str]]], model: Any, task: str) -> None:
        self.builder = builder
        self.model = model
        self.task = task
        self.features = list(builder.get_feature_names_out())
        self.steps = steps
        self.booster = getattr(model, "booster_", None) if type(model).__name__.startswith("LGBM") else None

    # ── compiling the ColumnTransformer into plain steps ─────────────────────────────
    @staticmethod
    def plan(prepare: ColumnTransformer) -> list[tuple[str, Any, list[str]]] | None:
        """The fitted ColumnTransformer as plain steps, or None when it holds a part this module does not know."""
        steps: list[tuple[str, Any, list[str]]] = []
        for name, transformer, columns in prepare.transformers_:
            if name == "remainder":
                continue
            identity = type(transformer).__name__ == "FunctionTransformer" and transformer.func is None
            if transformer == "passthrough" or identity:  # fitted ColumnTransformers hold passthrough as identity
                steps.append(("passthrough", None, list(columns)))
            elif isinstance(transformer, OrdinalEncoder):
                maps = [
                    ({_key(c): float(i) for i, c in enumerate(cats)}, _textual(cats))
                    for cats in transformer.categories_
                ]
                steps.append(("ordinal", (maps, float(transformer.unknown_value)), list(columns)))
            elif isinstance(transformer, OneHotEncoder):
                steps.append(
                    (
                        "onehot",
                        [
                            ({_key(c): j for j, c in enumerate(cats)}, _textual(cats))
                            for cats in transformer.categories_
                        ],
                        list(columns),
                    )
                )
            elif type(transformer).__name__ == "Pipeline":
                imputer, scaler = transformer.steps[0][1], transformer.steps[1][1]
                if type(imputer).__name__ != "SimpleImputer" or type(scaler).__name__ != "StandardScaler":
                    return None
                indicator = imputer.indicator_.features_ if imputer.indicator_ is not None else np.array([], dtype=int)
                steps.append(
                    (
                        "impute_scale",
                        (imputer.statistics_, indicator, scaler.mean_, scaler.scale_),
                        list(columns),
                    )
                )
            else:
                return None
        return steps

    # ── predicting ───────────────────────────────────────────────────────────────────
    def columns(
        self, records: list[dict[str, Any]], history: LagHistory | None = None
    ) -> tuple[dict[str, Any], np.ndarray]:
        """The variant's features as arrays, and for each row whether its lags had no history at all."""
        builder = self.builder
        n = len(records)
        out: dict[str, Any] = {}
        times = None
        if builder.time_column and (builder.needs_history or any(f in CALENDAR_FEATURES for f in builder.features)):
            times = np.array([str(r[builder.time_column]) for r in records], dtype="datetime64[s]")
        for name in builder.features:
            if name in CALENDAR_FEATURES:
                out[name] = calendar_values(name, times, builder.holidays)  # type: ignore[arg-type]
            else:
                out[name] = [r.get(name) for r in records]
        missing = np.zeros(n, dtype=bool)
        if builder.needs_history:
            groups = builder.group_columns or []
            series = (
                [tuple(str(r[g]) for g in groups) if len(groups) > 1 else str(r[groups[0]]) for r in records]
                if groups
                else [None] * n
            )
            derived = builder.derived_for(series, times, history)  # type: ignore[arg-type]
            out.update(derived)
            missing = np.all(np.isnan(np.column_stack(list(derived.values()))), axis=1)
        return out, missing

    def matrix(self, columns: dict[str, Any], n: int) -> np.ndarray:
        parts = []
        for kind, spec, names in self.steps:
            if kind == "passthrough":
                parts += [_floats(columns[c]).reshape(n, 1) for c in names]
            elif kind == "ordinal":
                maps, unknown = spec
                for column, (mapping, textual) in zip(names, maps):
                    parts.append(
                        np.array(
                            [
                                mapping.get(_key(v, textual), unknown) if v is not None else unknown
                                for v in columns[column]
                            ],
                            dtype=float,
                        ).reshape(n, 1)
                    )
            elif kind == "onehot":
                for column, (positions, textual) in zip(names, spec):
                    block = np.zeros((n, len(positions)))
                    for i, v in enumerate(columns[column]):
                        j = positions.get(_key(v, textual))
                        if j is not None:  # an unknown category is all zeros, as handle_unknown="ignore"
                            block[i, j] = 1.0
                    parts.append(block)
            else:
                statistics, indicator, mean, scale = spec
                x = np.column_stack([_floats(columns[c]) for c in names]).reshape(n, len(names))
                nan = np.isnan(x)
                x = np.where(nan, statistics, x)
                full = np.hstack([x, nan[:, indicator].astype(float)]) if len(indicator) else x
                parts.append((full - mean) / scale)
        return np.hstack(parts)

    def predict(
        self, records: list[dict[str, Any]], history: LagHistory | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(values, rows missing all history): forecasts, or probabilities of the positive class; lags read
        ``history`` (the service's), else the model's own."""
        columns, missing = self.columns(records, history)
        X = self.matrix(columns, len(records))
        if self.booster is not None:  # LightGBM's booster gives the probability itself for a binary objective
            threads = CORES if len(records) >= SPREAD_ROWS else 1  # said on every call: LightGBM keeps the last
            return np.asarray(self.booster.predict(X, num_threads=threads), dtype=float), missing
        return decision.values(self.model, X, self.task), missing

    # ── trust, but verify ────────────────────────────────────────────────────────────
    @classmethod
    def compile(cls, model: Any, rows: pd.DataFrame) -> FastPath | None:
        """A verified fast path for ``model`` (an MlcycleModel), or None to use its Pipeline."""
        steps = getattr(model.pipeline, "named_steps", {})
        builder, prepare = steps.get("features"), steps.get("prepare")
        if not isinstance(builder, FeatureBuilder) or not isinstance(prepare, ColumnTransformer) or rows.empty:
            return None
        plan = cls.plan(prepare)
        if plan is None:
            return None
        fast = cls(builder, plan, steps.get("model"), model.task)
        records = rows.assign(
            **{
                c: rows[c].dt.strftime("%Y-%m-%dT%H:%M:%S")
                for c in rows.columns
                if pd.api.types.is_datetime64_any_dtype(rows[c])
            }
        ).to_dict("records")
        try:
            got, _ = fast.predict(records)
            want = model.predict_value(rows)
        except Exception:
            return None
        if not np.allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE, equal_nan=True):
            return None
        return fast


def _textual(categories: Any) -> bool:
    return all(isinstance(c, str) for c in categories)


def _key(value: Any, textual: bool = False) -> Any:
    """One key for a category: as text for text categories (the stock code 85123 is "85123", as validation
    makes it), else numbers by value (3 and 3.0 are one weekday)."""
    if textual:
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return str(value)


def _floats(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(float)
    return np.array([np.nan if v is None else v for v in values], dtype=float)
