"""The monitoring report: every stored window, drawn for the people who read it.

Drift per feature over time as a heat map (the statistic's value, coloured by the design's
warn / alert thresholds), the watched metric and the money realised per window against the
design's threshold, its estimate and the validated figure, and the alert history. One file
that opens offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlcycle.report import html, plots
from mlcycle.store import Store, StoredWindow

if TYPE_CHECKING:
    from mlcycle.data.workspace import Workspace


def heat_map(windows: list[StoredWindow]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns (window labels) and one row per drift column: its cells (value, level) per window."""
    labels = [f"{w.start:%d %b}" for w in windows]
    rows: dict[str, dict[str, Any]] = {}
    for i, window in enumerate(windows):
        for cell in window.details.get("drift", []):
            row = rows.setdefault(
                cell["column"],
                {
                    "column": cell["column"],
                    "statistic": cell["statistic"],
                    "threshold": cell["threshold"],
                    "basis": cell.get("basis", "design"),
                    "cells": [None] * len(windows),
                },
            )
            row["cells"][i] = cell
            # auto thresholds follow each window's size: the column shows the latest window's
            row["threshold"], row["basis"] = cell["threshold"], cell.get("basis", "design")
    return labels, list(rows.values())


def write(ws: Workspace, store: Store) -> Path:
    design = ws.spec
    windows = store.history.windows()
    labels, drift_rows = heat_map(windows)
    frame = pd.DataFrame(windows)
    charts: dict[str, str] = {}
    if len(frame) and frame["metric_value"].notna().any():
        rule = design.monitoring.performance
        limit = None if rule is None else (rule.alert_above if rule.alert_above is not None else rule.alert_below)
        charts["performance"] = plots.over_windows(
            frame["start"],
            {
                f"model {frame['metric'].iloc[0]}": frame["metric_value"],
                f"today's process {frame['metric'].iloc[0]}": frame["baseline_metric_value"],
            },
            lines={"alert threshold": limit},
            label=str(frame["metric"].iloc[0]),
        )
    if len(frame) and frame["realised_value"].notna().any():
        estimate = frame["estimated_value"].dropna()
        validated = frame["validated_value"].dropna()
        share = design.monitoring.value.alert_below_fraction_of_estimate
        charts["money"] = plots.over_windows(
            frame["start"],
            {"realised added value": frame["realised_value"]},
            lines={
                "design estimate": estimate.iloc[-1] if len(estimate) else None,
                "validated in development": validated.iloc[-1] if len(validated) else None,
                f"alert below ({share:.0%} of estimate)": share * estimate.iloc[-1] if len(estimate) else None,
                "break-even (running cost paid)": 0.0,
            },
            label=f"{design.value.currency} per {design.value.period}",
        )
    return html.render(
        "monitoring.html.j2",
        ws.reports_dir / "monitoring.html",
        d=design,
        windows=windows,
        labels=labels,
        drift_rows=drift_rows,
        charts=charts,
        alerts=store.history.alerts(),
        reviews=store.history.reviews(),
    )
