"""What each page shows, read from the stores the lifecycle writes — MLflow's tracking and registry and the
monitoring store — never from a copy. One function per page; the templates only lay the figures out.

Reading is cheap except two things, which :class:`Site` keeps for as long as their inputs do not
change: the design card (it prices today's process on the history) and each model version's
reference profile (an MLflow artifact).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlcycle.data.reference import Profile
from mlcycle.data.workspace import DESIGN_FILE
from mlcycle.develop import registry
from mlcycle.develop.tracking import TAG, Tracker, tracking_uri
from mlcycle.monitor.status import Status
from mlcycle.report.monitoring import heat_map
from mlcycle.store import Store, open_store, utcnow
from mlcycle.ui.access import Access
from mlcycle.ui.leaderboard import Leaderboard, Query, open_leaderboard
from mlcycle.usecase import UseCase

if TYPE_CHECKING:
    from mlcycle.data.quality import DataIssue
    from mlcycle.report.card import DesignCard


@dataclass
class Site:
    """One use case the dashboard serves: its folder, its stores, and what is worth keeping between requests."""

    slug: str
    folder: Path
    _use_case: tuple[float, UseCase] | None = None
    _store: Store | None = None
    _access: Access | None = None
    _card: tuple[tuple[float, ...], DesignCard, list[DataIssue]] | None = None
    _leaderboard: tuple[str, Leaderboard] | None = None
    _tracker: tuple[str, Tracker] | None = None
    _profiles: dict[str, Profile | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def use_case(self) -> UseCase:
        """The use case, read again when its design file changes (a page never shows a stale design)."""
        stamp = (self.folder / DESIGN_FILE).stat().st_mtime
        if self._use_case is None or self._use_case[0] != stamp:
            self._use_case = (stamp, UseCase.load(self.folder))
        return self._use_case[1]

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.use_case.state_dir)
        return self._store

    @property
    def access(self) -> Access:
        if self._access is None:
            self._access = Access(self.store)
        return self._access

    @property
    def tracker(self) -> Tracker:
        """One MLflow client per experiment for the app's life (a page reads the registry several times)."""
        uc = self.use_case
        if self._tracker is None or self._tracker[0] != uc.name:
            self._tracker = (uc.name, Tracker(uc.state_dir, uc.name))
        return self._tracker[1]

    def leaderboard(self) -> Leaderboard:
        """One leaderboard per experiment for the app's life: it remembers what changes only with new runs."""
        uc = self.use_case
        if self._leaderboard is None or self._leaderboard[0] != uc.name:
            self._leaderboard = (uc.name, open_leaderboard(tracking_uri(uc.state_dir), uc.name))
        return self._leaderboard[1]

    def design_card(self) -> tuple[DesignCard, list[DataIssue]]:
        """The design card and the data check, computed again only when the design or the data changes."""
        from mlcycle.data import quality
        from mlcycle.report import card as card_mod

        uc = self.use_case
        source = uc.spec.data.source
        data_file = uc.folder / source if source and not str(source).startswith(("sql", "postgresql")) else None
        stamp = tuple(p.stat().st_mtime for p in (uc.folder / DESIGN_FILE, data_file) if p is not None and p.exists())
        with self._lock:
            if self._card is None or self._card[0] != stamp:
                card = card_mod.build(uc.spec, uc.data, uc.folder)
                self._card = (stamp, card, quality.check(uc.spec, uc.raw_data))
            return self._card[1], self._card[2]

    def profile(self, version: str) -> Profile | None:
        """The reference profile saved with a model version (None when it has none)."""
        with self._lock:
            if version not in self._profiles:
                try:
                    raw = registry.reference_profile(self.tracker, self.use_case.name, version)
                    self._profiles[version] = Profile.from_dict(raw)
                except Exception:  # an old or foreign version without the artifact: the page says so
                    self._profiles[version] = None
            return self._profiles[version]


def find_sites(root: Path) -> list[Site]:
    """Every use-case folder directly under ``root`` (or two levels down), by folder name."""
    found: list[Site] = []
    for design in sorted([*root.glob(f"*/{DESIGN_FILE}"), *root.glob(f"*/*/{DESIGN_FILE}")]):
        folder = design.parent
        found.append(Site(folder.relative_to(root).as_posix().replace("/", "~"), folder))
    return found


# ── overview ─────────────────────────────────────────────────────────────────────────
def _versions(site: Site) -> list[Any]:
    from mlflow.exceptions import MlflowException

    try:
        found = site.tracker.client.search_model_versions(f"name='{site.use_case.name}'")
    except MlflowException:
        return []
    return sorted(found, key=lambda v: int(v.version), reverse=True)


def _when(millis: int | None) -> datetime | None:
    return None if not millis else datetime.utcfromtimestamp(millis / 1000)


def health(store: Store, hours: float = 1.0) -> dict[str, Any]:
    """Requests, failed requests and the p95 latency of the last hour, from the prediction log."""
    now = utcnow()
    since = now - timedelta(hours=hours)
    requests, errors = store.predictions.request_counts(since, now + timedelta(seconds=1))
    latencies = [c["latency_ms"].dropna().to_numpy(dtype=float) for c in store.predictions.frame(since, None)]
    joined = np.concatenate(latencies) if latencies else np.array([])
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": errors / (requests + errors) if requests + errors else None,
        "p95_ms": float(np.percentile(joined, 95)) if len(joined) else None,
    }


def _champion(site: Site, champion: str | None) -> tuple[datetime | None, float | None]:
    """Since when the champion serves and its validated net value, from one read of its registry version."""
    if champion is None:
        return None, None
    version = site.tracker.client.get_model_version(site.use_case.name, champion)
    since = _when(version.last_updated_timestamp or version.creation_timestamp)
    return since, registry.figures_of(version.tags).get("net_value")


def overview(site: Site) -> dict[str, Any]:
    status = site.use_case.status()
    windows = site.store.history.windows()
    champion_since, validated = _champion(site, status.champion)
    realised = [w.realised_value for w in windows]
    known = [v for v in realised if v is not None]
    return {
        "status": status,
        "champion_since": champion_since,
        "money": {
            "estimate": (status.design or {}).get("estimated_added_value_per_period"),
            "validated": validated,
            "realised": known[-1] if known else None,
            "realised_mean": float(np.mean(known)) if known else None,
        },
        "realised": [(f"{w.start:%Y-%m-%d}", w.realised_value) for w in windows],
        "health": health(site.store),
        "windows": len(windows),
    }


def portfolio_row(site: Site, status: Status | None = None) -> dict[str, Any]:
    """One use case's line in the portfolio: verdict, champion, the three money figures, alerts, last review
    (``status``: the use case's, when the caller has read it already)."""
    status = status or site.use_case.status()
    windows = site.store.history.windows(last=1)
    return {
        "status": status,
        "estimate": (status.design or {}).get("estimated_added_value_per_period"),
        "validated": _champion(site, status.champion)[1],
        "realised": windows[0].realised_value if windows else None,
    }


# ── models ───────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class ModelVersion:
    version: str
    aliases: list[str]
    created: datetime | None
    gate: dict[str, Any]
    lineage: dict[str, str | None]
    tags: dict[str, str]

    @property
    def passed(self) -> bool | None:
        return self.gate.get("passed")


def models(site: Site) -> list[ModelVersion]:
    uc = site.use_case
    aliases: dict[str, list[str]] = {}
    from mlflow.exceptions import MlflowException

    try:
        for alias, version in site.tracker.client.get_registered_model(uc.name).aliases.items():
            aliases.setdefault(str(version), []).append(alias)
    except MlflowException:
        return []
    found = []
    for v in _versions(site):
        tags = dict(v.tags)
        gate = json.loads(tags.get(f"{TAG}gate", "{}"))
        trial = gate.get("trial_run_id")
        search = None
        if trial:
            try:
                search = site.tracker.client.get_run(trial).data.tags.get("mlflow.parentRunId")
            except MlflowException:
                search = None
        found.append(
            ModelVersion(
                version=str(v.version),
                aliases=sorted(aliases.get(str(v.version), [])),
                created=_when(v.creation_timestamp),
                gate=gate,
                lineage={
                    "trial run": trial,
                    "search run": search,
                    "promotion run": v.run_id,
                    "review": tags.get(f"{TAG}review_id"),
                    "replaced version": tags.get(f"{TAG}replaces"),
                    "rolled back at": tags.get(f"{TAG}rolled_back_at"),
                },
                tags=tags,
            )
        )
    return found


def model_card(site: Site, version: ModelVersion) -> dict[str, Any]:
    """Inputs, intended use, the design's requirements, what was measured and the model's limits."""
    uc = site.use_case
    d = uc.spec
    schema = uc.schema
    failed = [r for r in version.gate.get("rows", []) if not r.get("passed")]
    limits = [f"{r['requirement']}: {r['measured']} against {r['threshold']}" for r in failed]
    limits += list(version.gate.get("notes", []) or [])
    if d.time_column:
        limits.append(
            f"needs each series' recent {d.target} history to forecast (lags); a new {', '.join(d.group_columns)}"
            " is refused until it has history"
            if d.group_columns
            else f"trained on data up to {d.data.train_until or 'the end of the history'}"
        )
    return {
        "intended_use": d.description or f"predict {d.target} ({d.task})",
        "inputs": [(name, schema.columns[name].type, schema.columns[name].role) for name in schema.input_columns],
        "figures": version.gate.get("figures", {}),
        "limits": limits,
    }


# ── monitoring ───────────────────────────────────────────────────────────────────────
TABLE_WINDOWS = 52  # a year of weekly windows in the tables by default; the charts always draw every window


def monitoring(site: Site, *, every: bool = False) -> dict[str, Any]:
    """Every window for the charts; the latest ``TABLE_WINDOWS`` in the window table and the drift heat map
    unless ``every`` (a heat map 500 windows wide is read by nobody, and costs half a second to draw)."""
    windows = site.store.history.windows()
    shown = windows if every else windows[-TABLE_WINDOWS:]
    labels, rows = heat_map(shown)
    rule = site.use_case.spec.monitoring.performance
    limit = None if rule is None else (rule.alert_above if rule.alert_above is not None else rule.alert_below)
    return {
        "limit": limit,
        "windows": windows,
        "shown": shown,
        "hidden": len(windows) - len(shown),
        "labels": labels,
        "drift_rows": rows,
        "alerts": site.store.history.alerts(),
        "open_alerts": site.store.history.open_alerts(),
    }


def drift_detail(site: Site, window_id: int, column: str) -> dict[str, Any] | None:
    """One feature in one window: the reference's share per bin (or category) beside the window's."""
    window = next((w for w in site.store.history.windows() if w.id == window_id), None)
    if window is None or window.model_version is None:
        return None
    reference = site.profile(window.model_version)
    if reference is None or column not in reference.columns:
        return {"window": window, "column": column, "bins": [], "note": "this model version has no reference here"}
    profile = reference.columns[column]
    chunks = list(site.store.predictions.frame(window.start, window.end, by="event"))
    logged = pd.concat(chunks) if chunks else pd.DataFrame(columns=["request_id", "output"])
    if column == "prediction":
        values = logged["output"]
    else:
        inputs = site.store.predictions.inputs(list(logged["request_id"]))
        values = inputs[column] if column in inputs.columns else pd.Series([], dtype=float)
    bins: list[tuple[str, float, float]] = []
    if profile.kind == "numeric" and profile.edges is not None and profile.shares is not None:
        numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
        counts = np.bincount(np.searchsorted(profile.edges, numbers, side="right"), minlength=len(profile.shares))
        shares = counts / counts.sum() if counts.sum() else counts.astype(float)
        edges = [-math.inf, *profile.edges, math.inf]
        for i, ref_share in enumerate(profile.shares):
            bins.append((_span(edges[i], edges[i + 1]), float(ref_share), float(shares[i])))
    elif profile.categories is not None and profile.shares is not None:
        text = values.dropna().astype(str)
        current = text.value_counts(normalize=True)
        known = [str(c) for c in profile.categories]
        for category, ref_share in zip(known, profile.shares):
            bins.append((category, float(ref_share), float(current.get(category, 0.0))))
        unseen = float(current[~current.index.isin(known)].sum()) if len(current) else 0.0
        if unseen:
            bins.append(("(not seen in training)", 0.0, unseen))
    cell = next((c for c in window.details.get("drift", []) if c["column"] == column), None)
    return {"window": window, "column": column, "bins": bins, "cell": cell, "rows": int(values.notna().sum())}


def _span(low: float, high: float) -> str:
    if math.isinf(low):
        return f"< {high:,.4g}"
    if math.isinf(high):
        return f"≥ {low:,.4g}"
    return f"{low:,.4g} – {high:,.4g}"


# ── decisions ────────────────────────────────────────────────────────────────────────
def actual_of(store: Store, request_id: str, series_key: str | None, event_time: datetime | None) -> Any:
    """The actual known for a prediction: sent by request id, or by its series and time."""
    frame = store.feedback.frame()
    if not len(frame):
        return None
    hit = frame[frame["request_id"] == request_id]
    if not len(hit) and event_time is not None:
        times = pd.to_datetime(frame["event_time"])
        same_series = frame["series_key"].isna() if series_key is None else frame["series_key"] == series_key
        hit = frame[same_series & (times == pd.Timestamp(event_time))]
    if not len(hit):
        return None
    row = hit.iloc[-1]
    label = row.get("actual_label")
    return label if isinstance(label, str) else row.get("actual")


def default_query(site: Site) -> Query:
    """The leaderboard's first view: best first by the design's primary metric."""
    from mlcycle.metrics import catalogue

    primary = site.use_case.spec.metrics.primary
    higher = catalogue.resolve(primary, site.folder).is_better(1.0, 0.0)
    return Query(sort=f"metric:{primary}", descending=higher)
