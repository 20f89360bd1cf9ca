"""The lean online path gives the Pipeline's predictions, to 1e-6, for every algorithm family — or is not used."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlcycle
from mlcycle.deploy.fastpath import SPREAD_ROWS, FastPath
from mlcycle.develop.model import MlcycleModel
from mlcycle.develop.trial import TrialSpec, Workbench

SPECS = [
    ("with_lags", "lightgbm", {"objective": "quantile", "n_estimators": 60}),
    ("with_lags", "ridge", {"alpha": 3.0}),
    ("calendar", "ridge", {"alpha": 0.1}),
    ("with_lags", "random_forest", {"n_estimators": 20, "max_depth": 6, "min_samples_leaf": 3}),
    ("with_lags", "gradient_boosting", {"loss": "absolute_error", "max_iter": 40}),
]


@pytest.fixture(scope="module")
def bench(example_dir: Any) -> Workbench:
    uc = mlcycle.UseCase.load(example_dir)
    return Workbench.create(uc.spec, uc.training_data, uc.folder)


@pytest.mark.parametrize("variant, algorithm, params", SPECS, ids=[f"{a}-{v}" for v, a, _ in SPECS])
def test_fast_path_equals_the_pipeline(
    bench: Workbench, example_dir: Any, variant: str, algorithm: str, params: dict[str, Any]
) -> None:
    uc = mlcycle.UseCase.load(example_dir)
    pipeline = bench.pipeline(TrialSpec(0, variant, algorithm, params)).fit(bench.frame, bench.target(bench.frame))
    inputs = pipeline.named_steps["features"].raw_columns
    model = MlcycleModel(pipeline, task="regression", input_columns=inputs)
    days = uc.data[(uc.data["date"] > "2011-08-31") & (uc.data["date"] <= "2011-09-20")][inputs]
    days = days.assign(price=days["price"].where(np.arange(len(days)) % 11 != 0))  # some missing prices too
    fast = FastPath.compile(model, days.head(20))
    assert fast is not None
    records = days.assign(date=days["date"].dt.strftime("%Y-%m-%d")).astype(object).where(days.notna(), None)
    assert len(days) >= SPREAD_ROWS  # a large request: LightGBM's trees walked on every core
    got, missing = fast.predict(records.to_dict("records"))
    want = model.predict_value(days)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert not missing.any()


def test_rows_without_history_are_flagged(bench: Workbench) -> None:
    pipeline = bench.pipeline(TrialSpec(0, "with_lags", "lightgbm", {"n_estimators": 20})).fit(
        bench.frame, bench.target(bench.frame)
    )
    model = MlcycleModel(pipeline, task="regression", input_columns=["date", "item", "price"])
    fast = FastPath.compile(
        model, pd.DataFrame({"date": pd.to_datetime(["2011-09-01"]), "item": ["85123A"], "price": [2.55]})
    )
    assert fast is not None
    _, missing = fast.predict(
        [
            {"date": "2011-09-01", "item": "85123A", "price": 2.5},
            {"date": "2012-06-01", "item": "85123A", "price": 2.5},
        ]
    )
    assert missing.tolist() == [False, True]


def test_a_fast_path_that_disagrees_is_not_used(bench: Workbench) -> None:
    pipeline = bench.pipeline(TrialSpec(0, "calendar", "ridge", {})).fit(bench.frame, bench.target(bench.frame))
    model = MlcycleModel(pipeline, task="regression", input_columns=["date", "item", "price"])
    rows = pd.DataFrame({"date": pd.to_datetime(["2011-09-01"]), "item": ["85123A"], "price": [2.55]})
    assert FastPath.compile(model, rows) is not None
    pipeline.named_steps["model"].coef_ = pipeline.named_steps["model"].coef_ * 2  # now the two would disagree…
    model.predict_value = lambda frame: np.array([123.0])  # type: ignore[method-assign]  # …with this reference
    assert FastPath.compile(model, rows) is None


def test_a_numeric_stock_code_is_the_same_category_on_both_paths(served: Any) -> None:
    _, client = served
    as_text = client.post("/predict", json={"records": [{"date": "2011-09-01", "item": "22197", "price": 0.85}]})
    as_number = client.post("/predict", json={"records": [{"date": "2011-09-01", "item": 22197, "price": 0.85}]})
    explained = client.post(
        "/predict", json={"records": [{"date": "2011-09-01", "item": 22197, "price": 0.85}], "explain": True}
    )  # explanations take the Pipeline
    assert as_text.json()["predictions"] == as_number.json()["predictions"]
    assert explained.json()["predictions"][0] == pytest.approx(as_text.json()["predictions"][0], abs=1e-6)
    assert client.app.state.serving.current.fast is not None
