"""The design contract: Pydantic models of ``mlcycle.yaml``; every key is described in its Field.

The design is written before any model exists. Its requirements become gates that later
phases check, so a design that is ambiguous or impossible must be refused here, with the
YAML path of every problem and what would be valid. Validation happens in three layers:

1. :func:`parse` — shape and types, by Pydantic (unknown keys, wrong types, ranges);
2. :func:`check_consistency` — rules that span several keys (a metric that does not fit the
   task, ``primary`` not listed, a forbidden feature used by a data variant, …);
3. :func:`check_against_data` — rules that need the data (a target or time column missing,
   classification labels without a ``positive_class``).

Layers 1 and 2 run on load; layer 3 runs whenever the data is first read.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from mlcycle.contract.vocabulary import View, vocabulary
from mlcycle.exceptions import DesignError, Problem, UseCaseError

Task = Literal["regression", "classification"]
CALENDAR_FEATURES: dict[str, str] = {
    "day_of_week": "day of the week (0 = Monday)",
    "day_of_month": "day of the month",
    "day_of_year": "day of the year",
    "week_of_year": "ISO week of the year",
    "month": "month of the year",
    "quarter": "quarter of the year",
    "year": "year",
    "is_weekend": "Saturday or Sunday",
    "is_holiday": "public holiday (needs data.holidays)",
    "hour": "hour of the day (0–23), for hourly data",
}
# One time step of the time column, as numpy and pandas write it: lags, rolling means and the
# seasonal baseline count these steps, feedback and predictions are matched on them.
TIME_UNITS: dict[str, str] = {"day": "D", "hour": "h"}


_DURATION = re.compile(r"([1-9]\d*)([hdw])")


def parse_duration(text: str) -> timedelta:
    """``12h``, ``7d``, ``2w`` → a timedelta: ``monitoring.window``, ``monitor --window`` and ``--every``."""
    match = _DURATION.fullmatch(str(text).strip())
    if not match:
        raise UseCaseError(f"a window must be a duration such as 12h, 7d or 2w. Got {text!r}")
    count, unit = int(match.group(1)), match.group(2)
    return timedelta(hours=count) if unit == "h" else timedelta(days=count * (7 if unit == "w" else 1))


class _Strict(BaseModel):
    """Every section refuses unknown keys: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


# ── data ──────────────────────────────────────────────────────────────────────────────
class DataSpec(_Strict):
    source: str = Field(
        description="A .csv/.csv.gz/.csv.xz or .parquet file relative to the use-case "
        "folder, or a SQLAlchemy URL (then `query` is required)."
    )
    query: str | None = Field(None, description="SQL to run when `source` is a database URL.")
    train_until: date | None = Field(
        None,
        description="Rows after this date are never trained on; kept for replay and evaluation. Needs `time_column`.",
    )
    holidays: str | None = Field(
        None,
        description="Country code for holiday features, e.g. GB, or with a subdivision, GB-ENG (python `holidays`).",
    )

    @property
    def is_database(self) -> bool:
        return "://" in self.source

    @field_validator("holidays")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import holidays

        supported = holidays.list_supported_countries()
        country, _, subdivision = value.partition("-")
        if country not in supported:
            raise ValueError(
                f"must be a country code the `holidays` package knows (e.g. GB, US, DE, FR), optionally "
                f"with a subdivision (GB-ENG, US-CA). Got {value!r}"
            )
        if subdivision and subdivision not in supported[country]:
            raise ValueError(f"{country} has no subdivision {subdivision!r}; valid: {', '.join(supported[country])}")
        return value


# ── value ─────────────────────────────────────────────────────────────────────────────
class BaselineSpec(_Strict):
    method: Literal["seasonal_naive", "mean", "last_value", "majority_class", "column"] = Field(
        "seasonal_naive",
        description="Today's process. seasonal_naive: the value `season` days earlier in the same group; "
        "mean / last_value of the history; majority_class; or an existing `column` with today's predictions.",
    )
    season: int = Field(
        7,
        ge=1,
        description="seasonal_naive: time steps to look back (days, or hours with "
        "time_unit: hour): 7 = same weekday last week, 24 hourly = same hour yesterday.",
    )
    column: str | None = Field(None, description="method: column — the column holding today's predictions.")


class CostSpec(_Strict):
    under_per_unit: float = Field(ge=0, description="Money lost per unit predicted too low (e.g. lost margin).")
    over_per_unit: float = Field(ge=0, description="Money lost per unit predicted too high (holding, waste).")

    @model_validator(mode="after")
    def _not_free(self) -> CostSpec:
        if self.under_per_unit == 0 and self.over_per_unit == 0:
            raise ValueError(
                "under_per_unit and over_per_unit are both 0: errors would cost nothing; give at least one a price"
            )
        return self


class PayoffSpec(_Strict):
    """Money gained per outcome relative to doing nothing (negative = a loss)."""

    true_positive: float = Field(description="Money gained by acting on a case that is positive (e.g. a churner kept).")
    false_positive: float = Field(description="Money gained (usually negative) by acting on a case that is not.")
    false_negative: float = Field(description="Money gained (usually negative) by missing a positive case.")
    true_negative: float = Field(0.0, description="Money gained by rightly doing nothing; usually 0.")


class ValueSpec(_Strict):
    currency: str = Field("EUR", min_length=1, max_length=8, description="Currency of every amount, e.g. EUR, GBP.")
    period: Literal["day", "week", "month", "quarter", "year"] = Field(
        "month", description="The period money is counted per: running cost, added value, payback."
    )
    predictions_per_period: float | None = Field(
        None, gt=0, description="Predictions made per period. Default: the data's rows per period."
    )
    horizon_periods: int = Field(12, ge=1, description="The development budget must pay back within this many periods.")
    baseline: BaselineSpec = Field(
        default_factory=lambda: BaselineSpec.model_validate({}),
        description="Today's process, which every model is judged against. Default: "
        "seasonal_naive (7 days) with a time column, else mean / majority_class.",
    )
    cost: CostSpec | None = Field(None, description="Regression: money lost per unit of error.")
    payoff: PayoffSpec | None = Field(None, description="Classification: money gained per outcome.")
    running_cost_per_period: float = Field(0.0, ge=0, description="Hosting, monitoring and upkeep per period.")
    development_budget: float = Field(
        0.0, ge=0, description="What building the model costs, to be paid back within horizon_periods."
    )


# ── requirements ──────────────────────────────────────────────────────────────────────
class QualityRequirement(_Strict):
    metric: str = Field(description="A data-scientist or domain-expert metric that fits the task.")
    max: float | None = Field(None, description="Ceiling, for lower-is-better metrics (mae, mape, log_loss …).")
    min: float | None = Field(None, description="Floor, for higher-is-better metrics (r2, f1, roc_auc …).")


FAIRNESS_RATES: dict[str, tuple[str, ...]] = {
    "classification": ("selection_rate", "false_positive_rate", "false_negative_rate"),
    "regression": ("mean_error", "mae", "under_forecast_rate", "over_forecast_rate"),
}


class DisparityLimit(_Strict):
    """``difference``: the highest group's figure minus the lowest's may be at most this (in the metric's unit).
    ``ratio``: the lowest group's figure over the highest's must be at least this (0.8 = the four-fifths rule).
    Either or both; each applies to every listed metric."""

    metrics: list[str] | None = Field(
        None,
        description="Which figures are limited: the decision rates (classification: selection_rate, "
        "false_positive_rate, false_negative_rate; regression: mean_error, mae, under_forecast_rate, "
        "over_forecast_rate), cost_per_prediction, or a catalogue metric listed in the data-scientist or "
        "domain-expert view. Default: the task's decision rates.",
    )
    difference: float | None = Field(None, ge=0, description="Largest allowed gap, highest − lowest group.")
    ratio: float | None = Field(None, gt=0, le=1, description="Smallest allowed ratio, lowest ÷ highest group.")
    min_group_rows: int = Field(
        30, ge=1, description="Groups with fewer rows are shown but left out of the comparison."
    )

    @model_validator(mode="after")
    def _some_limit(self) -> DisparityLimit:
        if self.difference is None and self.ratio is None:
            raise ValueError("give difference (e.g. 0.10) or ratio (e.g. 0.8), or both")
        return self

    def limited(self, task: str) -> list[str]:
        return list(self.metrics) if self.metrics is not None else list(FAIRNESS_RATES[task])


class Compliance(_Strict):
    audit_log: bool = Field(True, description="Keep every prediction for audit.")
    forbidden_features: list[str] = Field(default_factory=list, description="Columns no model may use.")
    proxy_max_auc: float = Field(
        0.70,
        ge=0.5,
        le=1,
        description="How well the features a model uses may predict a forbidden categorical column that is in the "
        "data (cross-validated ROC AUC; 0.5 = not at all). Above it the data check warns and the gate fails, "
        "naming the strongest proxies.",
    )
    proxy_max_r2: float = Field(
        0.40,
        ge=0,
        le=1,
        description="The same for a forbidden numeric column, as cross-validated R² (0 = not at all).",
    )
    reasons_per_decision: bool = Field(
        False,
        description="Classification with explainability per_prediction: explain every decision, asked or not, and "
        "keep its reasons — the top features in the decision's direction, in plain words — in the audit log "
        "(the adverse-action record). Costs the explanation's time on every request.",
    )
    protected: list[str] = Field(
        default_factory=list,
        description="Columns whose groups must be treated alike (e.g. gender, age_band). They must be in the data; "
        "they may be forbidden as inputs. Per group: the decision rates and the views' metrics, with intervals, "
        "at the gate and in every monitoring window where the column is sent with the requests.",
    )
    max_disparity: DisparityLimit | None = Field(
        None,
        description="How far apart the groups of each protected column may be; without it the groups are "
        "measured and shown but nothing fails.",
    )

    @model_validator(mode="after")
    def _protected_for_limit(self) -> Compliance:
        if self.max_disparity is not None and not self.protected:
            raise ValueError(
                "max_disparity limits the gaps between the groups of protected columns; list them in "
                "protected: [column, …]"
            )
        return self


class Budget(_Strict):
    max_training_minutes: float = Field(
        30,
        gt=0,
        description="Wall-clock budget for one experiment: the search asks no new trial past it and says so; "
        "the gate also checks the champion's refit against it.",
    )
    team_size: int = Field(
        1,
        ge=1,
        description="People who build and keep the model. While no team time is logged with `mlcycle log-work`, "
        "spend estimates it as team_size × working days since the first recorded work, labelled as an estimate.",
    )
    compute_cost_per_hour: float = Field(
        0.0,
        ge=0,
        description="What an hour of the machine that searches, promotes and retrains costs, in value.currency. "
        "Every search, promotion and retrain is timed and priced at it into the spend.",
    )
    team_day_cost: float = Field(
        0.0,
        ge=0,
        description="What a day of one person's work costs, in value.currency: prices the days logged with "
        "`mlcycle log-work` (0: days are counted, not priced).",
    )


class Requirements(_Strict):
    frequency: Literal["realtime", "hourly", "daily", "weekly", "monthly"] = Field(
        "daily", description="How often predictions are needed."
    )
    latency_p95_ms: float = Field(100, gt=0, description="Single-row online latency, 95th percentile.")
    quality: QualityRequirement | None = Field(None, description="The accuracy floor or ceiling a model must meet.")
    beat_baseline_by: float = Field(
        0.0, ge=0, lt=1, description="Required cut in money lost vs the baseline (0.10 = 10 %)."
    )
    explainability: Literal["none", "global", "per_prediction"] = Field(
        "none", description="per_prediction: every prediction can be explained to a non-expert."
    )
    compliance: Compliance = Field(
        default_factory=lambda: Compliance.model_validate({}),
        description="Audit trail and features no model may use.",
    )
    budget: Budget = Field(default_factory=lambda: Budget.model_validate({}), description="Time and people.")


# ── metrics ───────────────────────────────────────────────────────────────────────────
class MetricsSpec(_Strict):
    data_scientist: list[str] | None = Field(
        None, description="Default per task: mae, rmse, mape / roc_auc, f1, log_loss."
    )
    domain_expert: list[str] | None = Field(None, description="Catalogue names or `metrics.py:function`.")
    business: list[str] = Field(
        default_factory=lambda: ["net_value", "money_lost"],
        description="Money metrics: net_value, money_lost.",
    )
    primary: str = Field("net_value", description="What the search optimises; must be listed in one of the views.")

    def listed(self) -> list[str]:
        return [*(self.data_scientist or []), *(self.domain_expert or []), *self.business]


# ── experiments ───────────────────────────────────────────────────────────────────────
class Validation(_Strict):
    method: Literal["time_series_split", "kfold", "stratified_kfold"] | None = Field(
        None,
        description="Default: time_series_split with a time column, else kfold (stratified for classification).",
    )
    folds: int = Field(3, ge=2, le=20, description="Number of validation folds (expanding windows in time).")


class DataVariant(_Strict):
    features: list[str] | None = Field(
        None,
        description="Columns and calendar features. Default: every column "
        "but the target, time column and forbidden features.",
    )
    extends: str | None = Field(None, description="Another variant whose features, lags and means this one adds to.")
    lags: list[int] = Field(
        default_factory=list,
        description="Time steps of the time column (days, or hours with "
        "time_unit: hour): lag 7 = the value 7 steps earlier.",
    )
    rolling_means: list[int] = Field(
        default_factory=list, description="Mean over the previous N time steps (strictly before)."
    )

    @field_validator("lags", "rolling_means")
    @classmethod
    def _positive_days(cls, values: list[int]) -> list[int]:
        bad = [v for v in values if v < 1]
        if bad:
            raise ValueError(f"must be whole numbers of time steps ≥ 1. Got {bad}")
        return values


class ParamSpec(_Strict):
    """A hyperparameter's search space: a range, or a list of choices (a scalar is one choice)."""

    low: float | None = Field(None, description="Lower end of a range.")
    high: float | None = Field(None, description="Upper end of a range; not below low.")
    log: bool = Field(False, description="Sample the range on a log scale (needs low > 0).")
    choices: list[Any] | None = Field(None, description="The values to choose from (written as a YAML list).")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {"choices": value}
        if isinstance(value, (int, float, str, bool)) or value is None:
            return {"choices": [value]}
        return value

    @model_validator(mode="after")
    def _coherent(self) -> ParamSpec:
        if self.choices is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either a range {low, high} or a list of choices, not both")
            if not self.choices:
                raise ValueError("the list of choices is empty")
            return self
        if self.low is None or self.high is None:
            raise ValueError("a range needs both low and high, e.g. {low: 0.01, high: 1}")
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) is below low ({self.low:g})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scale range needs low > 0. Got low = {self.low:g}")
        return self

    @property
    def is_range(self) -> bool:
        return self.choices is None


class Search(_Strict):
    sampler: Literal["tpe", "random", "grid"] = Field("tpe", description="Optuna sampler; grid needs lists of choices.")
    trials: int = Field(40, ge=1, description="At most this many trials.")
    timeout_minutes: float = Field(10, gt=0, description="Stop starting trials after this long.")
    executor: Literal["local", "ray"] = Field("local", description="local: a process pool; ray: Ray tasks.")
    address: str | None = Field(None, description="executor: ray — a Ray cluster address; null starts a local one.")


class Experiments(_Strict):
    validation: Validation = Field(
        default_factory=lambda: Validation.model_validate({}),
        description="How each trial is cross-validated.",
    )
    data_variants: dict[str, DataVariant] = Field(
        default_factory=lambda: {"all": DataVariant.model_validate({})},
        min_length=1,
        description="Named feature sets to compare. Default: one variant with every usable column.",
    )
    algorithms: dict[str, dict[str, ParamSpec]] | None = Field(
        None,
        description="{} for an algorithm = its default space. Default: every algorithm fitting the task.",
    )
    search: Search = Field(default_factory=lambda: Search.model_validate({}), description="The search's budget.")


# ── deployment and monitoring ─────────────────────────────────────────────────────────
class OrderProposal(_Strict):
    columns: list[str] = Field(
        default_factory=list,
        description="Input columns copied beside each series' order (e.g. a product description).",
    )


class Deployment(_Strict):
    mode: Literal["online", "batch"] = Field("online", description="online: a microservice; batch: a scoring job.")
    max_batch_rows: int = Field(10_000, ge=1, description="Rows per request above which the service answers 413.")
    max_body_mb: float = Field(10, gt=0, description="Request body size above which the service answers 413.")
    max_body_seconds: float = Field(
        30, gt=0, description="A request body must arrive whole within this; a slower one is answered 408."
    )
    log_retention_days: int = Field(
        365,
        ge=1,
        description="Prediction log rows older than this are deleted "
        "(audit rows kept while their model version is registered).",
    )
    out_of_range: Literal["flag", "refuse"] = Field(
        "flag",
        description="A number outside the range the model was trained on (the schema's min and max): flag — "
        "predict, and say so in the response's `warnings` and the audit log; refuse — answer 422 naming the field.",
    )
    order_proposal: OrderProposal | None = Field(
        None,
        description="Regression with a time column: batch scoring also writes <output>.orders.csv — each "
        "series' prediction for the latest time in the file, rounded up to whole units. Default: not written.",
    )


def _not_one_of(value: Any, names: list[str]) -> str | None:
    """None for a name the registries told the contract, else the message Pydantic writes for a Literal."""
    if value in names:
        return None
    quoted = [repr(n) for n in names]
    listed = f"{', '.join(quoted[:-1])} or {quoted[-1]}" if len(quoted) > 1 else "".join(quoted)
    return f"must be {listed}. Got {value!r}"


DEFAULT_WARN, DEFAULT_ALERT = 0.05, 0.1  # drift thresholds where auto cannot be calibrated (Evidently's choice)


class DriftThreshold(_Strict):
    statistic: str | None = Field(None, description="This feature's statistic; default: its column type's.")
    warn: float | None = Field(None, ge=0, description="This feature's warning threshold.")
    alert: float | None = Field(None, ge=0, description="This feature's alert threshold.")

    @field_validator("statistic")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and (problem := _not_one_of(value, vocabulary().statistic_names())):
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> DriftThreshold:
        if self.warn is not None and self.alert is not None and self.warn > self.alert:
            raise ValueError(f"warn ({self.warn:g}) is above alert ({self.alert:g}); warn must be the lower threshold")
        return self


class Drift(_Strict):
    statistic: str | None = Field(None, description="One statistic for every column; overrides numeric/categorical.")
    numeric: str = Field(
        "wasserstein",
        description="Statistic for numeric columns (Wasserstein is normalised by the reference spread).",
    )
    categorical: str = Field("jensen_shannon", description="Statistic for categorical columns.")
    warn: float | Literal["auto"] = Field(
        "auto",
        description="A column past this is reported as drifting. auto (the default): calibrated at promotion "
        "on the reference's own window-to-window variation at the window's size (mean + 2 sd on the log "
        f"scale); where the reference is too short to calibrate, {DEFAULT_WARN:g}.",
    )
    alert: float | Literal["auto"] = Field(
        "auto",
        description="A column past this raises an alert. auto (the default): calibrated on the reference "
        "(mean + 3 sd on the log scale, about one window in 750 of unchanged data); where the reference is too "
        f"short to calibrate, {DEFAULT_ALERT:g}. A number here, or per_feature, always wins.",
    )
    per_feature: dict[str, DriftThreshold] = Field(default_factory=dict, description="Overrides per column.")
    min_rows: int = Field(
        100,
        ge=1,
        description="A column with fewer values in a window is shown but not judged: "
        "on a handful of rows every statistic crosses a fixed threshold by chance.",
    )
    consecutive: int = Field(
        1,
        ge=1,
        description="Windows in a row a column must be past alert before an alert is raised, and back under "
        "it before the alert clears: 2 stops an alert that raises one week and clears the next.",
    )

    @field_validator("warn", "alert")
    @classmethod
    def _not_negative(cls, value: float | str) -> float | str:
        if not isinstance(value, str) and value < 0:
            raise ValueError(f"a drift threshold is a distance, never below 0; got {value:g} (or write auto)")
        return value

    @field_validator("statistic", "numeric", "categorical")
    @classmethod
    def _known(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.field_name if info.field_name in ("numeric", "categorical") else None
        if value is not None and (problem := _not_one_of(value, vocabulary().statistic_names(kind))):
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Drift:
        if isinstance(self.warn, float | int) and isinstance(self.alert, float | int) and self.warn > self.alert:
            raise ValueError(f"warn ({self.warn:g}) is above alert ({self.alert:g}); warn must be the lower threshold")
        return self


class PerformanceAlert(_Strict):
    metric: str = Field(description="The metric watched on labelled predictions.")
    alert_above: float | None = Field(None, description="For lower-is-better metrics.")
    alert_below: float | None = Field(None, description="For higher-is-better metrics.")


class ValueAlert(_Strict):
    alert_below_fraction_of_estimate: float = Field(
        0.5, gt=0, le=1, description="Alert when realised added value falls below this share of the estimate."
    )


class ErrorAlert(_Strict):
    alert_above: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Alert when more than this share of scoring "
        "requests in a window fail (rejected input or a server error).",
    )


class ReviewSpec(_Strict):
    retire_after_windows: int = Field(4, ge=1, description="Windows of value below running cost before `retire`.")
    min_labelled_rows: int = Field(
        200,
        ge=1,
        description="Fewer labelled predictions than this is too little evidence for any verdict but healthy.",
    )


class AlertSink(_Strict):
    kind: str = Field(description="log: JSON lines; webhook: POST JSON to url.")
    url: str | None = Field(None, description="webhook: where to POST.")
    timeout_seconds: float = Field(5, gt=0, description="webhook: give up on one attempt after this long.")
    retries: int = Field(3, ge=0, description="webhook: further attempts after a failure.")

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str) -> str:
        if problem := _not_one_of(value, vocabulary().sinks):
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _url_for_webhook(self) -> AlertSink:
        if self.kind == "webhook" and not self.url:
            raise ValueError("a webhook sink needs a url, e.g. {kind: webhook, url: 'http://127.0.0.1:9000/hook'}")
        if self.url and not re.match(r"^https?://", self.url):
            raise ValueError(f"url must start with http:// or https://. Got {self.url!r}")
        return self


class Monitoring(_Strict):
    window: str = Field("7d", description="A duration: 12h, 7d, 2w.")
    drift: Drift = Field(default_factory=lambda: Drift.model_validate({}), description="Data drift per column.")
    performance: PerformanceAlert | None = Field(
        None,
        description="Alert on a metric of labelled predictions. Default: the quality metric, else the first "
        "data-scientist metric (mae / roc_auc when none is listed), no threshold.",
    )
    value: ValueAlert = Field(
        default_factory=lambda: ValueAlert.model_validate({}),
        description="Alert when the money realised falls short of the estimate.",
    )
    errors: ErrorAlert = Field(
        default_factory=lambda: ErrorAlert.model_validate({}),
        description="Alert when too many scoring requests fail.",
    )
    review: ReviewSpec = Field(
        default_factory=lambda: ReviewSpec.model_validate({}),
        description="When the review may say retire, and how much evidence it needs.",
    )
    alerts: list[AlertSink] = Field(default_factory=lambda: [AlertSink(kind="log")], description="Where alerts go.")

    @field_validator("window")
    @classmethod
    def _duration(cls, value: str) -> str:
        if _DURATION.fullmatch(str(value)) is None:
            raise ValueError(f"must be a duration such as 12h, 7d or 2w. Got {value!r}")
        return value


# ── the design ────────────────────────────────────────────────────────────────────────
class ModelCardSpec(_Strict):
    """What only people can say about the model; the model card per registered version adds what mlcycle measured."""

    intended_use: str = Field(
        "", description="Who uses the predictions and for what decision (default: the design's description)."
    )
    out_of_scope: list[str] = Field(
        default_factory=list, description="Uses the model was not built or checked for, each in a sentence."
    )
    limitations: list[str] = Field(
        default_factory=list, description="Known limits beyond those mlcycle measures (data ranges, groups left out…)."
    )
    owners: list[str] = Field(default_factory=list, description="Who answers for the model (names or teams).")


class Design(_Strict):
    """The whole of ``mlcycle.yaml``."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=64,
        description="The use case's identity: MLflow experiment, registered model, OIP model name.",
    )
    description: str = Field("", description="What the use case is for, in the business's words.")
    task: Task = Field(description="regression (a number) or classification (two classes).")
    target: str = Field(min_length=1, description="The column to predict.")
    positive_class: Any = Field(
        None,
        description="Classification: the label that counts as positive. Required unless labels are 0/1 or booleans.",
    )
    time_column: str | None = Field(
        None, description="Makes every split time-ordered; needed for lags and the seasonal baseline."
    )
    time_unit: Literal["day", "hour"] = Field(
        "day",
        description="One step of the time column: lags, rolling means and the seasonal baseline count "
        "days, or hours for hourly data (lag 24 = the same hour yesterday). Needs time_column.",
    )
    group_columns: list[str] = Field(default_factory=list, description="Columns identifying one series (for lags).")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Human names of columns for explanations and reports."
    )
    data: DataSpec = Field(description="Where the data comes from.")
    value: ValueSpec = Field(
        default_factory=lambda: ValueSpec.model_validate({}),
        description="Money: what today's process loses and what a model must save.",
    )
    requirements: Requirements = Field(
        default_factory=lambda: Requirements.model_validate({}),
        description="What the business requires: these become gates.",
    )
    metrics: MetricsSpec = Field(
        default_factory=lambda: MetricsSpec.model_validate({}),
        description="The three views and the primary metric.",
    )
    experiments: Experiments = Field(
        default_factory=lambda: Experiments.model_validate({}),
        description="Data variants × algorithms × hyperparameters.",
    )
    deployment: Deployment = Field(
        default_factory=lambda: Deployment.model_validate({}), description="How the model is served."
    )
    monitoring: Monitoring = Field(
        default_factory=lambda: Monitoring.model_validate({}),
        description="Drift, performance, money and alerts once it is served.",
    )
    model_card: ModelCardSpec = Field(
        default_factory=lambda: ModelCardSpec.model_validate({}),
        description="Intended use, out-of-scope uses, limitations and owners for the model card of every "
        "registered version (the rest of the card is measured).",
    )

    @field_validator("positive_class")
    @classmethod
    def _scalar_label(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise ValueError(f'must be a single label such as "Yes" or 1. Got {value!r}')
        return value

    @model_validator(mode="after")
    def _task_defaults(self) -> Design:
        """Fill the defaults that depend on the task or on the time column."""
        told = vocabulary()
        regression = self.task == "regression"
        if self.metrics.data_scientist is None:
            self.metrics.data_scientist = ["mae", "rmse", "mape"] if regression else ["roc_auc", "f1", "log_loss"]
        if self.metrics.domain_expert is None:
            self.metrics.domain_expert = (
                ["under_prediction_rate", "within_10_percent"] if regression else ["false_alarm_rate", "miss_rate"]
            )
        if self.experiments.validation.method is None:
            self.experiments.validation.method = (
                "time_series_split" if self.time_column else ("kfold" if regression else "stratified_kfold")
            )
        if self.experiments.algorithms is None:
            self.experiments.algorithms = {name: {} for name in told.algorithm_names(self.task)}
        if "method" not in self.value.baseline.model_fields_set and not (regression and self.time_column):
            self.value.baseline.method = "mean" if regression else "majority_class"
        if self.monitoring.performance is None:
            listed = self.metrics.data_scientist or ["mae" if regression else "roc_auc"]
            metric = self.requirements.quality.metric if self.requirements.quality else listed[0]
            known = told.metrics.get(metric)
            if known is not None and self.task in known.tasks:
                self.monitoring.performance = PerformanceAlert(metric=metric)
        return self

    @property
    def time_step(self) -> str:
        """The time column's step as pandas and numpy write it: ``D`` or ``h``."""
        return TIME_UNITS[self.time_unit]

    @property
    def views(self) -> dict[View, list[str]]:
        return {
            "data_scientist": list(self.metrics.data_scientist or []),
            "domain_expert": list(self.metrics.domain_expert or []),
            "business": list(self.metrics.business),
        }

    def variant_definition(self, name: str) -> dict[str, Any]:
        """A variant with its `extends` chain resolved: features, lags and rolling means."""
        chain: list[DataVariant] = []
        seen: set[str] = set()
        current: str | None = name
        while current is not None:
            if current in seen:
                raise DesignError(
                    Problem(
                        f"experiments.data_variants.{name}.extends",
                        f"variants extend each other in a cycle: {' → '.join([*seen, current])}",
                    )
                )
            seen.add(current)
            variant = self.experiments.data_variants[current]
            chain.append(variant)
            current = variant.extends
        features: list[str] | None = None
        lags: list[int] = []
        means: list[int] = []
        for variant in reversed(chain):
            if variant.features is not None:
                features = [*(features or []), *[f for f in variant.features if f not in (features or [])]]
            lags += [x for x in variant.lags if x not in lags]
            means += [x for x in variant.rolling_means if x not in means]
        return {"features": features, "lags": lags, "rolling_means": means}


# ── parsing and error messages ────────────────────────────────────────────────────────
def load(path: Path) -> Design:
    """Read, parse and check a design file. Raises DesignError naming each bad YAML path."""
    if not path.is_file():
        raise DesignError(
            f"no such file {path}. Create a use case with `mlcycle init DIR --example sales`", file=path.name
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = getattr(exc, "problem", None) or str(exc)
        raise DesignError(Problem("", f"is not valid YAML at {where}: {problem}"), file=path.name) from None
    except UnicodeDecodeError as exc:
        raise DesignError(
            Problem("", f"is not UTF-8 text ({exc.reason} at byte {exc.start})"), file=path.name
        ) from None
    design = parse(raw, file=path.name)
    problems = check_consistency(design, folder=path.parent)
    if problems:
        raise DesignError(problems, file=path.name)
    return design


def parse(raw: Any, *, file: str = "mlcycle.yaml") -> Design:
    """Shape and types only (layer 1)."""
    if not isinstance(raw, dict):
        kind = "empty" if raw is None else f"a {type(raw).__name__}"
        raise DesignError(
            Problem("", f"must be a mapping of keys (name:, task:, target:, data: …); the file is {kind}"),
            file=file,
        )
    try:
        return Design.model_validate(raw)
    except ValidationError as exc:
        raise DesignError(_merged([_problem(err) for err in exc.errors()]), file=file) from None


_BRANCHES = ("float", "int", "str", "bool")  # how Pydantic names the members of a union in an error's location


def _merged(problems: list[Problem]) -> list[Problem]:
    """One problem per key: a value that fits no member of a union (a number or ``auto``) gets one message
    listing what it may be, not one per member."""
    by_path: dict[str, list[str]] = {}
    for problem in problems:
        path = problem.path
        for branch in _BRANCHES:
            path = path.removesuffix(f".{branch}")
        by_path.setdefault(path, []).append(problem.message)
    out = []
    for path, messages in by_path.items():
        if len(messages) == 1:
            out.append(Problem(path, messages[0]))
            continue
        given = next((m[m.index(" Got ") + 5 :] for m in messages if " Got " in m), None)
        wanted = [m.split(". Got ")[0].removeprefix("must be ").split(",")[0] for m in messages]
        out.append(Problem(path, f"must be {' or '.join(wanted)}" + (f". Got {given}" if given else "")))
    return out


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The Pydantic model that holds the key at ``loc`` — to list its valid keys."""
    annotation: Any = Design
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Optional[X] → X, so the walk can step through optional sections."""
    while get_origin(annotation) in (Union,) or type(annotation).__name__ == "UnionType":
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            return annotation
        annotation = members[0]
    return annotation


def _problem(err: ErrorDetails) -> Problem:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in ("function-after",))))
    path = _path(loc)
    kind = err["type"]
    given = err.get("input")
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        valid = ", ".join(parent.model_fields) if parent else "see the field descriptions in mlcycle.contract.spec"
        return Problem(path, f"unknown key {loc[-1]!r}. Valid keys here: {valid}")
    if kind == "missing":
        return Problem(path, "is required but missing")
    message = str(err["msg"])
    message = message.removeprefix("Value error, ")
    message = re.sub(r"^Input should be", "must be", message)
    message = re.sub(r"^String should", "must", message)
    message = re.sub(r"^Dictionary should", "must", message)
    if kind == "value_error" or "Got " in message:
        return Problem(path, message)
    return Problem(path, f"{message}. Got {given!r}")


def check_consistency(design: Design, *, folder: Path | None = None) -> list[Problem]:
    """Rules that span several keys (layer 2). Returns every problem found."""
    told = vocabulary()

    problems: list[Problem] = []
    add = lambda path, message: problems.append(Problem(path, message))  # noqa: E731
    task = design.task
    regression = task == "regression"

    # value: the money model must fit the task
    if regression and design.value.cost is None:
        add(
            "value.cost",
            "a regression design needs a cost per unit of error, e.g. {under_per_unit: 2.5, over_per_unit: 0.8}",
        )
    if regression and design.value.payoff is not None:
        add("value.payoff", "payoff is for classification; a regression design gives value.cost")
    if not regression and design.value.payoff is None:
        add(
            "value.payoff",
            "a classification design needs the money per outcome, e.g. "
            "{true_positive: 400, false_positive: -50, false_negative: -1200, true_negative: 0}",
        )
    if not regression and design.value.cost is not None:
        add("value.cost", "cost per unit is for regression; a classification design gives value.payoff")
    if design.value.predictions_per_period is None and not design.time_column:
        add(
            "value.predictions_per_period",
            "is required when there is no time_column to count rows per period from",
        )

    baseline = design.value.baseline
    fits = {
        "seasonal_naive": {"regression", "classification"},
        "last_value": {"regression", "classification"},
        "mean": {"regression"},
        "majority_class": {"classification"},
        "column": {"regression", "classification"},
    }
    if task not in fits[baseline.method]:
        valid = ", ".join(m for m, tasks in fits.items() if task in tasks)
        add("value.baseline.method", f"{baseline.method!r} does not fit a {task} task; valid: {valid}")
    if baseline.method in ("seasonal_naive", "last_value") and not design.time_column:
        add("value.baseline.method", f"{baseline.method} needs a time_column to know what came before")
    if baseline.method == "column" and not baseline.column:
        add("value.baseline.column", "method: column needs the name of the column holding today's predictions")

    if design.positive_class is not None and regression:
        add("positive_class", "only a classification task has a positive class; remove it")
    if design.data.train_until is not None and not design.time_column:
        add("data.train_until", "needs a time_column to cut on")
    if design.deployment.order_proposal is not None and not (regression and design.time_column):
        add(
            "deployment.order_proposal",
            "is a forecast's order per series and time: it needs a regression task with a time_column; remove it",
        )
    if design.time_unit != "day" and not design.time_column:
        add("time_unit", "counts steps of the time column; set time_column or remove time_unit")
    if design.data.is_database and not design.data.query:
        add("data.query", "a database source needs the SQL to run, e.g. query: SELECT * FROM sales")
    if not design.data.is_database and not _supported_file(design.data.source):
        add(
            "data.source",
            f"must end in .csv, .csv.gz, .csv.xz, .csv.bz2 or .parquet, or be a SQLAlchemy URL. "
            f"Got {design.data.source!r}",
        )
    for i, column in enumerate(design.group_columns):
        if column in (design.target, design.time_column):
            add(f"group_columns[{i}]", f"{column!r} is the target or time column and cannot identify a series")

    # metrics: each view lists metrics of that view that fit the task
    views = design.views
    for view, listed in views.items():
        for i, name in enumerate(listed):
            path = f"metrics.{view}[{i}]"
            if is_user_metric(name):
                if view != "domain_expert":
                    add(path, "user metrics (file.py:function) belong to metrics.domain_expert")
                elif folder is not None and told.user_metric_problem is not None:
                    problem = told.user_metric_problem(name, folder)
                    if problem:
                        add(path, problem)
                continue
            problem = _metric_problem(name, task, view)
            if problem:
                add(path, problem)
    if design.metrics.primary not in design.metrics.listed():
        add(
            "metrics.primary",
            f"{design.metrics.primary!r} is not listed in any view; listed: {', '.join(design.metrics.listed())}",
        )

    # quality gate and performance alert: right metric, right bound for its direction
    quality = design.requirements.quality
    if quality is not None:
        problems += _bound_problems("requirements.quality", quality, "max", "min", task, required=True)
    performance = design.monitoring.performance
    if performance is not None:
        problems += _bound_problems(
            "monitoring.performance", performance, "alert_above", "alert_below", task, required=False
        )

    # fairness: the limited figures must be measured for this task
    compliance = design.requirements.compliance
    limit = compliance.max_disparity
    if limit is not None and limit.metrics is not None:
        listed = [*(design.metrics.data_scientist or []), *(design.metrics.domain_expert or [])]
        allowed = [*FAIRNESS_RATES[task], "cost_per_prediction", *[m for m in listed if not is_user_metric(m)]]
        for i, name in enumerate(limit.metrics):
            if name not in allowed:
                add(
                    f"requirements.compliance.max_disparity.metrics[{i}]",
                    f"{name!r} is not measured per group for a {task} design; valid: {', '.join(allowed)}",
                )
        if (
            limit.difference is None
            and limit.metrics
            and all(m in ("mean_error", "forecast_bias") for m in limit.metrics)
        ):
            add(
                "requirements.compliance.max_disparity.ratio",
                "a ratio of signed errors means nothing; limit their difference instead (difference: …)",
            )
    if compliance.reasons_per_decision and (regression or design.requirements.explainability != "per_prediction"):
        add(
            "requirements.compliance.reasons_per_decision",
            "keeps the reasons of a classifier's decisions: it needs task: classification and "
            "requirements.explainability: per_prediction",
        )
    for i, column in enumerate(compliance.protected):
        if column == design.target:
            add(f"requirements.compliance.protected[{i}]", f"{column!r} is the target; name the column of the groups")

    # experiments
    method = design.experiments.validation.method
    if method == "stratified_kfold" and regression:
        add(
            "experiments.validation.method",
            "stratified_kfold is for classification; use time_series_split or kfold",
        )
    if method == "time_series_split" and not design.time_column:
        add("experiments.validation.method", "time_series_split needs a time_column; use kfold")

    forbidden = set(design.requirements.compliance.forbidden_features)
    variants = design.experiments.data_variants
    for name, variant in variants.items():
        base = f"experiments.data_variants.{name}"
        if variant.extends is not None and variant.extends not in variants:
            add(f"{base}.extends", f"no variant called {variant.extends!r}; variants: {', '.join(variants)}")
            continue
        if (variant.lags or variant.rolling_means) and not design.time_column:
            add(base, "lags and rolling_means are counted in days of the time column; set time_column")
        for i, feature in enumerate(variant.features or []):
            fpath = f"{base}.features[{i}]"
            if feature in forbidden:
                add(fpath, f"{feature!r} is forbidden by requirements.compliance.forbidden_features")
            elif feature == design.target:
                add(fpath, f"{feature!r} is the target; a model cannot use the answer as an input")
            elif feature == design.time_column:
                add(
                    fpath,
                    f"the raw time column cannot be a feature; use calendar features: {', '.join(CALENDAR_FEATURES)}",
                )
            elif feature in CALENDAR_FEATURES and not design.time_column:
                add(fpath, f"calendar feature {feature!r} needs a time_column")
            elif feature == "is_holiday" and not design.data.holidays:
                add(fpath, "is_holiday needs data.holidays (a country code such as GB)")
    if not problems:
        for name in variants:
            try:
                design.variant_definition(name)
            except DesignError as exc:
                problems.extend(exc.problems)

    grid = design.experiments.search.sampler == "grid"
    for algo, params in (design.experiments.algorithms or {}).items():
        apath = f"experiments.algorithms.{algo}"
        known = told.algorithms.get(algo)
        if known is None or task not in known.tasks:
            add(apath, f"unknown algorithm for a {task} task; valid: {', '.join(told.algorithm_names(task))}")
            continue
        for param, space in params.items():
            if param not in known.tunable:
                add(
                    f"{apath}.{param}",
                    f"{algo} has no hyperparameter {param!r} in mlcycle; tunable: {', '.join(known.tunable)}",
                )
            elif grid and space.is_range:
                add(
                    f"{apath}.{param}",
                    "the grid sampler needs a list of choices, e.g. [0.1, 1, 10], not a range",
                )
            elif param in known.ceilings and (problem := _above(space, known.ceilings[param])):
                add(f"{apath}.{param}", problem)
        if grid:
            for param in known.searched:
                if param not in params:
                    add(
                        f"{apath}.{param}",
                        f"the grid sampler needs a list of choices for every hyperparameter; "
                        f"{param} uses its default range",
                    )
    if not design.experiments.algorithms:
        add(
            "experiments.algorithms",
            f"lists no algorithm; valid for {task}: {', '.join(told.algorithm_names(task))}",
        )
    return problems


def _above(space: ParamSpec, ceiling: float) -> str | None:
    """A problem when a hyperparameter's range or choices ask for more work than the algorithm's ceiling."""
    given = [space.high] if space.is_range else space.choices or []
    for value in given:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > ceiling:
            return f"must be at most {ceiling:g}: a trial's work grows with it. Got {value!r}"
    return None


def is_user_metric(name: str) -> bool:
    """``file.py:function``: a domain-expert metric the use case writes itself."""
    return ":" in name


def _metric_problem(name: str, task: str, view: View | None = None) -> str | None:
    told = vocabulary()
    metric = told.metrics.get(name)
    if metric is not None and task in metric.tasks and (view is None or metric.view == view):
        return None
    fitting = told.metric_names(task, view)
    where = f"{view.replace('_', ' ')} metric" if view else "metric"
    return f"must be a {where} for a {task} task, one of {', '.join(fitting)}. Got {name!r}"


def _bound_problems(
    path: str,
    section: QualityRequirement | PerformanceAlert,
    lower_key: str,
    higher_key: str,
    task: str,
    *,
    required: bool,
) -> list[Problem]:
    """A metric that fits the task, bounded on the side its direction calls for.

    ``lower_key`` is the bound for lower-is-better metrics (``max``, ``alert_above``),
    ``higher_key`` the one for higher-is-better metrics (``min``, ``alert_below``).
    """
    problem = _metric_problem(section.metric, task)
    if problem:
        return [Problem(f"{path}.metric", problem)]
    direction = vocabulary().metrics[section.metric].direction
    right, wrong = (higher_key, lower_key) if direction == "higher" else (lower_key, higher_key)
    if getattr(section, wrong) is not None:
        return [Problem(f"{path}.{wrong}", f"{section.metric} is {_better(direction)}, so give {right}, not {wrong}")]
    if required and getattr(section, right) is None:
        return [
            Problem(
                f"{path}.{right}",
                f"{section.metric} is {_better(direction)}: give the {right} acceptable value",
            )
        ]
    return []


def _better(direction: str) -> str:
    return {"lower": "lower-is-better", "higher": "higher-is-better", "zero": "best at zero"}[direction]


def _supported_file(source: str) -> bool:
    lower = source.lower()
    return lower.endswith((".csv", ".csv.gz", ".csv.xz", ".csv.bz2", ".csv.zst", ".parquet", ".pq"))


def check_against_data(design: Design, frame: pd.DataFrame) -> list[Problem]:
    """Rules that need the data (layer 3): every column the design names must be there."""
    problems: list[Problem] = []
    columns = list(frame.columns)
    shown = ", ".join(columns[:30]) + (" …" if len(columns) > 30 else "")

    def missing(path: str, column: str, what: str) -> None:
        problems.append(Problem(path, f"{what} {column!r} is not in the data; its columns are: {shown}"))

    if design.target not in frame.columns:
        missing("target", design.target, "target column")
    if design.time_column and design.time_column not in frame.columns:
        missing("time_column", design.time_column, "time column")
    elif design.time_column:
        parsed = pd.to_datetime(frame[design.time_column], errors="coerce")
        bad = int(parsed.isna().sum() - frame[design.time_column].isna().sum())
        if bad:
            example = frame[design.time_column][parsed.isna() & frame[design.time_column].notna()].iloc[0]
            problems.append(
                Problem("time_column", f"{bad} value(s) of {design.time_column!r} are not dates, e.g. {example!r}")
            )
        else:
            problems += _time_unit_problems(design, frame, parsed)
            problems += _lookback_problems(design, parsed)
    for i, column in enumerate(design.group_columns):
        if column not in frame.columns:
            missing(f"group_columns[{i}]", column, "group column")
    for name, variant in design.experiments.data_variants.items():
        for i, feature in enumerate(variant.features or []):
            if feature not in frame.columns and feature not in CALENDAR_FEATURES:
                missing(f"experiments.data_variants.{name}.features[{i}]", feature, "feature")
    for column in design.labels:
        if column not in frame.columns and column not in CALENDAR_FEATURES:
            missing(f"labels.{column}", column, "labelled column")
    if design.value.baseline.method == "column" and design.value.baseline.column not in frame.columns:
        missing("value.baseline.column", str(design.value.baseline.column), "baseline column")
    for i, column in enumerate(design.requirements.compliance.forbidden_features):
        if column not in frame.columns and column not in CALENDAR_FEATURES:
            missing(f"requirements.compliance.forbidden_features[{i}]", column, "forbidden feature")
    proposal = design.deployment.order_proposal
    for i, column in enumerate(proposal.columns if proposal else []):
        if column not in frame.columns:
            missing(f"deployment.order_proposal.columns[{i}]", column, "order proposal column")

    if design.task == "classification" and design.target in frame.columns:
        problems += _label_problems(design, frame[design.target])
    if design.task == "regression" and design.target in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[design.target]) or pd.api.types.is_bool_dtype(frame[design.target]):
            problems.append(
                Problem(
                    "target",
                    f"a regression target must be numeric; {design.target!r} holds "
                    f"{frame[design.target].dtype} values. Did you mean task: classification?",
                )
            )
    return problems


def _time_unit_problems(design: Design, frame: pd.DataFrame, times: pd.Series) -> list[Problem]:
    """Hourly data under ``time_unit: day`` would let lags and the seasonal baseline read one value per day
    out of many: refuse it when the design counts time steps at all."""
    counts_steps = any(
        v.lags or v.rolling_means for v in design.experiments.data_variants.values()
    ) or design.value.baseline.method in ("seasonal_naive", "last_value")
    if design.time_unit != "day" or not counts_steps or any(g not in frame.columns for g in design.group_columns):
        return []
    keys = frame[design.group_columns].assign(_day=times.dt.normalize(), _t=times)
    per_day = keys.drop_duplicates().groupby([*design.group_columns, "_day"], dropna=False).size()
    if len(per_day) and int(per_day.max()) > 1:
        return [
            Problem(
                "time_unit",
                f"{design.time_column!r} holds up to {int(per_day.max())} different times on one "
                f"day of one series, but lags, rolling means and the baseline count days; for hourly data "
                f"set time_unit: hour (and count lags in hours: 24 = the same hour yesterday)",
            )
        ]
    return []


def _lookback_problems(design: Design, times: pd.Series) -> list[Problem]:
    """A lag, window or season longer than the whole history would be missing on every row."""
    if times.notna().sum() < 2:
        return []
    span = int((times.max() - times.min()) / pd.Timedelta(1, unit=design.time_step))
    unit = f"{design.time_unit}s"
    problems = []
    for name, variant in design.experiments.data_variants.items():
        for key in ("lags", "rolling_means"):
            for i, steps in enumerate(getattr(variant, key)):
                if steps > span:
                    problems.append(
                        Problem(
                            f"experiments.data_variants.{name}.{key}[{i}]",
                            f"{steps:,} {unit} reaches back further than the data's whole history "
                            f"({span:,} {unit}), so no row would have it",
                        )
                    )
    season = design.value.baseline
    if season.method == "seasonal_naive" and season.season > span:
        problems.append(
            Problem(
                "value.baseline.season",
                f"{season.season:,} {unit} is longer than the data's whole "
                f"history ({span:,} {unit}): today's process would have no answer",
            )
        )
    return problems


def _label_problems(design: Design, target: pd.Series) -> list[Problem]:
    labels = list(pd.unique(target.dropna()))
    if len(labels) != 2:
        shown = ", ".join(repr(v) for v in labels[:10])
        return [Problem("target", f"mlcycle classifies two classes; {design.target!r} has {len(labels)}: {shown}")]
    if design.positive_class is not None:
        if not any(_same_label(design.positive_class, v) for v in labels):
            return [
                Problem(
                    "positive_class",
                    f"{design.positive_class!r} is not a label of {design.target!r}; "
                    f"its labels are {labels[0]!r} and {labels[1]!r}",
                )
            ]
        return []
    as_set = {(v.item() if hasattr(v, "item") else v) for v in labels}
    if as_set <= {0, 1} or as_set <= {True, False}:
        return []
    return [
        Problem(
            "positive_class",
            f"the labels of {design.target!r} are {labels[0]!r} and {labels[1]!r}; "
            f"say which one counts as positive, e.g. positive_class: {labels[0]!r}",
        )
    ]


def positive_mask(design: Design, target: pd.Series) -> pd.Series:
    """True where the target is the positive class (the design's, or 1/True); False where it is not or missing.

    Labels arrive as the data holds them (``"Yes"``, ``1``, ``True``) and as text from feedback
    and logs (``"True"``, ``"1.0"``); both mean the same label.
    """
    if design.positive_class is None:
        if pd.api.types.is_bool_dtype(target) or pd.api.types.is_numeric_dtype(target):
            return target.fillna(0).astype(bool)
        return target.map(_truthy).astype(bool)
    return target.map(lambda v: _same_label(design.positive_class, v)).astype(bool)


def actual_numbers(design: Design, given: pd.Series) -> pd.Series:
    """The number each actual stands for: the value itself (regression), 1.0 for the positive class and
    0.0 for the other (classification), however the label was written; NaN where none came."""
    if design.task == "classification":
        return positive_mask(design, given).astype(float).where(given.notna())
    return pd.to_numeric(given, errors="coerce").astype(float)


def as_labels(design: Design, positive: pd.Series, labels: Any) -> np.ndarray:
    """1.0 / 0.0 (the positive class or not) written back as one of ``labels`` — the data's, or a profile's —
    picked by :func:`positive_mask`; None where ``positive`` is missing or a class has no label among them."""
    among = pd.Series(list(labels), dtype=object)
    is_positive = positive_mask(design, among)
    pos = among[is_positive].iloc[0] if is_positive.any() else None
    neg = among[~is_positive].iloc[0] if (~is_positive).any() else None
    flags = positive.to_numpy(dtype=float)
    chosen = np.asarray(np.where(flags == 1.0, pos, neg), dtype=object)
    chosen[np.isnan(flags)] = None
    return chosen


def _truthy(value: Any) -> bool:
    """A 0/1 or boolean label, however it was written."""
    if value is None or (isinstance(value, float) and value != value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("1", "1.0", "true")
    return bool(value)


def _same_label(wanted: Any, label: Any) -> bool:
    value = label.item() if hasattr(label, "item") else label
    if value == wanted or str(value) == str(wanted):
        return True
    try:  # 1 and "1.0", True and "True": the same label written two ways
        return isinstance(wanted, (int, float)) and not isinstance(wanted, bool) and float(value) == float(wanted)
    except (TypeError, ValueError):
        return str(value).strip().lower() == str(wanted).strip().lower()
