"""Classification end to end on credit-style data: labels "Yes"/"No", a payoff matrix, a money-chosen threshold."""

from __future__ import annotations

from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest

import mlcycle


def credit_frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.4, n)
    debt_ratio = rng.beta(2, 5, n)
    employment = rng.choice(["salaried", "self-employed", "none"], n, p=[0.7, 0.2, 0.1])
    risk = -2.2 + 3.5 * debt_ratio - 0.6 * np.log(income / 20_000) + 1.0 * (employment == "none")
    default = rng.random(n) < 1 / (1 + np.exp(-risk))
    return pd.DataFrame(
        {
            "income": income.round(0),
            "debt_ratio": debt_ratio.round(3),
            "employment": employment,
            "defaulted": np.where(default, "Yes", "No"),
        }
    )


def credit_design() -> dict[str, Any]:
    return {
        "name": "credit-risk",
        "task": "classification",
        "target": "defaulted",
        "positive_class": "Yes",
        "data": {"source": "data.csv"},
        "value": {
            "predictions_per_period": 1000,
            "running_cost_per_period": 500,
            "development_budget": 10_000,
            "payoff": {"true_positive": 900, "false_positive": -150, "false_negative": -1000},
        },
        "requirements": {"quality": {"metric": "roc_auc", "min": 0.6}, "latency_p95_ms": 200},
        "metrics": {
            "data_scientist": ["roc_auc", "f1", "log_loss"],
            "domain_expert": ["false_alarm_rate", "miss_rate"],
            "primary": "net_value",
        },
        "experiments": {
            "validation": {"method": "stratified_kfold", "folds": 3},
            "algorithms": {"logistic_regression": {}, "lightgbm": {"n_estimators": [60]}},
            "search": {"trials": 4},
        },
    }


@pytest.fixture(scope="module")
def credit(tmp_path_factory: pytest.TempPathFactory) -> mlcycle.UseCase:
    import yaml

    folder = tmp_path_factory.mktemp("credit")
    (folder / "mlcycle.yaml").write_text(yaml.safe_dump(credit_design()))
    credit_frame().to_csv(folder / "data.csv", index=False)
    return mlcycle.UseCase.load(folder)


def test_design_prices_the_majority_class_baseline(credit: mlcycle.UseCase) -> None:
    card = credit.design()
    share = (credit.data["defaulted"] == "Yes").mean()
    # always "No": every defaulter is missed, regret 900 − (−1000) = 1,900 each
    assert card.value.baseline_cost_per_prediction == pytest.approx(share * 1900)
    assert card.value.verdict == "go"


def test_search_decides_by_money_and_promotes_a_label_predicting_model(credit: mlcycle.UseCase) -> None:
    result = credit.experiment(executor="local", workers=2)
    assert result.count("complete") >= 2
    best = result.best
    assert best is not None and best.threshold is not None
    assert best.threshold < 0.5  # missing a defaulter costs far more than a false alarm
    assert best.value("net_value") > 0 and best.value("roc_auc") > 0.6
    report = credit.promote()
    assert report.registered
    mlflow.set_tracking_uri(f"sqlite:///{credit.state_dir / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model("models:/credit-risk@champion")
    decided = model.predict(credit.data.drop(columns=["defaulted"]).head(200))
    assert set(np.unique(decided)) <= {"Yes", "No"} and "Yes" in set(decided)


def test_calibration_is_a_searchable_choice(credit: mlcycle.UseCase) -> None:
    from mlcycle.develop.trial import TrialSpec, Workbench, fit_folds

    bench = Workbench.create(credit.spec, credit.training_data, credit.folder)
    spec = TrialSpec(0, "all", "logistic_regression", {"C": 1.0, "calibration": "isotonic"})
    assert type(bench.pipeline(spec).named_steps["model"]).__name__ == "CalibratedClassifierCV"
    predictions, _ = fit_folds(bench, spec, [0])
    assert ((predictions[0].predicted >= 0) & (predictions[0].predicted <= 1)).all()
