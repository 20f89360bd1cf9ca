"""The dashboard's pages and rules over HTTP, on the demo's use case after the loop and on a fresh one."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import mlcycle
from mlcycle.exceptions import UseCaseError
from mlcycle.store import open_store
from mlcycle.ui import create_app
from mlcycle.ui.app import plotly_js

PAGES = ("", "design", "experiments", "experiments/compare", "models", "monitoring", "decisions", "review")
OUTSIDE = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//(?!127\.0\.0\.1|localhost)""", re.I)


def _slug(app: FastAPI) -> str:
    return next(iter(app.state.dashboard.sites))


@pytest.mark.parametrize("which", ["demo_app", "fresh_app"])
def test_every_page_answers_and_names_nothing_outside(which: str, request: pytest.FixtureRequest) -> None:
    app: FastAPI = request.getfixturevalue(which)
    client = TestClient(app)
    slug = _slug(app)
    assert client.get("/", follow_redirects=False).headers["location"] == f"/uc/{slug}/"
    for page in PAGES:
        response = client.get(f"/uc/{slug}/{page}")
        assert response.status_code == 200, (page, response.text[:500])
        assert not OUTSIDE.search(response.text), f"{page} references another host"
        assert (
            "Content-Security-Policy" in response.headers
            and "default-src 'self'" in response.headers["Content-Security-Policy"]
        )
    bundle = client.get("/static-lib/plotly.min.js")
    assert bundle.status_code == 200 and bundle.content == plotly_js().read_bytes()


def test_empty_states_say_what_to_do_next(fresh_app: FastAPI) -> None:
    client = TestClient(fresh_app)
    slug = _slug(fresh_app)
    assert "run <code>mlcycle experiment" in client.get(f"/uc/{slug}/").text
    assert "No trials yet. Run <code>mlcycle experiment" in client.get(f"/uc/{slug}/experiments").text
    assert "No registered version yet" in client.get(f"/uc/{slug}/models").text
    assert "Nothing monitored yet" in client.get(f"/uc/{slug}/monitoring").text
    assert "No predictions logged" in client.get(f"/uc/{slug}/decisions").text
    assert "No review yet" in client.get(f"/uc/{slug}/review").text


def test_the_overview_tells_the_demos_story(demoed: tuple[Path, str], demo_client: TestClient) -> None:
    folder, _ = demoed
    status = mlcycle.UseCase.load(folder).status()
    page = demo_client.get(f"/uc/{folder.name}/").text
    assert status.champion is not None and f"version {status.champion}" in page
    assert f"{status.design['estimated_added_value_per_period']:,.0f} GBP" in page  # type: ignore[index]
    assert status.last_review is not None and status.last_review["verdict"].upper() in page
    assert "realised added value per window" in page  # the sparkline's text alternative


def test_the_leaderboard_is_mlflows_trials_paged_sorted_and_filtered(
    demoed: tuple[Path, str], demo_client: TestClient
) -> None:
    import mlflow

    folder, _ = demoed
    uc = mlcycle.UseCase.load(folder)
    mlflow.set_tracking_uri(f"sqlite:///{uc.state_dir / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=[uc.name], filter_string="tags.`mlcycle.kind` = 'trial'")
    complete = runs[runs["tags.mlcycle.state"] == "complete"]
    page = demo_client.get(f"/uc/{folder.name}/experiments?size=25").text
    assert f"{len(complete)} trials match the filters (complete trials only" in page and "today's process" in page
    everything = demo_client.get(f"/uc/{folder.name}/experiments?state=any").text
    assert f"{len(runs)} trials ·" in everything
    # ties (Optuna may propose the same params twice) are broken by run id, as the leaderboard's contract says
    best = complete.sort_values(["metrics.net_value", "run_id"], ascending=[False, True], na_position="last").iloc[0]
    first_row = page.split('name="run" value="')[1].split('"')[0]
    assert first_row == best["run_id"]  # the default view: best net value first
    by_mae = demo_client.get(f"/uc/{folder.name}/experiments?sort=metric:mae&desc=0&state=any").text
    lowest = runs.sort_values(["metrics.mae", "run_id"], na_position="last").iloc[0]["run_id"]
    assert by_mae.split('name="run" value="')[1].split('"')[0] == lowest
    only = runs[runs["params.algorithm"] == "lightgbm"]
    filtered = demo_client.get(f"/uc/{folder.name}/experiments?algorithm=lightgbm&state=any").text
    assert f"{len(only)} trials match the filters" in filtered
    parent = runs["tags.mlflow.parentRunId"].iloc[-1]  # the demo's first search; its retrain is another
    one_search = demo_client.get(f"/uc/{folder.name}/experiments?state=any&search={parent}").text
    assert f"{(runs['tags.mlflow.parentRunId'] == parent).sum()} trials match the filters" in one_search
    assert '<label>search <select name="search">' in page  # the demo searched twice: the filter is offered


def test_compare_shows_each_trial_side_by_side(demoed: tuple[Path, str], demo_client: TestClient) -> None:
    folder, _ = demoed
    page = demo_client.get(f"/uc/{folder.name}/experiments").text
    ids = re.findall(r'name="run" value="([0-9a-f]+)"', page)[:3]
    compared = demo_client.get(f"/uc/{folder.name}/experiments/compare", params=[("run", i) for i in ids]).text
    assert all(f"<code>{i[:8]}</code>" in compared for i in ids) and '<th scope="row">algorithm</th>' in compared
    points = demo_client.get(f"/api/uc/{folder.name}/points", params={"x": "mae", "y": "net_value"}).json()
    assert set(ids) <= set(points["run_ids"]) and len(points["xs"]) == len(points["ys"]) == len(points["run_ids"])


def test_drift_click_through_compares_shares_on_the_references_bins(
    demoed: tuple[Path, str], demo_client: TestClient
) -> None:
    folder, _ = demoed
    monitoring = demo_client.get(f"/uc/{folder.name}/monitoring").text
    link = re.search(r'href="(/uc/[^"]+/monitoring/drift\?window=\d+&amp;column=price)"', monitoring)
    assert link is not None
    detail = demo_client.get(link.group(1).replace("&amp;", "&")).text
    cells = re.findall(r"<tr><td>[^<]+</td><td>([\d.]+)%</td><td>([\d.]+)%</td></tr>", detail)
    assert len(cells) >= 5
    assert abs(sum(float(r) for r, _ in cells) - 100) < 1 and abs(sum(float(c) for _, c in cells) - 100) < 1


def test_one_decision_is_looked_up_with_its_inputs_and_version(
    demoed: tuple[Path, str], demo_client: TestClient
) -> None:
    folder, _ = demoed
    store = open_store(mlcycle.UseCase.load(folder).state_dir)
    latest = store.predictions.recent(1)[0]
    page = demo_client.get(f"/uc/{folder.name}/decisions", params={"request_id": latest.request_id}).text
    assert f"Prediction {latest.request_id}" in page and f'version <a href="/uc/{folder.name}/models#v' in page
    assert f">{latest.model_version}</a>" in page and "unit price" in page  # inputs under the design's labels
    missing = demo_client.get(f"/uc/{folder.name}/decisions", params={"request_id": "nope"}).text
    assert "No prediction with request id nope is logged" in missing
    second = demo_client.get(f"/uc/{folder.name}/decisions?page=2").text
    assert latest.request_id not in second.split("Recent predictions")[1]


def test_the_role_is_remembered_and_orders_the_overview(demoed: tuple[Path, str], demo_client: TestClient) -> None:
    folder, _ = demoed
    business = demo_client.get(f"/uc/{folder.name}/?role=business").text
    assert business.index("Money per") < business.index("Service, last hour")
    switched = demo_client.get(f"/uc/{folder.name}/?role=data_scientist")
    assert switched.cookies.get("mlcycle_role") == "data_scientist"
    remembered = demo_client.get(f"/uc/{folder.name}/").text  # no parameter: the cookie decides
    assert 'class="role-data_scientist"' in remembered
    assert remembered.index("Service, last hour") < remembered.index("Money per")


def test_keys_guard_pages_and_actions_and_the_audit_names_who(fresh_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "guarded"
    shutil.copytree(fresh_dir, folder, ignore=shutil.ignore_patterns(".mlcycle"))
    store = open_store(mlcycle.UseCase.load(folder).state_dir)
    _, viewer = store.keys.create("view", note="finance")
    admin_id, admin = store.keys.create("admin", note="ops")
    client = TestClient(create_app(folder))
    locked = client.get("/uc/guarded/models")
    assert locked.status_code == 401 and 'name="key"' in locked.text
    csrf = client.cookies["mlcycle_csrf"]
    assert client.post("/login", data={"key": viewer, "next": "/uc/guarded/models"}).status_code == 403  # no token
    wrong = client.post("/login", data={"key": "guess", "csrf": csrf})
    assert wrong.status_code == 401 and "unknown or revoked key" in wrong.text
    signed = client.post(
        "/login", data={"key": viewer, "next": "/uc/guarded/models", "csrf": csrf}, follow_redirects=False
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/uc/guarded/models"
    assert client.get("/uc/guarded/models").status_code == 200
    review = client.get("/uc/guarded/review").text
    assert "view-only key" in review and 'id="do-rollback" disabled' in review
    refused = client.post("/uc/guarded/actions/rollback", data={"csrf": csrf})
    assert refused.status_code == 403 and "needs an admin key" in refused.text

    client.cookies.set("mlcycle_key", admin)
    forged = client.post("/uc/guarded/actions/rollback", data={"csrf": "forged"})
    assert forged.status_code == 403 and "token" in forged.text
    elsewhere = client.post(
        "/uc/guarded/actions/rollback", data={"csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403 and "evil.example" in elsewhere.text
    assert client.post("/uc/guarded/actions/retire", data={"csrf": csrf, "reason": " "}).status_code == 422
    started = client.post("/uc/guarded/actions/rollback", data={"csrf": csrf, "reason": "bad week"})
    assert started.status_code == 200 and "rollback (action" in started.text
    client.app.state.dashboard.jobs.wait()  # type: ignore[attr-defined]
    (action,) = store.history.actions()
    assert action.actor == f"key {admin_id} (ops)" and action.action == "rollback" and action.outcome == "failed"
    assert "nothing to roll back to" in action.detail["error"] and action.detail["reason"] == "bad week"
    assert "✘ failed" in client.get("/uc/guarded/review").text
    assert store.history.actions()[0].id == action.id  # nothing but the one action was recorded


def test_a_portfolio_lists_every_use_case_under_a_folder(
    demoed: tuple[Path, str], fresh_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "portfolio"
    root.mkdir()
    (root / "shop").symlink_to(demoed[0], target_is_directory=True)
    (root / "team" / "new").mkdir(parents=True)
    shutil.copy(fresh_dir / "mlcycle.yaml", root / "team" / "new" / "mlcycle.yaml")
    shutil.copytree(fresh_dir / "data", root / "team" / "new" / "data")
    client = TestClient(create_app(root=root))
    page = client.get("/").text
    assert 'href="/uc/shop/"' in page and 'href="/uc/team~new/"' in page and "team/new" in page
    assert "✔ GO" in page and "not designed" in page  # the demo was designed, the new one not yet
    # ranked as `mlcycle portfolio` ranks them: the demo, which adds value, first, with what to fund next
    assert page.index('href="/uc/shop/"') < page.index('href="/uc/team~new/"')
    assert 'id="advice"' in page and "Fund store-sales next" in page and "not designed yet" in page
    assert client.get("/uc/team~new/experiments").status_code == 200
    assert client.get("/uc/elsewhere/").status_code == 404


def test_the_app_needs_one_use_case_or_a_root(fresh_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UseCaseError, match="one use case"):
        create_app()
    with pytest.raises(UseCaseError, match="one use case"):
        create_app(fresh_dir, root=tmp_path)
    with pytest.raises(UseCaseError, match=r"no mlcycle\.yaml"):
        create_app(root=tmp_path)


def test_the_service_carries_the_dashboard_at_ui(demoed: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from mlcycle.ui.server import service_with_dashboard

    folder, _ = demoed
    monkeypatch.setenv("MLCYCLE_USE_CASE", str(folder))
    with TestClient(service_with_dashboard()) as client:  # the service's lifespan opens its log
        assert client.get("/ui/", follow_redirects=False).headers["location"] == f"/ui/uc/{folder.name}/"
        page = client.get(f"/ui/uc/{folder.name}/experiments").text
        assert f'href="/ui/uc/{folder.name}/models"' in page and 'src="/ui/static-lib/plotly.min.js"' in page
        assert not re.search(r'(?:href|src|action)="/(?!ui/)', page)  # every link stays inside the mount
        assert client.get("/ui/static-lib/plotly.min.js").status_code == 200
        records = [{"date": "2011-12-01", "item": "85123A", "price": 2.55}]
        answer = client.post("/predict", json={"records": records})
        assert answer.status_code == 200 and answer.json()["predictions"]  # the service goes on serving beside it


def test_a_long_history_shows_its_latest_year_in_the_tables(fresh_dir: Path, tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    from mlcycle.store import StoredWindow

    folder = tmp_path / "long"
    shutil.copytree(fresh_dir, folder, ignore=shutil.ignore_patterns(".mlcycle"))
    store = open_store(mlcycle.UseCase.load(folder).state_dir)
    for i in range(60):
        start = datetime(2020, 1, 6) + timedelta(days=7 * i)
        drift = [{"column": "price", "statistic": "wasserstein", "value": 0.01 * i, "threshold": 0.1, "level": "ok"}]
        values = dict(metric="mae", metric_value=1.0, baseline_metric_value=1.0, realised_value=100.0 + i)
        store.history.save_window(
            StoredWindow(
                start,
                start + timedelta(days=7),
                datetime(2026, 1, 1),
                "1",
                10,
                10,
                **values,  # type: ignore[arg-type]
                estimated_value=90.0,
                validated_value=95.0,
                latency_p95_ms=1.0,
                error_rate=0.0,
                drifted=0,
                details={"drift": drift},
            )
        )
    client = TestClient(create_app(folder))
    page = client.get("/uc/long/monitoring").text
    assert "the latest 52 of 60 windows" in page and 'href="?every=1"' in page
    heat = page.split('id="drift"')[1].split("</table>")[0]
    assert heat.count("/monitoring/drift?window=") == 52 and "06 Jan" not in heat  # the oldest weeks left out
    money = re.search(r'id="chart-money" data-chart="([^"]+)"', page)
    assert money is not None and len(json.loads(html.unescape(money.group(1)))["data"][0]["y"]) == 60  # all 60
    every = client.get("/uc/long/monitoring?every=1").text
    assert every.split('id="drift"')[1].split("</table>")[0].count("/monitoring/drift?window=") == 60
