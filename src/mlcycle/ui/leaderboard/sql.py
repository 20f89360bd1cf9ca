"""The leaderboard read straight from MLflow's SQL tracking store: one query per page.

MLflow's ``search_runs`` builds a full run entity (every metric, param and tag) for each run
it returns, and its UI asks for runs in bulk and sorts them in the browser. Here the database
does the work: the filters and the sort become joins on MLflow's own tables (``runs``,
``latest_metrics``, ``params``, ``tags``, keyed by ``(key, run_uuid)``), the page is a
``LIMIT``/``OFFSET`` on run ids, and only that page's values are read. These four tables are
MLflow's stable schema (its Alembic migrations manage them); a test runs every query against
MLflow's own ``search_runs`` on the same store, so a change in MLflow shows up there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from mlcycle.ui.leaderboard._base import (
    FEASIBLE,
    KIND,
    NUMBER,
    PARENT,
    STATE,
    Leaderboard,
    Page,
    Points,
    Query,
    Trial,
    number_of,
    trial_from,
)

runs = sa.table(
    "runs",
    sa.column("run_uuid"),
    sa.column("experiment_id"),
    sa.column("lifecycle_stage"),
    sa.column("start_time"),
    sa.column("end_time"),
    sa.column("name"),
)
experiments = sa.table("experiments", sa.column("experiment_id"), sa.column("name"), sa.column("lifecycle_stage"))
latest_metrics = sa.table("latest_metrics", sa.column("run_uuid"), sa.column("key"), sa.column("value"))
params = sa.table("params", sa.column("run_uuid"), sa.column("key"), sa.column("value"))
tags = sa.table("tags", sa.column("run_uuid"), sa.column("key"), sa.column("value"))


T = TypeVar("T")
_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


def engine_for(uri: str) -> sa.Engine:
    """One engine per tracking address for the process (MLflow writes ``postgresql://``; we drive psycopg 3)."""
    url = uri.replace("postgresql://", "postgresql+psycopg://", 1) if uri.startswith("postgresql://") else uri
    with _lock:
        if url not in _engines:
            _engines[url] = sa.create_engine(url)
        return _engines[url]


class SqlLeaderboard(Leaderboard):
    """Trials of the experiment named ``experiment`` in the SQL tracking store at ``uri``."""

    def __init__(self, uri: str, experiment: str) -> None:
        self.engine = engine_for(uri)
        self.experiment = experiment
        self.experiment_id: int | None = None
        self._resolve()
        self._memo: dict[Hashable, tuple[tuple[Any, ...], Any]] = {}

    def _resolve(self) -> int | None:
        """The experiment's id; while it does not exist yet (nothing searched), it is looked for again on each
        call, so a dashboard started before the first search shows its trials once there are some."""
        if self.experiment_id is None:
            with self.engine.connect() as connection:
                self.experiment_id = connection.execute(
                    sa.select(experiments.c.experiment_id).where(
                        experiments.c.name == self.experiment, experiments.c.lifecycle_stage == "active"
                    )
                ).scalar_one_or_none()
        return self.experiment_id

    def _remembered(self, key: Hashable, compute: Callable[[sa.Connection], T]) -> T:
        """``compute``'s answer, computed again only when the experiment changed — a run was added, ended or
        deleted — since it was last asked (one scan of the experiment's runs instead of a join over every
        trial). A trial's params, metrics and tags are logged before its run ends, so nothing is missed."""
        stamp_query = sa.select(sa.func.count(), sa.func.max(runs.c.start_time), sa.func.max(runs.c.end_time)).where(
            runs.c.experiment_id == self.experiment_id, runs.c.lifecycle_stage == "active"
        )
        with self.engine.connect() as connection:
            stamp = tuple(connection.execute(stamp_query).one())
            known = self._memo.get(key)
            if known is not None and known[0] == stamp:
                return known[1]
            value = compute(connection)
        self._memo[key] = (stamp, value)
        return value

    # ── the filtered set of trials, as a FROM clause and a WHERE ──────────────────────
    def _trials(self, query: Query | None) -> tuple[Any, list[Any]]:
        kind = tags.alias("kind")
        source: Any = runs.join(
            kind, sa.and_(kind.c.run_uuid == runs.c.run_uuid, kind.c.key == KIND, kind.c.value == "trial")
        )
        where: list[Any] = [runs.c.experiment_id == self.experiment_id, runs.c.lifecycle_stage == "active"]
        if query is None:
            return source, where
        for table, key, value in (
            (params, "algorithm", query.algorithm),
            (params, "variant", query.variant),
            (tags, STATE, query.state),
            (tags, FEASIBLE, None if query.gate is None else str(query.gate == "feasible").lower()),
            (tags, PARENT, query.search),
        ):
            if value is not None:
                alias = table.alias(f"f_{key.replace('.', '_')}")
                source = source.join(
                    alias, sa.and_(alias.c.run_uuid == runs.c.run_uuid, alias.c.key == key, alias.c.value == value)
                )
        return source, where

    def page(self, query: Query) -> Page:
        if self._resolve() is None:
            return Page([], 0, query)
        filtered, where = self._trials(query)
        source = filtered
        kind, _, name = query.sort.partition(":")
        order: list[Any]
        if kind == "trial":
            order = [runs.c.start_time.desc() if query.descending else runs.c.start_time]
        else:
            table = latest_metrics if kind == "metric" else params
            by = table.alias("by")
            source = source.outerjoin(by, sa.and_(by.c.run_uuid == runs.c.run_uuid, by.c.key == name))
            order = [by.c.value.is_(None), by.c.value.desc() if query.descending else by.c.value]
        ids_query = (
            sa.select(runs.c.run_uuid)
            .select_from(source)
            .where(*where)
            .order_by(*order, runs.c.run_uuid)
            .limit(query.limit)
            .offset(query.offset)
        )
        count_query = sa.select(sa.func.count()).select_from(filtered).where(*where)
        filters = (query.algorithm, query.variant, query.gate, query.state, query.search)
        total = self._remembered(("count", filters), lambda c: int(c.execute(count_query).scalar_one()))
        with self.engine.connect() as connection:
            ids = list(connection.execute(ids_query).scalars())
            trials = self._read(connection, ids)
        return Page(trials, total, query)

    def trials(self, run_ids: list[str]) -> list[Trial]:
        if not run_ids:
            return []
        with self.engine.connect() as connection:
            return self._read(connection, run_ids, only_trials=True)

    def _read(self, connection: sa.Connection, ids: Sequence[str], *, only_trials: bool = False) -> list[Trial]:
        """Every metric, param and the mlcycle tags of these runs: three indexed reads, whatever the page size."""
        if not ids:
            return []
        wanted = list(ids)
        metric_rows = connection.execute(
            sa.select(latest_metrics.c.run_uuid, latest_metrics.c.key, latest_metrics.c.value).where(
                latest_metrics.c.run_uuid.in_(wanted)
            )
        )
        param_rows = connection.execute(
            sa.select(params.c.run_uuid, params.c.key, params.c.value).where(params.c.run_uuid.in_(wanted))
        )
        tag_rows = connection.execute(
            sa.select(tags.c.run_uuid, tags.c.key, tags.c.value).where(
                tags.c.run_uuid.in_(wanted), tags.c.key.in_([KIND, STATE, FEASIBLE, NUMBER, PARENT])
            )
        )
        metrics: dict[str, dict[str, float]] = {i: {} for i in wanted}
        values: dict[str, dict[str, str]] = {i: {} for i in wanted}
        marks: dict[str, dict[str, str]] = {i: {} for i in wanted}
        for run, key, value in metric_rows:
            metrics[run][key] = float(value)
        for run, key, value in param_rows:
            values[run][key] = value
        for run, key, value in tag_rows:
            marks[run][key] = value
        return [
            trial_from(run, values[run], metrics[run], marks[run])
            for run in wanted
            if not only_trials or marks[run].get(KIND) == "trial"
        ]

    def points(self, x: str, y: str, query: Query | None = None) -> Points:
        found = Points(x, y, [], [], [], [], [])
        if self._resolve() is None:
            return found
        source, where = self._trials(query)
        mx, my, algorithm, number = (
            latest_metrics.alias("mx"),
            latest_metrics.alias("my"),
            params.alias("alg"),
            tags.alias("num"),
        )
        source = (
            source.join(mx, sa.and_(mx.c.run_uuid == runs.c.run_uuid, mx.c.key == x))
            .join(my, sa.and_(my.c.run_uuid == runs.c.run_uuid, my.c.key == y))
            .outerjoin(algorithm, sa.and_(algorithm.c.run_uuid == runs.c.run_uuid, algorithm.c.key == "algorithm"))
            .outerjoin(number, sa.and_(number.c.run_uuid == runs.c.run_uuid, number.c.key == NUMBER))
        )
        select = (
            sa.select(runs.c.run_uuid, number.c.value, algorithm.c.value, mx.c.value, my.c.value)
            .select_from(source)
            .where(*where)
            .order_by(runs.c.start_time)
        )
        with self.engine.connect() as connection:
            for run, num, alg, vx, vy in connection.execute(select):
                found.run_ids.append(run)
                found.numbers.append(number_of(num))
                found.algorithms.append(alg or "")
                found.xs.append(float(vx))
                found.ys.append(float(vy))
        return found

    def choices(self) -> tuple[list[str], list[str]]:
        if self._resolve() is None:
            return [], []
        source, where = self._trials(None)
        chosen = params.alias("chosen")
        select = (
            sa.select(chosen.c.key, chosen.c.value)
            .select_from(source.join(chosen, chosen.c.run_uuid == runs.c.run_uuid))
            .where(*where, chosen.c.key.in_(["algorithm", "variant"]))
            .distinct()
        )
        rows = self._remembered("choices", lambda connection: list(connection.execute(select)))
        return sorted(v for k, v in rows if k == "algorithm"), sorted(v for k, v in rows if k == "variant")

    def searches(self) -> list[tuple[str, str]]:
        if self._resolve() is None:
            return []
        kind = tags.alias("kind")
        select = (
            sa.select(runs.c.run_uuid, runs.c.name)
            .select_from(
                runs.join(
                    kind, sa.and_(kind.c.run_uuid == runs.c.run_uuid, kind.c.key == KIND, kind.c.value == "search")
                )
            )
            .where(runs.c.experiment_id == self.experiment_id, runs.c.lifecycle_stage == "active")
            .order_by(runs.c.start_time, runs.c.run_uuid)
        )
        return self._remembered(
            "searches", lambda connection: [(run, name or run[:8]) for run, name in connection.execute(select)]
        )

    def baseline(self) -> dict[str, float]:
        if self._resolve() is None:
            return {}
        source, where = self._trials(None)

        def read(connection: sa.Connection) -> dict[str, float]:
            latest = connection.execute(
                sa.select(runs.c.run_uuid).select_from(source).where(*where).order_by(runs.c.start_time.desc()).limit(1)
            ).scalar_one_or_none()
            if latest is None:
                return {}
            rows = connection.execute(
                sa.select(latest_metrics.c.key, latest_metrics.c.value).where(
                    latest_metrics.c.run_uuid == latest, latest_metrics.c.key.like("baseline\\_%", escape="\\")
                )
            )
            return {key.removeprefix("baseline_"): float(value) for key, value in rows}

        return self._remembered("baseline", read)
