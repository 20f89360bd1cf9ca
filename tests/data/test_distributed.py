"""A profile built on Ray Data, block by block, equals the one streamed through one builder here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcycle.data.distributed import local_profile, ray_profile


def test_partial_profiles_on_ray_merge_into_the_local_profile(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    folder = tmp_path / "table"
    folder.mkdir()
    for part in range(3):  # three files, as a partitioned table is
        n = 40_000
        frame = pd.DataFrame(
            {
                "price": rng.lognormal(1.0, 0.8, n),
                "units": rng.poisson(4, n).astype(float),
                "shifted": rng.normal(100 + part * 10, 5, n),  # later files lie beyond the first chunk's range
                "region": rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
                "item": rng.choice([f"i{k}" for k in range(30)], n),
            }
        )
        frame.loc[rng.random(n) < 0.05, "price"] = np.nan
        frame.loc[rng.random(n) < 0.02, "region"] = None
        frame.to_parquet(folder / f"part-{part}.parquet", index=False)
    here = local_profile(folder, chunk_rows=25_000)
    there = ray_profile(folder, chunk_rows=25_000)
    assert here.rows == there.rows == 120_000
    assert set(here.columns) == set(there.columns) == {"price", "units", "shifted", "region", "item"}
    for name, mine in here.columns.items():
        theirs = there.columns[name]
        assert (mine.kind, mine.count, mine.missing) == (theirs.kind, theirs.count, theirs.missing), name
        if mine.kind == "categorical":
            assert mine.categories == theirs.categories and mine.shares == pytest.approx(theirs.shares, abs=0)
        else:
            assert mine.minimum == theirs.minimum and mine.maximum == theirs.maximum
            assert mine.quantiles == pytest.approx(theirs.quantiles, rel=1e-12)
            assert mine.edges == pytest.approx(theirs.edges, rel=1e-12)
            assert mine.shares == pytest.approx(theirs.shares, rel=1e-9)
            assert mine.mean == pytest.approx(theirs.mean, rel=1e-12) and mine.std == pytest.approx(
                theirs.std, rel=1e-9
            )
    assert here.columns["price"].missing == pytest.approx(0.05 * 120_000, rel=0.1)
