"""The inferred schema: what each column is, so serving can refuse what training never saw.

``mlcycle data check`` writes it to ``.mlcycle/schema.json``; the development phase logs it
with every model and the service validates requests against it. Each column has a type
(boolean, integer, number, datetime, string), whether it may be missing, its observed
range or — for strings with few values — its allowed categories, and its role in the
design (target, time, group, feature, unused).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
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


__all__ = [
    "CALENDAR_FEATURES",
    "ColumnSchema",
    "Schema",
    "feature_columns",
    "frame_out_of_range",
    "infer",
    "out_of_range",
    "validate_frame",
    "validate_records",
]


# ── request validation ───────────────────────────────────────────────────────────────
_NUMBER_TYPES = {"integer", "number"}


def validate_records(
    schema: Schema, records: list[dict[str, Any]], columns: list[str] | None = None, *, build: bool = True
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Check request rows against the schema; returns the typed frame and every problem found.

    Only the model's input columns are checked (``columns``, default: the schema's input
    columns); the target and unused columns may be sent and are ignored. Each problem names
    its row (0-based), its field and what would be valid. ``build=False`` only checks (the
    service's lean path reads the records themselves). A valid time that is not plain ISO text (an
    offset, a week date) is rewritten in its record as plain ISO text in UTC, so every reader reads it alike.
    """
    wanted = columns if columns is not None else schema.input_columns
    errors: list[dict[str, Any]] = []
    # a request's times and categories repeat (a day's rows for many items): each distinct one checked once
    seen: dict[str, dict[Any, tuple[str | None, Any]]] = {
        name: {} for name in wanted if schema.columns[name].type not in _NUMBER_TYPES
    }
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
            value = record[name]
            memo = seen.get(name)
            known = memo.get(value) if memo is not None and isinstance(value, str) else None
            if known is None:
                problem = _check_value(value, spec)
                # the lean path and the Pipeline then read a time alike
                known = (problem, plain_time(value) if not problem and spec.type == "datetime" else value)
                if memo is not None and isinstance(value, str):
                    memo[value] = known
            problem, record[name] = known
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


def out_of_range(schema: Schema, records: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    """Numbers of checked records that lie outside the range the model was trained on: {row, field, message}.

    Only numeric features (the time and the series keys move on by nature); the schema's min and max are
    the training data's. The service flags these or refuses them, as ``deployment.out_of_range`` says.
    """
    found = []
    for name in _ranged(schema, columns):
        spec = schema.columns[name]
        for i, record in enumerate(records):
            value = record.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                message = _range_message(value, spec)
                if message:
                    found.append({"row": i, "field": name, "message": message})
    return sorted(found, key=lambda p: (p["row"], columns.index(p["field"])))


def frame_out_of_range(schema: Schema, frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """:func:`out_of_range` for a typed table (batch scoring), column by column."""
    found = []
    for name in _ranged(schema, columns):
        spec = schema.columns[name]
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        outside = np.flatnonzero((values < spec.min) | (values > spec.max))
        found += [{"row": int(i), "field": name, "message": _range_message(values[i], spec)} for i in outside]
    return sorted(found, key=lambda p: (p["row"], columns.index(p["field"])))


def _ranged(schema: Schema, columns: list[str]) -> list[str]:
    return [
        c
        for c in columns
        if schema.columns[c].role == "feature"
        and schema.columns[c].type in _NUMBER_TYPES
        and schema.columns[c].min is not None
        and schema.columns[c].max is not None
    ]


def _range_message(value: float, spec: ColumnSchema) -> str | None:
    if value < spec.min:
        return f"{value:g} is below the smallest value the model was trained on ({spec.min:g})"
    if value > spec.max:
        return f"{value:g} is above the largest value the model was trained on ({spec.max:g})"
    return None


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
    if not pd.api.types.is_object_dtype(present):  # one type throughout (text, categories): each distinct once
        codes, uniques = pd.factorize(present)
        said = [_check_value(_as_sent(value), spec) for value in uniques.tolist()]
        refused = [k for k, message in enumerate(said) if message is not None]
        where = positions[~null]
        return out + [(int(where[i]), str(said[codes[i]])) for i in np.flatnonzero(np.isin(codes, refused))]
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
            frame[name] = times_of(frame[name])
        elif schema.columns[name].type in _NUMBER_TYPES:
            frame[name] = pd.to_numeric(frame[name])
        elif schema.columns[name].type == "string":  # 85123 and "85123" are the same stock code
            frame[name] = _each_distinct(frame[name], _text).astype("str")
    return frame


def times_of(column: pd.Series) -> pd.Series:
    """A checked time column (times already, or ISO text and missing values) as pandas times, each distinct
    text parsed once: a batch's rows share a few days."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return column
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    parsed = pd.to_datetime(pd.Index([plain_time(v) for v in uniques.tolist()], dtype=object), format="ISO8601")
    return pd.Series(parsed.take(codes, allow_fill=True), index=column.index, name=column.name)


def _each_distinct(column: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``column.map(fn)``, calling ``fn`` once per distinct value: a batch's dates and codes repeat, and a call per
    row cost more than the model at a million rows. Values are told apart by type as well (True == 1 == 1.0,
    yet each is written differently), so an object column goes through a dict keyed by (type, value)."""
    if not pd.api.types.is_object_dtype(column):
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        missing = column[codes == -1]
        mapped = [fn(v) for v in uniques.tolist()] + [fn(missing.iloc[0]) if len(missing) else None]
        return pd.Series(np.array(mapped, dtype=object)[codes], index=column.index, dtype=object)
    seen: dict[tuple[type, Any], Any] = {}
    out = []
    for value in column.tolist():
        try:
            key = (type(value), value)
            done = seen[key] if key in seen else seen.setdefault(key, fn(value))
        except TypeError:  # an unhashable value (a list sent in a field): mapped on its own
            done = fn(value)
        out.append(done)
    return pd.Series(out, index=column.index, dtype=object)


def _category_set(spec: ColumnSchema) -> frozenset[str]:
    """The allowed categories as text, computed once per column schema (a request checks each value)."""
    cached = getattr(spec, "_category_set", None)
    if cached is None:
        cached = frozenset(str(c) for c in spec.categories or [])
        object.__setattr__(spec, "_category_set", cached)
    return cached


# The times pandas holds at nanosecond resolution: what every feature built from a time can take.
FIRST_YEAR, LAST_YEAR = 1678, 2261
_PLAIN_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?")


def iso_moment(value: str) -> datetime:
    """An ISO 8601 text as a naive time; one with an offset ("Z", "+02:00") is taken to UTC first.
    Raises ValueError for anything else (pandas would guess at "01/02/2011"; a request must not)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def plain_time(value: str) -> str:
    """``value`` as every reader of times here reads it alike (numpy, pandas): a time with an offset, a week
    date or a basic-format date becomes plain ISO text in UTC; plain ISO text is returned as it is."""
    return value if _PLAIN_ISO.fullmatch(value) else iso_moment(value).isoformat()


def _shown(value: Any, limit: int = 80) -> str:
    """A value as a message quotes it: its repr, cut short (a request may send a megabyte in one field)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_value(value: Any, spec: ColumnSchema) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None if spec.nullable else "must not be null: the model was trained without missing values here"
    if spec.type in _NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number. Got {_shown(value)}"
        if value in (float("inf"), float("-inf")):
            return "must be a finite number"
        return None
    if spec.type == "boolean":
        return None if isinstance(value, bool) else f"must be true or false. Got {_shown(value)}"
    if spec.type == "datetime":
        if not isinstance(value, str):
            return f'must be a date or time as text (ISO 8601), e.g. "2011-09-01". Got {_shown(value)}'
        try:
            moment = iso_moment(value)
        except ValueError:
            return (
                f'must be a date or time in ISO 8601, such as "2011-09-01" or "2011-09-01T09:30Z". Got {_shown(value)}'
            )
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            return f"must be a time between the years {FIRST_YEAR} and {LAST_YEAR}. Got {_shown(value)}"
        return None
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None:
        return f"must be text. Got {_shown(value)}"
    if spec.categories is not None and text not in _category_set(spec):
        shown = ", ".join(str(c) for c in spec.categories[:12]) + (" …" if len(spec.categories) > 12 else "")
        return f"{_shown(text)} is not a value the model knows; known: {shown}"
    return None
