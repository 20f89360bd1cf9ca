"""The prediction log on SQL: one row per prediction with its inputs as one JSON document, failed requests.

The inputs are written once. Until migration 0008 they were written twice — as JSON for the audit and
again one value per row (``mlcycle_prediction_inputs``) for monitoring — which made the log the slowest
part of a 1,000-row request (four rows written per prediction). Monitoring reads the documents back in
chunks and parses a chunk in one ``json.loads`` of a JSON array, which is as fast as reading the long
form was and needs no join.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mlcycle.exceptions import UsageError
from mlcycle.store._base import PredictionLog, TimeBasis
from mlcycle.store.records import FRAMED_COLUMNS, LOGGED_COLUMNS, LoggedPrediction, PredictionRef, StoredPrediction
from mlcycle.store.sql.encoding import as_datetime, loads, plain
from mlcycle.store.sql.tables import feedback, predictions, request_errors

IN_CHUNK = 5000  # ids per IN (…) list: well under every database's parameter limit


class SqlPredictionLog(PredictionLog):
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def log(self, records: Sequence[LoggedPrediction]) -> None:
        if records:
            texts = documents([r.inputs for r in records])
            self._write(list(zip(*(_row(r, text) for r, text in zip(records, texts, strict=True)), strict=True)))

    def log_table(self, table: pd.DataFrame) -> None:
        if len(table):
            self._write(_table_columns(table, sqlite=self.engine.dialect.name == "sqlite"), times_are_text=True)

    def _write(self, columns: Sequence[Sequence[Any]], *, times_are_text: bool = False) -> None:
        """``columns`` (one per :data:`LOGGED`, a value per row) written through the driver itself — PostgreSQL's
        ``COPY``, SQLite's ``executemany`` on plain tuples: SQLAlchemy's per-row parameter handling cost more than
        the database's own work at 1,000 rows. Its errors are raised as SQLAlchemy's (an ``IntegrityError`` for a
        repeated request id), as the contract says."""
        dialect = self.engine.dialect
        names = ", ".join(LOGGED)
        with self.engine.begin() as connection:
            if dialect.name not in ("postgresql", "sqlite"):
                rows = [dict(zip(LOGGED, row, strict=True)) for row in zip(*columns, strict=True)]
                connection.execute(predictions.insert(), rows)
                return
            raw: Any = connection.connection.dbapi_connection
            if dialect.name == "postgresql":
                statement = f"COPY {predictions.name} ({names}) FROM STDIN"
            else:
                statement, values = _sqlite_insert(columns if times_are_text else _sqlite_times(columns))
            try:
                if dialect.name == "postgresql":
                    with raw.cursor() as cursor, cursor.copy(statement) as copy:
                        for row in zip(*columns, strict=True):
                            copy.write_row(row)
                else:
                    cursor = raw.cursor()
                    try:
                        cursor.executemany(statement, values)
                    finally:
                        cursor.close()
            except dialect.loaded_dbapi.Error as exc:
                raise sa.exc.DBAPIError.instance(
                    statement, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True, dialect=dialect
                ) from exc

    def get(self, request_id: str) -> StoredPrediction | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(sa.select(predictions).where(predictions.c.request_id == request_id))
                .mappings()
                .first()
            )
        return None if row is None else _stored(row)

    def recent(
        self, limit: int = 50, offset: int = 0, *, model_version: str | None = None, source: str | None = None
    ) -> list[StoredPrediction]:
        query = sa.select(predictions).order_by(predictions.c.id.desc()).limit(max(0, limit)).offset(max(0, offset))
        if model_version is not None:
            query = query.where(predictions.c.model_version == model_version)
        if source is not None:
            query = query.where(predictions.c.source == source)
        with self.engine.connect() as connection:
            return [_stored(row) for row in connection.execute(query).mappings()]

    def count(self, model_version: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(predictions)
        if model_version is not None:
            query = query.where(predictions.c.model_version == model_version)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def ids(self) -> set[str]:
        with self.engine.connect() as connection:
            return {r[0] for r in connection.execute(sa.select(predictions.c.request_id))}

    def refs(self, request_ids: list[str]) -> list[PredictionRef]:
        refs: list[PredictionRef] = []
        with self.engine.connect() as connection:
            for start in range(0, len(request_ids), IN_CHUNK):
                query = sa.select(
                    predictions.c.request_id,
                    predictions.c.series_key,
                    predictions.c.event_time,
                    predictions.c.model_version,
                    predictions.c.output,
                ).where(predictions.c.request_id.in_(request_ids[start : start + IN_CHUNK]))
                refs += [PredictionRef(**r) for r in connection.execute(query).mappings()]
        return refs

    def frame(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        chunk_rows: int = 200_000,
        *,
        by: TimeBasis = "created",
    ) -> Iterator[pd.DataFrame]:
        query = sa.select(*_framed())
        yield from self._chunks(_between(query, since, until, by), by, chunk_rows)

    def labelled(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        chunk_rows: int = 200_000,
        *,
        by: TimeBasis = "created",
        only_labelled: bool = False,
    ) -> Iterator[pd.DataFrame]:
        by_id, by_key = feedback.alias("by_id"), feedback.alias("by_key")
        sent_with_id = by_id.c.id.is_not(None)
        query = sa.select(
            *_framed(),
            sa.case((sent_with_id, by_id.c.actual), else_=by_key.c.actual).label("actual"),
            sa.case((sent_with_id, by_id.c.actual_label), else_=by_key.c.actual_label).label("actual_label"),
        ).select_from(
            # feedback sent by id keeps no series nor time, so these equalities find only feedback sent by keys;
            # a `by_key.request_id IS NULL` here, redundant, let PostgreSQL plan a nested loop over every
            # by-key row when its statistics were stale (minutes for a million predictions) instead of a
            # lookup in the (series_key, event_time) unique index
            predictions.outerjoin(by_id, by_id.c.request_id == predictions.c.request_id).outerjoin(
                by_key,
                sa.and_(
                    by_key.c.series_key == predictions.c.series_key, by_key.c.event_time == predictions.c.event_time
                ),
            )
        )
        if only_labelled:
            query = query.where(sa.or_(sent_with_id, by_key.c.id.is_not(None)))
        yield from self._chunks(_between(query, since, until, by), by, chunk_rows)

    def _chunks(self, query: sa.Select[Any], by: TimeBasis, chunk_rows: int) -> Iterator[pd.DataFrame]:
        """The rows oldest first, ``chunk_rows`` at a time. ``stream_results``: PostgreSQL's driver would otherwise
        fetch the whole result before the first chunk (a server-side cursor hands it over a chunk at a time)."""
        with self.engine.connect().execution_options(stream_results=True, max_row_buffer=chunk_rows) as connection:
            yield from pd.read_sql_query(query.order_by(_when(by)), connection, chunksize=chunk_rows)

    def span(self, by: TimeBasis = "event") -> tuple[datetime | None, datetime | None]:
        when = _when(by)
        with self.engine.connect() as connection:
            first, last = connection.execute(sa.select(sa.func.min(when), sa.func.max(when))).one()
        return as_datetime(first), as_datetime(last)

    def inputs(self, request_ids: list[str]) -> pd.DataFrame:
        if not request_ids:
            return pd.DataFrame()
        ids: list[str] = []
        documents: list[str] = []
        with self.engine.connect() as connection:
            for start in range(0, len(request_ids), IN_CHUNK):
                query = sa.select(predictions.c.request_id, predictions.c.inputs).where(
                    predictions.c.request_id.in_(request_ids[start : start + IN_CHUNK])
                )
                for request_id, document in connection.execute(query):
                    ids.append(request_id)
                    documents.append(document)
        return wide_inputs(ids, documents)

    def usage(self, since: datetime) -> tuple[int, float, datetime | None]:
        c = predictions.c
        query = sa.select(sa.func.count(), sa.func.sum(c.latency_ms), sa.func.min(c.created_at))
        with self.engine.connect() as connection:
            count, total, first = connection.execute(query.where(c.created_at >= since)).one()
        return int(count), float(total or 0.0), as_datetime(first)

    def log_errors(self, rows: list[tuple[datetime, str, int]]) -> None:
        if rows:
            with self.engine.begin() as connection:
                connection.execute(
                    request_errors.insert(), [{"created_at": w, "route": r, "status": s} for w, r, s in rows]
                )

    def request_counts(self, since: datetime | None, until: datetime | None) -> tuple[int, int]:
        def count(table: sa.Table) -> int:
            query = sa.select(sa.func.count()).select_from(table)
            if since is not None:
                query = query.where(table.c.created_at >= since)
            if until is not None:
                query = query.where(table.c.created_at < until)
            return int(connection.execute(query).scalar_one())

        with self.engine.connect() as connection:
            return count(predictions), count(request_errors)

    def prune(self, older_than: datetime, *, keep_versions: set[str] | None = None) -> int:
        condition = predictions.c.created_at < older_than
        if keep_versions:
            condition = condition & predictions.c.model_version.not_in(sorted(keep_versions))
        with self.engine.begin() as connection:
            return int(connection.execute(predictions.delete().where(condition)).rowcount or 0)


LOGGED = LOGGED_COLUMNS  # the columns a logged prediction fills, in the order :func:`_row` gives them


def _row(r: LoggedPrediction, inputs: str) -> tuple[Any, ...]:
    """One prediction as the values of :data:`LOGGED`, its inputs already written (:func:`documents`)."""
    return (
        r.request_id,
        r.created_at,
        r.model_name,
        r.model_version,
        r.source,
        r.series_key,
        r.event_time,
        inputs,
        r.output,
        r.output_label,
        json.dumps(r.explanation, default=plain) if r.explanation is not None else None,
        r.latency_ms,
        json.dumps(r.warnings, default=plain) if r.warnings else None,
    )


# The columns whose shared value may be written into the statement — the last three only when no row has one.
# Never a prediction's inputs, output or explanation (a one-row request shares them all): an error quotes them.
_SHAREABLE_EMPTY = ("output_label", "explanation", "warnings")
_SHAREABLE = ("created_at", "model_name", "model_version", "source", "latency_ms", *_SHAREABLE_EMPTY)


def _sqlite_insert(columns: Sequence[Sequence[Any]]) -> tuple[str, Iterator[tuple[Any, ...]]]:
    """SQLite's INSERT for ``columns`` with the values every row shares written into the statement, and the rows
    of the values that vary. A request's or a batch chunk's rows share their time, model, version, source and
    latency, and the driver binds each value of each row while holding the GIL: binding five values a row
    instead of thirteen made a 10,000-row insert a fifth faster. Only values that are safe as SQLite literals
    (None, text, whole and finite numbers) of ``_SHAREABLE`` columns are written in."""
    shared = {
        i: literal
        for i, column in enumerate(columns)
        if LOGGED[i] in _SHAREABLE
        and len(set(column)) == 1
        and (column[0] is None or LOGGED[i] not in _SHAREABLE_EMPTY)
        and (literal := _sqlite_literal(column[0])) is not None
    }
    values = ", ".join(shared.get(i, "?") for i in range(len(LOGGED)))
    statement = f"INSERT INTO {predictions.name} ({', '.join(LOGGED)}) VALUES ({values})"
    return statement, zip(*(column for i, column in enumerate(columns) if i not in shared), strict=True)


def _sqlite_literal(value: Any) -> str | None:
    """``value`` as an SQLite literal that reads back as the bound value would, or None where it may not."""
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    if kind is int:
        return str(value)
    if kind is float and math.isfinite(value):
        return repr(value)
    return None


def _sqlite_times(columns: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """The columns with their two times as SQLite text; a request's rows share a few times, each written once."""
    texts: dict[datetime, str] = {}

    def text(value: datetime | None) -> str | None:
        if value is None:
            return None
        found = texts.get(value)
        if found is None:
            found = texts[value] = _sqlite_time(value)
        return found

    times = {LOGGED.index("created_at"), LOGGED.index("event_time")}
    return [[text(v) for v in column] if i in times else column for i, column in enumerate(columns)]


def _table_columns(table: pd.DataFrame, *, sqlite: bool) -> list[list[Any]]:
    """A batch's columns as the driver takes their values: times as SQLite's text (or datetimes for
    PostgreSQL), missing values as None."""
    columns = []
    for name in LOGGED:
        column = table[name]
        if name in ("created_at", "event_time"):  # a chunk's rows share one time, a few steps: each written once
            codes, uniques = pd.factorize(pd.to_datetime(column), use_na_sentinel=True)
            when = pd.DatetimeIndex(uniques)
            if when.tz is not None:
                when = when.tz_localize(None)
            written = when.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else when.to_pydatetime()
            columns.append(np.array([*written, None], dtype=object)[codes].tolist())
        elif name in ("output", "latency_ms"):
            numbers = pd.to_numeric(column, errors="coerce").astype(float)
            columns.append(numbers.astype(object).where(numbers.notna(), None).tolist())
        else:
            columns.append(column.astype(object).where(column.notna(), None).tolist())
    return columns


def _sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy's SQLite ``DateTime`` writes it (its fields, any offset dropped), so rows written
    through the driver read back exactly like rows written through SQLAlchemy."""
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def wide_inputs(request_ids: list[str], documents: list[str]) -> pd.DataFrame:
    """Logged input documents as one frame indexed by request id, a column per input (object dtype, as sent:
    numbers, text, None). One ``json.loads`` of the documents joined as an array parses a chunk at C speed."""
    if not request_ids:
        return pd.DataFrame()
    parsed = json.loads("[" + ",".join(documents) + "]")
    wide = pd.DataFrame.from_records(parsed, index=pd.Index(request_ids, name="request_id"))
    return wide.astype(object).where(wide.notna(), None)


def documents(inputs: Sequence[dict[str, Any]]) -> list[str]:
    """Each prediction's inputs as the JSON text ``json.dumps`` writes of them made plain (:func:`plain`: NaN as
    null, numpy scalars as numbers, times as ISO text). Built column by column when every document has the same
    fields in the same order, as a request's rows do: a text value is encoded once however often it repeats, a
    number by its own repr, then each row's parts joined — a 1,000-row request's documents took 7 ms written one
    ``dumps`` at a time, 1.5 ms so."""
    if not inputs:
        return []
    fields = tuple(inputs[0])
    if any(tuple(document) != fields for document in inputs) or not all(type(f) is str for f in fields):
        return [json.dumps({k: plain(v) for k, v in document.items()}) for document in inputs]
    if not fields:
        return ["{}"] * len(inputs)
    texts: dict[str, str] = {}

    def text(value: Any) -> str:
        kind = type(value)
        if kind is str:
            found = texts.get(value)
            if found is None:
                found = texts[value] = json.dumps(value)
            return found
        if kind is float:
            return float.__repr__(value) if value - value == 0 else json.dumps(plain(value))  # inf - inf is nan
        if kind is int:
            return int.__repr__(value)
        if value is None:
            return "null"
        return json.dumps(plain(value))  # bool, numpy scalars, times: rare in a request

    heads = [(name, json.dumps(name) + ": ") for name in fields]
    columns = [[head + text(document[name]) for document in inputs] for name, head in heads]
    return ["{" + ", ".join(parts) + "}" for parts in zip(*columns, strict=True)]


def _framed() -> list[sa.ColumnElement[Any]]:
    """The columns :meth:`SqlPredictionLog.frame` reads (the contract's, in its order)."""
    return [predictions.c[name] for name in FRAMED_COLUMNS]


def _between(query: sa.Select[Any], since: datetime | None, until: datetime | None, by: TimeBasis) -> sa.Select[Any]:
    when = _when(by)
    if since is not None:
        query = query.where(when >= since)
    if until is not None:
        query = query.where(when < until)
    return query


def _when(by: str) -> Any:
    if by == "created":
        return predictions.c.created_at
    if by == "event":
        return sa.func.coalesce(predictions.c.event_time, predictions.c.created_at)
    raise UsageError(f"by must be 'created' or 'event'. Got {by!r}")


def known_ids(connection: sa.Connection, ids: list[str]) -> set[str]:
    """Which of ``ids`` are logged predictions (feedback by id may only name those)."""
    found: set[str] = set()
    for start in range(0, len(ids), IN_CHUNK):
        query = sa.select(predictions.c.request_id).where(predictions.c.request_id.in_(ids[start : start + IN_CHUNK]))
        found |= {r[0] for r in connection.execute(query)}
    return found


def _stored(row: sa.RowMapping) -> StoredPrediction:
    return StoredPrediction(
        request_id=row["request_id"],
        created_at=row["created_at"],
        model_name=row["model_name"],
        model_version=row["model_version"],
        source=row["source"],
        series_key=row["series_key"],
        event_time=row["event_time"],
        inputs=json.loads(row["inputs"]),
        output=row["output"],
        output_label=row["output_label"],
        explanation=loads(row["explanation"]),
        latency_ms=row["latency_ms"],
        warnings=loads(row["warnings"]),
    )
