"""Each data check catches the problem it claims, on small crafted frames, and the example passes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlcycle
from mlcycle.contract import spec
from mlcycle.data import quality
from tests.conftest import minimal_design, small_sales


def _issues(frame: pd.DataFrame, **design_overrides: Any) -> list[quality.DataIssue]:
    design = spec.parse({**minimal_design(), **design_overrides})
    frame = frame.copy()
    if design.time_column in frame.columns:
        frame[design.time_column] = pd.to_datetime(frame[design.time_column])
    return quality.check(design, frame)


def _find(issues: list[quality.DataIssue], check: str, column: str | None = None) -> quality.DataIssue:
    found = [i for i in issues if i.check == check and (column is None or i.column == column)]
    assert found, f"no {check} issue in {[str(i) for i in issues]}"
    return found[0]


def test_clean_crafted_data_has_no_blocking_issue() -> None:
    issues = _issues(small_sales())
    assert not [i for i in issues if i.blocking], [str(i) for i in issues]
    assert not [i for i in issues if i.severity == "warning"], [str(i) for i in issues]


def test_bundled_example_passes(example_dir: Any) -> None:
    issues = mlcycle.UseCase.load(example_dir).check_data()
    assert not [i for i in issues if i.blocking], [str(i) for i in issues]


def test_duplicates_on_time_and_series_block() -> None:
    frame = small_sales()
    frame = pd.concat([frame, frame.iloc[[5]]], ignore_index=True)
    issue = _find(_issues(frame), "duplicates")
    assert issue.blocking and "2 rows share a (date, item)" in issue.message


def test_missing_values_in_keys_block_and_in_features_warn() -> None:
    frame = small_sales()
    frame["price"] = frame["price"].astype(float)
    frame.loc[frame.index[:20], "price"] = np.nan
    frame.loc[3, "item"] = None
    issues = _issues(frame)
    assert _find(issues, "missing", "item").blocking
    price = _find(issues, "missing", "price")
    assert price.severity == "warning" and "20 missing values" in price.message


def test_missing_target_warns_and_mostly_missing_blocks() -> None:
    frame = small_sales().astype({"units": float})
    frame.loc[frame.index[:5], "units"] = np.nan
    assert _find(_issues(frame), "missing", "units").severity == "warning"
    frame.loc[frame.index[: len(frame) * 2 // 3], "units"] = np.nan
    assert _find(_issues(frame), "missing", "units").blocking


def test_target_leakage_identical_and_perfectly_correlated() -> None:
    frame = small_sales()
    frame["units_copy"] = frame["units"]
    frame["revenue_in_pence"] = frame["units"] * 250 + 3
    variants = {"leaky": {"features": ["item", "units_copy", "revenue_in_pence"]}}
    issues = _issues(frame, experiments={"data_variants": variants})
    assert "identical to the target" in _find(issues, "leakage", "units_copy").message
    assert "correlates +1.0000" in _find(issues, "leakage", "revenue_in_pence").message


def test_unused_leaky_column_is_not_flagged() -> None:
    frame = small_sales().assign(units_copy=lambda f: f["units"])
    assert not [i for i in _issues(frame) if i.check == "leakage"]


def test_constant_columns_warn_and_constant_target_blocks() -> None:
    frame = small_sales().assign(store="only-one")
    assert _find(_issues(frame), "constant", "store").severity == "warning"
    assert _find(_issues(frame.assign(units=3)), "constant", "units").blocking


def test_time_order_and_gaps() -> None:
    frame = small_sales().sample(frac=1.0, random_state=1)
    frame = frame[~((frame["item"] == "B") & (frame["date"] == "2024-01-10"))]
    frame = frame[~frame["date"].isin(pd.date_range("2024-02-01", "2024-02-10").strftime("%Y-%m-%d"))]
    issues = _issues(frame)
    assert _find(issues, "time_order").severity == "info"
    gaps = [i for i in issues if i.check == "time_gaps"]
    assert any("longest gap is 11 days" in i.message for i in gaps)
    assert any("1 of 2 series miss some" in i.message and i.severity == "warning" for i in gaps)


def test_infinite_values_block_and_numbers_as_text_warn() -> None:
    frame = small_sales()
    frame["price"] = frame["price"].astype(float)
    frame.loc[0, "price"] = np.inf
    frame["weight"] = [str(x) for x in range(len(frame))]
    frame.loc[1, "weight"] = "n/a"
    issues = _issues(frame, experiments={"data_variants": {"all": {}}})
    assert _find(issues, "ranges", "price").blocking
    assert "e.g. 'n/a'" in _find(issues, "types", "weight").message


def test_forbidden_feature_present_but_unused_is_recorded() -> None:
    frame = small_sales().assign(gender="x")
    issues = _issues(frame, requirements={"compliance": {"forbidden_features": ["gender"]}})
    issue = _find(issues, "forbidden", "gender")
    assert issue.severity == "info"


def test_protected_columns_must_be_in_the_data_and_their_groups_are_counted() -> None:
    rng = np.random.default_rng(0)
    frame = small_sales().assign(
        gender=lambda f: rng.choice(["F", "M"], len(f)), age=lambda f: rng.integers(18, 80, len(f))
    )
    compliance = {"forbidden_features": ["gender"], "protected": ["gender", "age", "postcode"]}
    issues = _issues(frame, requirements={"compliance": compliance})
    missing = _find(issues, "protected", "postcode")
    assert missing.blocking and "not in the data" in missing.message
    assert "2 groups" in _find(issues, "protected", "gender").message
    assert "4 groups" in _find(issues, "protected", "age").message  # many ages: cut at the quartiles


def test_forbidden_feature_sneaking_in_through_an_all_columns_variant_is_excluded() -> None:
    frame = small_sales().assign(gender=lambda f: np.where(f.index % 2, "f", "m"))
    issues = _issues(
        frame,
        requirements={"compliance": {"forbidden_features": ["gender"]}},
        experiments={"data_variants": {"all": {}}},
    )
    assert not [i for i in issues if i.check == "forbidden" and i.blocking]


def test_too_few_rows_block() -> None:
    assert _find(_issues(small_sales(days=5, items=("A",))), "size").blocking


def test_check_data_writes_the_schema(load: Any) -> None:
    uc = load()
    uc.check_data()
    schema = mlcycle.data.schema.Schema.load(uc.schema_path)  # type: ignore[attr-defined]
    assert schema.input_columns == ["date", "item", "price"]
    assert schema.columns["item"].categories == ["A", "B"]
    assert schema.columns["units"].role == "target"


@pytest.mark.parametrize("check", sorted(quality.CHECKS))
def test_every_check_runs_on_the_example(example_dir: Any, check: str) -> None:
    uc = mlcycle.UseCase.load(example_dir)
    issues = quality.CHECKS[check](uc.spec, uc.raw_data)
    assert all(not i.blocking for i in issues)
