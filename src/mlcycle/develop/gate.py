"""The promotion gate: the design's requirements checked against a candidate, row by row.

``promote`` refits the chosen trial on all training data, logs it as an MLflow model (with
its signature, an input example, the input schema and the reference profile for drift),
then evaluates every requirement of the design:

| row | measured as |
|---|---|
| quality floor / ceiling | the trial's cross-validated metric |
| beats the baseline by ``beat_baseline_by`` | 1 − model money lost ÷ baseline money lost, same folds |
| positive added value after running cost | the trial's net_value per period |
| single-row latency p95 | measured now, by calling the *logged* model |
| explainability | per_prediction: contributions that add up to the prediction, checked on real rows |
| no forbidden feature | the variant's features |
| training time | the refit on all training data |

All pass → the model is registered under the design's ``name`` with alias ``champion``
(the champion it replaces keeps alias ``previous``) and the version is tagged with the
gate report. Any fail → nothing is registered and :class:`GateFailed` says which rows
failed and by how much. ``force`` registers anyway and records who forced it and why.
"""

from __future__ import annotations

import getpass
import json
import math
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlcycle.contract.spec import parse_duration
from mlcycle.data import proxies
from mlcycle.data.features import builder_for
from mlcycle.data.reference import Profile, profile, seasonal
from mlcycle.data.schema import Schema
from mlcycle.design.spend import Spend
from mlcycle.develop import registry
from mlcycle.develop.notes import recording
from mlcycle.develop.tracking import TAG, Tracker
from mlcycle.develop.trial import TrialSpec, Workbench, fit_folds, measure
from mlcycle.exceptions import GateFailed, UseCaseError
from mlcycle.explain import Explainer, check_additivity
from mlcycle.metrics import catalogue, estimation, fairness, thresholds
from mlcycle.metrics.fairness import Fairness
from mlcycle.metrics.interval import LEVEL

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace

REQUIREMENTS = ["mlflow", "scikit-learn", "lightgbm", "pandas", "numpy", "shap", "cloudpickle"]


@dataclass
class GateRow:
    requirement: str
    threshold: str
    measured: str
    passed: bool
    detail: str


@dataclass
class GateReport:
    use_case: str
    trial_run_id: str
    spec: dict[str, Any]
    rows: list[GateRow] = field(default_factory=list)
    model_uri: str | None = None
    promotion_run_id: str | None = None
    version: str | None = None
    previous_version: str | None = None
    forced: bool = False
    forced_by: str | None = None
    reason: str | None = None
    figures: dict[str, float] = field(default_factory=dict)
    report_path: Path | None = None
    notes: list[str] = field(default_factory=list)  # library warnings of the refit, in mlcycle's words
    fairness: list[dict[str, Any]] = field(default_factory=list)  # per protected column: Fairness.to_json()
    evaluation: dict[str, dict[str, dict[str, float | None]]] = field(
        default_factory=dict
    )  # view → metric → model/baseline
    training: dict[str, Any] = field(default_factory=dict)  # rows, inputs, time range, source: for the model card
    model_card: dict[str, Path] = field(default_factory=dict)  # md, html, json of a registered version's card

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    @property
    def registered(self) -> bool:
        return self.version is not None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(r) for r in self.rows])

    def to_json(self) -> str:
        return json.dumps(
            {
                "rows": [asdict(r) for r in self.rows],
                "passed": self.passed,
                "forced": self.forced,
                "forced_by": self.forced_by,
                "reason": self.reason,
                "trial_run_id": self.trial_run_id,
                "figures": self.figures,
                "notes": self.notes,
                "fairness": self.fairness,
            }
        )


@dataclass
class Candidate:
    """A trial as the gate sees it: what to refit and what cross-validation measured."""

    run_id: str
    spec: TrialSpec
    metrics: dict[str, float]
    threshold: float | None = None


def candidate(tracker: Tracker, run_id: str | None) -> Candidate:
    """The trial run ``run_id``, or the best feasible trial of the latest search."""
    client = tracker.client
    if run_id is None:
        searches = client.search_runs(
            [tracker.experiment_id],
            f"tags.`{TAG}kind` = 'search'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if not searches or not searches[0].data.tags.get(f"{TAG}best_run_id"):
            raise UseCaseError("no search with a completed trial to promote; run `mlcycle experiment` first")
        run_id = searches[0].data.tags[f"{TAG}best_run_id"]
    try:
        run = client.get_run(run_id)
    except Exception:
        raise UseCaseError(
            f"no MLflow run {run_id!r} in {tracker.uri}; list trials with `mlflow ui` "
            f"or promote the best with plain `mlcycle promote`"
        ) from None
    tags = run.data.tags
    if tags.get(f"{TAG}kind") != "trial":
        raise UseCaseError(f"run {run_id} is not an mlcycle trial (tag {TAG}kind = {tags.get(f'{TAG}kind')!r})")
    if f"{TAG}spec" not in tags:
        raise UseCaseError(
            f"trial run {run_id} was logged by an older mlcycle without its {TAG}spec tag; "
            "run `mlcycle experiment` again"
        )
    if tags.get(f"{TAG}state") != "complete":
        raise UseCaseError(f"trial run {run_id} did not complete ({tags.get(f'{TAG}state')}); pick a complete one")
    raw = json.loads(tags[f"{TAG}spec"])
    spec = TrialSpec(int(tags.get(f"{TAG}trial", -1)), raw["variant"], raw["algorithm"], raw["params"])
    metrics = dict(run.data.metrics)
    return Candidate(run_id, spec, metrics, metrics.get("decision_threshold"))


def row(requirement: str, threshold: str, measured: float | str, passed: bool, detail: str = "") -> GateRow:
    shown = measured if isinstance(measured, str) else (f"{measured:,.4g}" if math.isfinite(measured) else "—")
    return GateRow(requirement, threshold, shown, bool(passed), detail or ("met" if passed else "not met"))


def evaluate(
    ws: Workspace,
    chosen: Candidate,
    *,
    latency_p95_ms: float,
    additivity_gap: float | None,
    refit_minutes: float,
    latency_rounds: int = 1,
    fairness: list[Fairness] | None = None,
    spent: Spend | None = None,
) -> list[GateRow]:
    """One row per requirement of the design, from the candidate's figures."""
    design, req = ws.spec, ws.spec.requirements
    m = chosen.metrics
    rows = []
    if req.quality is not None:
        metric = catalogue.CATALOGUE[req.quality.metric]
        value = m.get(req.quality.metric, math.nan)
        judged = abs(value) if metric.direction == "zero" else value
        if req.quality.max is not None:
            ok = judged <= req.quality.max
            rows.append(
                row(
                    f"quality: {metric.name}",
                    f"≤ {req.quality.max:g}",
                    value,
                    ok,
                    "" if ok else f"{judged - req.quality.max:,.4g} above the ceiling",
                )
            )
        else:
            ok = judged >= (req.quality.min or 0)
            rows.append(
                row(
                    f"quality: {metric.name}",
                    f"≥ {req.quality.min:g}",
                    value,
                    ok,
                    "" if ok else f"{(req.quality.min or 0.0) - judged:,.4g} below the floor",
                )
            )
    lost, base_lost = m.get("money_lost", math.nan), m.get("baseline_money_lost", math.nan)
    improvement = 1 - lost / base_lost if base_lost and math.isfinite(base_lost) and base_lost > 0 else math.nan
    ok = improvement >= req.beat_baseline_by
    low, high = m.get("improvement_low", math.nan), m.get("improvement_high", math.nan)
    rows.append(
        row(
            "beats the baseline in money lost",
            f"≥ {req.beat_baseline_by:.0%} less",
            f"{improvement:.1%} less" + (f" ({low:.1%} – {high:.1%}, {LEVEL:.0%})" if math.isfinite(low) else ""),
            ok,
            _across(low, req.beat_baseline_by, f"{low:.1%}")
            if ok
            else f"{(req.beat_baseline_by - improvement):.1%} short of the required cut",
        )
    )
    net = m.get("net_value", math.nan)
    currency = f"{design.value.currency} per {design.value.period}"
    ok = net > 0
    low, high = m.get("net_value_low", math.nan), m.get("net_value_high", math.nan)
    rows.append(
        row(
            "positive added value after running cost",
            f"> 0 {currency}",
            f"{net:,.0f} {currency}" + (f" ({low:,.0f} – {high:,.0f}, {LEVEL:.0%})" if math.isfinite(low) else ""),
            ok,
            _across(low, 0.0, f"{low:,.0f}") if ok else f"loses {-net:,.0f} {currency} against today's process",
        )
    )
    ok = latency_p95_ms <= req.latency_p95_ms
    rows.append(
        row(
            "single-row latency p95",
            f"≤ {req.latency_p95_ms:g} ms",
            f"{latency_p95_ms:.2f} ms",
            ok,
            ("met" if ok else f"{latency_p95_ms - req.latency_p95_ms:.1f} ms too slow")
            + (f" (the fastest of {latency_rounds} rounds of calls)" if latency_rounds > 1 else ""),
        )
    )
    if req.explainability == "per_prediction":
        ok = additivity_gap is not None and additivity_gap <= 1e-6 * max(1.0, abs(m.get("mae", 1.0)))
        measured = "unavailable" if additivity_gap is None else f"contributions add up (gap {additivity_gap:.1e})"
        rows.append(
            row(
                "explainability: per prediction",
                "per-row contributions",
                measured,
                ok,
                "" if ok else "per-row contributions are unavailable or do not add up to the prediction",
            )
        )
    elif req.explainability == "global":
        rows.append(row("explainability: global", "feature importance", "permutation importance", True))
    forbidden = set(req.compliance.forbidden_features)
    used = set(builder_for(design, chosen.spec.variant, list(ws.training_data.columns)).features) & forbidden
    rows.append(
        row(
            "no forbidden feature",
            ", ".join(sorted(forbidden)) or "none listed",
            ", ".join(sorted(used)) or "none used",
            not used,
            "" if not used else f"uses {', '.join(sorted(used))}",
        )
    )
    rows += _proxy_rows(ws, chosen, forbidden)
    rows += _fairness_rows(ws, fairness or [])
    if spent is not None:
        rows.append(_budget_row(spent))
    budget = req.budget.max_training_minutes
    ok = refit_minutes <= budget
    rows.append(
        row(
            "training time",
            f"≤ {budget:g} min",
            f"{refit_minutes:.2f} min",
            ok,
            "" if ok else f"{refit_minutes - budget:.1f} min over budget",
        )
    )
    return rows


def _proxy_rows(ws: Workspace, chosen: Candidate, forbidden: set[str]) -> list[GateRow]:
    """One row per forbidden column present in the training data: the variant's features must not give it away."""
    design, train = ws.spec, ws.training_data
    features = [
        f
        for f in builder_for(design, chosen.spec.variant, list(train.columns)).raw_columns
        if f in train.columns and f not in forbidden and f != design.time_column
    ]
    rows = []
    for column in sorted(c for c in forbidden if c in train.columns and train[c].nunique(dropna=True) >= 2):
        if not features:
            continue
        found = proxies.measure(train, column, features)
        limit = proxies.limit(design.requirements.compliance, found)
        ok = found.score <= limit
        strongest = ", ".join(name for name, _ in found.strongest[:3])
        rows.append(
            row(
                f"no proxy for forbidden {column}",
                f"{found.measure} ≤ {limit:g}",
                f"{found.measure} {found.score:.2f}",
                ok,
                "" if ok else f"the features give {column} away; strongest: {strongest}",
            )
        )
    return rows


def _evaluation(ws: Workspace, chosen: Candidate) -> dict[str, dict[str, dict[str, float | None]]]:
    """The three views' validated figures of the chosen trial, beside today's process's (the model card)."""

    def finite(value: float | None) -> float | None:
        return value if value is not None and math.isfinite(value) else None

    return {
        view: {
            m.name: {
                "model": finite(chosen.metrics.get(m.name)),
                "baseline": finite(chosen.metrics.get(f"baseline_{m.name}")),
                "low": finite(chosen.metrics.get(f"{m.name}_low")),
                "high": finite(chosen.metrics.get(f"{m.name}_high")),
            }
            for m in metrics
        }
        for view, metrics in catalogue.measured(ws.spec, ws.folder).items()
    }


def _training(ws: Workspace, train: pd.DataFrame, inputs: list[str]) -> dict[str, Any]:
    """What the champion learnt from, in the model card's words."""
    design = ws.spec
    out: dict[str, Any] = {
        "rows": len(train),
        "source": design.data.source if not design.data.is_database else "a database query",
        "inputs": list(inputs),
        "target": design.target,
        "forbidden": list(design.requirements.compliance.forbidden_features),
        "missing": {c: int(n) for c, n in train[inputs].isna().sum().items() if n},
    }
    if design.time_column:
        times = pd.to_datetime(train[design.time_column])
        out["from"], out["until"] = str(times.min()), str(times.max())
    return out


def _budget_row(spent: Spend) -> GateRow:
    """Spend so far (searches, promotions, retrains, team days) against the development budget."""
    currency = spent.currency
    if spent.budget <= 0:
        return row("within budget", "no development budget set", f"{spent.total:,.0f} {currency} spent", True, "met")
    over = spent.total - spent.budget
    return row(
        "within budget",
        f"≤ {spent.budget:,.0f} {currency}",
        f"{spent.total:,.0f} {currency} spent ({spent.total / spent.budget:.0%})",
        spent.within_budget,
        ("met" if spent.within_budget else f"{over:,.0f} {currency} over the development budget")
        + (
            " — team time estimated (none logged with mlcycle log-work)"
            if spent.team_estimated and spent.team_cost
            else ""
        ),
    )


def groups(ws: Workspace, bench: Workbench, chosen: Candidate, reference: OutOfFold) -> list[Fairness]:
    """Fairness per group of each protected column, on the out-of-fold predictions the estimator learns from."""
    compliance = ws.spec.requirements.compliance
    limit = compliance.max_disparity
    return [
        fairness.measure(
            ws.spec,
            bench.costs,
            column,
            reference.protected[column],
            reference.actual,
            reference.prediction,
            threshold=chosen.threshold,
            min_group_rows=limit.min_group_rows if limit is not None else 30,
        )
        for column in compliance.protected
        if column in reference.protected.columns
    ]


def _fairness_rows(ws: Workspace, found: list[Fairness]) -> list[GateRow]:
    """One row per limit of ``max_disparity``, metric and protected column; a protected column missing from the
    data fails its row — the design promised to look at it."""
    compliance = ws.spec.requirements.compliance
    limit = compliance.max_disparity
    if limit is None:
        return []
    rows = []
    measured = {f.column for f in found}
    for column in compliance.protected:
        if column not in measured:
            rows.append(
                row(
                    f"fairness across {column}",
                    "groups measured",
                    "not in the data",
                    False,
                    f"the protected column {column} is not in the training data; add it (it may stay out of the "
                    "features) or remove it from requirements.compliance.protected",
                )
            )
    for result in found:
        for finding in fairness.judge(result, limit.limited(ws.spec.task), limit.difference, limit.ratio):
            sign = "≤" if finding.kind == "difference" else "≥"
            figure = finding.measured
            shown = (
                "—"
                if not math.isfinite(figure.value)
                else f"{figure.value:.3g}"
                + (f" ({figure.low:.3g} – {figure.high:.3g}, {LEVEL:.0%})" if math.isfinite(figure.low) else "")
            )
            rows.append(
                row(
                    f"fairness: {fairness.label(finding.metric)} across {finding.column}",
                    f"{finding.kind} {sign} {finding.limit:g}",
                    shown,
                    finding.passed,
                    finding.detail,
                )
            )
    return rows


def _across(low: float, required: float, shown: str) -> str:
    """Whether a met requirement holds across the figure's interval, or only at its middle."""
    if not math.isfinite(low):
        return "met"
    if low >= required:
        return f"met across the {LEVEL:.0%} interval (bootstrap over the validation days)"
    return (
        f"met, but not across the {LEVEL:.0%} interval: its lower end is {shown} — "
        "luck in the validation days could undo it"
    )


def promote(
    ws: Workspace,
    run_id: str | None = None,
    *,
    force: bool = False,
    reason: str | None = None,
    challenge: Callable[[Any], GateRow] | None = None,
    tags: dict[str, str] | None = None,
    spent: Spend | None = None,
) -> GateReport:
    """Refit the chosen trial, log it with its artifacts, judge every requirement; register it when all pass
    (or ``force``). ``spent`` — what the use case has cost so far — adds the "within budget" row."""
    import mlflow

    if force and not reason:
        raise UseCaseError("--force needs --reason: the audit trail records who forced a promotion and why")
    tracker = Tracker(ws.state_dir, ws.name)
    chosen = candidate(tracker, run_id)
    report = GateReport(ws.name, chosen.run_id, asdict(chosen.spec))

    train = ws.training_data
    bench = Workbench.create(ws.spec, train, ws.folder)
    with recording(chosen.spec.algorithm, report.notes):
        started = time.perf_counter()
        pipeline = bench.pipeline(chosen.spec).fit(train, bench.target(train))
        refit_minutes = (time.perf_counter() - started) / 60
        explainer = Explainer(pipeline, ws.spec.task).fit(train)

    from mlcycle.develop.model import MlcycleModel

    builder = pipeline.named_steps["features"]
    inputs = builder.raw_columns
    labels = _labels(ws) if ws.spec.task == "classification" else (0, 1)
    example = train[inputs].tail(5).reset_index(drop=True)
    records = example.assign(
        **{
            c: example[c].dt.strftime("%Y-%m-%dT%H:%M:%S")
            for c in inputs
            if pd.api.types.is_datetime64_any_dtype(example[c])
        }
    ).to_dict("records")
    model = MlcycleModel(
        pipeline,
        task=ws.spec.task,
        input_columns=inputs,
        threshold=chosen.threshold,
        labels=labels,
        explainer=explainer,
        meta={
            "use_case": ws.name,
            "trial_run_id": chosen.run_id,
            "spec": asdict(chosen.spec),
            "input_example": records,
            "labels": dict(ws.spec.labels),
            "target": ws.spec.target,
            # each numeric input's median over the training rows: a reason says "income 12,000 is low" against it
            "typical": {
                c: float(train[c].median())
                for c in inputs
                if pd.api.types.is_numeric_dtype(train[c])
                and not pd.api.types.is_bool_dtype(train[c])
                and train[c].notna().any()
            },
        },
    )
    with recording(chosen.spec.algorithm, report.notes):
        reference = out_of_fold(ws, chosen, bench)
        estimator = _estimator(ws, bench, chosen, reference)
        found = groups(ws, bench, chosen, reference)
    report.fairness = [f.to_json() for f in found]
    report.model_uri, report.promotion_run_id = _log_model(
        ws, tracker, model, train, example, chosen, estimator, report.fairness
    )

    loaded = mlflow.pyfunc.load_model(report.model_uri)
    valid_rows = train.iloc[bench.folds[-1][1]][inputs]
    latency = measure(loaded.predict, valid_rows, limit_ms=ws.spec.requirements.latency_p95_ms)
    gap = None
    if ws.spec.requirements.explainability == "per_prediction":
        sample = train.iloc[bench.folds[-1][1]].head(50)
        try:
            with recording(chosen.spec.algorithm, report.notes):
                gap = check_additivity(explainer, sample[inputs], model.predict_value(sample[inputs]))
        except Exception:  # an explainer that cannot explain this model fails the row; it must not crash promotion
            gap = None
    report.rows = evaluate(
        ws,
        chosen,
        latency_p95_ms=latency.p95_ms,
        latency_rounds=latency.rounds,
        additivity_gap=gap,
        refit_minutes=refit_minutes,
        fairness=found,
        spent=spent,
    )
    if challenge is not None:
        report.rows.append(challenge(loaded.unwrap_python_model()))
    report.figures = {
        "latency_p95_ms": latency.p95_ms,
        "refit_minutes": refit_minutes,
        **{
            k: v
            for k, v in chosen.metrics.items()
            if k
            in (
                "money_lost",
                "baseline_money_lost",
                "net_value",
                "net_value_low",
                "net_value_high",
                "improvement_low",
                "improvement_high",
            )
        },
    }
    report.evaluation = _evaluation(ws, chosen)
    report.training = _training(ws, train, inputs)
    tracker.client.set_tag(report.promotion_run_id, f"{TAG}gate", report.to_json())
    tracker.client.set_tag(report.promotion_run_id, f"{TAG}gate_passed", str(report.passed).lower())
    for key, value in (tags or {}).items():
        tracker.client.set_tag(report.promotion_run_id, key, value)

    if report.passed or force:
        report.forced = force and not report.passed
        if report.forced:
            report.forced_by, report.reason = getpass.getuser(), reason
        audit = {f"{TAG}gate": report.to_json(), f"{TAG}gate_passed": str(report.passed).lower()}
        if report.forced:
            audit |= {f"{TAG}forced_by": report.forced_by or "", f"{TAG}forced_reason": report.reason or ""}
        report.version, report.previous_version = registry.register(
            tracker, ws.name, report.model_uri, source_run=report.trial_run_id, tags={**audit, **(tags or {})}
        )
    if not report.registered:
        raise GateFailed(report)
    return report


def _labels(ws: Workspace) -> tuple[Any, Any]:
    from mlcycle.contract.spec import positive_mask

    target = ws.training_data[ws.spec.target]
    positive = positive_mask(ws.spec, target)
    values = target.to_numpy()
    pos = values[positive.to_numpy()][0] if positive.any() else 1
    neg = values[~positive.to_numpy()][0] if (~positive).any() else 0
    return (neg.item() if hasattr(neg, "item") else neg, pos.item() if hasattr(pos, "item") else pos)


def reference_profile(ws: Workspace, reference: pd.DataFrame, train: pd.DataFrame) -> Profile:
    """The profile monitoring measures drift against: every column, the seasonal columns per month (when the
    design has a time column and the reference covers every month), and the chance levels that ``auto``
    thresholds are read from, at the design's monitoring window."""
    design = ws.spec
    result = profile(reference)
    times = train[design.time_column] if design.time_column else None
    if times is not None:
        result.seasons = seasonal(reference, [design.target, "prediction"], times)
        result.window_rows = thresholds.window_rows(times, pd.Timedelta(parse_duration(design.monitoring.window)))
    result.chance = thresholds.calibrate(
        reference,
        result,
        thresholds.for_design(design.monitoring.drift, result),
        times=times,
        window_rows=result.window_rows,
    )
    return result


@dataclass(frozen=True)
class OutOfFold:
    """A trial's out-of-fold predictions on the training rows: what the estimator learns from (its reference)."""

    inputs: pd.DataFrame  # the model's raw input columns, as served
    prediction: np.ndarray  # the forecast, or the probability of the positive class
    actual: np.ndarray  # the value, or 1.0 / 0.0 for the positive class
    baseline: np.ndarray  # today's process on the same rows (NaN where it has no answer)
    times: pd.Series | None  # the time column, when the design has one
    protected: pd.DataFrame  # the design's protected columns that are in the data, on the same rows


def out_of_fold(ws: Workspace, chosen: Candidate, bench: Workbench | None = None) -> OutOfFold:
    """The chosen trial refitted fold by fold, each fit predicting the rows it never saw — the reference as a
    model in production sees it. With time-ordered folds, only the later ones: their models learnt from most
    of the history, as the champion did; the first fold's, fitted on a quarter of it, would teach the
    estimator losses the champion does not make."""
    design = ws.spec
    bench = bench or Workbench.create(design, ws.training_data, ws.folder)
    folds = list(range(len(bench.folds)))
    if design.experiments.validation.method == "time_series_split":
        folds = folds[len(folds) // 2 :]
    predictions, _ = fit_folds(bench, chosen.spec, folds)
    rows = np.concatenate([bench.folds[p.fold][1] for p in predictions])
    frame = bench.frame.iloc[rows].reset_index(drop=True)
    inputs = builder_for(design, chosen.spec.variant, list(bench.frame.columns)).raw_columns
    return OutOfFold(
        frame[inputs],
        np.concatenate([p.predicted for p in predictions]),
        np.concatenate([p.y_true for p in predictions]),
        np.concatenate([p.baseline for p in predictions]),
        frame[design.time_column] if design.time_column else None,
        frame[[c for c in design.requirements.compliance.protected if c in frame.columns]],
    )


def _estimator(ws: Workspace, bench: Workbench, chosen: Candidate, reference: OutOfFold) -> estimation.Estimator:
    """The estimator monitoring uses before actuals arrive (CBPE / DLE), fitted on the out-of-fold reference."""
    times = reference.times
    window = pd.Timedelta(parse_duration(ws.spec.monitoring.window))
    return estimation.fit(
        ws.spec.task,
        inputs=reference.inputs,
        prediction=reference.prediction,
        actual=reference.actual,
        baseline=reference.baseline,
        costs=bench.costs,
        threshold=chosen.threshold,
        order=np.argsort(pd.to_datetime(times).to_numpy(), kind="stable") if times is not None else None,
        chunk_rows=thresholds.window_rows(times, window) if times is not None else None,
    )


def _log_model(
    ws: Workspace,
    tracker: Tracker,
    model: Any,
    train: pd.DataFrame,
    example: pd.DataFrame,
    chosen: Candidate,
    estimator: estimation.Estimator,
    fairness_found: list[dict[str, Any]],
) -> tuple[str, str]:
    import mlflow
    from mlflow.models import infer_signature

    mlflow.set_tracking_uri(tracker.uri)
    mlflow.set_registry_uri(tracker.uri)
    schema = ws.schema
    inputs = model.input_columns
    schema.columns = {c: s for c, s in schema.columns.items() if c in inputs}
    built = model.features.transform_in_sample(train[inputs], train[ws.spec.target])
    reference = train[inputs].assign(
        **{ws.spec.target: train[ws.spec.target], "prediction": model.predict_built(built)}
    )
    requirements = []
    for package in REQUIREMENTS:
        try:
            requirements.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    with tempfile.TemporaryDirectory() as tmp:
        schema_path, profile_path = Path(tmp) / "schema.json", Path(tmp) / "profile.json"
        estimator_path = Path(tmp) / "estimator.json"
        Schema.save(schema, schema_path)
        reference_profile(ws, reference, train).save(profile_path)
        estimator_path.write_text(json.dumps(estimator.to_dict()), encoding="utf-8")
        fairness_path = Path(tmp) / "fairness.json"
        fairness_path.write_text(json.dumps(fairness_found), encoding="utf-8")
        with mlflow.start_run(
            experiment_id=tracker.experiment_id,
            run_name=f"promotion-trial-{chosen.spec.number:03d}",
            tags={f"{TAG}kind": "promotion", f"{TAG}source_run": chosen.run_id},
        ) as run:
            mlflow.log_params(
                {
                    "variant": chosen.spec.variant,
                    "algorithm": chosen.spec.algorithm,
                    **{k: str(v) for k, v in chosen.spec.params.items()},
                }
            )
            with warnings.catch_warnings():
                # MLflow hints that integer columns cannot hold missing values. mlcycle's own schema (logged
                # beside the signature) says which columns may be null and is what the service enforces, so
                # the hint means nothing to the user; declaring them as doubles instead would make MLflow
                # refuse integer input ("cannot safely convert int64 to float64").
                warnings.filterwarnings("ignore", message=r"Hint: Inferred schema contains integer column")
                signature = infer_signature(example, model.predict(None, example))
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=model,
                signature=signature,
                input_example=example,
                artifacts={"schema": str(schema_path), "profile": str(profile_path)},
                pip_requirements=requirements,
            )
            for path in (schema_path, profile_path, estimator_path, fairness_path):
                mlflow.log_artifact(str(path), "mlcycle")
    return info.model_uri, run.info.run_id


__all__ = ["Candidate", "GateReport", "GateRow", "OutOfFold", "evaluate", "out_of_fold", "promote", "row"]
