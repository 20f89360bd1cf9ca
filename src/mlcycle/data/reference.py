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

from mlcycle.exceptions import DataError, UsageError

BINS = 10
MAX_CATEGORIES = 100
QUANTILE_LEVELS = np.linspace(0.01, 0.99, 99)


@dataclass
class ColumnProfile:
    kind: str  # "numeric" | "categorical"
    count: int
    missing: int
    edges: list[float] | None = None  # numeric: inner quantile edges (BINS − 1 of them)
    shares: list[float] | None = None  # numeric: share per bin (BINS), categorical: per category
    categories: list[Any] | None = None  # categorical: the categories, most frequent first
    mean: float | None = None
    std: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    quantiles: list[float] | None = None  # numeric: the 1st … 99th percentiles, for distance statistics


@dataclass(frozen=True)
class ChanceLevels:
    """How far one drift statistic moved by chance between windows of the reference, at several window sizes.

    ``rows[i]``: a window size; ``warn[i]`` / ``alert[i]``: the thresholds calibrated at that size
    (see :mod:`mlcycle.metrics.thresholds`), ``windows[i]``: how many reference windows they come from.
    """

    rows: list[int]
    warn: list[float]
    alert: list[float]
    windows: list[int]

    def at(self, rows: int) -> tuple[float, float]:
        """The (warn, alert) thresholds for a window of ``rows`` rows.

        Between two calibrated sizes: interpolated on the log-log scale (chance variation falls
        roughly as 1/√rows). Below the smallest: scaled up by √(smallest / rows). Above the largest:
        the largest's — what stays of the variation in big windows is the reference's own
        week-to-week movement, which more rows do not shrink.
        """
        sizes = np.log(np.asarray(self.rows, dtype=float))
        n = np.log(max(int(rows), 1))
        if n <= sizes[0]:
            scale = float(np.exp((sizes[0] - n) / 2))
            return self.warn[0] * scale, self.alert[0] * scale
        warn = float(np.exp(np.interp(n, sizes, np.log(self.warn))))
        alert = float(np.exp(np.interp(n, sizes, np.log(self.alert))))
        return warn, alert


@dataclass
class Profile:
    """The reference: per column its profile; per seasonal column (the target and the prediction, when the
    design has a time column and the reference covers every month) one profile per month of the year;
    per column and drift statistic the chance levels its ``auto`` thresholds come from."""

    rows: int
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    seasons: dict[str, dict[str, ColumnProfile]] = field(default_factory=dict)  # column → month "1"…"12" → profile
    chance: dict[str, dict[str, ChanceLevels]] = field(default_factory=dict)  # column → statistic → levels
    window_rows: int | None = None  # rows in one monitoring window of the reference, when it has a time column

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "columns": {c: asdict(p) for c, p in self.columns.items()},
            "seasons": {c: {m: asdict(p) for m, p in months.items()} for c, months in self.seasons.items()},
            "chance": {c: {s: asdict(levels) for s, levels in by.items()} for c, by in self.chance.items()},
            "window_rows": self.window_rows,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(
            int(data["rows"]),
            {c: ColumnProfile(**p) for c, p in data["columns"].items()},
            {
                c: {m: ColumnProfile(**p) for m, p in months.items()}
                for c, months in (data.get("seasons") or {}).items()
            },
            {
                c: {s: ChanceLevels(**levels) for s, levels in by.items()}
                for c, by in (data.get("chance") or {}).items()
            },
            data.get("window_rows"),
        )

    def season(self, column: str, month: int | None) -> ColumnProfile | None:
        """The column's profile for that month of the year, when the reference has one."""
        if month is None:
            return None
        return self.seasons.get(column, {}).get(str(month))

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
    raise UsageError(f"a profile holds numbers, text and times; got a {type(value).__name__}")


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


MIN_SEASON_ROWS = 30  # a month of the reference needs this many values to stand for that month


def seasonal(frame: pd.DataFrame, columns: list[str], months: pd.Series) -> dict[str, dict[str, ColumnProfile]]:
    """One profile per month of the year for each of ``columns`` — only when every month has enough rows.

    A December week is then compared with the reference's Decembers, not with a year that is mostly
    summer. With fewer than twelve covered months there is no season to match and nothing is returned.
    """
    month = pd.to_datetime(months).dt.month.to_numpy()
    counts = np.bincount(month[~np.isnan(month.astype(float))].astype(int), minlength=13)[1:]
    if (counts < MIN_SEASON_ROWS).any():
        return {}
    out: dict[str, dict[str, ColumnProfile]] = {}
    for name in columns:
        if name not in frame.columns:
            continue
        series = frame[name]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        out[name] = {
            str(m): (_numeric if numeric else _categorical)(series[month == m].reset_index(drop=True))
            for m in range(1, 13)
        }
    return out


def sorted_quantiles(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``np.quantile(values, levels)`` (linear interpolation) for already sorted values.

    Sorting once and indexing is several times faster than ``np.quantile`` with a hundred levels,
    which partitions the array once per level.
    """
    position = np.asarray(levels, dtype=float) * (len(values) - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, len(values) - 1)
    return values[below] + (values[above] - values[below]) * (position - below)


def _numeric(series: pd.Series) -> ColumnProfile:
    values = series.to_numpy(dtype=float, na_value=np.nan)
    finite = np.sort(values[np.isfinite(values)])  # one sort serves every quantile, bin count and extreme
    column = ColumnProfile("numeric", len(values), int(len(values) - len(finite)))
    if len(finite) == 0:
        return column
    edges = np.unique(sorted_quantiles(finite, np.linspace(0, 1, BINS + 1)[1:-1]))
    cuts = np.searchsorted(finite, edges, side="left")  # x == an edge belongs to the bin above it
    counts = np.diff(np.concatenate([[0], cuts, [len(finite)]]))
    column.edges = [float(e) for e in edges]
    column.shares = [float(c) / len(finite) for c in counts]
    column.mean, column.std = float(finite.mean()), float(finite.std())
    column.minimum, column.maximum = float(finite[0]), float(finite[-1])
    column.quantiles = [float(q) for q in sorted_quantiles(finite, QUANTILE_LEVELS)]
    return column


def _categorical(series: pd.Series) -> ColumnProfile:
    counts = series.astype("string").value_counts(dropna=True)
    total = int(counts.sum())
    column = ColumnProfile("categorical", len(series), int(series.isna().sum()))
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


FINE_BINS = 2048  # per numeric column; the percentiles are read from these, to 1/2048 of the first chunk's range


class ProfileBuilder:
    """Profile a table too large for memory, one chunk of rows at a time, into the same :class:`Profile`.

    Numeric columns keep a fixed fine histogram whose range is the first chunk's, widened by half of
    it on each side; values beyond fall into an under- or overflow bin whose ends are the exact
    minimum and maximum. Percentiles and bin shares are read from the histogram (linear within a
    bin); mean and spread from running sums. Categorical columns keep exact counts. Memory does not
    grow with the number of rows: 3,000,000 × 1,000 columns fit in a few hundred megabytes.
    """

    def __init__(self, fine_bins: int = FINE_BINS) -> None:
        self.bins = fine_bins
        self.rows = 0
        self._names: list[str] = []
        self._lo: np.ndarray | None = None
        self._width: np.ndarray | None = None
        self._counts: np.ndarray | None = None  # columns × (bins + 2): underflow, bins, overflow
        # per column, set by _start on the first block: running sums, extremes, missing values, centre
        empty = np.zeros(0)
        self._sum, self._sumsq, self._min, self._max = empty, empty, empty, empty
        self._missing: np.ndarray = np.zeros(0, dtype=np.int64)
        self._centre: np.ndarray = empty
        self._categories: dict[str, dict[str, int]] = {}
        self._category_missing: dict[str, int] = {}

    def blank(self) -> ProfileBuilder:
        """An empty builder with this one's bins (its first chunk's range): what each worker of a distributed
        profile starts from, so the partial profiles can be added up with :meth:`merge`."""
        twin = ProfileBuilder(self.bins)
        if self._counts is not None:
            assert self._lo is not None and self._width is not None
            k = len(self._names)
            twin._names, twin._centre, twin._lo, twin._width = list(self._names), self._centre, self._lo, self._width
            twin._counts = np.zeros_like(self._counts)
            twin._missing = np.zeros(k, dtype=np.int64)
            twin._sum, twin._sumsq = np.zeros(k), np.zeros(k)
            twin._min, twin._max = np.full(k, np.inf), np.full(k, -np.inf)
        return twin

    def merge(self, other: ProfileBuilder) -> ProfileBuilder:
        """Add ``other``'s rows in — a partial profile built from :meth:`blank` of the same builder. Counts,
        sums and extremes add up exactly, so merged partials give the profile one builder would have given."""
        if other._counts is not None:
            if self._counts is None:
                self._names, self._centre, self._lo, self._width = other._names, other._centre, other._lo, other._width
                self._counts = np.zeros_like(other._counts)
                k = len(other._names)
                self._missing, self._sum, self._sumsq = np.zeros(k, dtype=np.int64), np.zeros(k), np.zeros(k)
                self._min, self._max = np.full(k, np.inf), np.full(k, -np.inf)
            same = np.array_equal(np.asarray(other._lo), np.asarray(self._lo)) and np.array_equal(
                np.asarray(other._width), np.asarray(self._width)
            )
            if other._names != self._names or not same:
                raise DataError("partial profiles merge only with the bins they were started from (blank())")
            self._counts += other._counts
            self._missing += other._missing
            self._sum += other._sum
            self._sumsq += other._sumsq
            self._min, self._max = np.fmin(self._min, other._min), np.fmax(self._max, other._max)
        for name, counts in other._categories.items():
            mine = self._categories.setdefault(name, {})
            for value, count in counts.items():
                mine[value] = mine.get(value, 0) + count
        for name, missing in other._category_missing.items():
            self._category_missing[name] = self._category_missing.get(name, 0) + missing
        self.rows += other.rows
        return self

    def update(self, chunk: pd.DataFrame) -> None:
        """Fold a chunk of rows in (its columns typed as the first chunk's)."""
        numeric = [
            c
            for c in chunk.columns
            if pd.api.types.is_numeric_dtype(chunk[c]) and not pd.api.types.is_bool_dtype(chunk[c])
        ]
        if numeric:
            self.update_array(
                chunk[numeric].to_numpy(dtype=np.float64, na_value=np.nan),
                [str(c) for c in numeric],
                rows_counted=False,
            )
        for column in chunk.columns:
            if column in numeric or pd.api.types.is_datetime64_any_dtype(chunk[column]):
                continue
            counts = self._categories.setdefault(str(column), {})
            for value, count in chunk[column].value_counts(dropna=True).items():
                counts[str(value)] = counts.get(str(value), 0) + int(count)
            self._category_missing[str(column)] = self._category_missing.get(str(column), 0) + int(
                chunk[column].isna().sum()
            )
        self.rows += len(chunk)

    def update_array(self, block: np.ndarray, names: list[str], *, rows_counted: bool = True) -> None:
        """Fold in a 2-D block of numbers (rows × ``names``), vectorised across all its columns.

        float32 blocks stay float32 (half the memory traffic); sums are taken around the first chunk's
        centre and added up in float64, so the spread keeps its precision whatever the column's level.
        """
        if self._counts is None:
            self._start(block, names)
        elif names != self._names:
            raise DataError("every chunk must have the same numeric columns, in the same order")
        assert self._lo is not None and self._width is not None and self._counts is not None
        dtype = block.dtype if block.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        block = np.asarray(block, dtype=dtype)
        finite = np.isfinite(block)
        complete = bool(finite.all())
        deviation = block - self._centre.astype(dtype)
        if not complete:
            deviation[~finite] = 0.0
        present = finite.sum(axis=0) if not complete else np.full(len(names), len(block))
        self._sum += deviation.sum(axis=0, dtype=np.float64)
        self._sumsq += np.einsum("ij,ij->j", deviation, deviation).astype(np.float64)
        self._min = np.fmin(self._min, (block if complete else np.where(finite, block, np.inf)).min(axis=0))
        self._max = np.fmax(self._max, (block if complete else np.where(finite, block, -np.inf)).max(axis=0))
        # the deviation becomes the fine-bin position, in place: (x − lo) / width + 1, clipped to the two end bins
        inverse = (1.0 / self._width).astype(dtype)
        deviation *= inverse
        deviation += ((self._centre - self._lo) / self._width + 1.0).astype(dtype)
        np.clip(deviation, 0, self.bins + 1, out=deviation)
        if not complete:
            deviation[~finite] = self.bins + 2  # a bin of its own, dropped below
        index = deviation.astype(np.int32)
        width = self.bins + 3
        index += np.arange(len(names), dtype=np.int32) * width
        counts = np.bincount(index.ravel(), minlength=len(names) * width).reshape(len(names), width)
        self._counts += counts[:, : self.bins + 2]
        self._missing += len(block) - present
        if rows_counted:
            self.rows += len(block)

    def _start(self, block: np.ndarray, names: list[str]) -> None:
        with np.errstate(all="ignore"):
            lo, hi = np.nanmin(block, axis=0).astype(float), np.nanmax(block, axis=0).astype(float)
        lo, hi = np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=1.0)
        span = np.where(hi > lo, hi - lo, 1.0)
        self._names = list(names)
        self._centre = (lo + hi) / 2
        self._lo = lo - span / 2
        self._width = (span * 2) / self.bins
        k = len(names)
        self._counts = np.zeros((k, self.bins + 2), dtype=np.int64)
        self._missing = np.zeros(k, dtype=np.int64)
        self._sum, self._sumsq = np.zeros(k), np.zeros(k)
        self._min, self._max = np.full(k, np.inf), np.full(k, -np.inf)

    def result(self) -> Profile:
        out = Profile(self.rows)
        if self._counts is not None:
            for j, name in enumerate(self._names):
                out.columns[name] = self._numeric_column(j)
        for name, counts in self._categories.items():
            total = sum(counts.values())
            column = ColumnProfile("categorical", self.rows, self._category_missing.get(name, 0))
            if total:
                # ties by name, so partial profiles merged in any order list the same categories
                top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES]
                column.categories = [k for k, _ in top]
                column.shares = [v / total for _, v in top]
                other = total - sum(v for _, v in top)
                if other:
                    column.categories.append("__other__")
                    column.shares.append(other / total)
            out.columns[name] = column
        return out

    def _numeric_column(self, j: int) -> ColumnProfile:
        assert self._counts is not None and self._lo is not None and self._width is not None
        counts = self._counts[j].astype(float)
        n = counts.sum()
        column = ColumnProfile("numeric", int(n + self._missing[j]), int(self._missing[j]))
        if n == 0:
            return column
        lo, width, minimum, maximum = self._lo[j], self._width[j], float(self._min[j]), float(self._max[j])
        inner = lo + width * np.arange(self.bins + 1)  # edges of the fine bins
        right = np.concatenate([[max(lo, minimum)], inner[1:], [max(maximum, inner[-1])]])
        left_edges = np.concatenate([[minimum], right])  # cumulative counts at these points
        cumulative = np.concatenate([[0.0], np.cumsum(counts)])
        order = np.maximum.accumulate(left_edges)  # keep the x-axis non-decreasing

        def quantiles(levels: np.ndarray) -> np.ndarray:
            return np.interp(levels * n, cumulative, order)

        edges = np.unique(quantiles(np.linspace(0, 1, BINS + 1)[1:-1]))
        below = np.interp(edges, order, cumulative) / n
        column.edges = [float(e) for e in edges]
        column.shares = [float(s) for s in np.diff(np.concatenate([[0.0], below, [1.0]]))]
        shift = self._sum[j] / n  # the mean's distance from the centre
        column.mean = float(self._centre[j] + shift)
        column.std = float(np.sqrt(max(self._sumsq[j] / n - shift * shift, 0.0)))
        column.minimum, column.maximum = minimum, maximum
        column.quantiles = [float(q) for q in quantiles(QUANTILE_LEVELS)]
        return column
