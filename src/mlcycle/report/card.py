"""The design card: the one page a team agrees on before any model is trained.

It states the use case, its requirements as a checklist (each with where code will check
it), the three metric views and who reads them — with today's process already scored on
each —, the money table and the go / no-go, and a profile of the data with the target
plotted over time. Written as Markdown (for the repository) and HTML (self-contained).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from mlcycle.contract.spec import CALENDAR_FEATURES, Design, positive_mask
from mlcycle.data.load import training_rows
from mlcycle.data.profile import DataProfile, profile_frame
from mlcycle.design.spend import Spend
from mlcycle.design.value import ValueEstimate, estimate, score_baseline
from mlcycle.metrics import catalogue
from mlcycle.report import html, plots


@dataclass(frozen=True)
class RequirementRow:
    requirement: str
    target: str
    checked_at: str
    baseline_today: str = ""


@dataclass(frozen=True)
class MetricRow:
    name: str
    label: str
    direction: str
    baseline_value: float
    primary: bool = False


@dataclass
class DesignCard:
    design: Design
    value: ValueEstimate
    profile: DataProfile
    requirements: list[RequirementRow]
    views: dict[str, list[MetricRow]]
    plot_svg: str
    spend: Spend | None = None  # what the use case has cost so far (design/spend.py), when anything was recorded
    created: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    markdown_path: Path | None = None
    html_path: Path | None = None

    @property
    def verdict(self) -> str:
        return self.value.verdict


def _baseline_metrics(design: Design, scored: catalogue.Scored, folder: Path) -> dict[str, list[MetricRow]]:
    views: dict[str, list[MetricRow]] = {}
    for view, names in design.views.items():
        rows = []
        for name in names:
            metric = catalogue.resolve(name, folder)
            # net_value compares a model with the baseline: for the baseline itself it is not a figure.
            number = math.nan if name == "net_value" else metric(scored)
            direction = {"lower": "lower is better", "higher": "higher is better", "zero": "best at 0"}[
                metric.direction
            ]
            rows.append(MetricRow(name, metric.label, direction, number, name == design.metrics.primary))
        views[view] = rows
    return views


def _requirements(design: Design, scored: catalogue.Scored, value: ValueEstimate) -> list[RequirementRow]:
    req = design.requirements
    rows = [
        RequirementRow("prediction frequency", req.frequency, "serving, monitoring"),
        RequirementRow("single-row latency, p95", f"≤ {req.latency_p95_ms:g} ms", "promotion, serving"),
    ]
    if req.quality is not None:
        metric = req.quality.metric
        bound = f"≤ {req.quality.max:g}" if req.quality.max is not None else f"≥ {req.quality.min:g}"
        today = catalogue.CATALOGUE[metric](scored)
        rows.append(RequirementRow(f"quality: {metric}", bound, "promotion, monitoring", html._number(today)))
    rows += [
        RequirementRow(
            "beat the baseline in money lost",
            f"≥ {req.beat_baseline_by:.0%} less",
            "promotion, monitoring",
            html._money(value.baseline_money_lost_per_period, value.currency) + f" per {value.period}",
        ),
        RequirementRow("added value after running cost", "> 0 per period", "promotion, monitoring, review"),
        RequirementRow("explainability", req.explainability.replace("_", " "), "promotion, serving"),
        RequirementRow("audit log of every prediction", "yes" if req.compliance.audit_log else "no", "serving"),
        RequirementRow(
            "forbidden features",
            ", ".join(req.compliance.forbidden_features) or "none",
            "design, data check, promotion",
        ),
        RequirementRow("training time", f"≤ {req.budget.max_training_minutes:g} min", "development"),
        RequirementRow("team size", str(req.budget.team_size), "design"),
    ]
    return rows


def build(design: Design, frame: pd.DataFrame, folder: Path) -> DesignCard:
    """Price today's process on the history the design may learn from (up to ``data.train_until``).

    Later rows stand for the future — replayed as production traffic — so they inform
    neither the estimate nor the go / no-go; the profile and the plot show all the data.
    """
    history = training_rows(design, frame)
    scored = score_baseline(design, history)
    value = estimate(design, history, scored)
    profile = profile_frame(frame, time_column=design.time_column, group_columns=design.group_columns)
    views = _baseline_metrics(design, scored, folder)
    svg = ""
    if design.time_column:
        cut = pd.Timestamp(design.data.train_until) if design.data.train_until else None
        how = "sum" if design.task == "regression" else "mean"
        label = design.labels.get(design.target, design.target)
        if design.task == "classification":
            frame = frame.assign(**{design.target: positive_mask(design, frame[design.target]).astype(float)})
            label = f"share {label} positive"
        svg = plots.target_over_time(
            frame, time_column=design.time_column, target=design.target, label=label, cut=cut, how=how
        )
    return DesignCard(design, value, profile, _requirements(design, scored, value), views, svg)


def write(card: DesignCard, reports: Path) -> DesignCard:
    context = dict(card=card, d=card.design, v=card.value, readers=catalogue.VIEW_READERS, calendar=CALENDAR_FEATURES)
    if card.plot_svg:
        (reports / "design-target.svg").parent.mkdir(parents=True, exist_ok=True)
        (reports / "design-target.svg").write_text(card.plot_svg, encoding="utf-8")
    card.markdown_path = html.render("design.md.j2", reports / "design.md", **context)
    card.html_path = html.render("design.html.j2", reports / "design.html", **context)
    v = card.value
    summary = {
        "verdict": v.verdict,
        "reasons": v.reasons,
        "currency": v.currency,
        "period": v.period,
        "predictions_per_period": v.predictions_per_period,
        "baseline_money_lost_per_period": v.baseline_money_lost_per_period,
        "estimated_added_value_per_period": v.at_gate.added_value_per_period,
        "break_even_improvement": v.break_even_improvement,
        "required_by_design": v.required_by_design,
        "intervals": v.spread.to_dict() if v.spread is not None else None,
        "spend": card.spend.to_json() if card.spend is not None else None,
    }
    (reports / "design.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")  # read by `mlcycle status`
    return card
