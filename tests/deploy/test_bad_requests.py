"""Bad input gets one clear answer naming the field — never a 500 — and the service keeps serving."""

from __future__ import annotations

from typing import Any

import pytest

GOOD = {"date": "2011-09-01", "item": "85123A", "price": 2.55}

# (id, method, path, body or raw text, headers, expected status, a fragment the answer must contain)
CASES = [
    (
        "missing column",
        "/predict",
        {"records": [{"date": "2011-09-01", "item": "85123A"}]},
        None,
        422,
        "price",
    ),
    (
        "number as text",
        "/predict",
        {"records": [{**GOOD, "price": "cheap"}]},
        None,
        422,
        "must be a number. Got 'cheap'",
    ),
    (
        "unknown category",
        "/predict",
        {"records": [{**GOOD, "item": "XYZ"}]},
        None,
        422,
        "'XYZ' is not a value the model knows",
    ),
    (
        "null where not nullable",
        "/predict",
        {"records": [{**GOOD, "price": None}]},
        None,
        422,
        "must not be null",
    ),
    ("not a date", "/predict", {"records": [{**GOOD, "date": "yesterday"}]}, None, 422, "must be a date"),
    (
        "date as number",
        "/predict",
        {"records": [{**GOOD, "date": 20110901}]},
        None,
        422,
        "must be a date or time as text",
    ),
    ("boolean as price", "/predict", {"records": [{**GOOD, "price": True}]}, None, 422, "must be a number"),
    ("records not a list", "/predict", {"records": {"a": 1}}, None, 422, "records"),
    ("record not an object", "/predict", {"records": [3]}, None, 422, "records"),
    ("unknown top-level key", "/predict", {"records": [GOOD], "explian": True}, None, 422, "explian"),
    ("no records", "/predict", {"records": []}, None, 422, "at least one record"),
    ("second row bad", "/predict", {"records": [GOOD, {**GOOD, "price": "x"}]}, None, 422, '"row":1'),
    ("not JSON", "/predict", "{not json", {"Content-Type": "application/json"}, 400, "not valid JSON"),
    (
        "invocations without a format",
        "/invocations",
        {"data": [[1]]},
        None,
        400,
        "exactly one of dataframe_split",
    ),
    (
        "invocations ragged split",
        "/invocations",
        {"dataframe_split": {"columns": ["date", "item", "price"], "data": [[1]]}},
        None,
        400,
        "rows of 3 values",
    ),
    (
        "invocations bad value",
        "/invocations",
        {"dataframe_records": [{**GOOD, "price": "x"}]},
        None,
        422,
        "price",
    ),
    (
        "invocations broken CSV",
        "/invocations",
        'date,item\n"unclosed',
        {"Content-Type": "text/csv"},
        400,
        "the CSV body could not be read",
    ),
    ("OIP without inputs", "/v2/models/store-sales/infer", {"outputs": []}, None, 400, 'needs \\"inputs\\"'),
    (
        "OIP uneven tensors",
        "/v2/models/store-sales/infer",
        {
            "inputs": [
                {"name": "date", "datatype": "BYTES", "shape": [2], "data": ["2011-09-01", "2011-09-01"]},
                {"name": "item", "datatype": "BYTES", "shape": [1], "data": ["85123A"]},
                {"name": "price", "datatype": "FP64", "shape": [1], "data": [2.5]},
            ]
        },
        None,
        400,
        "same number of values",
    ),
    (
        "OIP bad value",
        "/v2/models/store-sales/infer",
        {
            "inputs": [
                {"name": "date", "datatype": "BYTES", "shape": [1], "data": ["2011-09-01"]},
                {"name": "item", "datatype": "BYTES", "shape": [1], "data": ["XYZ"]},
                {"name": "price", "datatype": "FP64", "shape": [1], "data": [2.5]},
            ]
        },
        None,
        400,
        "item",
    ),
    (
        "feedback without keys",
        "/feedback",
        {"items": [{"actual": 3}]},
        None,
        422,
        "give the prediction's request_id",
    ),
    (
        "feedback bad date",
        "/feedback",
        {"items": [{"item": "85123A", "date": "soon", "actual": 3}]},
        None,
        422,
        "not a date",
    ),
]


@pytest.mark.parametrize("path, body, headers, status, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_request_gets_the_right_status_and_names_the_field(
    served: Any, path: str, body: Any, headers: Any, status: int, fragment: str
) -> None:
    _, client = served
    if isinstance(body, str):
        answer = client.post(path, content=body, headers=headers)
    else:
        answer = client.post(path, json=body)
    assert answer.status_code == status, answer.text
    assert fragment in answer.text.replace(" ", "") or fragment in answer.text, answer.text
    assert client.post("/predict", json={"records": [GOOD]}).status_code == 200  # still serving


def test_too_many_rows_is_413(served: Any) -> None:
    uc, client = served
    limit = uc.spec.deployment.max_batch_rows
    answer = client.post("/predict", json={"records": [GOOD] * (limit + 1)})
    assert answer.status_code == 413 and "max_batch_rows" in answer.text


def test_too_large_a_body_is_413(served: Any) -> None:
    uc, client = served
    size = int(uc.spec.deployment.max_body_mb * 1024 * 1024) + 10
    answer = client.post("/predict", content=b" " * size, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and "max_body_mb" in answer.text
