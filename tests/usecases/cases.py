"""The zoo: use cases written only from the design reference, each unlike the bundled example.

Every case is a design (a dict, written to ``mlcycle.yaml``), its data (generated with a seed,
or taken from scikit-learn's bundled datasets) and the traffic served once its model is
promoted, with the actuals that come back. Between them the cases cover both tasks, every
kind of time column, every baseline method, drift statistic, validation method and
algorithm — see the table in ``test_zoo.py``. ``expect`` says what the loop must find: the
champion's algorithm, the gate's verdict (or the exact requirement that refuses it), the
columns whose drift is deliberate, and the review's verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Served:
    """Traffic for the served model: rows in the order they arrive, and their actuals."""

    rows: pd.DataFrame  # input columns (and the time column) as callers send them
    actuals: list[Any]  # what really happened, one per row, as the data writes it
    batches: list[np.ndarray]  # row positions per request, in order (a day, an hour …)
    feedback_by_keys: bool = False  # send actuals by series keys + time instead of request id


@dataclass(frozen=True)
class Expect:
    champion: str  # the algorithm the gate sees
    gate_fails: tuple[str, ...] = ()  # requirements that must refuse it; () = must pass
    design_go: bool = True
    drifted: tuple[str, ...] = ()  # input columns shifted on purpose: each must alert
    steady: tuple[str, ...] = ()  # input columns left alone: none may alert
    verdict: str = "healthy"
    unfair: tuple[str, ...] = ()  # protected columns whose groups are treated apart on purpose: past max_disparity


@dataclass(frozen=True)
class Case:
    name: str
    summary: str  # task · time · columns, for the table in the issue note
    design: dict[str, Any]
    data: Callable[[], pd.DataFrame]
    served: Callable[[pd.DataFrame], Served]
    expect: Expect
    trials: int = 4
    window: str | None = None  # `mlcycle monitor --window`; None = the design's
    extra: dict[str, Any] = field(default_factory=dict)


def _value(**money: Any) -> dict[str, Any]:
    return {
        "currency": "EUR",
        "period": "month",
        "horizon_periods": 12,
        "development_budget": 5000,
        "running_cost_per_period": 100,
        **money,
    }


# ── A: classification, labels "Yes"/"No", no time column ───────────────────────────────
def churn_data(n: int = 1500, seed: int = 1, north_share: float = 0.25) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    others = (1 - north_share) / 3
    region = rng.choice(["north", "south", "east", "west"], n, p=[north_share, others, others, others])
    age = rng.integers(18, 80, n)
    income = rng.normal(40_000, 12_000, n).round(0)
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(1, 72, n)
    logit = (
        -1.0
        + 0.03 * (45 - age)
        + 1.0 * (plan == "basic")
        + 0.8 * (region == "north")
        - 0.03 * tenure
        - 0.00002 * (income - 40_000)
    )
    churn = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    income[rng.random(n) < 0.05] = np.nan  # missing values in a feature
    return pd.DataFrame(
        {
            "age": age,
            "income": income,
            "region": region,
            "plan": plan,
            "tenure_months": tenure,
            "churn": churn,
        }
    )


def churn_served(_: pd.DataFrame) -> Served:
    fresh = churn_data(600, seed=7, north_share=0.7)  # the north now brings most customers
    return Served(fresh.drop(columns=["churn"]), list(fresh["churn"]), [np.array([i]) for i in range(len(fresh))])


CHURN = Case(
    "churn-yes-no",
    "classification · no time · labels 'Yes'/'No', numeric + categorical, missing income",
    {
        "name": "churn",
        "task": "classification",
        "target": "churn",
        "positive_class": "Yes",
        "labels": {"tenure_months": "months as a customer", "plan": "price plan"},
        "data": {"source": "data/customers.csv.gz"},
        "value": _value(
            currency="USD",
            predictions_per_period=1000,
            payoff={"true_positive": 400, "false_positive": -50, "false_negative": -1200},
        ),
        "requirements": {
            "latency_p95_ms": 50,
            "quality": {"metric": "roc_auc", "min": 0.6},
            "beat_baseline_by": 0.05,
            "explainability": "per_prediction",
        },
        "metrics": {"business": ["net_value"], "primary": "net_value"},
        "experiments": {
            "algorithms": {"logistic_regression": {"C": [0.1, 1.0, 10.0], "calibration": ["none", "sigmoid"]}},
            "search": {"sampler": "grid"},
        },
        "monitoring": {
            "window": "1d",
            "drift": {"numeric": "ks", "categorical": "chi2"},
            "review": {"min_labelled_rows": 100},
        },
    },
    churn_data,
    churn_served,
    Expect(
        "logistic_regression",
        drifted=("region",),
        steady=("age", "income", "plan", "tenure_months"),
        verdict="retrain",
    ),
    extra={"retrain": True},
)


# ── B: regression, daily, one series, weather, lags, integer target ────────────────────
def rentals_data(seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    n = len(dates)
    temperature = rng.normal(15, 5, n).round(1)
    rain = np.round(rng.gamma(0.6, 3, n), 1)
    weekday = (dates.day_of_week < 5).astype(float)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.6 * noise[i - 1] + rng.normal(0, 15)
    rentals = np.maximum(0, 200 + 8 * temperature - 12 * rain + 40 * weekday + noise).round().astype(int)
    return pd.DataFrame(
        {"day": dates.strftime("%Y-%m-%d"), "temperature": temperature, "rain_mm": rain, "rentals": rentals}
    )


def after(frame: pd.DataFrame, time_column: str, cut: str, target: str, *, feedback_by_keys: bool = False) -> Served:
    """The rows after the day ``cut`` (the design's ``train_until``), one request per time step, in time order."""
    later = frame[pd.to_datetime(frame[time_column]) >= pd.Timestamp(cut) + pd.Timedelta(days=1)]
    later = later.sort_values(time_column, kind="stable").reset_index(drop=True)
    steps = later[time_column]
    batches = [np.flatnonzero((steps == value).to_numpy()) for value in pd.unique(steps)]
    return Served(later.drop(columns=[target]), list(later[target]), batches, feedback_by_keys)


def rentals_served(frame: pd.DataFrame) -> Served:
    return after(frame, "day", "2024-10-31", "rentals", feedback_by_keys=True)


RENTALS = Case(
    "bike-rentals",
    "regression · daily, one series · weather features, lags 1/7, integer target",
    {
        "name": "bike-rentals",
        "task": "regression",
        "target": "rentals",
        "time_column": "day",
        "data": {"source": "data/rentals.csv", "train_until": "2024-10-31", "holidays": "GB-ENG"},
        "value": _value(
            period="week",
            predictions_per_period=7,
            cost={"under_per_unit": 3.0, "over_per_unit": 1.0},
            running_cost_per_period=10,
            horizon_periods=52,
        ),
        "requirements": {
            "quality": {"metric": "mae", "max": 80},
            "beat_baseline_by": 0.05,
            "explainability": "per_prediction",
        },
        "metrics": {"business": ["net_value"], "primary": "net_value"},
        "experiments": {
            "data_variants": {
                "weather": {
                    "features": ["temperature", "rain_mm", "day_of_week", "is_holiday"],
                    "lags": [1, 7],
                    "rolling_means": [7],
                }
            },
            "algorithms": {"ridge": {}},
        },
        "deployment": {"mode": "batch", "max_batch_rows": 50},
        # a webhook nobody listens on: a failing sink is reported, never fatal
        "monitoring": {
            "review": {"min_labelled_rows": 20},
            "alerts": [
                {"kind": "log"},
                {"kind": "webhook", "url": "http://127.0.0.1:9/hook", "timeout_seconds": 0.5, "retries": 0},
            ],
        },
    },
    rentals_data,
    rentals_served,
    Expect("ridge", steady=("temperature", "rain_mm"), verdict="healthy"),
)


# ── C: regression, daily, many series (two keys), missing prices, a price shift ────────
def panel_data(seed: int = 3, days: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    base_price = {"apples": 2.0, "bread": 1.5, "cheese": 6.0, "dates": 4.0}
    base_units = {"apples": 30, "bread": 50, "cheese": 8, "dates": 12}
    rows = []
    for store in ("S1", "S2", "S3"):
        size = {"S1": 1.0, "S2": 1.5, "S3": 0.7}[store]
        for item, price0 in base_price.items():
            for day in dates:
                shifted = day > dates[200]
                price = price0 * (1.6 if shifted else 1.0) * (1 + rng.normal(0, 0.05))
                promo = int(rng.random() < 0.2)
                mean = (
                    base_units[item]
                    * size
                    * (price / price0) ** -1.2
                    * (1.6 if promo else 1.0)
                    * (1.3 if day.day_of_week == 5 else 1.0)
                )
                rows.append(
                    {
                        "date": day.strftime("%Y-%m-%d"),
                        "store": store,
                        "item": item,
                        "price": round(price, 2) if rng.random() > 0.1 else np.nan,
                        "promo": promo,
                        "units": int(rng.poisson(mean)),
                    }
                )
    return pd.DataFrame(rows)


def panel_served(frame: pd.DataFrame) -> Served:
    return after(frame, "date", "2024-07-19", "units")


PANEL = Case(
    "shop-panel",
    "regression · daily, many series (store × item) · missing prices, integer target, price shift",
    {
        "name": "shop-panel",
        "task": "regression",
        "target": "units",
        "time_column": "date",
        "group_columns": ["store", "item"],
        "data": {"source": "data/panel.parquet", "train_until": "2024-07-19"},
        "value": _value(
            currency="GBP",
            predictions_per_period=360,
            cost={"under_per_unit": 1.0, "over_per_unit": 0.4},
            baseline={"method": "last_value"},
        ),
        "requirements": {"explainability": "global", "beat_baseline_by": 0.05},
        "experiments": {
            "data_variants": {
                "lags": {
                    "features": ["store", "item", "price", "promo", "day_of_week"],
                    "lags": [7],
                    "rolling_means": [7],
                }
            },
            "algorithms": {"lightgbm": {"n_estimators": {"low": 50, "high": 150}}},
            "search": {"sampler": "random"},
        },
        "monitoring": {"window": "2w", "drift": {"statistic": "psi"}, "review": {"min_labelled_rows": 100}},
    },
    panel_data,
    panel_served,
    Expect("lightgbm", drifted=("price",), steady=("store", "item", "promo"), verdict="retrain"),
)


# ── D: regression, hourly, lags and windows in hours, only the primary metric ─────────
def load_data(seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2024-03-04", periods=63 * 24, freq="h")
    temperature = rng.normal(12, 3, len(times)).round(1)
    daily = 30 * np.sin(2 * np.pi * (times.hour - 6) / 24)
    weekday = 15 * (times.day_of_week < 5)
    load = 100 + daily + weekday - 1.5 * (temperature - 12) + rng.normal(0, 4, len(times))
    return pd.DataFrame(
        {
            "hour_start": times.strftime("%Y-%m-%d %H:%M:%S"),
            "temperature": temperature,
            "load_mw": load.round(2),
        }
    )


def load_served(frame: pd.DataFrame) -> Served:
    return after(frame, "hour_start", "2024-04-28", "load_mw", feedback_by_keys=True)


LOAD = Case(
    "hourly-load",
    "regression · hourly, one series · lags 1/24 h, window 24 h, only money as a metric",
    {
        "name": "grid-load",
        "task": "regression",
        "target": "load_mw",
        "time_column": "hour_start",
        "time_unit": "hour",
        "data": {"source": "data/load.csv", "train_until": "2024-04-28"},
        "value": _value(
            period="day",
            predictions_per_period=24,
            cost={"under_per_unit": 5.0, "over_per_unit": 2.0},
            running_cost_per_period=5,
            development_budget=500,
            horizon_periods=90,
            baseline={"method": "seasonal_naive", "season": 24},
        ),
        "requirements": {"frequency": "hourly", "explainability": "none"},
        "metrics": {
            "data_scientist": [],
            "domain_expert": [],
            "business": ["money_lost"],
            "primary": "money_lost",
        },
        "experiments": {
            "data_variants": {
                "hours": {
                    "features": ["temperature", "hour", "day_of_week"],
                    "lags": [1, 24],
                    "rolling_means": [24],
                }
            },
            "algorithms": {"gradient_boosting": {"max_iter": {"low": 50, "high": 150}}},
        },
        "monitoring": {"window": "1d", "drift": {"numeric": "ks"}, "review": {"min_labelled_rows": 50}},
    },
    load_data,
    load_served,
    Expect("gradient_boosting", steady=("temperature",), verdict="healthy"),
    window="12h",
)


# ── E: classification 0/1, rare positives, 300 merchants, odd column names ──────────────
def fraud_data(n: int = 4000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, 301) ** 0.8
    merchant = rng.choice([f"m{i:03d}" for i in range(300)], n, p=weights / weights.sum())
    amount = np.round(rng.lognormal(3.5, 1.0, n), 2)
    signup = rng.integers(0, 2000, n)
    channel = rng.choice(["web", "app", "pos"], n, p=[0.4, 0.3, 0.3])
    gender = rng.choice(["F", "M"], n)
    risky = np.isin(merchant, [f"m{i:03d}" for i in range(0, 300, 15)])
    logit = -5.2 + 1.6 * (amount > 100) + 1.5 * (signup < 60) + 0.8 * (channel == "web") + 1.8 * risky
    fraud = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "merchant": merchant,
            "montant €": amount,
            "days since signup": signup,
            "channel": channel,
            "currency": "EUR",
            "gender": gender,
            "rule_flag": (amount > 400).astype(int),
            "fraud": fraud,
        }
    )


def fraud_served(_: pd.DataFrame) -> Served:
    fresh = fraud_data(600, seed=11)
    return Served(
        fresh.drop(columns=["fraud"]),
        [int(v) for v in fresh["fraud"]],
        [np.arange(i, min(i + 20, len(fresh))) for i in range(0, len(fresh), 20)],
    )


FRAUD = Case(
    "fraud-rare",
    "classification · no time · 0/1 labels, ~3 % positive, 300 merchants, constant column, names with spaces and €",
    {
        "name": "card-fraud",
        "task": "classification",
        "target": "fraud",
        "data": {"source": "data/transactions.csv"},
        "value": _value(
            period="quarter",
            predictions_per_period=30_000,
            horizon_periods=4,
            baseline={"method": "column", "column": "rule_flag"},
            payoff={"true_positive": 200, "false_positive": -10, "false_negative": -300, "true_negative": 0},
        ),
        "requirements": {
            "quality": {"metric": "roc_auc", "min": 0.65},
            "explainability": "per_prediction",
            "compliance": {"audit_log": True, "forbidden_features": ["gender"]},
        },
        "metrics": {
            "data_scientist": ["roc_auc", "recall"],
            "domain_expert": ["precision_at_k", "false_alarm_rate"],
            "business": ["net_value"],
            "primary": "net_value",
        },
        "experiments": {
            "validation": {"method": "kfold", "folds": 3},
            "algorithms": {"random_forest": {"n_estimators": {"low": 50, "high": 120}}},
        },
        "monitoring": {
            "drift": {
                "numeric": "wasserstein",
                "categorical": "jensen_shannon",
                "per_feature": {"merchant": {"alert": 0.5}},
            },
            "review": {"min_labelled_rows": 200},
        },
    },
    fraud_data,
    fraud_served,
    Expect("random_forest", steady=("montant €", "days since signup", "channel", "currency"), verdict="healthy"),
)


# ── F: classification with booleans, daily stations, calibrated LightGBM ───────────────
def rain_data(seed: int = 6, days: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    rows = []
    for station in [f"st{i:02d}" for i in range(30)]:
        wet = rng.normal(0, 0.5)
        for day in dates:
            humidity = float(np.clip(rng.normal(70 + 10 * wet, 12), 10, 100))
            pressure = rng.normal(1013, 8)
            logit = -1 + 0.12 * (humidity - 70) - 0.15 * (pressure - 1013)
            rows.append(
                {
                    "date": day.strftime("%Y-%m-%d"),
                    "station": station,
                    "température": round(rng.normal(14, 4), 1),
                    "humidity": round(humidity, 1),
                    "pressure": round(pressure, 1),
                    "country": "FR",
                    "rain": bool(rng.random() < 1 / (1 + np.exp(-logit))),
                }
            )
    return pd.DataFrame(rows)


def rain_served(frame: pd.DataFrame) -> Served:
    return after(frame, "date", "2024-09-26", "rain")


RAIN = Case(
    "rain-bool",
    "classification · daily, many series (station) · True/False labels, unicode name, constant column, "
    "calibrated probabilities",
    {
        "name": "rain-alert",
        "task": "classification",
        "target": "rain",
        "time_column": "date",
        "group_columns": ["station"],
        "data": {"source": "data/stations.csv", "train_until": "2024-09-26"},
        "value": _value(
            predictions_per_period=900,
            baseline={"method": "seasonal_naive", "season": 1},
            payoff={"true_positive": 30, "false_positive": -5, "false_negative": -40},
        ),
        "requirements": {"explainability": "per_prediction", "latency_p95_ms": 200},
        "metrics": {
            "data_scientist": ["accuracy", "recall"],
            "domain_expert": ["precision_at_k"],
            "business": ["money_lost"],
            "primary": "money_lost",
        },
        "experiments": {
            "data_variants": {
                "weather": {
                    "features": ["station", "température", "humidity", "pressure", "country"],
                    "lags": [1],
                }
            },
            "algorithms": {"lightgbm": {"calibration": ["sigmoid"], "n_estimators": [100]}},
        },
        "monitoring": {
            "window": "14d",
            "drift": {"numeric": "psi", "categorical": "jensen_shannon"},
            "review": {"min_labelled_rows": 200},
        },
    },
    rain_data,
    rain_served,
    Expect("lightgbm", steady=("température", "humidity", "pressure", "station", "country"), verdict="healthy"),
    extra={"retrain": True},
)


# ── G: regression without time, scikit-learn's bundled diabetes data ───────────────────
def diabetes_data() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True)
    rng = np.random.default_rng(8)
    frame = bunch.frame.rename(columns={"target": "progression"}).sample(frac=1, random_state=8).reset_index(drop=True)
    frame.loc[rng.random(len(frame)) < 0.08, "s5"] = np.nan
    return frame


def diabetes_served(_: pd.DataFrame) -> Served:
    later = diabetes_data().iloc[300:].reset_index(drop=True)  # the 142 patients the model never saw
    rows = later.drop(columns=["progression"]).assign(bmi=later["bmi"] + 0.04)  # a heavier population
    return Served(
        rows,
        list(later["progression"]),
        [np.arange(i, min(i + 10, len(rows))) for i in range(0, len(rows), 10)],
    )


DIABETES = Case(
    "diabetes",
    "regression · no time · scikit-learn's bundled diabetes data, missing s5, a bmi shift",
    {
        "name": "diabetes-progression",
        "task": "regression",
        "target": "progression",
        "data": {"source": "data/diabetes.csv"},
        "value": _value(predictions_per_period=500, cost={"under_per_unit": 2.0, "over_per_unit": 1.0}),
        "requirements": {"quality": {"metric": "r2", "min": 0.2}, "explainability": "per_prediction"},
        "metrics": {
            "data_scientist": ["r2", "rmse"],
            "domain_expert": [],
            "business": ["net_value"],
            "primary": "net_value",
        },
        "experiments": {
            "validation": {"method": "kfold", "folds": 4},
            "algorithms": {"random_forest": {"n_estimators": {"low": 50, "high": 120}}},
        },
        # 142 patients a window: KS moves past 0.1 by chance at that size, so this design alerts at 0.2
        "monitoring": {
            "drift": {"numeric": "ks", "warn": 0.1, "alert": 0.2},
            "review": {"min_labelled_rows": 100},
        },
    },
    lambda: diabetes_data().iloc[:300].reset_index(drop=True),
    diabetes_served,
    Expect("random_forest", drifted=("bmi",), steady=("age", "bp", "s1", "s2"), verdict="retrain"),
)


# ── H: a use case that does not pay: no-go, the gate refuses, forced, then retired ─────
def noise_data(seed: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    return pd.DataFrame(
        [
            {
                "date": d.strftime("%Y-%m-%d"),
                "shop": shop,
                "footfall": int(rng.poisson(400)),
                "sales": int(rng.poisson(20)),
            }
            for shop in ("north", "south")
            for d in dates
        ]
    )


def noise_served(frame: pd.DataFrame) -> Served:
    return after(frame, "date", "2024-04-01", "sales")


NOISE = Case(
    "no-signal",
    "regression · daily, two series · no signal at all, running cost above any saving",
    {
        "name": "no-signal",
        "task": "regression",
        "target": "sales",
        "time_column": "date",
        "group_columns": ["shop"],
        "data": {"source": "data/sales.csv", "train_until": "2024-04-01"},
        "value": _value(
            predictions_per_period=60,
            cost={"under_per_unit": 1.0, "over_per_unit": 1.0},
            running_cost_per_period=5000,
        ),
        "requirements": {"quality": {"metric": "mae", "max": 0.5}},
        "experiments": {
            "data_variants": {"plain": {"features": ["shop", "footfall", "day_of_week"]}},
            "algorithms": {"ridge": {}},
        },
        "monitoring": {"review": {"retire_after_windows": 3, "min_labelled_rows": 30}},
    },
    noise_data,
    noise_served,
    Expect(
        "ridge",
        gate_fails=("quality: mae", "positive added value after running cost"),
        design_go=False,
        verdict="retire",
    ),
)


# ── I: credit decisions, a forbidden gender with a planted proxy and a planted disparity ──
def loans_data(n: int = 3000, seed: int = 12, *, proxy: bool = True, disparity: bool = True) -> pd.DataFrame:
    """Loan applications and whether they defaulted. ``gender`` is protected and forbidden as an input.

    The planted problems, each removable: ``title`` ("Mr"/"Ms") gives gender away in 90 % of rows (a proxy),
    and for women the default depends mostly on something the data does not hold (a disparity: the model
    misses far more of their defaults). Without the proxy ``title`` is drawn independently of gender."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["F", "M"], n)
    mr = gender == "M"
    if proxy:
        mr = np.where(rng.random(n) < 0.9, mr, ~mr)
    else:
        mr = rng.random(n) < 0.5
    income = rng.normal(38_000, 11_000, n).round(-2)
    balance = rng.gamma(2.0, 1_200, n).round(0)
    years = rng.integers(0, 30, n)
    employment = rng.choice(["employed", "self-employed", "none"], n, p=[0.7, 0.2, 0.1])
    observed = -0.00006 * (income - 38_000) + 0.0007 * (balance - 2_400) - 0.05 * years + 1.2 * (employment == "none")
    unobserved = rng.normal(0, 1, n)
    signal = np.where(gender == "F", 0.3 * observed + 1.6 * unobserved, observed) if disparity else observed
    base = np.where(gender == "F", -2.6, -1.6) if disparity else -1.6  # as many defaults among women as men
    default = (rng.random(n) < 1 / (1 + np.exp(-(base + 2.2 * signal)))).astype(int)
    income[rng.random(n) < 0.04] = np.nan
    return pd.DataFrame(
        {
            "title": np.where(mr, "Mr", "Ms"),
            "income": income,
            "balance": balance,
            "years_at_address": years,
            "employment": employment,
            "gender": gender,
            "default": default,
        }
    )


def loans_served(_: pd.DataFrame) -> Served:
    fresh = loans_data(500, seed=13)
    return Served(
        fresh.drop(columns=["default"]),
        [int(v) for v in fresh["default"]],
        [np.arange(i, min(i + 25, len(fresh))) for i in range(0, len(fresh), 25)],
    )


def loans_design(
    *, features: tuple[str, ...] = ("title", "income", "balance", "years_at_address", "employment")
) -> dict[str, Any]:
    return {
        "name": "loans",
        "task": "classification",
        "target": "default",
        "data": {"source": "data/applications.csv"},
        "value": _value(
            predictions_per_period=2000,
            payoff={"true_positive": 200, "false_positive": -300, "false_negative": -200, "true_negative": 0},
        ),
        "requirements": {
            "explainability": "per_prediction",
            "compliance": {
                "forbidden_features": ["gender"],
                "reasons_per_decision": True,
                "protected": ["gender"],
                "max_disparity": {"metrics": ["false_negative_rate"], "difference": 0.15},
            },
        },
        "metrics": {"domain_expert": ["miss_rate", "false_alarm_rate"]},
        "experiments": {
            "validation": {"method": "stratified_kfold", "folds": 4},
            "data_variants": {"applicant": {"features": list(features)}},
            "algorithms": {"logistic_regression": {"C": [0.1, 1.0]}},
            "search": {"sampler": "grid"},
        },
        "monitoring": {"review": {"min_labelled_rows": 200}},
    }


LOANS = Case(
    "loans",
    "classification · no time · forbidden gender given away by title (proxy), defaults of women missed (disparity)",
    loans_design(),
    loans_data,
    loans_served,
    Expect(
        "logistic_regression",
        gate_fails=("no proxy for forbidden gender", "fairness: false-negative rate across gender"),
        unfair=("gender",),
        steady=("income", "balance", "years_at_address", "employment", "title"),
        verdict="healthy",
    ),
    trials=2,
)


ZOO = [CHURN, RENTALS, PANEL, LOAD, FRAUD, RAIN, DIABETES, NOISE, LOANS]
