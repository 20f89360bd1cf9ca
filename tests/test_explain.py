"""Every algorithm the search can pick is explainable: contributions add up, in the space they say.

One conformance suite over the registry: each algorithm × task (× calibration for classifiers),
fitted on data with a categorical column and missing values, must give per-row contributions
whose sum with the base value equals the model's own output — the prediction for regression,
the log-odds or the probability of the positive class for a classifier, as ``space`` says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from mlcycle.data.features import FeatureBuilder
from mlcycle.develop import algorithms
from mlcycle.explain import Explainer, check_additivity, reasons, sentence

FEATURES = ["size", "weight", "colour"]


def _data(n: int = 300) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=n),
            "weight": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], n),
        }
    )
    frame.loc[::9, "size"] = np.nan
    value = 3 * frame["weight"] + (frame["colour"] == "red") + rng.normal(0, 0.5, n)
    return frame, value.to_numpy(), (value > 0.4).to_numpy(dtype=float)


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for task in ("regression", "classification"):
        for name in algorithms.for_task(task):
            calibrations = ["none", "sigmoid", "isotonic"] if task == "classification" else ["none"]
            out += [(task, name, calibration) for calibration in calibrations]
    return out


@pytest.mark.parametrize(("task", "name", "calibration"), _cases(), ids=lambda v: str(v))
def test_contributions_add_up_for_every_algorithm(task: str, name: str, calibration: str) -> None:
    frame, value, label = _data()
    algorithm = algorithms.REGISTRY[name]
    params = {
        **algorithm.defaults_for(algorithms.Context(task=task, quantile=0.7)),
        "calibration": calibration,
    }
    pipeline = Pipeline(
        [
            ("features", FeatureBuilder(target="y", features=FEATURES)),
            ("prepare", algorithms.preprocessing(algorithm.family, FEATURES, ["colour"])),
            ("model", algorithm.estimator(params, algorithms.Context(task=task, quantile=0.7))),
        ]
    ).fit(frame, value if task == "regression" else label)
    explainer = Explainer(pipeline, task).fit(frame)
    rows = frame.head(25)
    output = pipeline.predict(rows) if task == "regression" else pipeline.predict_proba(rows)[:, 1]

    explanation = explainer.explain(rows)
    assert list(explanation.contributions.columns) == FEATURES
    if task == "regression":
        assert explanation.space == "value"
    else:
        assert explanation.space in ("log-odds", "probability")
    assert check_additivity(explainer, rows, output) < 1e-6
    # the feature that drives the target moves predictions most, whichever way it is explained
    strongest = explanation.contributions.abs().mean().idxmax()
    assert strongest == "weight", explanation.contributions.abs().mean()


def test_a_classifiers_sentence_names_its_space_and_probability() -> None:
    frame, _, label = _data()
    algorithm = algorithms.REGISTRY["logistic_regression"]
    pipeline = Pipeline(
        [
            ("features", FeatureBuilder(target="y", features=FEATURES)),
            ("prepare", algorithms.preprocessing("linear", FEATURES, ["colour"])),
            ("model", algorithm.estimator({"C": 1.0}, algorithms.Context(task="classification"))),
        ]
    ).fit(frame, label)
    explanation = Explainer(pipeline, "classification").fit(frame).explain(frame.head(1))
    text = sentence(
        "Yes",
        frame.iloc[0],
        explanation.contributions.iloc[0],
        labels={"weight": "parcel weight"},
        target="y",
        task="classification",
        space=explanation.space,
        probability=0.81,
        threshold=0.3,
    )
    assert text.startswith(
        "Predicted Yes (probability of the positive class 0.81, decided at 0.30 for the most money): "
    )
    assert "parcel weight" in text and "log-odds" in text


def test_a_decisions_reasons_are_the_features_pushing_towards_it_in_plain_words() -> None:
    row = pd.Series({"balance": 2300.0, "income": 12000.0, "years": 4.0, "plan": "basic"})
    contributions = pd.Series({"balance": 0.81, "income": 0.42, "years": -0.3, "plan": 0.05})
    typical = {"balance": 1200.0, "income": 38000.0, "years": 6.0}
    found, text = reasons(
        "declined", True, row, contributions, typical=typical, labels={}, target="default", space="log-odds"
    )
    assert [r["feature"] for r in found] == ["balance", "income", "plan"]  # years pushed the other way
    assert [r["level"] for r in found] == ["high", "low", None]
    assert text == (
        "declined mainly because: balance 2,300 is high (+0.81 log-odds); income 12,000 is low (+0.42 log-odds); "
        "plan basic (+0.05 log-odds)."
    )
    found, text = reasons(
        "approved",
        False,
        row,
        contributions,
        typical=typical,
        labels={"years": "years at the address"},
        target="default",
        space="log-odds",
    )
    assert [r["feature"] for r in found] == ["years"] and text == (
        "approved mainly because: years at the address 4 is low (-0.30 log-odds)."
    )


def test_reasons_hold_plain_json_values() -> None:
    import json

    row = pd.Series({"n": np.int64(3), "x": np.float64("nan")})
    found, _ = reasons(
        1, True, row, pd.Series({"n": 0.5, "x": 0.2}), typical={}, labels={}, target="y", space="log-odds"
    )
    assert json.loads(json.dumps(found))[0]["value"] == 3 and found[1]["value"] is None
