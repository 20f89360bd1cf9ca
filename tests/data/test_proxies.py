"""Proxy detection: a feature that gives a forbidden column away is found and named; unrelated features are not."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
