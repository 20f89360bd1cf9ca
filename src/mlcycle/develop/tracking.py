"""MLflow tracking: every trial a run, every search a parent run, in the experiment named by the design.

Default store: ``sqlite:///<use case>/.mlcycle/mlflow.db`` with artifacts under
``.mlcycle/artifacts``; ``MLCYCLE_TRACKING_URI`` points anywhere MLflow can (PostgreSQL,
a tracking server). What is written is plain MLflow — ``mlflow ui``, ``mlflow.search_runs``
and ``mlflow.pyfunc.load_model`` read it without mlcycle.

Per trial run: params (variant, algorithm, each hyperparameter), metrics of all three views
(``<metric>`` = fold mean, ``<metric>_std``, ``baseline_<metric>``), ``fit_seconds``,
``latency_p50_ms`` / ``latency_p95_ms``, and tags linking the design file's and the data's
hashes. Trials log metrics, not models; only promotion logs a model.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from mlcycle.develop.trial import TrialResult

TRACKING_ENV = "MLCYCLE_TRACKING_URI"
TAG = "mlcycle."


def tracking_uri(state_dir: Path) -> str:
    return os.environ.get(TRACKING_ENV) or f"sqlite:///{(state_dir / 'mlflow.db').resolve()}"


def artifact_root(state_dir: Path) -> str:
    return (state_dir / "artifacts").resolve().as_uri()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def frame_hash(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + ",".join(map(str, frame.columns)).encode()).hexdigest()[:16]


def _quiet_mlflow() -> None:
    """MLflow's own startup chatter (alembic migrations, telemetry) is noise in a CLI."""
    import logging

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in ("alembic", "mlflow.store.db.utils", "mlflow.tracking", "mlflow.store"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # "Passing a Python object as python_model …": we pickle our own, installed classes on purpose.
    for name in ("mlflow.pyfunc", "mlflow.models"):
        logging.getLogger(name).setLevel(logging.ERROR)


class Tracker:
    """Writes searches and trials to MLflow. The search's parent process is its only user."""

    def __init__(self, state_dir: Path, experiment: str) -> None:
        _quiet_mlflow()
        from mlflow.tracking import MlflowClient

        state_dir.mkdir(parents=True, exist_ok=True)
        self.uri = tracking_uri(state_dir)
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        existing = self.client.get_experiment_by_name(experiment)
        if existing is not None:
            self.experiment_id = existing.experiment_id
        else:
            self.experiment_id = self.client.create_experiment(experiment, artifact_location=artifact_root(state_dir))

    def start_search(self, name: str, tags: dict[str, str], params: dict[str, Any]) -> str:
        from mlflow.entities import Param, RunTag

        run = self.client.create_run(self.experiment_id, run_name=name, tags={f"{TAG}kind": "search", **tags})
        self.client.log_batch(
            run.info.run_id,
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        return run.info.run_id

    def log_trial(self, result: TrialResult, parent_run_id: str, tags: dict[str, str]) -> str:
        from mlflow.entities import Metric, Param, RunTag

        spec = result.spec
        run = self.client.create_run(
            self.experiment_id,
            run_name=f"trial-{spec.number:03d}",
            tags={"mlflow.parentRunId": parent_run_id, f"{TAG}kind": "trial"},
        )
        now = int(time.time() * 1000)
        params = [Param("variant", spec.variant), Param("algorithm", spec.algorithm)]
        params += [Param(k, str(v)) for k, v in sorted(spec.params.items())]
        metrics: list[Metric] = []
        for prefix, table in (("", result.metrics), ("baseline_", result.baseline)):
            for values in table.values():
                metrics += [Metric(f"{prefix}{k}", float(v), now, 0) for k, v in values.items() if _finite(v)]
        for values in result.metrics_std.values():
            metrics += [Metric(f"{k}_std", float(v), now, 0) for k, v in values.items() if _finite(v)]
        for name, interval in result.intervals.items():  # net_value_low / _high, improvement_low / _high
            metrics += [
                Metric(f"{name}_{end}", value, now, 0)
                for end, value in (("low", interval.low), ("high", interval.high))
                if _finite(value)
            ]
        metrics.append(Metric("fit_seconds", result.fit_seconds, now, 0))
        if result.latency is not None:
            metrics += [
                Metric("latency_p50_ms", result.latency.p50_ms, now, 0),
                Metric("latency_p95_ms", result.latency.p95_ms, now, 0),
            ]
        if result.threshold is not None:
            metrics.append(Metric("decision_threshold", result.threshold, now, 0))
        run_tags = [RunTag(k, v) for k, v in tags.items()]
        run_tags += [
            RunTag(f"{TAG}state", result.state),
            RunTag(f"{TAG}trial", str(spec.number)),
            RunTag(
                f"{TAG}spec",
                json.dumps({"variant": spec.variant, "algorithm": spec.algorithm, "params": spec.params}),
            ),
            RunTag(f"{TAG}feasible", str(all(v <= 0 for v in result.constraints.values())).lower()),
            RunTag(f"{TAG}views", json.dumps({v: list(m) for v, m in result.metrics.items()})),
        ]
        if result.worker:
            run_tags.append(RunTag(f"{TAG}worker", result.worker[:4000]))
        if result.error:
            run_tags.append(RunTag(f"{TAG}error", result.error[:4000]))
        if result.notes:
            run_tags.append(RunTag(f"{TAG}notes", json.dumps(result.notes)[:4000]))
        self.client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=run_tags)
        status = {"complete": "FINISHED", "pruned": "KILLED", "failed": "FAILED"}[result.state]
        self.client.set_terminated(run.info.run_id, status=status)
        return run.info.run_id

    def finish_search(self, run_id: str, metrics: dict[str, float], tags: dict[str, str]) -> None:
        from mlflow.entities import Metric, RunTag

        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in metrics.items() if _finite(v)],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        self.client.set_terminated(run_id, status="FINISHED")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
