"""Every use case of the zoo through the whole loop, as a user runs it.

design → data check → experiment → promote → serve (a real ``mlcycle serve`` process) →
/predict, /invocations and OIP v2 → /feedback → monitor → review → status --json.

The commands run in-process through Typer's runner (a fresh process per command would
spend most of the suite importing MLflow); the service runs as its own process, as in
production. Every command must end with its documented exit code, print no traceback and
raise no library warning; what each act finds is asserted against the case's ``expect``.

| case | task | time | champion | gate | verdict |
|---|---|---|---|---|---|
| churn-yes-no | classification ("Yes"/"No") | none | logistic_regression | pass | retrain (region drift) |
| bike-rentals | regression | daily, one series | ridge | pass | healthy |
| shop-panel | regression | daily, store × item | lightgbm | pass | retrain (price drift) |
| hourly-load | regression | hourly | gradient_boosting | pass | healthy |
| fraud-rare | classification (0/1, 3 %) | none | random_forest | pass | healthy |
| rain-bool | classification (booleans) | daily, stations | lightgbm (calibrated) | pass | healthy |
| diabetes | regression | none | random_forest | pass | retrain (bmi drift) |
| no-signal | regression | daily, two shops | ridge | refused (quality, value) | retire |
| loans | classification (0/1) | none | logistic_regression | refused (proxy, fairness) | healthy |
"""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import mlcycle
from mlcycle.cli import app
from mlcycle.store import open_store
from tests.servers import failures, generated, running, schemathesis
from tests.usecases.cases import ZOO, Case, Served

pytestmark = pytest.mark.zoo
EXIT = {"healthy": 0, "retrain": 3, "rollback": 4, "retire": 5}


class Loop:
    """One case's folder and the commands a user would type in it."""

    def __init__(self, case: Case, folder: Path) -> None:
        self.case = case
        self.folder = folder
        self.data = case.data()
        source = folder / case.design["data"]["source"]
        source.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix == ".parquet":
            self.data.to_parquet(source, index=False)
        else:
            self.data.to_csv(source, index=False)
        (folder / "mlcycle.yaml").write_text(
            yaml.safe_dump(case.design, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )

    def run(self, *args: str, exit_code: int | set[int] = 0) -> str:
        """``mlcycle ARGS -u FOLDER``: asserts the exit code, no traceback and no library warning."""
        runner = CliRunner()
        with warnings.catch_warnings(record=True) as caught:
            _python_default_filters()
            result = runner.invoke(app, [*args, "-u", str(self.folder)], catch_exceptions=True)
        output = result.output + (result.stderr if result.stderr_bytes is not None else "")
        command = f"mlcycle {' '.join(args)} ({self.case.name})"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(
                f"{command} raised {type(result.exception).__name__}: {result.exception}\n{output}"
            ) from result.exception
        expected = {exit_code} if isinstance(exit_code, int) else exit_code
        assert result.exit_code in expected, f"{command} exited {result.exit_code}, expected {expected}:\n{output}"
        assert "Traceback" not in output, f"{command} printed a traceback:\n{output}"
        shown = [
            f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught if not _ours_to_ignore(w)
        ]
        assert not shown, f"{command} let library warnings through:\n" + "\n".join(shown)
        return output


def _every_version_has_its_card(folder: Path, name: str) -> None:
    """A model card per registered version, naming its version and carrying its gate."""
    from mlcycle.develop.tracking import Tracker

    versions = Tracker(folder / ".mlcycle", name).client.search_model_versions(f"name='{name}'")
    assert versions
    for version in versions:
        path = folder / ".mlcycle" / "reports" / "model-cards" / f"{name}-v{version.version}.json"
        assert path.is_file(), f"version {version.version} has no model card"
        card = json.loads(path.read_text(encoding="utf-8"))
        assert card["model_details"]["version"]["name"] == str(version.version) and card["gate"]["rows"]


def _python_default_filters() -> None:
    """The filters a user's ``python`` starts with (pytest installs its own): deprecations stay hidden."""
    warnings.resetwarnings()
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", category)


def _ours_to_ignore(w: warnings.WarningMessage) -> bool:
    """Warnings pytest itself raises, which a user of the CLI never sees."""
    return "_pytest" in w.filename or "pluggy" in w.filename


@pytest.fixture(params=ZOO, ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


def test_whole_loop(case: Case, tmp_path: Path) -> None:
    loop = Loop(case, tmp_path / case.name)
    expect = case.expect

    # ── design and data ──────────────────────────────────────────────────────────────
    out = loop.run("design", exit_code=0 if expect.design_go else 1)
    assert ("GO" if expect.design_go else "NO-GO") in out
    loop.run("data", "check")
    uc = mlcycle.UseCase.load(loop.folder)

    # ── development ──────────────────────────────────────────────────────────────────
    out = loop.run("experiment", "--trials", str(case.trials))
    assert "Leaderboard" in out and "best: trial" in out, out
    if expect.gate_fails:
        out = loop.run("promote", exit_code=1)
        listed = re.findall(r"^\s+- (.+)$", out.split("nothing was registered:")[-1], re.M)  # "- requirement: why"
        named = {name for name in expect.gate_fails if any(line.startswith(f"{name}: ") for line in listed)}
        assert named == set(expect.gate_fails) and len(set(listed)) == len(named), (
            f"the gate refused on {listed}, expected {expect.gate_fails}:\n{out}"
        )
        out = loop.run("promote", "--force", "--reason", "the zoo carries on to see the rest of the loop")
    else:
        out = loop.run("promote")
    assert f"({expect.champion} on" in out, out
    assert "registered" in out and "nan" not in out.lower(), out
    _every_version_has_its_card(loop.folder, case.design["name"])

    # ── deployment ───────────────────────────────────────────────────────────────────
    served = case.served(loop.data)
    labels = _labels(uc)
    with running(loop.folder) as (port, _):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            ids = _serve(client, uc, served, labels)
            _other_protocols(client, uc, served)
            assert client.get("/health").json()["status"] == "ok"
            metrics = client.get("/metrics").text
            assert "mlcycle_requests_total" in metrics or "mlcycle_request" in metrics
            if expect.verdict == "retire":
                loop.run("retire", "--reason", "the no-signal model never paid")
    assert len(ids) == len(served.rows)
    if uc.spec.requirements.compliance.reasons_per_decision:  # every decision's reasons are on its audit record
        for request_id in (ids[0], ids[-1]):
            record = json.loads(loop.run("audit", "--request-id", request_id))
            explanation = record["explanation"]
            assert "mainly because" in explanation["reason"] and explanation["reasons"], record

    # ── monitoring and the review ────────────────────────────────────────────────────
    args = ["monitor"]
    if case.window:
        args += ["--window", case.window]
    if uc.spec.time_column:
        args += ["--since", str(pd.to_datetime(served.rows[uc.spec.time_column]).min())]
    out = loop.run(*args)
    assert f"window(s) of {case.window or uc.spec.monitoring.window}" in out, out
    store = open_store(uc.state_dir)
    windows = store.history.windows()
    assert windows and sum(w.labelled for w in windows) >= len(served.rows) * 0.9, (
        f"actuals were sent for every served row but windows hold {[w.labelled for w in windows]}\n{out}"
    )
    assert all(w.metric_value is not None for w in windows if w.labelled), windows
    latest = windows[-1]
    assert latest.labelled > 0 and latest.realised_value is not None, latest
    # every window also carries its figures estimated without actuals (CBPE / DLE) and their check against them;
    # the money where today's process could be scored on the served rows, as for the realised figure
    for window in [w for w in windows if w.predictions]:
        estimated = window.details["estimated"]
        assert estimated and estimated["rows"] > 0 and estimated["figures"], window
        assert all(name in estimated["intervals"] for name in ("money_lost",) if name in estimated["figures"])
        if window.labelled:
            assert estimated["check"], window
        if window.realised_value is not None and "net_value" in estimated["figures"]:
            assert estimated["check"]["net_value"]["realised"] == pytest.approx(window.realised_value)
    assert "estimated without actuals" in out, out
    for column in uc.spec.requirements.compliance.protected:  # sent beside the inputs: measured per group per window
        measured = [f for w in windows if w.labelled for f in w.details["fairness"] if f["column"] == column]
        assert measured and all(len(f["groups"]) >= 2 for f in measured), [w.details["fairness"] for w in windows]
    last_labelled = [w for w in windows if w.labelled][-1]
    beyond = {
        f["column"]
        for f in last_labelled.details["fairness"]
        for x in f["findings"]
        if x["value"] is not None and not x["passed"]
    }
    assert beyond == set(expect.unfair), last_labelled.details["fairness"]
    if beyond:  # a window past max_disparity keeps a fairness alert open
        assert {a.subject.split()[0] for a in store.history.open_alerts() if a.rule == "fairness"} == beyond
    judged = [w for w in windows if w.predictions >= uc.spec.monitoring.drift.min_rows] or windows[-1:]
    levels = {row["column"]: row["level"] for row in judged[-1].details["drift"]}
    for column in expect.drifted:
        assert levels.get(column) == "alert", f"{column} was shifted on purpose, drift says {levels}"
    for column in expect.steady:
        assert levels.get(column) in ("ok", "warn", "too few rows"), f"{column} was left alone, drift says {levels}"

    out = loop.run("review", exit_code=EXIT[expect.verdict])
    assert expect.verdict.upper() in out, out
    reasons = " ".join(store.history.reviews()[-1].reasons)
    if expect.verdict == "retrain":
        assert all(f"{column} drifted" in reasons for column in expect.drifted), reasons
    elif expect.verdict == "retire":
        assert "no longer pays" in reasons, reasons
    else:
        assert "insufficient evidence" not in reasons and "realised added value" in reasons, reasons
    state = json.loads(loop.run("status", "--json"))
    assert state["champion"]["version"] is not None
    assert state["last_review"]["verdict"] == expect.verdict
    assert state["last_window"]["labelled"] > 0
    serving = state["spend"]["serving"]  # the compute the served requests took, from the prediction log
    assert serving["basis"] == "measured" and serving["scoring_hours_per_period"] > 0, state["spend"]
    if expect.verdict == "retire":
        assert state["serving"]["retired"]["reason"].startswith("the no-signal model")
    if expect.verdict != "retire":
        _batch(loop, uc, served)
    _dashboard(loop.folder, ids[0])
    if case.extra.get("retrain"):
        out = loop.run("retrain", "--trials", "2", exit_code={0, 1})
        assert "retrained on" in out, out

    # ── hostile input: the service's description of this model, fuzzed (every operation, every check) ───────
    with running(loop.folder) as (port, _):
        fuzzed = schemathesis(port, None, examples=15, seed=12, phases="fuzzing,stateful")
    assert fuzzed.returncode == 0, failures(fuzzed.stdout)
    assert generated(fuzzed.stdout) >= 18 * 10, fuzzed.stdout[-2000:]


# ── helpers ──────────────────────────────────────────────────────────────────────────
RAY_CASES = ("churn-yes-no",)  # labels as text, no time column: unlike the example, which test_batch_cli scores


def _batch(loop: Loop, uc: mlcycle.UseCase, served: Served) -> None:
    """Batch scoring: the same model, schema and log, for a file — through the CLI (a CSV, the log on a thread),
    with the log in its own process (parquet, as a large file's is), and on Ray Data for RAY_CASES; the
    predictions agree and every scored row is in the log. Rows with lags are the last served step's (their
    history came back as feedback); without a time column, the last 200 served rows."""
    from mlcycle.deploy import batch

    latest = served.rows.iloc[served.batches[-1]] if uc.spec.time_column else served.rows.tail(200)
    latest.to_csv(loop.folder / "batch.csv", index=False)
    latest.to_parquet(loop.folder / "batch.parquet", index=False)
    out = loop.run("predict", "--input", str(loop.folder / "batch.csv"), "--output", str(loop.folder / "scored.csv"))
    scored = {"thread": pd.read_csv(loop.folder / "scored.csv")}
    assert len(scored["thread"]) == len(latest), out
    ran = batch.run(uc.workspace, loop.folder / "batch.parquet", loop.folder / "process.parquet", log_process=True)
    scored["process"] = pd.read_parquet(ran.output)
    if loop.case.name in RAY_CASES:
        args = ("--input", str(loop.folder / "batch.parquet"), "--output", str(loop.folder / "ray.parquet"))
        loop.run("predict", *args, "--executor", "ray")
        scored["ray"] = pd.read_parquet(loop.folder / "ray.parquet")
    ids = [i for frame in scored.values() for i in frame["request_id"]]
    assert len(open_store(uc.state_dir).predictions.refs(ids)) == len(ids) == len(set(ids))  # each logged once
    for way, frame in scored.items():
        assert list(frame["prediction"].astype(str)) == list(scored["thread"]["prediction"].astype(str)), way


def _dashboard(folder: Path, request_id: str) -> None:
    """Every page of `mlcycle ui` on this use case after its loop, a drift click-through and one decision."""
    from fastapi.testclient import TestClient

    from mlcycle.ui import create_app

    client = TestClient(create_app(folder))
    base = f"/uc/{folder.name}"
    for page in ("/", "/design", "/experiments", "/experiments?state=any", "/models", "/monitoring", "/review"):
        answer = client.get(base + page)
        assert answer.status_code == 200, f"{page}: {answer.status_code}\n{answer.text[-3000:]}"
    assert "No registered version yet" not in client.get(f"{base}/models").text
    cell = re.search(
        r'href="([^"]+/monitoring/drift\?window=\d+&amp;column=[^"]+)"', client.get(f"{base}/monitoring").text
    )
    assert cell is not None, "the monitoring page has no drift cell to click"
    detail = client.get(cell.group(1).replace("&amp;", "&"))
    assert detail.status_code == 200 and "Drift of " in detail.text, detail.text[-3000:]
    decision = client.get(f"{base}/decisions", params={"request_id": request_id}).text
    assert f"Prediction {request_id}" in decision, decision[-3000:]


def _labels(uc: mlcycle.UseCase) -> set[Any]:
    if uc.spec.task != "classification":
        return set()
    return {v.item() if hasattr(v, "item") else v for v in uc.data[uc.spec.target].dropna().unique()}


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as a caller sends them: JSON values, missing values as null."""
    return json.loads(rows.to_json(orient="records", date_format="iso"))


def _serve(client: httpx.Client, uc: mlcycle.UseCase, served: Served, labels: set[Any]) -> list[str]:
    """Every batch through /predict (some explained), then its actuals through /feedback, in arrival order."""
    design = uc.spec
    explain = design.requirements.explainability == "per_prediction"
    ids: list[str] = []
    for n, batch in enumerate(served.batches):
        rows = served.rows.iloc[batch]
        body: dict[str, Any] = {"records": _records(rows), "explain": explain and n < 3}
        answer = client.post("/predict", json=body)
        assert answer.status_code == 200, answer.text
        result = answer.json()
        predictions = result["predictions"]
        assert len(predictions) == len(batch) == len(result["request_ids"])
        if design.task == "regression":
            assert all(isinstance(p, float) and math.isfinite(p) for p in predictions), predictions
        else:
            assert set(predictions) <= labels and all(type(p) is type(next(iter(labels))) for p in predictions), (
                predictions,
                labels,
            )
        if body["explain"]:
            _assert_adds_up(result["explanations"], predictions, design.task)
        ids += result["request_ids"]
        actuals = [served.actuals[i] for i in batch]
        if served.feedback_by_keys:
            keys = [*design.group_columns, design.time_column]
            items = [{**{k: r[k] for k in keys}, "actual": a} for r, a in zip(_records(rows[keys]), actuals)]
        else:
            items = [{"request_id": r, "actual": a} for r, a in zip(result["request_ids"], actuals)]
        stored = client.post("/feedback", json={"items": items})
        assert stored.status_code == 200 and stored.json()["stored"] == len(items), stored.text
    return ids


def _assert_adds_up(explanations: list[dict[str, Any]], predictions: list[Any], task: str) -> None:
    for explanation, prediction in zip(explanations, predictions):
        total = explanation["base"] + sum(explanation["contributions"].values())
        if task == "regression":
            assert explanation["space"] == "value"
            target = prediction
        else:
            p = explanation["probability"]
            assert (
                explanation["space"] in ("log-odds", "probability") and explanation["space"] in explanation["sentence"]
            )
            target = math.log(p / (1 - p)) if explanation["space"] == "log-odds" else p
        assert total == pytest.approx(target, rel=1e-6, abs=1e-6), explanation
        assert explanation["sentence"].startswith(("Forecast", "Predicted"))


def _other_protocols(client: httpx.Client, uc: mlcycle.UseCase, served: Served) -> None:
    """MLflow's /invocations and OIP v2 answer what /predict answers for the same rows, now (the latest
    step's rows: lags of older ones have left the history the service keeps)."""
    columns = list(client.get(f"/v2/models/{uc.name}").json()["inputs"])
    names = [c["name"] for c in columns]
    rows = served.rows.iloc[served.batches[-1]][names].dropna().head(3)
    records = _records(rows)
    expected = client.post("/predict", json={"records": records}).json()["predictions"]
    split = {"dataframe_split": {"columns": names, "data": [[r[c] for c in names] for r in records]}}
    answer = client.post("/invocations", json=split)
    assert answer.status_code == 200, answer.text
    if uc.spec.task == "regression":
        assert answer.json()["predictions"] == pytest.approx(expected)
    else:
        assert answer.json()["predictions"] == expected
    tensors = [
        {
            "name": c["name"],
            "datatype": c["datatype"],
            "shape": [len(records)],
            "data": [r[c["name"]] for r in records],
        }
        for c in columns
    ]
    answer = client.post(f"/v2/models/{uc.name}/infer", json={"inputs": tensors})
    assert answer.status_code == 200, answer.text
    data = answer.json()["outputs"][0]["data"]
    if uc.spec.task == "regression":
        assert data == pytest.approx(expected)
    else:
        assert [str(v) for v in data] == [str(v) for v in expected]
