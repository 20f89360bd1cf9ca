"""Today's process as a forecaster: each row from strictly earlier values of its own series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcycle.contract import spec
from mlcycle.design import baseline
from tests.conftest import minimal_design


def _design(**baseline_spec: object) -> spec.Design:
    design = minimal_design()
    design["value"]["baseline"] = baseline_spec
    return spec.parse(design)


def _panel() -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=21)
    a = pd.DataFrame({"date": dates, "item": "A", "units": np.arange(21.0)})
    b = pd.DataFrame({"date": dates, "item": "B", "units": 100 + np.arange(21.0)})
    return pd.concat([a, b], ignore_index=True)


def test_seasonal_naive_is_the_same_day_a_season_ago_within_the_series() -> None:
    frame = _panel()
    predicted = baseline.predict(_design(method="seasonal_naive", season=7), frame, frame)
    expected = np.where(frame["date"] >= "2024-01-08", frame["units"] - 7, np.nan)
    np.testing.assert_array_equal(predicted, expected)


def test_seasonal_naive_reaches_back_a_further_season_when_the_day_is_absent() -> None:
    frame = _panel()
    closed = pd.Timestamp("2024-01-08")  # a closed day: absent for every series
    frame = frame[frame["date"] != closed].reset_index(drop=True)
    predicted = baseline.predict(_design(method="seasonal_naive", season=7), frame, frame)
    row = frame.index[(frame["date"] == "2024-01-15") & (frame["item"] == "A")][0]
    assert predicted[row] == 0.0  # 2024-01-01, two weeks back


def test_seasonal_naive_uses_history_for_new_rows_and_never_their_own_value() -> None:
    frame = _panel()
    history, rows = frame[frame["date"] < "2024-01-15"], frame[frame["date"] >= "2024-01-15"]
    predicted = baseline.predict(_design(method="seasonal_naive", season=7), history, rows)
    np.testing.assert_array_equal(predicted, rows["units"].to_numpy() - 7)


def test_last_value_is_strictly_before() -> None:
    frame = _panel()
    predicted = baseline.predict(_design(method="last_value"), frame, frame)
    expected = np.where(frame["date"] > "2024-01-01", frame["units"] - 1, np.nan)
    np.testing.assert_array_equal(predicted, expected)


def test_mean_is_per_series_from_history() -> None:
    frame = _panel()
    predicted = baseline.predict(_design(method="mean"), frame, frame)
    assert set(predicted) == {10.0, 110.0}


def test_column_baseline_reads_todays_predictions() -> None:
    frame = _panel().assign(buyer_order=7.0)
    design = _design(method="column", column="buyer_order")
    assert (baseline.predict(design, frame, frame) == 7.0).all()
    assert "buyer_order" in baseline.describe(design)


@pytest.mark.parametrize("method", ["seasonal_naive", "last_value"])
def test_lookups_ignore_time_of_day(method: str) -> None:
    frame = _panel()
    frame["date"] = frame["date"] + pd.Timedelta(hours=9)
    assert not np.isnan(baseline.predict(_design(method=method), frame, frame)[-1])
