"""Every registered version has a model card: Markdown, HTML and Model-Card-Toolkit JSON, logged with the model."""

from __future__ import annotations

import json
from typing import Any

from mlcycle.develop.tracking import Tracker


def test_the_champion_has_its_card_in_the_reports_and_in_mlflow(promoted_example: Any) -> None:
    uc, report = promoted_example
    paths = report.model_card
    assert {"md", "html", "json"} == set(paths) and all(p.is_file() for p in paths.values())
    card = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert card["model_details"]["version"]["name"] == report.version
    assert card["model_details"]["registry"]["promotion_run_id"] == report.promotion_run_id
    assert report.spec["algorithm"] in card["model_parameters"]["model_architecture"]
    train = card["model_parameters"]["data"]["train"]
    assert train["rows"] == len(uc.workspace.training_data) and train["target"] == uc.spec.target
    assert train["from"] < train["until"]  # the example has a time column
    # the three views, each beside today's process, as the search validated them
    figures = {m["type"]: m for m in card["quantitative_analysis"]["performance_metrics"]}
    assert {"mae", "net_value", "money_lost"} <= set(figures)
    assert figures["money_lost"]["value"] < figures["money_lost"]["baseline"]
    assert figures["net_value"]["confidence_interval"]["lower_bound"] < figures["net_value"]["value"]
    # the gate as it ran, and considerations the design and the measurements give
    assert [r["requirement"] for r in card["gate"]["rows"]] == [r.requirement for r in report.rows]
    assert card["considerations"]["use_cases"][0]["description"]
    assert any("no concept shift" in item["description"] for item in card["considerations"]["limitations"])
    html = paths["html"].read_text(encoding="utf-8")
    assert "Intended use" in html and "Promotion gate" in html and html.rstrip().endswith("</html>")
    assert paths["md"].read_text(encoding="utf-8").startswith(f"# Model card — {uc.name} version {report.version}")
    logged = Tracker(uc.state_dir, uc.name).client.list_artifacts(report.promotion_run_id, "model_card")
    assert sorted(a.path.rsplit("/", 1)[-1] for a in logged) == sorted(p.name for p in paths.values())
