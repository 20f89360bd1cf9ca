"""The leaderboard's contract on both backends, with MLflow's own search_runs as the oracle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlcycle.exceptions import UsageError
from mlcycle.ui.leaderboard import Leaderboard, Query, open_leaderboard
from mlcycle.ui.leaderboard.client import ClientLeaderboard
from mlcycle.ui.leaderboard.sql import SqlLeaderboard


def _mlflow_order(uri: str, order_by: str, filter_string: str = "") -> list[str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("shop")
    clauses = " and ".join(["tags.`mlcycle.kind` = 'trial'", *([filter_string] if filter_string else [])])
    found = client.search_runs([experiment.experiment_id], clauses, order_by=[order_by, "attributes.run_id ASC"])
    return [r.info.run_id for r in found]


def test_the_backend_is_chosen_by_the_address(
    tracked: tuple[str, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri, _ = tracked
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    assert isinstance(open_leaderboard(uri, "shop"), SqlLeaderboard)
    assert isinstance(open_leaderboard(tmp_path.as_uri(), "shop"), ClientLeaderboard)  # MLflow's file store


def test_pages_follow_mlflows_order_and_never_overlap(board: Leaderboard, tracked: tuple[str, list[str]]) -> None:
    uri, ids = tracked
    expected = _mlflow_order(uri, "metrics.mae ASC")
    with_mae = [i for i in expected if board.trials([i])[0].metrics.get("mae") is not None]
    seen: list[str] = []
    for offset in range(0, 45, 10):
        page = board.page(Query(sort="metric:mae", offset=offset, limit=10))
        assert page.total == 45 and page.pages == 5
        seen += [t.run_id for t in page.trials]
    assert len(seen) == 45 and set(seen) == set(ids)
    assert seen[: len(with_mae)] == with_mae  # trials without the metric (pruned) come last
    maes = [board.trials([i])[0].metrics["mae"] for i in seen[: len(with_mae)]]
    assert maes == sorted(maes)


def test_descending_sort_still_puts_missing_values_last(board: Leaderboard) -> None:
    page = board.page(Query(sort="metric:net_value", descending=True, limit=200))
    values = [t.metrics.get("net_value") for t in page.trials]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=True) and values[len(present) :] == [None] * (45 - len(present))
    assert len(present) == 45 - 6  # 6 of 45 trials were pruned


def test_filters_combine_and_count(board: Leaderboard, tracked: tuple[str, list[str]]) -> None:
    uri, _ = tracked
    query = Query(sort="metric:mae", algorithm="ridge", variant="with_lags", gate="feasible", limit=200)
    page = board.page(query)
    expected = _mlflow_order(
        uri,
        "metrics.mae ASC",
        "params.algorithm = 'ridge' and params.variant = 'with_lags' and tags.`mlcycle.feasible` = 'true'",
    )
    assert [t.run_id for t in page.trials] == expected and page.total == len(expected) > 0
    assert all(t.algorithm == "ridge" and t.variant == "with_lags" and t.feasible for t in page.trials)
    pruned = board.page(Query(state="pruned"))
    assert pruned.total == 6 and all(t.state == "pruned" and not t.metrics for t in pruned.trials)


def test_sort_by_trial_and_by_param(board: Leaderboard) -> None:
    first = board.page(Query(limit=5))
    assert [t.number for t in first.trials] == [0, 1, 2, 3, 4]
    last = board.page(Query(descending=True, limit=3))
    assert [t.number for t in last.trials] == [44, 43, 42]
    by_rate = board.page(Query(sort="param:learning_rate", limit=200)).trials
    rates = [t.params["learning_rate"] for t in by_rate]
    assert rates == sorted(rates)


def test_compare_points_choices_and_baseline(board: Leaderboard, tracked: tuple[str, list[str]]) -> None:
    _, ids = tracked
    chosen = board.trials([ids[3], ids[0], "no-such-run"])
    assert [t.run_id for t in chosen] == [ids[3], ids[0]] and chosen[1].params["algorithm"] == "lightgbm"
    points = board.points("mae", "net_value")
    assert len(points.xs) == len(points.ys) == len(points.run_ids) == 39
    assert points.numbers[:2] == [0, 1] and set(points.algorithms) == {"lightgbm", "ridge", "random_forest"}
    assert len(board.points("mae", "net_value", Query(algorithm="ridge")).xs) == 13
    assert board.choices() == (["lightgbm", "random_forest", "ridge"], ["base", "with_lags"])
    assert board.baseline() == {"mae": 7.5, "net_value": 0.0}


def test_searches_are_listed_and_filter_the_trials(board: Leaderboard, tracked: tuple[str, list[str]]) -> None:
    _, ids = tracked
    searches = board.searches()
    assert [name for _, name in searches] == ["search-a", "search-b"]
    second = board.page(Query(search=searches[1][0], limit=200))
    assert second.total == 15 and {t.run_id for t in second.trials} == set(ids[30:])
    assert all(t.search == searches[1][0] for t in second.trials)
    assert board.trials([ids[0]])[0].search == searches[0][0]


def test_an_experiment_not_created_yet_is_empty(make_board: Callable[[Path], Leaderboard], tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}").search_experiments()  # creates the schema
    board = make_board(tmp_path)
    assert isinstance(board, SqlLeaderboard)
    assert board.page(Query()).total == 0 and board.choices() == ([], []) and board.baseline() == {}
    assert board.searches() == []
    assert board.points("mae", "net_value").xs == []


@pytest.mark.parametrize(
    "bad, named",
    [
        (dict(sort="mae"), "sort must be"),
        (dict(gate="passed"), "gate must be one of feasible, infeasible"),
        (dict(state="done"), "state must be one of complete, pruned, failed"),
        (dict(limit=0), "holds 1 to 200"),
        (dict(offset=-1), "starts at 0"),
    ],
)
def test_a_bad_query_is_named(bad: dict[str, object], named: str) -> None:
    with pytest.raises(UsageError, match=named):
        Query(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", [SqlLeaderboard, ClientLeaderboard])
def test_a_board_opened_before_the_search_sees_every_new_trial(backend: type[Leaderboard], tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    from tests.ui.leaderboard.conftest import log_trials

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).search_experiments()  # the store exists, the experiment not yet
    board = backend(uri, "later")  # type: ignore[call-arg]
    assert board.page(Query()).total == 0 and board.choices() == ([], []) and board.searches() == []
    log_trials(uri, "later", 4)
    assert board.page(Query()).total == 4 and board.choices()[0] == ["lightgbm", "random_forest", "ridge"]
    assert board.baseline() == {"mae": 7.5, "net_value": 0.0} and len(board.searches()) == 1
    log_trials(uri, "later", 2, seed=1)  # a second search: what the board remembered is read again
    assert board.page(Query()).total == 6 and board.page(Query(algorithm="ridge")).total == 2
    assert len(board.searches()) == 2
