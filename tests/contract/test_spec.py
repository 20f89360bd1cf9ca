"""The design contract: every class of malformed design gets one error naming its YAML path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import mlcycle
from mlcycle.contract import spec
from mlcycle.exceptions import DesignError
from tests.conftest import minimal_design, small_sales


def _set(design: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    design = copy.deepcopy(design)
    node = design
    *parents, last = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return design


def _error(tmp_path: Path, design: dict[str, Any]) -> DesignError:
    path = tmp_path / "mlcycle.yaml"
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    small_sales().to_csv(tmp_path / "data.csv", index=False)
    with pytest.raises(DesignError) as caught:
        spec.load(path)
    return caught.value


# (id, change to the minimal design, expected YAML path, a fragment of the message)
STATIC_CASES = [
    (
        "unknown top-level key",
        lambda d: {**d, "modle": "x"},
        "modle",
        "unknown key 'modle'. Valid keys here: name,",
    ),
    (
        "unknown nested key",
        lambda d: _set(d, "requirements.quality", {"metric": "mae", "maximum": 3}),
        "requirements.quality.maximum",
        "Valid keys here: metric, max, min",
    ),
    (
        "wrong type",
        lambda d: _set(d, "requirements.latency_p95_ms", "fast"),
        "requirements.latency_p95_ms",
        "must be a valid number",
    ),
    ("missing required key", lambda d: {k: v for k, v in d.items() if k != "target"}, "target", "required"),
    ("task not a task", lambda d: {**d, "task": "forecasting"}, "task", "'regression' or 'classification'"),
    (
        "range high below low",
        lambda d: _set(d, "experiments.algorithms", {"ridge": {"alpha": {"low": 10, "high": 1}}}),
        "experiments.algorithms.ridge.alpha",
        "high (1) is below low (10)",
    ),
    (
        "metric does not fit the task",
        lambda d: _set(d, "requirements.quality", {"metric": "f1", "min": 0.8}),
        "requirements.quality.metric",
        "for a regression task",
    ),
    (
        "primary not listed",
        lambda d: _set(d, "metrics", {"data_scientist": ["mae"], "primary": "rmse"}),
        "metrics.primary",
        "'rmse' is not listed",
    ),
    (
        "forbidden feature used by a variant",
        lambda d: _set(d, "requirements.compliance", {"forbidden_features": ["price"]}),
        "experiments.data_variants.basic.features[1]",
        "forbidden",
    ),
    (
        "drift warn above alert",
        lambda d: _set(d, "monitoring.drift", {"warn": 0.3, "alert": 0.1}),
        "monitoring.drift",
        "warn (0.3) is above alert (0.1)",
    ),
    (
        "drift threshold neither a number nor auto",
        lambda d: _set(d, "monitoring.drift", {"alert": "automatic"}),
        "monitoring.drift.alert",
        "must be a valid number or 'auto'. Got 'automatic'",
    ),
    (
        "negative drift threshold",
        lambda d: _set(d, "monitoring.drift", {"warn": -0.1}),
        "monitoring.drift.warn",
        "never below 0",
    ),
    (
        "persistence below one window",
        lambda d: _set(d, "monitoring.drift", {"consecutive": 0}),
        "monitoring.drift.consecutive",
        "greater than or equal to 1",
    ),
    (
        "unknown algorithm",
        lambda d: _set(d, "experiments.algorithms", {"xgboost": {}}),
        "experiments.algorithms.xgboost",
        "unknown algorithm for a regression task; valid: ridge",
    ),
    (
        "unknown hyperparameter",
        lambda d: _set(d, "experiments.algorithms", {"ridge": {"alpah": [1, 2]}}),
        "experiments.algorithms.ridge.alpah",
        "tunable: alpha",
    ),
    (
        "extends a missing variant",
        lambda d: _set(d, "experiments.data_variants", {"lags": {"extends": "basics", "lags": [7]}}),
        "experiments.data_variants.lags.extends",
        "no variant called 'basics'",
    ),
    (
        "payoff on a regression",
        lambda d: _set(d, "value", {"payoff": {"true_positive": 1, "false_positive": -1, "false_negative": -2}}),
        "value.cost",
        "needs a cost per unit of error",
    ),
    (
        "min on a lower-is-better metric",
        lambda d: _set(d, "requirements.quality", {"metric": "mae", "min": 3}),
        "requirements.quality.min",
        "mae is lower-is-better, so give max, not min",
    ),
    (
        "alert on the wrong side",
        lambda d: _set(d, "monitoring.performance", {"metric": "r2", "alert_above": 0.5}),
        "monitoring.performance.alert_above",
        "r2 is higher-is-better, so give alert_below, not alert_above",
    ),
    (
        "metric in the wrong view",
        lambda d: _set(d, "metrics", {"data_scientist": ["stockout_rate"]}),
        "metrics.data_scientist[0]",
        "data scientist metric",
    ),
    (
        "grid sampler with a range",
        lambda d: _set(
            _set(d, "experiments.algorithms", {"ridge": {"alpha": {"low": 0.1, "high": 1}}}),
            "experiments.search",
            {"sampler": "grid"},
        ),
        "experiments.algorithms.ridge.alpha",
        "grid sampler needs a list of choices",
    ),
    (
        "a hyperparameter no trial could finish with",
        lambda d: _set(d, "experiments.algorithms", {"lightgbm": {"n_estimators": 2.05e107}}),
        "experiments.algorithms.lightgbm.n_estimators",
        "must be at most 10000: a trial's work grows with it. Got 2.05e+107",
    ),
    (
        "a range reaching past an algorithm's ceiling",
        lambda d: _set(d, "experiments.algorithms", {"random_forest": {"max_depth": {"low": 4, "high": 1000}}}),
        "experiments.algorithms.random_forest.max_depth",
        "must be at most 100: a trial's work grows with it. Got 1000",
    ),
    (
        "wrong type inside a list",
        lambda d: _set(d, "experiments.data_variants", {"v": {"lags": [7, "x"]}}),
        "experiments.data_variants.v.lags[1]",
        "must be a valid integer",
    ),
    (
        "window not a duration",
        lambda d: _set(d, "monitoring.window", "weekly"),
        "monitoring.window",
        "12h, 7d or 2w",
    ),
    (
        "webhook without url",
        lambda d: _set(d, "monitoring.alerts", [{"kind": "webhook"}]),
        "monitoring.alerts[0]",
        "a webhook sink needs a url",
    ),
    (
        "impossible improvement",
        lambda d: _set(d, "requirements.beat_baseline_by", 1.5),
        "requirements.beat_baseline_by",
        "must be less than 1",
    ),
    (
        "positive class on regression",
        lambda d: {**d, "positive_class": "yes"},
        "positive_class",
        "only a classification",
    ),
    (
        "calendar feature without a time column",
        lambda d: {
            **_set(d, "value.baseline", {"method": "mean"}),
            "time_column": None,
            "experiments": {
                "validation": {"method": "kfold"},
                "data_variants": {"v": {"features": ["month"]}},
            },
        },
        "experiments.data_variants.v.features[0]",
        "needs a time_column",
    ),
    (
        "bad source extension",
        lambda d: _set(d, "data.source", "data.xlsx"),
        "data.source",
        "must end in .csv",
    ),
    (
        "database without query",
        lambda d: _set(d, "data.source", "sqlite:///x.db"),
        "data.query",
        "needs the SQL",
    ),
]


@pytest.mark.parametrize("change, path, fragment", [c[1:] for c in STATIC_CASES], ids=[c[0] for c in STATIC_CASES])
def test_malformed_design_names_the_yaml_path(tmp_path: Path, change: Any, path: str, fragment: str) -> None:
    error = _error(tmp_path, change(minimal_design()))
    assert path in error.paths, f"expected {path!r} among {error.paths}: {error}"
    problem = next(p for p in error.problems if p.path == path)
    assert fragment in problem.message, str(error)
    assert str(error).startswith("mlcycle.yaml: ")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    design = _set(_set(minimal_design(), "requirements.latency_p95_ms", -5), "deployment.max_batch_rows", 0)
    error = _error(tmp_path, {**design, "extra": 1})
    assert {"extra", "requirements.latency_p95_ms", "deployment.max_batch_rows"} <= set(error.paths)
    assert "3 problems" in str(error)


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mlcycle.yaml"
    path.write_text("name: x\ntask: regression\ntarget: [units\n")
    with pytest.raises(DesignError, match=r"not valid YAML at line \d+, column \d+"):
        spec.load(path)


@pytest.mark.parametrize("content, fragment", [("", "the file is empty"), ("- a\n- b\n", "the file is a list")])
def test_design_must_be_a_mapping(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "mlcycle.yaml"
    path.write_text(content)
    with pytest.raises(DesignError, match=fragment):
        spec.load(path)


# ── layer 3: against the data ─────────────────────────────────────────────────────────
def _data_error(make_use_case: Any, design: dict[str, Any], frame: pd.DataFrame | None = None) -> DesignError:
    uc = mlcycle.UseCase.load(make_use_case(design, frame))
    with pytest.raises(DesignError) as caught:
        uc.data  # noqa: B018 - reading the data runs the checks
    return caught.value


def test_target_missing_from_data(make_use_case: Any) -> None:
    error = _data_error(make_use_case, {**minimal_design(), "target": "sales"})
    assert error.paths == ["target"]
    assert "target column 'sales' is not in the data; its columns are: date, item, price, units" in str(error)


def test_time_column_missing_from_data(make_use_case: Any) -> None:
    error = _data_error(make_use_case, {**minimal_design(), "time_column": "day"})
    assert "time_column" in error.paths


def test_time_column_with_non_dates(make_use_case: Any) -> None:
    frame = small_sales()
    frame.loc[3, "date"] = "not a date"
    error = _data_error(make_use_case, minimal_design(), frame)
    assert error.paths == ["time_column"]
    assert "'not a date'" in str(error)


def test_feature_missing_from_data(make_use_case: Any) -> None:
    design = _set(minimal_design(), "experiments.data_variants", {"v": {"features": ["item", "promo"]}})
    error = _data_error(make_use_case, design)
    assert error.paths == ["experiments.data_variants.v.features[1]"]


def _classification(**overrides: Any) -> dict[str, Any]:
    design = minimal_design(task="classification", target="churned", time_column=None, group_columns=[])
    design["value"] = {
        "predictions_per_period": 100,
        "payoff": {"true_positive": 400, "false_positive": -50, "false_negative": -1200},
    }
    design["experiments"] = {"data_variants": {"all": {}}}
    design.update(overrides)
    return design


def _churn_frame(labels: tuple[Any, Any] = ("Yes", "No"), n: int = 80) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenure": range(n),
            "spend": [i % 7 for i in range(n)],
            "churned": [labels[i % 3 == 0] for i in range(n)],
        }
    )


def test_classification_labels_need_a_positive_class(make_use_case: Any) -> None:
    error = _data_error(make_use_case, _classification(), _churn_frame())
    assert error.paths == ["positive_class"]
    assert "say which one counts as positive" in str(error)


def test_positive_class_must_be_a_label(make_use_case: Any) -> None:
    error = _data_error(make_use_case, _classification(positive_class="Maybe"), _churn_frame())
    assert error.paths == ["positive_class"]


def test_zero_one_labels_need_no_positive_class(make_use_case: Any) -> None:
    uc = mlcycle.UseCase.load(make_use_case(_classification(), _churn_frame((1, 0))))
    assert len(uc.data) == 80


def test_unreadable_data_source(make_use_case: Any) -> None:
    folder = make_use_case(_set(minimal_design(), "data.source", "data.parquet"))
    (folder / "data.parquet").write_bytes(b"this is not parquet at all")
    with pytest.raises(DesignError) as caught:
        mlcycle.UseCase.load(folder).data  # noqa: B018
    assert caught.value.paths == ["data.source"]
    assert "data.parquet could not be read" in str(caught.value)


def test_missing_data_file(make_use_case: Any) -> None:
    error = _data_error(make_use_case, _set(minimal_design(), "data.source", "nowhere.csv"))
    assert error.paths == ["data.source"]
    assert "does not exist" in str(error)


# ── defaults and the full example ─────────────────────────────────────────────────────
def test_defaults_fill_what_the_design_leaves_out(tmp_path: Path) -> None:
    design = spec.parse(minimal_design())
    assert design.metrics.data_scientist == ["mae", "rmse", "mape"]
    assert design.experiments.validation.method == "time_series_split"
    assert design.value.baseline.method == "seasonal_naive" and design.value.baseline.season == 7
    assert design.monitoring.drift.numeric == "wasserstein" and design.monitoring.drift.alert == "auto"
    assert design.monitoring.drift.consecutive == 1
    assert set(design.experiments.algorithms or {}) == {
        "ridge",
        "random_forest",
        "gradient_boosting",
        "lightgbm",
    }
    classification = spec.parse(_classification())
    assert classification.value.baseline.method == "majority_class"
    assert classification.experiments.validation.method == "stratified_kfold"


def test_bundled_example_is_valid_and_complete(example_dir: Path) -> None:
    design = spec.load(example_dir / "mlcycle.yaml")
    assert design.name == "store-sales" and design.task == "regression"
    assert design.variant_definition("with_lags") == {
        "features": ["item", "price", "day_of_week", "month", "is_holiday"],
        "lags": [7, 14, 28],
        "rolling_means": [7, 28],
    }
    assert design.requirements.quality is not None and design.requirements.quality.metric == "mae"
    assert design.data.train_until is not None


def test_every_key_of_the_design_reference_parses() -> None:
    """The full example of the design reference (with classification's payoff swapped in separately)."""
    full = yaml.safe_load(DESIGN_MD_EXAMPLE)
    design = spec.parse(full)
    assert spec.check_consistency(design) == []
    assert design.monitoring.alerts[1].url == "http://127.0.0.1:9000/hook"
    assert design.monitoring.drift.per_feature["price"].alert == 0.2
    assert design.value.horizon_periods == 12 and design.monitoring.review.min_labelled_rows == 200


DESIGN_MD_EXAMPLE = """
name: store-sales
description: Forecast daily unit sales per store and item so the shop orders the right amount.
task: regression
target: units
positive_class: null
time_column: date
group_columns: [store, item]
labels: {promo: "promotion running", price: "price"}
data:
  source: data/sales.csv
  query: null
  train_until: 2011-08-31
  holidays: GB
value:
  currency: EUR
  period: month
  predictions_per_period: 30000
  horizon_periods: 12
  baseline: {method: seasonal_naive, season: 7}
  cost:
    under_per_unit: 2.50
    over_per_unit: 0.80
  running_cost_per_period: 400
  development_budget: 20000
requirements:
  frequency: daily
  latency_p95_ms: 50
  quality: {metric: mape, max: 0.30}
  beat_baseline_by: 0.10
  explainability: per_prediction
  compliance:
    audit_log: true
    forbidden_features: []
  budget: {max_training_minutes: 10, team_size: 3}
metrics:
  data_scientist: [mae, rmse, mape]
  domain_expert: [stockout_rate, overstock_units, service_level]
  business: [net_value]
  primary: net_value
experiments:
  validation: {method: time_series_split, folds: 3}
  data_variants:
    calendar: {features: [store, item, price, promo, day_of_week, month]}
    with_lags: {extends: calendar, lags: [7, 14, 28], rolling_means: [7, 28]}
  algorithms:
    ridge: {alpha: {low: 0.001, high: 100, log: true}}
    random_forest: {n_estimators: {low: 50, high: 300}, max_depth: {low: 3, high: 16}}
    lightgbm: {num_leaves: {low: 8, high: 128}, learning_rate: {low: 0.01, high: 0.3, log: true}}
  search: {sampler: tpe, trials: 40, timeout_minutes: 10, executor: local, address: null}
deployment:
  mode: online
  max_batch_rows: 10000
  max_body_mb: 10
  log_retention_days: 365
monitoring:
  window: 7d
  drift:
    numeric: wasserstein
    categorical: jensen_shannon
    warn: 0.05
    alert: 0.1
    per_feature: {price: {alert: 0.2}}
  performance: {metric: mape, alert_above: 0.40}
  value: {alert_below_fraction_of_estimate: 0.5}
  review: {retire_after_windows: 4, min_labelled_rows: 200}
  alerts: [{kind: log}, {kind: webhook, url: "http://127.0.0.1:9000/hook"}]
"""


def _models() -> list[type]:
    from pydantic import BaseModel

    return [
        v
        for v in vars(spec).values()
        if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == spec.__name__ and v is not spec._Strict
    ]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_design_field_is_documented(model: type) -> None:
    undocumented = [name for name, field in model.model_fields.items() if not field.description]  # type: ignore[attr-defined]
    assert not undocumented, f"{model.__name__}: document {undocumented}"


def test_the_compliance_and_budget_keys_of_issue_14_parse_and_are_checked() -> None:
    full = yaml.safe_load(DESIGN_MD_EXAMPLE)
    full["requirements"]["compliance"] |= {
        "protected": ["store"],
        "max_disparity": {"metrics": ["mae", "under_forecast_rate"], "ratio": 0.8, "min_group_rows": 50},
        "proxy_max_auc": 0.75,
    }
    full["requirements"]["budget"] |= {"compute_cost_per_hour": 2.4, "team_day_cost": 650}
    full["model_card"] = {"intended_use": "store orders", "out_of_scope": ["pricing"], "owners": ["buying team"]}
    design = spec.parse(full)
    assert spec.check_consistency(design) == []
    assert design.requirements.compliance.max_disparity is not None
    assert design.requirements.compliance.max_disparity.limited("regression") == ["mae", "under_forecast_rate"]
    assert design.requirements.budget.team_day_cost == 650 and design.model_card.owners == ["buying team"]
    full["requirements"]["compliance"]["reasons_per_decision"] = (
        True  # a regression has no decision to give reasons for
    )
    problems = spec.check_consistency(spec.parse(full))
    assert [p.path for p in problems] == ["requirements.compliance.reasons_per_decision"]
    full["requirements"]["compliance"] |= {"reasons_per_decision": False, "protected": ["units"]}
    problems = spec.check_consistency(spec.parse(full))
    assert [p.path for p in problems] == ["requirements.compliance.protected[0]"] and "target" in problems[0].message
