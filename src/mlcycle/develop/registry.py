"""The MLflow model registry: versions under the design's name, aliases ``champion`` and ``previous``.

Promotion happens only through the gate (:mod:`mlcycle.develop.gate`); this module only
moves the aliases and records the gate report on the version, for the audit trail.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping

from mlcycle.develop.tracking import TAG, Tracker

CHAMPION = "champion"
PREVIOUS = "previous"


def alias_version(tracker: Tracker, name: str, alias: str) -> str | None:
    """The version an alias points to, or None when the model or the alias does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return str(tracker.client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def register(
    tracker: Tracker, name: str, model_uri: str, *, source_run: str, tags: Mapping[str, str]
) -> tuple[str, str | None]:
    """Register the model at ``model_uri`` with ``tags`` (the gate's report), make it champion and keep the
    old champion as previous. Returns (new version, previous version or None).

    The order is what a process killed at any step leaves behind: the version is created with all
    its tags in one write (never a version without its gate report), ``previous`` moves next, and
    ``champion`` last — the one write that changes what is served. Killed before it, the champion
    is untouched and the new version sits unaliased, complete, for a later promotion.
    """
    import mlflow

    client = tracker.client
    previous = alias_version(tracker, name, CHAMPION)
    with contextlib.redirect_stderr(io.StringIO()):  # MLflow prints "Successfully registered…" to stderr
        version = mlflow.register_model(model_uri, name, tags={f"{TAG}source_run": source_run, **tags})
    number = str(version.version)
    if previous is not None:
        client.set_registered_model_alias(name, PREVIOUS, previous)
    client.set_registered_model_alias(name, CHAMPION, number)
    return number, previous


def gate_figures(tracker: Tracker, name: str, version: str) -> dict[str, float]:
    """The figures the gate measured for a version (validated money, latency…), from its tag."""
    return figures_of(tracker.client.get_model_version(name, version).tags)


def figures_of(tags: Mapping[str, str]) -> dict[str, float]:
    """The gate's figures in a model version's tags (empty for a version registered without the gate)."""
    import json

    return dict(json.loads(tags.get(f"{TAG}gate", "{}")).get("figures", {}))


def reference_profile(tracker: Tracker, name: str, version: str) -> dict:
    """The reference profile for drift saved with a version (downloaded once per call)."""
    return artifact_json(tracker, name, version, "profile.json")


def estimator(tracker: Tracker, name: str, version: str) -> dict:
    """The performance estimator (CBPE / DLE) fitted on the version's reference at promotion."""
    return artifact_json(tracker, name, version, "estimator.json")


def artifact_json(tracker: Tracker, name: str, version: str, file: str) -> dict:
    """A JSON file mlcycle logged under ``mlcycle/`` of a version's promotion run."""
    import json
    import tempfile

    import mlflow

    run_id = tracker.client.get_model_version(name, version).run_id
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"mlcycle/{file}", dst_path=tmp, tracking_uri=tracker.uri
        )
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
