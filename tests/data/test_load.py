"""Reading the design's data source: CSV (plain and compressed), parquet, and SQL through SQLAlchemy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy

import mlcycle
from mlcycle.exceptions import DesignError
from tests.conftest import minimal_design, small_sales


@pytest.mark.parametrize("source", ["data.csv", "data.csv.gz", "data.csv.xz", "data.parquet"])
def test_file_sources(make_use_case: Any, source: str) -> None:
    design = minimal_design()
    design["data"] = {"source": source}
    uc = mlcycle.UseCase.load(make_use_case(design, source=source))
    assert len(uc.data) == len(small_sales())
    assert pd.api.types.is_datetime64_any_dtype(uc.data["date"])
    assert uc.data["date"].is_monotonic_increasing


def test_sql_source(tmp_path: Path, make_use_case: Any) -> None:
    db = tmp_path / "shop.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    small_sales().to_sql("sales", engine, index=False)
    engine.dispose()
    design = minimal_design()
    design["data"] = {"source": f"sqlite:///{db}", "query": "SELECT * FROM sales WHERE item = 'A'"}
    uc = mlcycle.UseCase.load(make_use_case(design))
    assert set(uc.data["item"]) == {"A"} and len(uc.data) == 60


def test_postgresql_source(postgres_url: str, make_use_case: Any) -> None:
    engine = sqlalchemy.create_engine(postgres_url)
    frame = small_sales()
    frame["date"] = pd.to_datetime(frame["date"])
    frame.to_sql("sales", engine, index=False)
    engine.dispose()
    design = minimal_design()
    design["data"] = {"source": postgres_url, "query": "SELECT date, item, price, units FROM sales"}
    uc = mlcycle.UseCase.load(make_use_case(design))
    assert len(uc.data) == len(frame)
    assert not [i for i in uc.check_data() if i.blocking]
    assert uc.schema.columns["date"].type == "datetime"


def test_unreachable_database_names_the_source(make_use_case: Any) -> None:
    design = minimal_design()
    design["data"] = {"source": "postgresql+psycopg://nobody@127.0.0.1:1/none", "query": "SELECT 1"}
    with pytest.raises(DesignError) as caught:
        mlcycle.UseCase.load(make_use_case(design)).data  # noqa: B018
    assert caught.value.paths == ["data.source"] and "could not connect" in str(caught.value)


def test_failing_query_names_the_query(tmp_path: Path, make_use_case: Any) -> None:
    db = tmp_path / "empty.db"
    sqlalchemy.create_engine(f"sqlite:///{db}").dispose()
    design = minimal_design()
    design["data"] = {"source": f"sqlite:///{db}", "query": "SELECT * FROM no_such_table"}
    with pytest.raises(DesignError) as caught:
        mlcycle.UseCase.load(make_use_case(design)).data  # noqa: B018
    assert caught.value.paths[0] in ("data.query", "data.source")
    assert "no_such_table" in str(caught.value)


def test_empty_file_is_refused(make_use_case: Any) -> None:
    folder = make_use_case()
    (folder / "data.csv").write_text("date,item,price,units\n")
    with pytest.raises(DesignError, match=r"data\.source: data\.csv holds no rows"):
        mlcycle.UseCase.load(folder).data  # noqa: B018
