"""The inferred schema: what each column is, so serving can refuse what training never saw.

``mlcycle data check`` writes it to ``.mlcycle/schema.json``; the development phase logs it
with every model and the service validates requests against it. Each column has a type
(boolean, integer, number, datetime, string), whether it may be missing, its observed
range or — for strings with few values — its allowed categories, and its role in the
design (target, time, group, feature, unused).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcycle.contract.spec import CALENDAR_FEATURES, Design
from mlcycle.data.profile import kind_of

# A string column with at most this many distinct values is a category: serving refuses
# values outside the list. Above it the column is free text.
MAX_CATEGORIES = 200


@dataclass
class ColumnSchema:
    type: str
    nullable: bool
    role: str
    min: Any = None
    max: Any = None
    categories: list[Any] | None = None


@dataclass
class Schema:
    name: str
    target: str
    time_column: str | None
    group_columns: list[str]
    columns: dict[str, ColumnSchema] = field(default_factory=dict)

    @property
    def input_columns(self) -> list[str]:
        """Columns a caller must send: everything a model reads, never the target."""
        return [c for c, s in self.columns.items() if s.role in ("time", "group", "feature")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target,
            "time_column": self.time_column,
            "group_columns": self.group_columns,
            "columns": {c: {k: v for k, v in asdict(s).items() if v is not None} for c, s in self.columns.items()},
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(path)  # atomic: a reader never sees half a schema

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        columns = {c: ColumnSchema(**s) for c, s in data["columns"].items()}
        return cls(
            data["name"],
            data["target"],
            data.get("time_column"),
            list(data.get("group_columns", [])),
            columns,
        )

    @classmethod
    def load(cls, path: Path) -> Schema:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def feature_columns(design: Design, frame: pd.DataFrame) -> list[str]:
    """Data columns some data variant reads (calendar features come from the time column)."""
    forbidden = set(design.requirements.compliance.forbidden_features)
    reserved = {design.target, design.time_column, *design.group_columns}
    used: list[str] = []
    for name in design.experiments.data_variants:
        features = design.variant_definition(name)["features"]
        if features is None:
            features = [c for c in frame.columns if c not in reserved and c not in forbidden]
        used += [f for f in features if f in frame.columns and f not in used and f not in reserved]
    return used


def infer(design: Design, frame: pd.DataFrame) -> Schema:
    features = set(feature_columns(design, frame))
    schema = Schema(design.name, design.target, design.time_column, list(design.group_columns))
    for column in frame.columns:
        series = frame[column]
        if column == design.target:
            role = "target"
        elif column == design.time_column:
            role = "time"
        elif column in design.group_columns:
            role = "group"
        elif column in features:
            role = "feature"
        else:
            role = "unused"
        kind = kind_of(series)
        entry = ColumnSchema(type=kind, nullable=bool(series.isna().any()), role=role)
        non_null = series.dropna()
        if kind in ("integer", "number") and len(non_null):
            entry.min, entry.max = _plain(non_null.min()), _plain(non_null.max())
        elif kind == "datetime" and len(non_null):
            entry.min, entry.max = non_null.min().isoformat(), non_null.max().isoformat()
        elif kind in ("string", "boolean"):
            values = pd.unique(non_null)
            if len(values) <= MAX_CATEGORIES:
                entry.categories = sorted((_plain(v) for v in values), key=str)
        schema.columns[str(column)] = entry
    return schema


def _plain(value: Any) -> Any:
    """numpy scalars → Python scalars, so the schema is plain JSON."""
    return value.item() if hasattr(value, "item") else value


__all__ = ["CALENDAR_FEATURES", "ColumnSchema", "Schema", "feature_columns", "infer"]


# ── request validation ───────────────────────────────────────────────────────────────
_NUMBER_TYPES = {"integer", "number"}


def validate_records(
    schema: Schema, records: list[dict[str, Any]], columns: list[str] | None = None, *, build: bool = True
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Check request rows against the schema; returns the typed frame and every problem found.

    Only the model's input columns are checked (``columns``, default: the schema's input
    columns); the target and unused columns may be sent and are ignored. Each problem names
    its row (0-based), its field and what would be valid. ``build=False`` only checks (the
    service's lean path reads the records themselves).
    """
    wanted = columns if columns is not None else schema.input_columns
    errors: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            errors.append(
                {
                    "row": i,
                    "field": None,
                    "message": f"each record must be an object of column: value. Got {type(record).__name__}",
                }
            )
            continue
        for name in wanted:
            spec = schema.columns[name]
            if name not in record:
                errors.append({"row": i, "field": name, "message": f"missing; the model needs {', '.join(wanted)}"})
                continue
            problem = _check_value(record[name], spec)
            if problem:
                errors.append({"row": i, "field": name, "message": problem})
    if errors or not build:
        return pd.DataFrame(), errors
    return _typed(schema, pd.DataFrame.from_records(records, columns=wanted), wanted), errors


def validate_frame(
    schema: Schema, frame: pd.DataFrame, columns: list[str] | None = None
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """:func:`validate_records` for a table (batch scoring): the same problems with the same messages, found
    column by column — each distinct value is checked once — instead of record by record."""
    wanted = columns if columns is not None else schema.input_columns
    found: list[tuple[int, int, str, str]] = []  # (row, column's place, field, message): the records' order
    for place, name in enumerate(wanted):
        spec = schema.columns[name]
        if name not in frame.columns:
            message = f"missing; the model needs {', '.join(wanted)}"
            found += [(i, place, name, message) for i in range(len(frame))]
            continue
        for i, message in _column_problems(frame[name], spec):
            found.append((i, place, name, message))
    if found:
        return pd.DataFrame(), [{"row": i, "field": f, "message": m} for i, _, f, m in sorted(found)]
    return _typed(schema, frame[wanted].reset_index(drop=True), wanted), []


def _column_problems(column: pd.Series, spec: ColumnSchema) -> list[tuple[int, str]]:
    """(row position, message) for each value of ``column`` that ``_check_value`` refuses."""
    positions = np.arange(len(column))
    null = column.isna().to_numpy()
    out = []
    if not spec.nullable:
        out += [
            (int(i), "must not be null: the model was trained without missing values here") for i in positions[null]
        ]
    present = column[~null]
    if present.empty:
        return out
    if spec.type == "datetime" and pd.api.types.is_datetime64_any_dtype(present):
        return out  # dates already: what the records path sends as ISO text
    if (
        spec.type in _NUMBER_TYPES
        and pd.api.types.is_numeric_dtype(present)
        and not pd.api.types.is_bool_dtype(present)
    ):
        finite = np.isfinite(present.to_numpy(dtype=float))
        return out + [(int(i), "must be a finite number") for i in positions[~null][~finite]]
    messages: dict[tuple[type, Any], str | None] = {}  # by type too: True == 1 == 1.0, yet only 1.0 is a number
    for i, value in zip(positions[~null], present.tolist()):
        key = (type(value), value)
        if key not in messages:
            messages[key] = _check_value(_as_sent(value), spec)
        if messages[key] is not None:
            out.append((int(i), str(messages[key])))
    return out


def _as_sent(value: Any) -> Any:
    """A table's value as a JSON request would carry it: plain Python, times as ISO text."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return value.item() if hasattr(value, "item") else value


def _text(value: Any) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _typed(schema: Schema, frame: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:
    """The checked columns in the types the model was trained on."""
    for name in wanted:
        if schema.columns[name].type == "datetime":
            frame[name] = pd.to_datetime(frame[name])
        elif schema.columns[name].type in _NUMBER_TYPES:
            frame[name] = pd.to_numeric(frame[name])
        elif schema.columns[name].type == "string":  # 85123 and "85123" are the same stock code
            frame[name] = frame[name].map(_text).astype("str")
    return frame


def _category_set(spec: ColumnSchema) -> frozenset[str]:
    """The allowed categories as text, computed once per column schema (a request checks each value)."""
    cached = getattr(spec, "_category_set", None)
    if cached is None:
        cached = frozenset(str(c) for c in spec.categories or [])
        object.__setattr__(spec, "_category_set", cached)
    return cached


def _check_value(value: Any, spec: ColumnSchema) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None if spec.nullable else "must not be null: the model was trained without missing values here"
    if spec.type in _NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number. Got {value!r}"
        if value in (float("inf"), float("-inf")):
            return "must be a finite number"
        return None
    if spec.type == "boolean":
        return None if isinstance(value, bool) else f"must be true or false. Got {value!r}"
    if spec.type == "datetime":
        if not isinstance(value, str):
            return f'must be a date or time as text, e.g. "2011-09-01". Got {value!r}'
        try:
            pd.Timestamp(value)
        except (ValueError, TypeError):
            return f'must be a date or time such as "2011-09-01". Got {value!r}'
        return None
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None:
        return f"must be text. Got {value!r}"
    if spec.categories is not None and text not in _category_set(spec):
        shown = ", ".join(str(c) for c in spec.categories[:12]) + (" …" if len(spec.categories) > 12 else "")
        return f"{text!r} is not a value the model knows; known: {shown}"
    return None
