"""Data quality: the problems that would make a model wrong before it is trained.

Each check returns :class:`DataIssue` objects. ``error`` issues block training (the CLI
exits 1 and lists them); ``warning`` issues are worth a look; ``info`` records what was
checked and found fine or handled. Each check is a small function over the table and the
design, so a new one is a new function in ``CHECKS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from mlcycle.contract.spec import Design, positive_mask
from mlcycle.data import proxies
from mlcycle.data.groups import groups_of
from mlcycle.data.profile import kind_of
from mlcycle.data.schema import feature_columns

Severity = Literal["error", "warning", "info"]
MIN_ROWS = 30


@dataclass(frozen=True)
class DataIssue:
    check: str
    severity: Severity
    message: str
    column: str | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = f"{self.column}: " if self.column else ""
        return f"[{self.check}] {where}{self.message}"


Check = Callable[[Design, pd.DataFrame], list[DataIssue]]


def _size(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    if len(frame) < MIN_ROWS:
        return [
            DataIssue(
                "size",
                "error",
                f"only {len(frame)} rows; at least {MIN_ROWS} are needed to train and validate",
            )
        ]
    return []


def _types(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    issues = []
    for column in frame.columns:
        series = frame[column]
        if kind_of(series) != "string" or column in (design.time_column, *design.group_columns):
            continue  # identifiers such as stock codes mix digits and letters by design
        non_null = series.dropna()
        if len(non_null) == 0:
            continue
        as_numbers = pd.to_numeric(non_null, errors="coerce")
        share = as_numbers.notna().mean()
        if 0.99 <= share < 1.0:  # a few stray strings among numbers: typos, "n/a", "1,5"
            bad = non_null[as_numbers.isna()].iloc[0]
            issues.append(
                DataIssue(
                    "types",
                    "warning",
                    f"{share:.1%} of values are numbers but some are not (e.g. {bad!r}); it is read as text",
                    column,
                )
            )
        elif share == 1.0:
            issues.append(
                DataIssue(
                    "types",
                    "warning",
                    "every value is a number stored as text; convert it at the source so it is read as a number",
                    column,
                )
            )
    return issues


def _missing(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    issues = []
    counts = frame.isna().sum()
    for column, count in counts[counts > 0].items():
        share = count / len(frame)
        if column in (design.time_column, *design.group_columns):
            issues.append(
                DataIssue(
                    "missing",
                    "error",
                    f"{count} missing values in a key column; every row needs its time and series identity",
                    str(column),
                )
            )
        elif column == design.target:
            severity: Severity = "error" if share > 0.5 else "warning"
            issues.append(
                DataIssue(
                    "missing",
                    severity,
                    f"{count} rows ({share:.1%}) have no target and cannot be trained on",
                    str(column),
                )
            )
        else:
            issues.append(
                DataIssue(
                    "missing",
                    "warning" if share > 0.05 else "info",
                    f"{count} missing values ({share:.1%})",
                    str(column),
                )
            )
    return issues


def _ranges(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    issues = []
    for column in frame.select_dtypes("number").columns:
        values = frame[column].to_numpy(dtype=float)
        infinite = int(np.isinf(values).sum())
        if infinite:
            issues.append(DataIssue("ranges", "error", f"{infinite} infinite values", str(column)))
    if design.task == "regression" and design.target in frame.columns:
        target = frame[design.target]
        if pd.api.types.is_numeric_dtype(target):
            negative = int((target < 0).sum())
            if 0 < negative < 0.01 * len(target):
                issues.append(
                    DataIssue(
                        "ranges",
                        "warning",
                        f"{negative} negative values in an otherwise non-negative target (returns? corrections?)",
                        design.target,
                    )
                )
    return issues


def _duplicates(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    if design.time_column:
        keys = [design.time_column, *design.group_columns]
        duplicated = frame.duplicated(subset=keys, keep=False)
        if duplicated.any():
            example = frame.loc[duplicated, keys].iloc[0].to_dict()
            return [
                DataIssue(
                    "duplicates",
                    "error",
                    f"{int(duplicated.sum())} rows share a ({', '.join(keys)}) with "
                    f"another row, e.g. {example}; each series needs one row per time",
                )
            ]
        return []
    duplicated = frame.duplicated()
    if duplicated.any():
        return [DataIssue("duplicates", "warning", f"{int(duplicated.sum())} rows are exact copies of another row")]
    return []


def _duration(gap: pd.Timedelta) -> str:
    """A gap as people say it: whole days, else hours."""
    if gap >= pd.Timedelta(days=1) and gap % pd.Timedelta(days=1) == pd.Timedelta(0):
        return f"{gap.days} day{'s' if gap.days != 1 else ''}"
    hours = gap / pd.Timedelta(hours=1)
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def _time(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    column = design.time_column
    if not column or not pd.api.types.is_datetime64_any_dtype(frame[column]):
        return []
    issues = []
    times = frame[column]
    if not times.is_monotonic_increasing:
        issues.append(
            DataIssue("time_order", "info", "rows are not in time order; mlcycle sorts them before use", column)
        )
    steps = pd.Index(times.dropna().unique()).sort_values()
    if len(steps) > 2:
        gaps = steps[1:] - steps[:-1]
        typical = gaps.to_series().median()
        longest = gaps.max()
        if longest > 3 * typical:
            at = steps[1:][gaps.argmax()]
            issues.append(
                DataIssue(
                    "time_gaps",
                    "info",
                    f"the longest gap is {_duration(longest)} (before "
                    f"{at:%Y-%m-%d %H:%M}); the typical step is {_duration(typical)}",
                    column,
                )
            )
    if design.group_columns:
        per_group = frame.groupby(design.group_columns, observed=True)[column].nunique()
        incomplete = per_group[per_group < len(steps)]
        if len(incomplete):
            issues.append(
                DataIssue(
                    "time_gaps",
                    "warning",
                    f"{len(incomplete)} of {len(per_group)} series miss some "
                    f"of the {len(steps)} time steps others have; lags there will be missing",
                    column,
                )
            )
    return issues


def _leakage(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    if design.target not in frame.columns:
        return []
    target = frame[design.target]
    if design.task == "classification":
        target = positive_mask(design, target).astype(float)
    issues = []
    for column in feature_columns(design, frame):
        series = frame[column]
        if series.astype(str).equals(frame[design.target].astype(str)):
            issues.append(DataIssue("leakage", "error", f"is identical to the target {design.target!r}", column))
            continue
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        both = (
            pd.concat([series.astype(float), target.astype(float)], axis=1).replace([np.inf, -np.inf], np.nan).dropna()
        )
        if len(both) > 2 and both.iloc[:, 0].std() > 0 and both.iloc[:, 1].std() > 0:
            correlation = both.iloc[:, 0].corr(both.iloc[:, 1])
            if abs(correlation) >= 0.999:
                issues.append(
                    DataIssue(
                        "leakage",
                        "error",
                        f"correlates {correlation:+.4f} with the target {design.target!r}: it knows the answer",
                        column,
                    )
                )
    return issues


def _constant(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    issues = []
    for column in frame.columns:
        if column == design.target:
            if frame[column].nunique(dropna=True) <= 1:
                issues.append(
                    DataIssue(
                        "constant",
                        "error",
                        "the target has a single value; there is nothing to learn",
                        column,
                    )
                )
        elif frame[column].nunique(dropna=False) <= 1:
            issues.append(DataIssue("constant", "warning", "has a single value; it cannot help a model", str(column)))
    return issues


def _forbidden(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    used = set(feature_columns(design, frame))
    forbidden = set(design.requirements.compliance.forbidden_features)
    issues = []
    for column in design.requirements.compliance.forbidden_features:
        if column in used:
            issues.append(
                DataIssue(
                    "forbidden",
                    "error",
                    "is forbidden by requirements.compliance but a data variant uses it",
                    column,
                )
            )
        elif column in frame.columns:
            issues.append(
                DataIssue("forbidden", "info", "is in the data, forbidden, and used by no data variant", column)
            )
            issues += _proxy(design, frame, column, sorted(used - forbidden))
    return issues


def _proxy(design: Design, frame: pd.DataFrame, column: str, features: list[str]) -> list[DataIssue]:
    """A warning when the features the variants use give the forbidden ``column`` away (data/proxies.py)."""
    if not features or frame[column].nunique(dropna=True) < 2:
        return []
    found = proxies.measure(frame, column, features)
    limit = proxies.limit(design.requirements.compliance, found)
    if found.score <= limit:
        return []
    key = "proxy_max_auc" if found.measure == "roc_auc" else "proxy_max_r2"
    return [
        DataIssue(
            "proxy",
            "warning",
            f"is forbidden, but {found.describe()} — above requirements.compliance.{key} ({limit:g}); the promotion "
            "gate will refuse a model that uses them: drop or coarsen them in the data variants",
            column,
        )
    ]


def _protected(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    """Each protected column must be in the data, or fairness across it cannot be measured."""
    issues = []
    for column in design.requirements.compliance.protected:
        if column not in frame.columns:
            issues.append(
                DataIssue(
                    "protected",
                    "error",
                    "is protected by requirements.compliance but not in the data: fairness across its groups cannot "
                    "be measured. Add the column (it may stay out of the features) or remove it from protected",
                    column,
                )
            )
        else:
            sizes = groups_of(frame[column]).value_counts()
            issues.append(
                DataIssue(
                    "protected",
                    "info",
                    f"is protected: the gate measures each group's figures ({len(sizes)} groups, the smallest "
                    f"{sizes.index[-1]} with {int(sizes.iloc[-1]):,} rows)",
                    column,
                )
            )
    return issues


CHECKS: dict[str, Check] = {
    "size": _size,
    "types": _types,
    "missing": _missing,
    "ranges": _ranges,
    "duplicates": _duplicates,
    "time": _time,
    "leakage": _leakage,
    "constant": _constant,
    "forbidden": _forbidden,
    "protected": _protected,
}


def check(design: Design, frame: pd.DataFrame) -> list[DataIssue]:
    """Run every check; errors first, then warnings, then info."""
    issues = [issue for run in CHECKS.values() for issue in run(design, frame)]
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(issues, key=lambda i: order[i.severity])
