"""Features: calendar, lags and rolling means per series — and no value from the future, ever."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlcycle
from mlcycle.data.features import FeatureBuilder, builder_for, calendar_features


def _panel(seed: int = 0, days: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days)
    frames = []
    for item in ("A", "B", "C"):
        keep = rng.random(days) > 0.15  # some days absent per series, like a closed shop
        frames.append(
            pd.DataFrame(
                {
                    "date": dates[keep],
                    "item": item,
                    "price": rng.uniform(1, 3, keep.sum()),
                    "units": rng.poisson(20, keep.sum()).astype(float),
                }
            )
        )
    return pd.concat(frames).sort_values(["date", "item"]).reset_index(drop=True)


def _builder() -> FeatureBuilder:
    return FeatureBuilder(
        target="units",
        features=["item", "price", "day_of_week"],
        time_column="date",
        group_columns=["item"],
        lags=[1, 7],
        rolling_means=[3, 7],
    )


def _brute_force(
    frame: pd.DataFrame, item: str, day: pd.Timestamp, lag: int | None = None, window: int | None = None
) -> float:
    series = frame[frame["item"] == item].set_index("date")["units"]
    if lag is not None:
        return float(series.get(day - pd.Timedelta(days=lag), np.nan))
    inside = series[(series.index < day) & (series.index >= day - pd.Timedelta(days=window))]
    return float(inside.mean()) if len(inside) else np.nan


def test_lags_and_means_equal_a_brute_force_computation() -> None:
    frame = _panel()
    built = _builder().fit(frame).transform(frame)
    for i in np.random.default_rng(1).choice(len(frame), 60, replace=False):
        item, day = frame.loc[i, "item"], frame.loc[i, "date"]
        for k in (1, 7):
            assert built.loc[i, f"units_lag_{k}"] == pytest.approx(_brute_force(frame, item, day, lag=k), nan_ok=True)
        for k in (3, 7):
            assert built.loc[i, f"units_mean_{k}"] == pytest.approx(
                _brute_force(frame, item, day, window=k), nan_ok=True
            )


def test_no_future_value_leaks_into_any_row() -> None:
    """Scramble every value from a day on; features of rows before that day must not move."""
    frame = _panel()
    before = _builder().fit(frame).transform(frame)
    for cut in pd.date_range("2024-01-10", "2024-03-10", freq="9D"):
        changed = frame.copy()
        future = changed["date"] >= cut
        changed.loc[future, "units"] = np.random.default_rng(2).poisson(500, future.sum())
        after = _builder().fit(changed).transform(changed)
        pd.testing.assert_frame_equal(before[~future], after[~future])
        # and the rows on the cut day itself still see only earlier days
        pd.testing.assert_frame_equal(before[changed["date"] == cut], after[changed["date"] == cut])


def test_no_value_crosses_series() -> None:
    frame = _panel()
    changed = frame.copy()
    changed.loc[changed["item"] == "A", "units"] = 10_000.0
    before = _builder().fit(frame).transform(frame)
    after = _builder().fit(changed).transform(changed)
    others = frame["item"] != "A"
    pd.testing.assert_frame_equal(before[others], after[others])


def test_new_rows_use_the_kept_history_only() -> None:
    frame = _panel()
    train, new = frame[frame["date"] < "2024-03-01"], frame[frame["date"] >= "2024-03-01"]
    builder = _builder().fit(train)
    online = builder.transform(new.drop(columns=["units"]).iloc[:3])  # the caller sends raw columns only
    first_day = new["date"].min()
    for j, (_, row) in enumerate(new.iloc[:3].iterrows()):
        expected = _brute_force(train, row["item"], row["date"], lag=1) if row["date"] == first_day else np.nan
        assert online.iloc[j]["units_lag_1"] == pytest.approx(expected, nan_ok=True)
        assert online.iloc[j]["units_mean_7"] == pytest.approx(_brute_force(train, row["item"], row["date"], window=7))
    kept = builder.history_.frame.groupby("item")["_step"].agg(["min", "max"])
    assert ((kept["max"] - kept["min"]) <= pd.Timedelta(days=7)).all()  # only each series' tail is kept


def test_missing_history_is_reported_not_zeroed() -> None:
    frame = _panel()
    builder = _builder().fit(frame)
    far = pd.DataFrame({"date": [pd.Timestamp("2025-06-01")], "item": ["A"], "price": [2.0]})
    assert builder.missing_history(far).tolist() == [True]
    assert builder.transform(far)["units_lag_1"].isna().all()
    fitted = builder.history_
    served = builder.extended_history(
        None, pd.DataFrame({"date": [pd.Timestamp("2025-05-31")], "item": ["A"], "units": [42.0]})
    )
    assert builder.transform(far, served)["units_lag_1"].tolist() == [42.0]
    assert builder.missing_history(far, history=served).tolist() == [False]
    # the table is the caller's: the fitted model reads what it was trained on, unchanged
    assert builder.history_ is fitted and builder.transform(far)["units_lag_1"].isna().all()


def test_calendar_features_and_holidays() -> None:
    days = pd.Series(pd.to_datetime(["2011-12-26", "2011-12-28", "2011-08-29"]))
    built = calendar_features(days, ["day_of_week", "month", "week_of_year", "is_weekend", "is_holiday"], "GB-ENG")
    assert built["day_of_week"].tolist() == [0, 2, 0]
    assert built["is_holiday"].tolist() == [1, 0, 1]  # Boxing Day (observed) and the August bank holiday


def test_builder_for_the_example_variants(example_dir) -> None:  # type: ignore[no-untyped-def]
    use_case = mlcycle.UseCase.load(example_dir)
    builder = builder_for(use_case.spec, "with_lags")
    assert builder.lags == [7, 14, 28] and builder.rolling_means == [7, 28]
    assert builder.raw_columns == ["date", "item", "price"]
    built = builder.fit(use_case.data).transform(use_case.data)
    assert list(built.columns) == [
        "item",
        "price",
        "day_of_week",
        "month",
        "is_holiday",
        "units_lag_7",
        "units_lag_14",
        "units_lag_28",
        "units_mean_7",
        "units_mean_28",
    ]
    assert built["units_lag_7"].notna().mean() > 0.9


def test_every_calendar_feature_the_design_accepts_can_be_built() -> None:
    from mlcycle.contract.spec import CALENDAR_FEATURES

    days = pd.Series(pd.date_range("2024-12-20", periods=20))
    built = calendar_features(days, list(CALENDAR_FEATURES), "GB")
    assert list(built.columns) == list(CALENDAR_FEATURES) and built.notna().all().all()


def test_the_one_calendar_agrees_with_pandas_over_three_decades() -> None:
    """The Pipeline and the lean path share calendar_values; pandas' own accessors are the reference."""
    import numpy as np

    from mlcycle.data.features import calendar_values

    t = pd.Series(pd.date_range("1999-12-20", "2031-01-10 23:00", freq="7h"))
    reference = {
        "day_of_week": t.dt.day_of_week,
        "day_of_month": t.dt.day,
        "day_of_year": t.dt.day_of_year,
        "week_of_year": t.dt.isocalendar().week.astype("int64"),
        "month": t.dt.month,
        "quarter": t.dt.quarter,
        "year": t.dt.year,
        "is_weekend": (t.dt.day_of_week >= 5).astype("int64"),
        "hour": t.dt.hour,
    }
    built = calendar_features(t, list(reference))
    for name, expected in reference.items():
        assert built[name].tolist() == expected.tolist(), name
    with_gap = np.array(["2024-01-01T10:00", "NaT"], dtype="datetime64[s]")
    assert np.isnan(calendar_values("day_of_week", with_gap)[1]) and calendar_values("is_weekend", with_gap)[1] == 0
    assert calendar_values("is_holiday", np.array(["2011-12-26", "NaT"], dtype="datetime64[s]"), "GB").tolist() == [
        1,
        0,
    ]


def test_a_model_pickled_with_its_history_as_a_frame_still_reads_it() -> None:
    """Models registered before the history was its own table kept a frame under ``history_``."""
    import pickle

    frame = _panel()
    builder = _builder().fit(frame)
    expected = builder.transform(frame.drop(columns=["units"]))
    old = builder.__dict__.copy()
    old["history_"], old["_cache"] = builder.history_.frame, None
    revived = _builder().__class__.__new__(type(builder))
    revived.__setstate__(pickle.loads(pickle.dumps(old)))
    pd.testing.assert_frame_equal(revived.transform(frame.drop(columns=["units"])), expected)
