"""The metric catalogue against scikit-learn where it has the metric, and by hand where it does not."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from mlcycle.exceptions import DesignError
from mlcycle.metrics import CATALOGUE, CostModel, Scored, names, resolve
from mlcycle.metrics.catalogue import load_user_metric

REG_COST = CostModel(
    "regression",
    predictions_per_period=100,
    running_cost_per_period=50,
    under_per_unit=2.0,
    over_per_unit=0.5,
)
CLS_COST = CostModel(
    "classification",
    predictions_per_period=10,
    true_positive=100,
    false_positive=-10,
    false_negative=-300,
    true_negative=0,
)


@pytest.fixture()
def regression() -> Scored:
    rng = np.random.default_rng(7)
    y = rng.poisson(20, 500).astype(float) + 1
    return Scored(y, y + rng.normal(0, 4, 500), REG_COST)


@pytest.fixture()
def classification() -> Scored:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 400)
    score = np.clip(0.35 * y + rng.uniform(0, 0.65, 400), 0, 1)
    return Scored(y, (score >= 0.5).astype(int), CLS_COST, y_score=score)


@pytest.mark.parametrize(
    "name, reference",
    [
        ("mae", skm.mean_absolute_error),
        ("rmse", lambda y, p: math.sqrt(skm.mean_squared_error(y, p))),
        ("mape", skm.mean_absolute_percentage_error),  # no zero actuals here: the definitions agree
        ("r2", skm.r2_score),
    ],
)
def test_regression_metrics_match_scikit_learn(regression: Scored, name: str, reference) -> None:
    assert CATALOGUE[name](regression) == pytest.approx(reference(regression.y_true, regression.y_pred), rel=1e-12)


@pytest.mark.parametrize(
    "name, reference, uses_score",
    [
        ("accuracy", skm.accuracy_score, False),
        ("precision", skm.precision_score, False),
        ("recall", skm.recall_score, False),
        ("f1", skm.f1_score, False),
        ("roc_auc", skm.roc_auc_score, True),
        ("log_loss", skm.log_loss, True),
    ],
)
def test_classification_metrics_match_scikit_learn(
    classification: Scored, name: str, reference, uses_score: bool
) -> None:
    second = classification.y_score if uses_score else classification.y_pred
    assert CATALOGUE[name](classification) == pytest.approx(reference(classification.y_true, second), rel=1e-12)


def test_mape_leaves_out_zero_actuals() -> None:
    s = Scored(np.array([0.0, 10.0, 20.0]), np.array([5.0, 12.0, 15.0]), REG_COST)
    assert CATALOGUE["mape"](s) == pytest.approx((0.2 + 0.25) / 2)
    assert math.isnan(CATALOGUE["mape"](Scored(np.zeros(3), np.ones(3), REG_COST)))


def test_regression_domain_metrics_by_hand() -> None:
    # demand 10, 10, 0, 20 ; orders 8, 12, 3, 20
    s = Scored(np.array([10.0, 10, 0, 20]), np.array([8.0, 12, 3, 20]), REG_COST)
    assert CATALOGUE["stockout_rate"](s) == pytest.approx(1 / 4)
    assert CATALOGUE["overstock_units"](s) == pytest.approx((0 + 2 + 3 + 0) / 4)
    assert CATALOGUE["service_level"](s) == pytest.approx((8 + 10 + 0 + 20) / 40)
    assert CATALOGUE["forecast_bias"](s) == pytest.approx((43 - 40) / 40)
    assert CATALOGUE["bias"](s) == pytest.approx(3 / 4)
    assert CATALOGUE["under_prediction_rate"](s) == pytest.approx(1 / 4)
    assert CATALOGUE["within_10_percent"](s) == pytest.approx(1 / 4)  # only the exact 20; 12 is 20 % off 10


def test_classification_domain_metrics_by_hand() -> None:
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    pred = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    score = np.array([0.9, 0.4, 0.8, 0.1, 0.2, 0.1, 0.3, 0.2, 0.1, 0.7])
    s = Scored(y, pred, CLS_COST, y_score=score)
    assert CATALOGUE["false_alarm_rate"](s) == pytest.approx(1 / 7)
    assert CATALOGUE["miss_rate"](s) == pytest.approx(1 / 3)
    assert CATALOGUE["precision_at_k"](s) == pytest.approx(1.0)  # top 10 % = the single 0.9


def test_money_metrics_by_hand() -> None:
    y = np.array([10.0, 10.0])
    s = Scored(y, np.array([8.0, 11.0]), REG_COST, baseline_pred=np.array([4.0, 10.0]))
    # model loses (2 × 2.0 + 1 × 0.5) / 2 = 2.25 per prediction; baseline (6 × 2.0) / 2 = 6
    assert CATALOGUE["money_lost"](s) == pytest.approx(225.0)
    assert CATALOGUE["net_value"](s) == pytest.approx((6 - 2.25) * 100 - 50)
    assert math.isnan(CATALOGUE["net_value"](Scored(y, y, REG_COST)))  # no baseline, no comparison


def test_directions_and_ranking() -> None:
    assert CATALOGUE["mae"].is_better(1.0, 2.0)
    assert CATALOGUE["roc_auc"].is_better(0.9, 0.8)
    assert CATALOGUE["bias"].is_better(-0.1, 0.5)
    assert CATALOGUE["net_value"].direction == "higher"


def test_every_metric_fits_its_task_and_view() -> None:
    assert names("data_scientist", "regression") == ["mae", "rmse", "mape", "r2", "bias"]
    assert "f1" not in names("data_scientist", "regression")
    assert names("domain_expert", "classification") == ["false_alarm_rate", "miss_rate", "precision_at_k"]
    assert set(names("business", "regression")) == {"net_value", "money_lost"}


def test_metric_on_zero_rows_is_nan_never_a_number() -> None:
    empty = Scored(np.array([]), np.array([]), REG_COST)
    assert all(math.isnan(CATALOGUE[n](empty)) for n in names("data_scientist", "regression"))


def test_user_metric_from_the_use_case_folder(tmp_path: Path) -> None:
    (tmp_path / "metrics.py").write_text(
        "import numpy as np\n"
        "def within_10_percent(y_true, y_pred):\n"
        "    '''share of days within 10 % of demand'''\n"
        "    return float(np.mean(np.abs(y_pred - y_true) <= 0.1 * y_true))\n"
        "within_10_percent.greater_is_better = True\n"
    )
    metric = resolve("metrics.py:within_10_percent", tmp_path)
    assert metric.direction == "higher" and metric.view == "domain_expert"
    s = Scored(np.array([10.0, 10.0, 10.0, 10.0]), np.array([10.5, 12.0, 9.5, 5.0]), REG_COST)
    assert metric(s) == pytest.approx(0.5)


def test_user_metric_errors_name_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "metrics.py").write_text("def other(y, p):\n    return 0.0\n")
    with pytest.raises(DesignError, match="has no function 'missing'; functions there: other"):
        load_user_metric("metrics.py:missing", tmp_path)
    with pytest.raises(DesignError, match="does not exist"):
        load_user_metric("nope.py:f", tmp_path)


def test_user_metric_in_a_design_is_checked(make_use_case) -> None:  # type: ignore[no-untyped-def]
    from mlcycle.contract import spec
    from tests.conftest import minimal_design

    folder = make_use_case({**minimal_design(), "metrics": {"domain_expert": ["metrics.py:hit_rate"]}})
    with pytest.raises(DesignError) as caught:
        spec.load(folder / "mlcycle.yaml")
    assert caught.value.paths == ["metrics.domain_expert[0]"]
    (folder / "metrics.py").write_text("def hit_rate(y, p):\n    return 1.0\n")
    assert spec.load(folder / "mlcycle.yaml").metrics.domain_expert == ["metrics.py:hit_rate"]
