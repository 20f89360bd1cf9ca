"""Hostile input against the real server (`mlcycle serve`, keys on): schemathesis over the app's own OpenAPI
description, every operation and every check, and the hand-made cases no generator finds.

Each answer must be a 4xx naming the problem (never a 5xx, never a body the description does not declare),
within bounded time, and the service must keep answering afterwards.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from mlcycle.store import open_store
from tests.deploy.conftest import copy_use_case, sales_rows
from tests.servers import failures, generated, running, schemathesis


@pytest.fixture(scope="module")
def keyed_server(promoted_example: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, int, str]]:
    """The promoted example served with an admin key, and bodies held to 2 seconds (to test a slow one)."""
    uc = copy_use_case(promoted_example[0], tmp_path_factory.mktemp("fuzz") / "uc")
    design = yaml.safe_load((uc.folder / "mlcycle.yaml").read_text())
    design.setdefault("deployment", {})["max_body_seconds"] = 2
    (uc.folder / "mlcycle.yaml").write_text(yaml.safe_dump(design, sort_keys=False))
    secret = open_store(uc.state_dir).keys.create("admin", "fuzz").secret
    with running(uc.folder) as (port, _):
        yield uc, port, secret


def call(port: int, secret: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {secret}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"http://127.0.0.1:{port}{path}", headers=headers, timeout=30, **kwargs)


def test_schemathesis_finds_no_server_error_and_no_undeclared_answer(keyed_server: tuple[Any, int, str]) -> None:
    """Every operation, every check, a fixed seed (repeatable in CI): a few hundred cases per operation."""
    _, port, secret = keyed_server
    done = schemathesis(port, secret, examples=60, seed=20261202)
    assert done.returncode == 0, failures(done.stdout) + done.stderr[-2000:]
    assert generated(done.stdout) >= 18 * 50, done.stdout[-2000:]  # the run really exercised every operation
    assert "Tested: 18" in done.stdout  # every operation of the description, none skipped


BIG = 10_000


@pytest.mark.parametrize(
    ("name", "path", "body", "headers", "status", "says"),
    [
        ("deep JSON", "/predict", b"[" * BIG + b"]" * BIG, {}, 400, "nests too deeply"),
        ("deep JSON, MLflow", "/invocations", b"[" * BIG + b"]" * BIG, {}, 400, "nests too deeply"),
        ("deep JSON, OIP", "/v2/models/store-sales/infer", b"[" * BIG + b"]" * BIG, {}, 400, "nests too deeply"),
        ("not UTF-8", "/invocations", b'{"inputs": [{"item": "\xff\xfe"}]}', {}, 400, "not valid UTF-8"),
        ("not UTF-8, OIP", "/v2/models/store-sales/infer", b'{"inputs": "\xff"}', {}, 400, "not valid UTF-8"),
        ("empty body", "/predict", b"", {}, 400, "empty"),
        ("duplicate key", "/predict", b'{"records": [{"price": 1, "price": 2}]}', {}, 400, "'price' appears twice"),
        ("text/plain", "/predict", b'{"records": []}', {"Content-Type": "text/plain"}, 415, "text/plain"),
        ("form", "/invocations", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "Content-Type"),
        ("form, OIP", "/v2/models/store-sales/infer", b"a=1", {"Content-Type": "multipart/form-data"}, 415, "send"),
        (
            "gzip",
            "/predict",
            gzip.compress(b'{"records": []}', mtime=0),
            {"Content-Encoding": "gzip"},
            415,
            "uncompressed",
        ),
        ("bad tensor bytes", "/v2/models/store-sales/infer", None, {}, 400, "cannot be read"),
    ],
)
def test_hostile_body_is_a_4xx_naming_the_problem(
    keyed_server: tuple[Any, int, str],
    name: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    says: str,
) -> None:
    uc, port, secret = keyed_server
    if body is None:  # an OIP binary tensor whose bytes are not UTF-8 text
        header = json.dumps(
            {"inputs": [{"name": "item", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 6}}]}
        ).encode()
        body = header + b"\x02\x00\x00\x00\xff\xfe"
        headers = {"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"}
    headers = {"Content-Type": "application/json", **headers}
    started = time.perf_counter()
    answer = call(port, secret, "POST", path, content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert time.perf_counter() - started < 5
    assert call(port, secret, "POST", "/predict", json={"records": sales_rows(uc, 1)}).status_code == 200


def test_numbers_json_has_no_words_for_are_refused_per_field(keyed_server: tuple[Any, int, str]) -> None:
    uc, port, secret = keyed_server
    row = sales_rows(uc, 1)[0]
    for word in (b"NaN", b"Infinity", b"-Infinity"):
        body = json.dumps({"records": [{**row, "price": 0}]}).encode().replace(b'"price": 0', b'"price": ' + word)
        answer = call(port, secret, "POST", "/predict", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["field"] == "price"


def test_a_value_far_outside_the_training_range_is_flagged_or_refused(keyed_server: tuple[Any, int, str]) -> None:
    """The example's design says nothing, so out-of-range numbers are flagged — in the answer and in the audit
    log. 1e308 cannot be scored at all by a float32 tree: 422 naming it, never a 500."""
    uc, port, secret = keyed_server
    row = sales_rows(uc, 1)[0]
    top = uc.schema.columns["price"].max
    answer = call(port, secret, "POST", "/predict", json={"records": [{**row, "price": top * 3}]})
    assert answer.status_code == 200, answer.text
    warning = answer.json()["warnings"][0]
    assert warning["row"] == 0 and warning["field"] == "price" and "above the largest value" in warning["message"]
    stored = open_store(uc.state_dir).predictions.get(answer.json()["request_ids"][0])
    assert stored is not None and stored.warnings and stored.warnings[0]["field"] == "price"
    inside = call(port, secret, "POST", "/predict", json={"records": [row]})
    assert "warnings" not in inside.json()
    huge = call(port, secret, "POST", "/predict", json={"records": [{**row, "price": 1e308}]})
    assert huge.status_code in (200, 422), huge.text  # a model that can take it answers, flagged
    if huge.status_code == 422:
        assert huge.json()["detail"][0]["field"] == "price"


def test_100000_records_are_refused_quickly(keyed_server: tuple[Any, int, str]) -> None:
    uc, port, secret = keyed_server
    rows = sales_rows(uc, 1) * 100_000
    started = time.perf_counter()
    answer = call(port, secret, "POST", "/predict", json={"records": rows})
    assert answer.status_code == 413 and "max_batch_rows" in answer.text
    assert time.perf_counter() - started < 10


def test_a_body_over_the_limit_without_a_length_and_a_slow_body_are_cut_off(
    keyed_server: tuple[Any, int, str],
) -> None:
    """Chunked (no Content-Length): the guard counts as the bytes arrive (413). Trickled: 408 after
    deployment.max_body_seconds (2 s here) — and the service answers others meanwhile."""
    uc, port, secret = keyed_server

    def chunks() -> Iterator[bytes]:
        yield b'{"records": ['
        for _ in range(20_000):  # 20,000 × 1 KB: past the example's 10 MB
            yield b'{"item": "' + b"x" * 1000 + b'"},'
        yield b"{}]}"

    answer = call(port, secret, "POST", "/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and "max_body_mb" in answer.text

    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        slow.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
            + f"Authorization: Bearer {secret}\r\n\r\n".encode()
            + b'{"rec'
        )
        started = time.perf_counter()
        meanwhile = call(port, secret, "POST", "/predict", json={"records": sales_rows(uc, 1)})
        assert meanwhile.status_code == 200
        reply = b""
        while chunk := slow.recv(4096):  # to the server's close: under load the body comes in a segment of its own
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert b"did not arrive within 2 s" in reply
        assert 1.5 < time.perf_counter() - started < 6
