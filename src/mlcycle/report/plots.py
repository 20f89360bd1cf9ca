"""Plots as inline SVG text, so an HTML report is one file that opens offline."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display here, and none needed: we only write files

import matplotlib.pyplot as plt
import pandas as pd


def to_svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: the SVG is embedded in HTML


def target_over_time(
    frame: pd.DataFrame,
    *,
    time_column: str,
    target: str,
    label: str,
    cut: pd.Timestamp | None = None,
    how: str = "sum",
) -> str:
    """The target per time step (summed over series), with a 4-week rolling mean and the training cut."""
    series = frame.groupby(frame[time_column].dt.normalize())[target].agg(how).sort_index()
    figure, axis = plt.subplots(figsize=(9, 3.2), dpi=100)
    axis.plot(series.index, series.to_numpy(), lw=0.6, color="#8aa4c8", label=f"{label} per day")
    rolling = series.rolling("28D").mean()
    axis.plot(rolling.index, rolling.to_numpy(), lw=1.8, color="#1f4e8c", label="28-day mean")
    if cut is not None:
        axis.axvline(cut, color="#c0392b", lw=1, ls="--", label="training cut-off")
    axis.set_ylabel(label)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=8, frameon=False)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    return to_svg(figure)


def over_windows(starts: pd.Series, series: dict[str, pd.Series], *, lines: dict[str, float | None], label: str) -> str:
    """Figures per monitoring window as lines with markers, and horizontal reference lines (thresholds, estimates)."""
    figure, axis = plt.subplots(figsize=(9, 3.0), dpi=100)
    colours = ["#1f4e8c", "#8aa4c8", "#2e8b57"]
    for (name, values), colour in zip(series.items(), colours):
        axis.plot(
            pd.to_datetime(starts),
            values.astype(float).to_numpy(),
            marker="o",
            lw=1.6,
            color=colour,
            label=name,
        )
    styles = [("#c0392b", "--"), ("#e67e22", ":"), ("#7f8c8d", "-."), ("#555555", "-")]
    for (name, value), (colour, style) in zip(lines.items(), styles):
        if value is not None:
            axis.axhline(float(value), color=colour, ls=style, lw=1, label=name)
    axis.set_ylabel(label)
    axis.grid(alpha=0.3)
    axis.legend(loc="best", fontsize=8, frameon=False)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    figure.autofmt_xdate()
    return to_svg(figure)
