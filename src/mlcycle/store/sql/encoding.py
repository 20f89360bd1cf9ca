"""How values cross into SQL and back: JSON for documents, plain Python for numpy and pandas scalars."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import pandas as pd


def plain(value: Any) -> Any:
    """A JSON-ready value: NaN becomes None, numpy scalars Python ones, times ISO text, the rest text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return plain(value.item())
    return str(value)


def dumps(document: Any) -> str:
    return json.dumps(document, default=plain)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def as_datetime(value: Any) -> datetime | None:
    """A database's time (a datetime, or text on SQLite aggregates) as a datetime."""
    if value is None:
        return None
    return pd.Timestamp(value).to_pydatetime()
