"""Where a use case stands, in one place: design verdict, champion and its gate, last window, alerts, last review.

Everything here is read from what the other commands wrote — the design summary, the model
registry, the monitoring store — so ``mlcycle status`` is quick and changes nothing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mlcycle.develop import registry
from mlcycle.develop.tracking import TAG, Tracker
from mlcycle.monitor.store import open_store

if TYPE_CHECKING:
    from mlcycle.usecase import UseCase


def status(uc: UseCase) -> dict[str, Any]:
    store = open_store(uc.state_dir)
    design_file = uc.reports_dir / "design.json"
    design = json.loads(design_file.read_text(encoding="utf-8")) if design_file.is_file() else None
    tracker = Tracker(uc.state_dir, uc.name)
    champion = registry.alias_version(tracker, uc.name, registry.CHAMPION)
    previous = registry.alias_version(tracker, uc.name, registry.PREVIOUS)
    gate = None
    if champion is not None:
        tags = tracker.client.get_model_version(uc.name, champion).tags
        raw = json.loads(tags.get(f"{TAG}gate", "{}"))
        gate = {"passed": raw.get("passed"), "forced": raw.get("forced"),
                "rows": [{k: r[k] for k in ("requirement", "threshold", "measured", "passed")} for r in raw.get("rows", [])]}
    windows = store.windows(last=1)
    last = None
    if windows:
        w = windows[0]
        last = {k: w[k] for k in ("start", "end", "model_version", "predictions", "labelled", "metric", "metric_value",
                                  "realised_value", "estimated_value", "validated_value", "latency_p95_ms",
                                  "error_rate", "drifted")}
    reviews = store.reviews()
    return {
        "use_case": uc.name,
        "design": design,
        "serving": {"retired": store.get_status("retired")},
        "champion": {"version": champion, "previous": previous, "gate": gate},
        "last_window": last,
        "open_alerts": [{k: a[k] for k in ("rule", "subject", "opened_at", "message")} for a in store.open_alerts()],
        "last_review": ({k: reviews[-1][k] for k in ("id", "at", "verdict", "model_version", "reasons", "action",
                                                     "action_detail")} if reviews else None),
    }
