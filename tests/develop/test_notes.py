"""Library warnings of a fit become mlcycle's notes, or are dropped; none is printed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlcycle.develop.notes import recording, translate


def test_a_real_convergence_warning_is_translated_and_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 5)), rng.integers(0, 2, 200)
    notes: list[str] = []
    with recording("logistic_regression", notes):
        LogisticRegression(max_iter=1).fit(X, y)
        LogisticRegression(max_iter=1).fit(X, y)  # the same warning twice is one note
    assert notes == [
        "logistic_regression stopped at its iteration limit before converging: its fit may be poorer "
        "than it could be (stronger regularisation or fewer features usually help)"
    ]
    assert capsys.readouterr().err == ""


def test_warnings_that_mean_nothing_to_the_user_are_dropped() -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(frame, [0, 0, 1, 1])
    notes: list[str] = []
    with recording("logistic_regression", notes):
        model.predict(frame.to_numpy())  # scikit-learn: "X does not have valid feature names"
        warnings.warn("old API", FutureWarning, stacklevel=1)
    assert notes == []


def test_an_unknown_warning_keeps_its_library_text() -> None:
    notes: list[str] = []
    with recording("ridge", notes):
        warnings.warn("the matrix is ill-conditioned\nsecond line", UserWarning, stacklevel=1)
    assert notes == ["ridge: UserWarning: the matrix is ill-conditioned"]
    assert translate("RuntimeWarning", "overflow encountered in exp", "lightgbm").startswith(
        "lightgbm met numbers it could not compute with"
    )
