"""Proxy detection: a feature that gives a forbidden column away is found and named; unrelated features are not."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlcycle.data.proxies import measure


def applicants(seed: int = 0, *, planted: bool = True, n: int = 3_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    # the postcode area: a noisy copy of the group — 80 % of people live where their group mostly lives
    home = {"a": "N1", "b": "E2", "c": "S3"}
    area = np.where(rng.random(n) < 0.8, [home[g] for g in group], rng.choice(["N1", "E2", "S3", "W4"], n))
    return pd.DataFrame(
        {
            "group": group,
            "area": area if planted else rng.choice(["N1", "E2", "S3", "W4"], n),
            "income": rng.lognormal(10, 0.5, n),
            "age": rng.integers(18, 80, n),
            "score": rng.normal(600, 50, n) + (30 * (group == "a") if planted else 0),
        }
    )


def test_a_noisy_copy_of_a_forbidden_column_is_found_and_named() -> None:
    found = measure(applicants(), "group", ["area", "income", "age", "score"])
    assert found.measure == "roc_auc" and found.score > 0.8
    assert found.strongest[0][0] == "area"
    assert "strongest: area" in found.describe()


def test_features_that_say_nothing_of_the_column_score_near_chance() -> None:
    found = measure(applicants(planted=False), "group", ["area", "income", "age", "score"])
    assert 0.4 < found.score < 0.6


def test_a_numeric_column_is_measured_by_r2() -> None:
    frame = applicants()
    frame["age_noisy"] = frame["age"] + np.random.default_rng(1).normal(0, 5, len(frame))
    found = measure(frame, "age", ["age_noisy", "income", "area"])
    assert found.measure == "r2" and found.score > 0.8 and found.strongest[0][0] == "age_noisy"
    missing = frame.assign(age=frame["age"].where(frame.index % 3 != 0))
    assert measure(missing, "age", ["age_noisy", "income"]).rows == int(missing["age"].notna().sum())


def _design(proxy_max_auc: float = 0.7) -> dict:
    return {
        "name": "credit",
        "task": "classification",
        "target": "default",
        "data": {"source": "data.csv"},
        "value": {
            "predictions_per_period": 1_000,
            "baseline": {"method": "majority_class"},
            "payoff": {"true_positive": 100, "false_positive": -20, "false_negative": -300, "true_negative": 0},
        },
        "requirements": {"compliance": {"forbidden_features": ["group"], "proxy_max_auc": proxy_max_auc}},
        "experiments": {
            "validation": {"method": "stratified_kfold", "folds": 3},
            "data_variants": {"plain": {"features": ["area", "income", "age", "score"]}},
        },
    }


def _frame(planted: bool) -> pd.DataFrame:
    frame = applicants(planted=planted)
    rng = np.random.default_rng(2)
    frame["default"] = (rng.random(len(frame)) < 1 / (1 + np.exp((frame["score"] - 600) / 40))).astype(int)
    return frame


@pytest.mark.parametrize("planted", [True, False])
def test_the_data_check_and_the_gate_refuse_a_proxy_and_pass_without_one(load: Any, planted: bool) -> None:
    from mlcycle.develop import gate
    from mlcycle.develop.trial import TrialSpec

    uc = load(_design(), _frame(planted))
    issues = [i for i in uc.check_data() if i.check == "proxy"]
    chosen = gate.Candidate("run", TrialSpec(1, "plain", "logistic_regression", {}), {})
    rows = {
        r.requirement: r
        for r in gate.evaluate(uc.workspace, chosen, latency_p95_ms=1, additivity_gap=0, refit_minutes=0)
    }
    row = rows["no proxy for forbidden group"]
    if planted:
        assert issues and issues[0].column == "group" and "strongest: area" in issues[0].message
        assert "proxy_max_auc (0.7)" in issues[0].message
        assert not row.passed and "strongest: area" in row.detail and row.threshold == "roc_auc ≤ 0.7"
    else:
        assert issues == [] and row.passed
