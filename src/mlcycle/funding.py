"""The portfolio: which use case to fund next, ranked by what each is expected to return for what it still costs.

The design phase prices one use case; a business decides between several. For each use case, at whatever stage
it stands (new, designed, experimented, promoted, monitored, retired), this reads what the commands wrote —
the design summary, the champion's gate, the latest window, the spend — and takes the **best-known added value
per period**: realised in the latest monitored window, else validated by the gate, else estimated by the design,
each with its 90 % interval and named (``basis``).

**The ranking rule** (``--by score``, the default): the value expected over the payback horizon —
added value per period × ``horizon_periods`` — per unit of the development budget still unspent
(``development_budget`` − spend so far, at least 1; with no budget set, per 1). Use cases that add no value,
and retired or not-yet-designed ones, come after every use case that adds some. Risk is shown beside the
score, never folded into it: a reader weighs "no-go at design" or "3 open alerts" themselves.

The **probability of paying back within the horizon**: for a design estimate, the share of the design's
resamples in which a model that just meets the gate pays the budget back in time; for validated or realised
figures, the normal approximation of their 90 % interval: P(added value × horizon ≥ what has to be paid back),
what has to be paid back being the budget, or the spend when it is larger.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

from mlcycle.data.workspace import DESIGN_FILE
from mlcycle.exceptions import UsageError, UseCaseError
from mlcycle.monitor.status import Status
from mlcycle.usecase import UseCase

ORDERS = ("score", "value", "probability", "payback", "spend", "name")
RULE = (
    "expected added value over the payback horizon (added value per period × horizon_periods, best-known: "
    "realised, else validated, else estimated) per unit of development budget still unspent; use cases adding "
    "no value, retired or not yet designed rank last; risks are shown, not scored"
)
Z90 = NormalDist().inv_cdf(0.95)  # a 90 % interval spans ±1.645 standard deviations


@dataclass(frozen=True)
class Entry:
    """One use case's line in the portfolio."""

    name: str
    folder: str
    stage: str  # new | designed | experimented | promoted | monitored | retired
    currency: str
    period: str
    horizon_periods: int
    added_value: float | None  # per period, best known
    low: float | None
    high: float | None
    basis: str | None  # realised | validated | estimated
    pays_back_probability: float | None
    budget: float
    spent: float
    spent_estimated: bool  # team time estimated from team_size
    payback_periods: float | None  # what has to be paid back ÷ added value
    risks: list[str] = field(default_factory=list)
    score: float | None = None

    @property
    def adds_value(self) -> bool:
        return self.added_value is not None and self.added_value > 0 and self.stage not in ("retired", "new")


@dataclass(frozen=True)
class Portfolio:
    entries: list[Entry]  # in ranked order
    by: str
    advice: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": RULE,
            "by": self.by,
            "advice": self.advice,
            "use_cases": [
                {**asdict(e), "rank": i + 1, **{k: _finite(v) for k, v in asdict(e).items() if isinstance(v, float)}}
                for i, e in enumerate(self.entries)
            ],
        }


def find(root: Path) -> list[Path]:
    """Use-case folders: ``root`` itself when it holds a design, and every folder one or two levels under it."""
    root = Path(root)
    designs = [root / DESIGN_FILE] if (root / DESIGN_FILE).is_file() else []
    designs += sorted([*root.glob(f"*/{DESIGN_FILE}"), *root.glob(f"*/*/{DESIGN_FILE}")])
    return [d.parent for d in designs]


def portfolio(paths: Iterable[str | Path], *, by: str = "score") -> Portfolio:
    """Rank the use cases in ``paths`` (folders; a folder holding several use cases is searched)."""
    if by not in ORDERS:
        raise UsageError(f"--by must be one of {', '.join(ORDERS)}; got {by!r}")
    folders: list[Path] = []
    for path in paths:
        found = find(Path(path))
        if not found:
            raise UseCaseError(f"no use case in {path}: no {DESIGN_FILE} there or one or two folders below")
        folders += [f for f in found if f not in folders]
    entries = [entry(UseCase.load(folder)) for folder in folders]
    ranked = rank(entries, by)
    return Portfolio(ranked, by, advice(ranked))


def entry(uc: UseCase, state: Status | None = None) -> Entry:
    """What one use case is worth, costs and risks, from what its commands wrote (``state``: its status, when
    the caller has read it already)."""
    state = state or uc.status()
    design, value = uc.spec, uc.spec.value
    summary = state.design or {}
    added, low, high, basis = _added_value(state)
    spend = state.spend or {}
    spent = float(spend.get("total", 0.0))
    owed = max(value.development_budget, spent)
    probability = None
    if basis == "estimated":
        probability = (summary.get("intervals") or {}).get("payback_share")
    elif added is not None:
        probability = _chance_at_least(added, low, high, owed / value.horizon_periods)
    stage = _stage(uc, state)
    entry_ = Entry(
        name=design.name,
        folder=str(uc.folder),
        stage=stage,
        currency=value.currency,
        period=value.period,
        horizon_periods=value.horizon_periods,
        added_value=added,
        low=low,
        high=high,
        basis=basis,
        pays_back_probability=probability,
        budget=value.development_budget,
        spent=spent,
        spent_estimated=bool(spend.get("team_estimated")) and bool(spend.get("team_cost")),
        payback_periods=(owed / added) if added and added > 0 else None,
        risks=_risks(uc, state, stage),
    )
    return _scored(entry_)


def rank(entries: Sequence[Entry], by: str = "score") -> list[Entry]:
    """Ordered by ``by``; use cases that add value always before those that do not, and among those, the ones with
    a value figure before the new, retired or unpriced."""
    keys = {
        "score": lambda e: -(e.score or 0.0),
        "value": lambda e: -(e.added_value or 0.0),
        "probability": lambda e: -(e.pays_back_probability or 0.0),
        "payback": lambda e: e.payback_periods if e.payback_periods is not None else math.inf,
        "spend": lambda e: -e.spent,
        "name": lambda e: e.name,
    }
    return sorted(
        entries,
        key=lambda e: (
            not e.adds_value,
            e.added_value is None or e.stage in ("retired", "new"),
            keys[by](e),
            e.name,
        ),
    )


def advice(entries: Sequence[Entry]) -> str:
    """What to fund next, for the business reader."""
    if not entries:
        return "No use case found."
    worth = [e for e in entries if e.adds_value]
    parts = []
    if worth:
        top = worth[0]
        parts.append(
            f"Fund {top.name} next: it is expected to add {_money(top.added_value, top)} per {top.period} "
            f"({_span(top)}, {top.basis})"
            + (
                f", with a {top.pays_back_probability:.0%} chance of paying back "
                f"{_money(max(top.budget, top.spent), top)} within {top.horizon_periods} {top.period}s"
                if top.pays_back_probability is not None
                else ""
            )
            + (
                f"; {_money(top.budget - top.spent, top)} of its budget is left"
                if top.budget > 0 and top.spent < top.budget
                else ""
            )
            + (f". Watch: {'; '.join(top.risks)}." if top.risks else ".")
        )
        for following in worth[1:3]:
            parts.append(
                f"Then {following.name} ({_money(following.added_value, following)} per {following.period}, "
                f"{following.basis}{'; ' + '; '.join(following.risks) if following.risks else ''})."
            )
    else:
        parts.append("No use case is expected to add value yet: none is worth funding on the figures so far.")
    held = [e for e in entries if not e.adds_value and e.stage != "retired"]
    if held:
        parts.append(
            "Hold: "
            + "; ".join(
                f"{e.name} ({'not designed yet — run mlcycle design' if e.stage == 'new' else _why_not(e)})"
                for e in held
            )
            + "."
        )
    retired = [e.name for e in entries if e.stage == "retired"]
    if retired:
        parts.append(f"Retired: {', '.join(retired)}.")
    return " ".join(parts)


# ── the parts ────────────────────────────────────────────────────────────────────────
def _added_value(state: Any) -> tuple[float | None, float | None, float | None, str | None]:
    last = state.last_window or {}
    if last.get("realised_value") is not None:
        interval = (last.get("intervals") or {}).get("realised_value") or {}
        return float(last["realised_value"]), interval.get("low"), interval.get("high"), "realised"
    figures = (state.gate or {}).get("figures") or {}
    if figures.get("net_value") is not None:
        return float(figures["net_value"]), figures.get("net_value_low"), figures.get("net_value_high"), "validated"
    summary = state.design or {}
    if summary.get("estimated_added_value_per_period") is not None:
        at_gate = (summary.get("intervals") or {}).get("added_value_at_gate_per_period") or {}
        return float(summary["estimated_added_value_per_period"]), at_gate.get("low"), at_gate.get("high"), "estimated"
    return None, None, None, None


def _chance_at_least(value: float, low: float | None, high: float | None, needed: float) -> float | None:
    """P(X ≥ needed) for X normal with the 90 % interval [low, high] around ``value``."""
    if low is None or high is None or not (high > low):
        return None if low is None or high is None else float(value >= needed)
    sd = (high - low) / (2 * Z90)
    return 1.0 - NormalDist(value, sd).cdf(needed)


def _stage(uc: UseCase, state: Any) -> str:
    if state.retired:
        return "retired"
    if state.last_window is not None:
        return "monitored"
    if state.champion is not None:
        return "promoted"
    if _searched(uc):
        return "experimented"
    if state.design is not None:
        return "designed"
    return "new"


def _searched(uc: UseCase) -> bool:
    """Whether any search was tracked: a search run in the use case's MLflow experiment."""
    from mlcycle.develop.tracking import TAG, Tracker

    tracker = Tracker(uc.state_dir, uc.name)
    found = tracker.client.search_runs([tracker.experiment_id], f"tags.`{TAG}kind` = 'search'", max_results=1)
    return bool(found)


def _refused(uc: UseCase) -> str | None:
    """The requirements the latest promotion failed on, when it registered nothing."""
    from mlcycle.develop.tracking import TAG, Tracker

    tracker = Tracker(uc.state_dir, uc.name)
    runs = tracker.client.search_runs(
        [tracker.experiment_id],
        f"tags.`{TAG}kind` = 'promotion'",
        max_results=1,
        order_by=["attributes.start_time DESC"],
    )
    if not runs or runs[0].data.tags.get(f"{TAG}gate_passed") != "false":
        return None
    rows = json.loads(runs[0].data.tags.get(f"{TAG}gate", "{}")).get("rows", [])
    return ", ".join(r["requirement"] for r in rows if not r["passed"]) or "see its gate report"


def _risks(uc: UseCase, state: Any, stage: str) -> list[str]:
    risks = []
    design = state.design or {}
    if design.get("verdict") == "no-go":
        risks.append("no-go at design")
    checked = uc.reports_dir / "data_check.json"
    if checked.is_file():
        found = json.loads(checked.read_text(encoding="utf-8"))
        if found["errors"] or found["warnings"]:
            risks.append(f"data check: {found['errors']} error(s), {found['warnings']} warning(s)")
    elif stage != "new":
        risks.append("data not checked (mlcycle data check)")
    refused = _refused(uc) if state.champion is None and stage != "new" else None
    if refused:
        risks.append(f"last promotion refused ({refused})")
    gate = state.gate or {}
    if gate.get("forced"):
        failed = [r["requirement"] for r in gate.get("rows", []) if not r.get("passed")]
        risks.append("champion forced past its gate" + (f" ({', '.join(failed)})" if failed else ""))
    if state.open_alerts:
        risks.append(f"{len(state.open_alerts)} open alert(s)")
    review = state.last_review or {}
    if review.get("verdict") not in (None, "healthy"):
        risks.append(f"last review: {review['verdict']}")
    estimated = ((state.last_window or {}).get("estimated") or {}).get("check") or {}
    money = estimated.get("net_value") or {}
    if money and money.get("covered") is False:
        risks.append("estimated value missed the realised one")
    spend = state.spend or {}
    if spend and not spend.get("within_budget", True):
        risks.append(f"over budget ({spend['total']:,.0f} of {spend['budget']:,.0f})")
    return risks


def _scored(e: Entry) -> Entry:
    if e.added_value is None:
        return e
    remaining = max(e.budget - e.spent, 1.0) if e.budget > 0 else 1.0
    score = e.added_value * e.horizon_periods / remaining
    return Entry(**{**asdict(e), "score": score})


def _why_not(e: Entry) -> str:
    if e.added_value is None:
        return "no value figure yet"
    return f"{_money(e.added_value, e)} per {e.period} ({e.basis})" + (f"; {'; '.join(e.risks)}" if e.risks else "")


def _money(value: float | None, e: Entry) -> str:
    return "—" if value is None else f"{value:,.0f} {e.currency}"


def _span(e: Entry) -> str:
    if e.low is None or e.high is None:
        return "no interval"
    return f"{e.low:,.0f} – {e.high:,.0f} at 90%"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


__all__ = ["ORDERS", "RULE", "Entry", "Portfolio", "advice", "entry", "find", "portfolio", "rank"]
