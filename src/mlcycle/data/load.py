"""Read the design's data source: a file in the use-case folder or a SQL query.

The loader returns the table as the design describes it — time column parsed to
datetimes, rows in time order — and nothing more; features are built elsewhere. Any
failure to read is a DesignError at ``data.source`` (or ``data.query``), because the fix
is in the design file or next to it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlcycle.contract.spec import Design
from mlcycle.exceptions import DesignError, Problem


def read_source(design: Design, folder: Path) -> pd.DataFrame:
    """The raw table named by ``data.source``, unmodified but for the time column's type."""
    spec = design.data
    if spec.is_database:
        frame = _read_sql(spec.source, spec.query or "")
    else:
        frame = _read_file(folder / spec.source, spec.source)
    if frame.empty:
        raise DesignError(Problem("data.source", f"{spec.source} holds no rows"))
    if design.time_column and design.time_column in frame.columns:
        try:
            frame[design.time_column] = pd.to_datetime(frame[design.time_column])
        except (ValueError, TypeError):
            pass  # check_against_data names the bad values
    return frame


def _read_file(path: Path, shown: str) -> pd.DataFrame:
    if not path.exists():
        raise DesignError(Problem("data.source", f"{shown} does not exist (looked in {path.parent})"))
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as exc:  # any reader failure is the same story for the user: the file is unreadable
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DesignError(Problem("data.source", f"{shown} could not be read: {reason}")) from None


def _read_sql(url: str, query: str) -> pd.DataFrame:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url)
    except Exception as exc:
        raise DesignError(Problem("data.source", f"not a usable SQLAlchemy URL: {exc}")) from None
    try:
        connection = engine.connect()
    except sqlalchemy.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise DesignError(Problem("data.source", f"could not connect: {getattr(exc, 'orig', None) or exc}")) from None
    try:
        return pd.read_sql_query(sqlalchemy.text(query), connection)
    except (sqlalchemy.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ else exc
        reason = getattr(cause, "orig", None) or cause
        raise DesignError(Problem("data.query", f"the query failed: {reason}")) from None
    finally:
        connection.close()
        engine.dispose()


def training_rows(design: Design, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows the development phase may train on: up to and including the day ``data.train_until`` (all of its
    hours, for hourly data) when it is set."""
    if design.data.train_until is None or not design.time_column:
        return frame
    return frame[frame[design.time_column] < pd.Timestamp(design.data.train_until) + pd.Timedelta(days=1)]
