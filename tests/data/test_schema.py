"""The inferred schema: types, roles, ranges and categories, round-tripped through JSON."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import mlcycle
from mlcycle.contract import spec
from mlcycle.data.schema import Schema, infer
from tests.conftest import minimal_design


def test_schema_of_the_example(example_dir: Path) -> None:
    uc = mlcycle.UseCase.load(example_dir)
    schema = infer(uc.spec, uc.data)
    assert schema.input_columns == ["date", "item", "price"]
    assert schema.columns["units"].type == "integer" and schema.columns["units"].role == "target"
    assert schema.columns["description"].role == "unused"
    assert len(schema.columns["item"].categories or []) == 20
    assert schema.columns["price"].type == "number" and schema.columns["price"].min > 0
    assert schema.columns["date"].type == "datetime" and not schema.columns["date"].nullable


def test_schema_round_trips_through_json(tmp_path: Path) -> None:
    design = spec.parse(minimal_design())
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=4),
            "item": ["A", "B", "A", None],
            "price": [1.0, 2.5, None, 3.0],
            "units": [1, 2, 3, 4],
            "flag": [True, False, True, True],
        }
    )
    schema = infer(design, frame)
    schema.save(tmp_path / "schema.json")
    again = Schema.load(tmp_path / "schema.json")
    assert again.to_dict() == schema.to_dict()
    assert again.columns["item"].nullable and again.columns["item"].categories == ["A", "B"]
    assert again.columns["price"].nullable and again.columns["price"].max == 3.0
    assert again.columns["flag"].type == "boolean"


def test_a_table_is_refused_exactly_as_its_rows_would_be() -> None:
    """Batch scoring validates a table column by column; every refusal, and the typed frame, must be what the
    service gives the same rows sent as JSON records."""
    import numpy as np

    from mlcycle.data.schema import validate_frame, validate_records
    from mlcycle.deploy.scoring import json_rows

    design = spec.parse(minimal_design())
    trained = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "item": ["A", "B", "85123"],
            "price": [2.0, 2.5, np.nan],
            "promo": [True, False, True],
            "units": [1, 2, 3],
        }
    )
    schema = infer(design, trained)
    columns = ["date", "item", "price", "promo"]
    hostile = pd.DataFrame(
        {
            "date": ["2024-02-01", "soon", None, "2024-02-04", 20240205, "2024-02-06"],
            "item": ["A", "Z", "B", None, 85123, 3.5],
            "price": [1.0, "cheap", np.inf, None, True, 2],
            "promo": [True, "yes", False, None, 1, False],
        }
    )
    typed = hostile.astype({"date": "str", "item": "str"})  # text typed as text, as parquet and pandas 3 read it
    for table in (hostile, hostile.drop(columns=["promo"]), hostile.iloc[[0, 5]], trained[columns], typed):
        by_frame, frame_errors = validate_frame(schema, table, columns)
        by_records, record_errors = validate_records(schema, json_rows(table), columns)
        assert frame_errors == record_errors
        if not frame_errors:
            pd.testing.assert_frame_equal(by_frame, by_records)
    assert {e["field"] for e in validate_frame(schema, hostile, columns)[1]} == set(columns)
