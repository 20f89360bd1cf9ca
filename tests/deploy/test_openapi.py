"""The OpenAPI description of a record says what the service's validation takes: no more, no less."""

from __future__ import annotations

from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcycle.data.schema import ColumnSchema, Schema, validate_records
from mlcycle.deploy.openapi import record_schema

SCHEMA = Schema(
    "zoo",
    "y",
    None,
    [],
    {
        "code": ColumnSchema("string", False, "feature", categories=["85123", "007", "-4", "A1", "1.0"]),
        "note": ColumnSchema("string", True, "feature"),
        "price": ColumnSchema("number", False, "feature", min=0.1, max=30.0),
        "count": ColumnSchema("integer", True, "feature", min=0, max=9),
        "flag": ColumnSchema("boolean", False, "feature"),
    },
)
COLUMNS = list(SCHEMA.columns)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 100_000),
    st.sampled_from([85123, 7, -4, 1, 0]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["85123", "007", "-4", "A1", "1.0", "7", "a1", ""]),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries(dict.fromkeys(COLUMNS, VALUES)))
def test_the_description_accepts_exactly_what_validation_accepts(record: dict[str, Any]) -> None:
    described = jsonschema.Draft202012Validator(record_schema(SCHEMA, COLUMNS)).is_valid(record)
    _, problems = validate_records(SCHEMA, [dict(record)], COLUMNS, build=False)
    assert described == (not problems), problems or "the description refuses what the service takes"


def test_an_integer_is_a_category_only_where_its_text_is_one() -> None:
    described = jsonschema.Draft202012Validator(record_schema(SCHEMA, ["code"]))
    assert described.is_valid({"code": 85123}) and described.is_valid({"code": -4})
    assert not described.is_valid({"code": 7})  # "007" is a category; 7 is written "7"
    assert not described.is_valid({"code": 1})  # nor is 1 the text "1.0"
