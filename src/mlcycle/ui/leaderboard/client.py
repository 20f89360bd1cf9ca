"""The leaderboard through MLflow's client: for tracking stores that are not a database mlcycle can read
(a tracking server over HTTP, a file store). Correct everywhere, but MLflow builds every run up to the
page's end, so it is as slow as MLflow's own listing; :mod:`.sql` is the fast path."""

from __future__ import annotations

from typing import Any

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
    trial_from,
)

MAX_RESULTS = 50_000  # MLflow's own cap on one search


class ClientLeaderboard(Leaderboard):
    def __init__(self, uri: str, experiment: str) -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=uri)
        self.experiment = experiment
        self.experiment_id: str | None = None

    def _search(
        self, query: Query | None, order_by: list[str] | None = None, limit: int = MAX_RESULTS, kind: str = "trial"
    ) -> list[Any]:
        if self.experiment_id is None:  # looked for on each call until it exists (nothing searched yet)
            found = self.client.get_experiment_by_name(self.experiment)
            self.experiment_id = None if found is None else found.experiment_id
        if self.experiment_id is None:
            return []
        filters = [f"tags.`{KIND}` = '{kind}'"]
        if query is not None:
            for clause, value in (
                ("params.algorithm", query.algorithm),
                ("params.variant", query.variant),
                (f"tags.`{STATE}`", query.state),
                (f"tags.`{FEASIBLE}`", None if query.gate is None else str(query.gate == "feasible").lower()),
                (f"tags.`{PARENT}`", query.search),
            ):
                if value is not None:
                    filters.append(f"{clause} = '{value.replace(chr(39), '')}'")
        return list(
            self.client.search_runs(
                [self.experiment_id], " and ".join(filters), order_by=order_by, max_results=min(limit, MAX_RESULTS)
            )
        )

    def page(self, query: Query) -> Page:
        kind, _, name = query.sort.partition(":")
        direction = "DESC" if query.descending else "ASC"
        order = [f"attributes.start_time {direction}"] if kind == "trial" else [f"{kind}s.`{name}` {direction}"]
        found = self._search(query, [*order, "attributes.run_id ASC"])
        total = len(found)
        if kind != "trial":  # MLflow puts runs without the value first when ascending; the contract wants them last
            has = [r for r in found if name in getattr(r.data, f"{kind}s")]
            found = has + [r for r in found if name not in getattr(r.data, f"{kind}s")]
        chosen = found[query.offset : query.offset + query.limit]
        return Page([_from_run(r) for r in chosen], total, query)

    def trials(self, run_ids: list[str]) -> list[Trial]:
        wanted = set(run_ids)
        by_id = {r.info.run_id: _from_run(r) for r in self._search(None) if r.info.run_id in wanted}
        return [by_id[i] for i in run_ids if i in by_id]

    def points(self, x: str, y: str, query: Query | None = None) -> Points:
        found = Points(x, y, [], [], [], [], [])
        for run in self._search(query, ["attributes.start_time ASC"]):
            metrics = run.data.metrics
            if x in metrics and y in metrics:
                trial = _from_run(run)
                found.run_ids.append(trial.run_id)
                found.numbers.append(trial.number)
                found.algorithms.append(trial.algorithm)
                found.xs.append(float(metrics[x]))
                found.ys.append(float(metrics[y]))
        return found

    def choices(self) -> tuple[list[str], list[str]]:
        found = self._search(None)
        return (
            sorted({r.data.params.get("algorithm", "") for r in found} - {""}),
            sorted({r.data.params.get("variant", "") for r in found} - {""}),
        )

    def searches(self) -> list[tuple[str, str]]:
        found = self._search(None, ["attributes.start_time ASC", "attributes.run_id ASC"], kind="search")
        return [(r.info.run_id, r.info.run_name or r.info.run_id[:8]) for r in found]

    def baseline(self) -> dict[str, float]:
        latest = self._search(None, ["attributes.start_time DESC"], limit=1)
        if not latest:
            return {}
        metrics = latest[0].data.metrics
        return {k.removeprefix("baseline_"): float(v) for k, v in metrics.items() if k.startswith("baseline_")}


def _from_run(run: Any) -> Trial:
    marks = {k: v for k, v in run.data.tags.items() if k in (KIND, STATE, FEASIBLE, NUMBER, PARENT)}
    return trial_from(run.info.run_id, dict(run.data.params), {k: float(v) for k, v in run.data.metrics.items()}, marks)
