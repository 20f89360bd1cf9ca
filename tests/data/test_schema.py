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
