"""The reference profile: what the training data looked like, small enough to ship with every model.

Drift is measured against this profile, never against the raw training data, which may be
gone or too large by the time the model is monitored. Per numeric column: quantile bin
edges and the share of rows in each bin, summary statistics; per categorical column: the
share of each category. JSON in, JSON out.
"""

from __future__ import annotations

import json

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BINS = 10
MAX_CATEGORIES = 100


@dataclass
class ColumnProfile:
    kind: str  # "numeric" | "categorical"
    count: int
    missing: int
    edges: list[float] | None = None        # numeric: inner quantile edges (BINS − 1 of them)
    shares: list[float] | None = None       # numeric: share per bin (BINS), categorical: per category
    categories: list[Any] | None = None     # categorical: the categories, most frequent first
    mean: float | None = None
    std: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    quantiles: list[float] | None = None    # numeric: the 1st … 99th percentiles, for distance statistics


@dataclass
class Profile:
    rows: int
    columns: dict[str, ColumnProfile] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": {c: asdict(p) for c, p in self.columns.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(int(data["rows"]), {c: ColumnProfile(**p) for c, p in data["columns"].items()})

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_dict(), default=_plain), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Profile:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(type(value))


def profile(frame: pd.DataFrame) -> Profile:
    """Profile every column of ``frame`` (datetimes are skipped: time always drifts)."""
    result = Profile(len(frame))
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            continue
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        result.columns[str(name)] = _numeric(series) if numeric else _categorical(series)
    return result


def _numeric(series: pd.Series) -> ColumnProfile:
    values = series.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    column = ColumnProfile("numeric", int(len(values)), int(len(values) - len(finite)))
    if len(finite) == 0:
        return column
    inner = np.quantile(finite, np.linspace(0, 1, BINS + 1)[1:-1])
    edges = np.unique(inner)
    counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)
    column.edges = [float(e) for e in edges]
    column.shares = [float(c) / len(finite) for c in counts]
    column.mean, column.std = float(finite.mean()), float(finite.std())
    column.minimum, column.maximum = float(finite.min()), float(finite.max())
    column.quantiles = [float(q) for q in np.quantile(finite, np.linspace(0.01, 0.99, 99))]
    return column


def _categorical(series: pd.Series) -> ColumnProfile:
    counts = series.astype("string").value_counts(dropna=True)
    total = int(counts.sum())
    column = ColumnProfile("categorical", int(len(series)), int(series.isna().sum()))
    if total == 0:
        return column
    top = counts.head(MAX_CATEGORIES)
    column.categories = [str(c) for c in top.index]
    column.shares = [float(c) / total for c in top.to_numpy()]
    other = total - int(top.sum())
    if other:
        column.categories.append("__other__")
        column.shares.append(other / total)
    return column


