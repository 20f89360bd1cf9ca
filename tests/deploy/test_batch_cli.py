"""Batch scoring with rejects and the order proposal; feedback from a file; audit; keys — through the CLI."""

from __future__ import annotations

from typing import Any

import pandas as pd
from typer.testing import CliRunner

from mlcycle.cli import app
from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_batch_predict_scores_good_rows_and_rejects_bad_ones(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    day = uc.data[uc.data["date"] == "2011-09-01"][["date", "item", "description", "price"]].copy()
    day["date"] = day["date"].dt.strftime("%Y-%m-%d")
    bad = pd.DataFrame(
        [
            {"date": "2011-09-01", "item": "XYZ", "description": "?", "price": 1.0},
            {"date": "not a day", "item": "85123A", "description": "?", "price": 1.0},
        ]
    )
    pd.concat([day, bad]).to_csv(tmp_path / "tomorrow.csv", index=False)
    result = invoke(
        "predict",
        "-u",
        str(uc.folder),
        "--input",
        str(tmp_path / "tomorrow.csv"),
        "--output",
        str(tmp_path / "scored.csv"),
        "--explain",
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert (
        len(scored) == len(day)
        and scored["prediction"].notna().all()
        and scored["explanation"].str.startswith("Forecast").all()
    )
    rejects = pd.read_csv(tmp_path / "scored.rejects.csv")
    assert sorted(rejects["item"]) == ["85123A", "XYZ"]
    assert rejects["reason"].str.contains("item: 'XYZ' is not a value the model knows").any()
    assert rejects["reason"].str.contains("date: must be a date").any()
    orders = pd.read_csv(tmp_path / "scored.orders.csv")
    assert len(orders) == len(day) and (orders["order_units"] >= 0).all() and "description" in orders
    store = open_store(uc.state_dir)
    assert store.predictions.count() == len(day)
    assert set(next(store.predictions.frame())["request_id"]) == set(scored["request_id"])

    feedback = scored[["request_id"]].assign(actual=7)
    feedback.to_csv(tmp_path / "actuals.csv", index=False)
    loaded = invoke("feedback", "-u", str(uc.folder), "--input", str(tmp_path / "actuals.csv"))
    assert loaded.exit_code == 0 and f"stored {len(day)} actuals" in loaded.output
    audit = invoke("audit", "-u", str(uc.folder), "--request-id", scored["request_id"].iloc[0])
    assert audit.exit_code == 0
    for fragment in ('"inputs"', '"gate"', '"explanation"', '"actual": 7'):
        assert fragment in audit.output
    unknown = invoke("audit", "-u", str(uc.folder), "--request-id", "nope")
    assert unknown.exit_code == 2 and "no logged prediction" in unknown.stderr


def test_feedback_file_with_unknown_ids_stores_nothing(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    pd.DataFrame({"request_id": ["nope"], "actual": [3]}).to_csv(tmp_path / "a.csv", index=False)
    result = invoke("feedback", "-u", str(uc.folder), "--input", str(tmp_path / "a.csv"))
    assert result.exit_code == 2 and "match no logged prediction" in result.stderr
    assert open_store(uc.state_dir).feedback.frame().empty


def test_keys_create_list_revoke(promoted_example: Any, tmp_path: Any) -> None:
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    created = invoke("keys", "create", "--scope", "predict", "--note", "tills", "-u", str(uc.folder))
    assert created.exit_code == 0
    secret = created.output.strip().splitlines()[-1]
    key_id = created.output.split()[1]
    assert open_store(uc.state_dir).keys.scope_of(secret) == "predict"
    listed = invoke("keys", "list", "-u", str(uc.folder))
    assert key_id in listed.output and "tills" in listed.output and secret not in listed.output
    assert invoke("keys", "revoke", key_id, "-u", str(uc.folder)).exit_code == 0
    assert open_store(uc.state_dir).keys.scope_of(secret) is None
    again = invoke("keys", "revoke", key_id, "-u", str(uc.folder))
    assert again.exit_code == 2 and "no active key" in again.stderr
    bad = invoke("keys", "create", "--scope", "root", "-u", str(uc.folder))
    assert bad.exit_code == 2 and "scope must be one of" in bad.stderr


def test_batch_streams_in_chunks_with_the_same_result_as_one_read(promoted_example: Any, tmp_path: Any) -> None:
    """Read 7 rows at a time (parquet in, parquet out; CSV in, CSV out), the scored rows, rejects, order proposal
    and the log are those of a single read — chunks change the memory, not the answer."""
    from mlcycle.deploy import batch

    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    days = uc.data[uc.data["date"].isin(pd.to_datetime(["2011-09-01", "2011-09-02"]))]
    days = days[["date", "item", "description", "price"]]
    days = days.assign(date=days["date"].dt.strftime("%Y-%m-%d")).reset_index(drop=True)
    assert len(days) > 20  # several chunks of 7
    days.loc[5, "item"] = "XYZ"  # one reject in the middle
    days.to_parquet(tmp_path / "in.parquet", index=False)
    days.to_csv(tmp_path / "in.csv", index=False)
    runs = {
        (suffix, rows): batch.run(
            uc.workspace,
            tmp_path / f"in.{suffix}",
            tmp_path / f"out-{rows}.{suffix}",
            read_rows=rows,
            log_process=suffix == "parquet" and rows == 7,  # a large file's way: the log written by a process
        )
        for suffix in ("parquet", "csv")
        for rows in (7, 100_000)
    }
    for suffix in ("parquet", "csv"):
        small, whole = runs[(suffix, 7)], runs[(suffix, 100_000)]
        logged = {p.request_id for p in open_store(uc.state_dir).predictions.recent(limit=10_000, source="batch")}
        assert set(read_ids(small.output)) <= logged and set(read_ids(whole.output)) <= logged
        assert (small.scored, small.rejected) == (whole.scored, whole.rejected) == (len(days) - 1, 1)
        read = pd.read_parquet if suffix == "parquet" else pd.read_csv
        a, b = read(small.output), read(whole.output)
        pd.testing.assert_frame_equal(a.drop(columns="request_id"), b.drop(columns="request_id"))
        assert small.rejects is not None and list(read(small.rejects)["item"]) == ["XYZ"]
        assert small.orders is not None and whole.orders is not None
        pd.testing.assert_frame_equal(pd.read_csv(small.orders), pd.read_csv(whole.orders))
        assert small.rows_per_second > 0
    assert open_store(uc.state_dir).predictions.count() == 4 * (len(days) - 1)
    assert not list(tmp_path.glob(".*.partial"))  # no temporary file left behind


def read_ids(path: Any) -> list[str]:
    read = pd.read_parquet if str(path).endswith(".parquet") else pd.read_csv
    return list(read(path)["request_id"])


def test_a_log_process_that_fails_or_dies_is_a_store_error_and_writes_no_output(
    promoted_example: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    """The log process answers what the store raised (a chunk logged twice), and one that cannot reach its store
    says why; batch.run turns either into one StoreError and leaves no output behind, and the log loses nothing."""
    import pytest

    from mlcycle.deploy import batch
    from mlcycle.deploy.logwriter import LogProcess
    from mlcycle.deploy.scoring import score_chunk
    from mlcycle.deploy.serving import Serving
    from mlcycle.exceptions import StoreError
    from mlcycle.store import store_url

    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    days = uc.data[uc.data["date"] == pd.Timestamp("2011-09-01")][["date", "item", "description", "price"]]
    days = days.assign(date=days["date"].dt.strftime("%Y-%m-%d")).reset_index(drop=True)
    days.to_parquet(tmp_path / "in.parquet", index=False)
    store = open_store(uc.state_dir)
    serving = Serving(uc.workspace, store)
    serving.load_champion()
    import gc

    assert gc.get_freeze_count() > 100_000  # the loaded model is out of the collector's full passes (serving.py)
    _, _, table = score_chunk(serving, days, 10_000, explain=False)
    assert table is not None
    writer = LogProcess(uc.state_dir, store_url(uc.state_dir))
    try:
        writer.log_table(table)
        with pytest.raises(Exception, match="UNIQUE constraint failed") as refused:
            writer.log_table(table)  # the same request ids again
        assert type(refused.value).__name__ == "IntegrityError"  # as the store raised it, across the process
    finally:
        writer.close()
    assert store.predictions.count() == len(days)

    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens on port 1
    down = LogProcess(uc.state_dir, unreachable)
    try:
        with pytest.raises(Exception, match="Connection refused"):
            down.log_table(table)
    finally:
        down.close()
    killed = LogProcess(uc.state_dir, store_url(uc.state_dir))
    killed._process.kill()
    try:
        with pytest.raises(StoreError, match="log process ended"):
            killed.log_table(table)
    finally:
        killed.close()

    monkeypatch.setattr(batch, "store_url", lambda _: unreachable)  # the log process's store only
    with pytest.raises(StoreError, match=r"did not take a chunk of .* no output is written"):
        batch.run(uc.workspace, tmp_path / "in.parquet", tmp_path / "second.parquet", log_process=True)
    assert not (tmp_path / "second.parquet").exists() and not list(tmp_path.glob(".*.partial"))
    assert store.predictions.count() == len(days)  # nothing lost, nothing twice


def test_ray_data_scores_a_parquet_file_as_the_local_path_does(promoted_example: Any, tmp_path: Any) -> None:
    """mlcycle predict --executor ray: Ray Data's actors score and log; the files are the local path's."""
    uc = copy_use_case(promoted_example[0], tmp_path / "uc")
    days = uc.data[uc.data["date"].isin(pd.to_datetime(["2011-09-01", "2011-09-02"]))]
    days = days[["date", "item", "description", "price"]].reset_index(drop=True)
    days = days.assign(date=days["date"].dt.strftime("%Y-%m-%d"))
    days.loc[3, "item"] = "XYZ"
    days.to_parquet(tmp_path / "in.parquet", index=False)
    for executor in ("local", "ray"):
        result = invoke(
            "predict",
            "-u",
            str(uc.folder),
            "--input",
            str(tmp_path / "in.parquet"),
            "--output",
            str(tmp_path / f"{executor}.parquet"),
            "--executor",
            executor,
        )
        assert result.exit_code == 0, result.output
    local, ray = pd.read_parquet(tmp_path / "local.parquet"), pd.read_parquet(tmp_path / "ray.parquet")
    assert len(local) == len(days) - 1
    pd.testing.assert_frame_equal(local.drop(columns="request_id"), ray.drop(columns="request_id"))
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "local.rejects.parquet"), pd.read_parquet(tmp_path / "ray.rejects.parquet")
    )
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "local.orders.csv"), pd.read_csv(tmp_path / "ray.orders.csv"))
    store = open_store(uc.state_dir)
    logged = {p.request_id for p in store.predictions.recent(limit=10_000, source="batch")}
    assert set(ray["request_id"]) <= logged and set(local["request_id"]) <= logged  # every scored row logged
    assert store.predictions.count() == 2 * len(local)
    refused = invoke(
        "predict",
        "-u",
        str(uc.folder),
        "--input",
        str(tmp_path / "x.csv"),
        "--output",
        str(tmp_path / "o.csv"),
        "--executor",
        "ray",
    )
    assert refused.exit_code != 0 and "reads parquet" in refused.output
