"""The model card of every registered version: what it is for, what it learnt from, how it was judged.

One card per version, written when the version is registered (promotion, forced promotion or retrain) to
``.mlcycle/reports/model-cards/<name>-v<version>.{md,html,json}`` and logged with the promotion run as MLflow
artifacts under ``model_card/`` — so the registry shows it beside the model it describes.

The JSON follows the schema of Google's Model Card Toolkit (``model_details``, ``model_parameters``,
``quantitative_analysis``, ``considerations``); the Markdown follows the section order of the Hugging Face
model-card template (Model details · Uses · Bias, risks and limitations · Training details · Evaluation). What
only people can say — intended use, out-of-scope uses, limitations, owners — comes from the design's
``model_card:`` section; the rest is measured: the three views against today's process, fairness per group,
the gate report, and limitations mlcycle knows of (its estimator's assumptions, groups too small to judge,
missing values, the time range).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcycle.exceptions import UsageError
from mlcycle.metrics import catalogue, fairness
from mlcycle.report import html

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace
    from mlcycle.develop.gate import GateReport

VIEW_NAMES = {"data_scientist": "data scientist", "domain_expert": "domain expert", "business": "business"}


def build(ws: Workspace, report: GateReport) -> dict[str, Any]:
    """The card as Model Card Toolkit JSON."""
    design = ws.spec
    card = design.model_card
    spec = report.spec
    currency = f"{design.value.currency} per {design.value.period}"
    metrics = []
    for view, figures in report.evaluation.items():
        for name, figure in figures.items():
            if figure["model"] is None:
                continue
            entry: dict[str, Any] = {
                "type": name,
                "value": figure["model"],
                "slice": f"{VIEW_NAMES.get(view, view)} view, validation folds",
                "baseline": figure["baseline"],
                "unit": currency if catalogue.CATALOGUE.get(name) and view == "business" else None,
            }
            if figure["low"] is not None and figure["high"] is not None:
                entry["confidence_interval"] = {"lower_bound": figure["low"], "upper_bound": figure["high"]}
            metrics.append(entry)
    for found in report.fairness:
        for group in found["groups"]:
            for name, figure in group["figures"].items():
                if name not in fairness.rates(design.task) or figure["value"] is None:
                    continue
                entry = {"type": name, "value": figure["value"], "slice": f"{found['column']} = {group['name']}"}
                if figure["low"] is not None:
                    entry["confidence_interval"] = {"lower_bound": figure["low"], "upper_bound": figure["high"]}
                metrics.append(entry)
    return {
        "schema": "model-card-toolkit 0.0.2 (fields), Hugging Face model card template (sections)",
        "model_details": {
            "name": design.name,
            "overview": design.description.strip()
            or f"A {design.task} model predicting {design.target} for the use case {design.name}.",
            "version": {"name": report.version, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")},
            "owners": [{"name": owner} for owner in card.owners],
            "references": [{"reference": report.model_uri or ""}],
            "registry": {
                "model_uri": report.model_uri,
                "promotion_run_id": report.promotion_run_id,
                "trial_run_id": report.trial_run_id,
            },
        },
        "model_parameters": {
            "model_architecture": f"{spec['algorithm']} on the data variant {spec['variant']}",
            "hyperparameters": spec.get("params", {}),
            "input_format": ", ".join(report.training.get("inputs", [])),
            "output_format": _output(ws, report),
            "data": {"train": report.training},
        },
        "quantitative_analysis": {"performance_metrics": metrics, "fairness": report.fairness},
        "considerations": {
            "users": [{"description": owner} for owner in card.owners],
            "use_cases": [{"description": card.intended_use.strip() or design.description.strip() or _default_use(ws)}],
            "out_of_scope": [{"description": text} for text in card.out_of_scope],
            "limitations": [{"description": text} for text in [*card.limitations, *_measured_limits(ws, report)]],
            "ethical_considerations": _ethics(ws, report),
        },
        "gate": {
            "passed": report.passed,
            "forced": report.forced,
            "forced_by": report.forced_by,
            "reason": report.reason,
            "rows": [
                {
                    "requirement": r.requirement,
                    "threshold": r.threshold,
                    "measured": r.measured,
                    "passed": r.passed,
                    "detail": r.detail,
                }
                for r in report.rows
            ],
        },
    }


def write(ws: Workspace, report: GateReport) -> dict[str, Path]:
    """Write the card of a registered version (Markdown, HTML, JSON) and log it with its promotion run."""
    if report.version is None:
        raise UsageError("a model card describes a registered version; this promotion registered none")
    card = build(ws, report)
    folder = ws.reports_dir / "model-cards"
    stem = f"{ws.name}-v{report.version}"
    context = {"c": card, "d": ws.spec, "views": VIEW_NAMES, "label": fairness.label}
    paths = {
        "md": html.render("model_card.md.j2", folder / f"{stem}.md", **context),
        "html": html.render("model_card.html.j2", folder / f"{stem}.html", **context),
    }
    paths["json"] = folder / f"{stem}.json"
    paths["json"].write_text(json.dumps(card, indent=1, default=str), encoding="utf-8")
    if report.promotion_run_id:
        from mlcycle.develop.tracking import Tracker

        client = Tracker(ws.state_dir, ws.name).client
        for path in paths.values():
            client.log_artifact(report.promotion_run_id, str(path), "model_card")
    return paths


def _output(ws: Workspace, report: GateReport) -> str:
    design = ws.spec
    if design.task == "classification":
        return (
            f"the decision ({design.target}: positive class or not) at the money-optimal threshold, with the "
            "probability of the positive class"
        )
    return f"a forecast of {design.target}"


def _default_use(ws: Workspace) -> str:
    design = ws.spec
    return (
        f"{design.requirements.frequency} {design.task} of {design.target} for {design.name}, replacing today's "
        f"process ({design.value.baseline.method} baseline) where it adds value after its running cost"
    )


def _measured_limits(ws: Workspace, report: GateReport) -> list[str]:
    """Limits mlcycle knows of from what it measured."""
    out = []
    training = report.training
    if "from" in training:
        out.append(
            f"learnt from {training['rows']:,} rows between {training['from'][:10]} and {training['until'][:10]}; "
            "conditions never seen in that period (new products, prices, seasons) are outside what it was checked on"
        )
    else:
        out.append(f"learnt from {training['rows']:,} rows; inputs outside their ranges were never checked")
    for column, missing in training.get("missing", {}).items():
        out.append(f"{column} was missing in {missing:,} training rows: the model fills it in, as served")
    for found in report.fairness:
        for name, rows in found["left_out"]:
            out.append(f"the group {found['column']} = {name} had {rows} rows: too few to judge its treatment")
    out.append(
        "estimates of performance before the actuals arrive (CBPE / DLE) assume the relation between inputs and "
        "outcome does not change (no concept shift)"
    )
    return out


def _ethics(ws: Workspace, report: GateReport) -> list[dict[str, str]]:
    compliance = ws.spec.requirements.compliance
    out = []
    for column in compliance.forbidden_features:
        row = next((r for r in report.rows if r.requirement == f"no proxy for forbidden {column}"), None)
        mitigation = f"not an input; {row.measured} from the allowed inputs ({row.detail})" if row else "not an input"
        out.append({"name": f"{column} is forbidden", "mitigation_strategy": mitigation})
    for found in report.fairness:
        rows = [
            r for r in report.rows if r.requirement.startswith("fairness:") and r.requirement.endswith(found["column"])
        ]
        summary = "; ".join(
            f"{r.requirement.split(': ', 1)[1]}: {r.measured} ({'met' if r.passed else 'not met'})" for r in rows
        )
        out.append(
            {
                "name": f"treatment across {found['column']}",
                "mitigation_strategy": summary
                or "measured per group, no limit set (requirements.compliance.max_disparity)",
            }
        )
    if compliance.audit_log:
        out.append(
            {
                "name": "accountability",
                "mitigation_strategy": "every prediction is logged with its inputs, model version and explanation",
            }
        )
    return out


__all__ = ["build", "write"]
