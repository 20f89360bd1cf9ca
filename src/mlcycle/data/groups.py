"""The groups of a protected column, as fairness measures and the data check counts them.

Categories are groups as they are written; a numeric column with more than ``MAX_GROUPS`` distinct values (an
age, an income) is cut at its quartiles, since a group per value would hold a handful of rows each; a missing
value is a group of its own ("missing"), since the rows without the value are often the ones treated worst."""

from __future__ import annotations

import pandas as pd

MAX_GROUPS = 10
MISSING = "missing"


def groups_of(values: pd.Series) -> pd.Series:
    """Each row's group as text, indexed from 0."""
    if (
        pd.api.types.is_numeric_dtype(values)
        and not pd.api.types.is_bool_dtype(values)
        and values.nunique(dropna=True) > MAX_GROUPS
    ):
        text = pd.qcut(values, 4, duplicates="drop").astype(str)
    else:
        text = values.astype(str)
    return text.where(values.notna(), MISSING).reset_index(drop=True)


__all__ = ["MAX_GROUPS", "MISSING", "groups_of"]
