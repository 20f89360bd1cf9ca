"""Bad designs and bad data never crash: hypothesis mutates valid use cases and runs the first three commands.

Each example takes one valid zoo design and breaks it one way — removes a key, puts a value of
the wrong type or an impossible value at some YAML path, renames a column of the data, or
damages the data itself (text, control characters or infinities among a column's values, a
column emptied or made constant, the rows cut to a handful or doubled) — then runs ``mlcycle
design``, ``data check`` and (when both pass) ``experiment --trials 1``. Every run must end with
exit 0, 1 or 2, never a traceback; on exit 2 the message must name the YAML path that was
broken (or one above it), or the column renamed or damaged.
"""

from __future__ import annotations

import copy
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mlcycle.cli import app
from tests.usecases.cases import CHURN, PANEL, RENTALS, Case

BASES = [CHURN, RENTALS, PANEL]
WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from([-1, 0, 10**12, "", "nonsense", [], {}, "2011-02-30", "99h"]),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a design, leaves and sections alike."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*prefix, i))
            out += _paths(value, (*prefix, i))
    return out


def _set(design: dict[str, Any], path: tuple[Any, ...], value: Any, *, remove: bool = False) -> None:
    node: Any = design
    for key in path[:-1]:
        node = node[key]
    if remove:
        del node[path[-1]]
    else:
        node[path[-1]] = value


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


# What a column's cells may become: text where numbers or dates are, control and odd unicode characters,
# the float values no parser expects.
ODD_CELLS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", " ", "n/a", "NULL", "\x00", "\u202e12", "١٢٣", "1e309", "-0", "2011-02-30", "∞"]),
    st.sampled_from([math.inf, -math.inf, 1e308, -1e308, math.nan]),
)
Damage = Callable[[pd.DataFrame, str], pd.DataFrame]


def _odd_cells(draw: st.DrawFn) -> Damage:
    cells = draw(st.lists(ODD_CELLS, min_size=1, max_size=4))
    every = draw(st.integers(1, 7))

    def damage(data: pd.DataFrame, column: str) -> pd.DataFrame:
        values = data[column].astype(object).to_numpy(copy=True)
        for i in range(0, len(values), every):
            values[i] = cells[i % len(cells)]
        if all(isinstance(v, float) for v in cells):
            data[column] = pd.to_numeric(pd.Series(values, index=data.index), errors="coerce")
        else:  # a file holds text then: CSV writes it as it is, Parquet needs one type per column
            data[column] = [None if v is None else str(v) for v in values]
        return data

    return damage


@st.composite
def damages(draw: st.DrawFn) -> tuple[str, Damage]:
    kind = draw(st.sampled_from(["odd_cells", "emptied", "constant", "few_rows", "doubled"]))
    if kind == "odd_cells":
        return kind, _odd_cells(draw)
    if kind == "emptied":
        return kind, lambda data, column: data.assign(**{column: None})
    if kind == "constant":
        return kind, lambda data, column: data.assign(**{column: data[column].iloc[0]})
    if kind == "few_rows":
        rows = draw(st.integers(0, 6))
        return kind, lambda data, column: data.head(rows)
    return kind, lambda data, column: pd.concat([data, data], ignore_index=True)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[Case, dict[str, Any], str, tuple[Any, ...] | None, str | None, Damage | None]:
    """(case, broken design, kind, the YAML path broken, the column renamed or damaged, the damage)."""
    case = draw(st.sampled_from(BASES))
    design = copy.deepcopy(case.design)
    kind = draw(st.sampled_from(["remove", "wrong", "rename_column", "damage_data"]))
    if kind in ("rename_column", "damage_data"):
        column = draw(st.sampled_from(sorted(case.data().columns)))
        if kind == "rename_column":
            return case, design, kind, None, column, None
        how, damage = draw(damages())
        return case, design, how, None, column, damage
    path = draw(st.sampled_from(_paths(design)))
    if kind == "remove":
        _set(design, path, None, remove=True)
    else:
        _set(design, path, draw(WRONG_VALUES))
    return case, design, kind, path, None, None


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each base case's data written once; examples copy the folder and break it."""
    out = {}
    for case in BASES:
        folder = tmp_path_factory.mktemp(case.name)
        source = folder / case.design["data"]["source"]
        source.parent.mkdir(parents=True)
        data = case.data()
        data.to_parquet(source, index=False) if source.suffix == ".parquet" else data.to_csv(source, index=False)
        out[case.name] = folder
    return out


# The same examples on every run (CI must not flake on luck); MLCYCLE_HYPOTHESIS_EXAMPLES and
# MLCYCLE_HYPOTHESIS_RANDOM=1 explore further by hand. No shrinking: a broken design reads plainly as it is.
@settings(
    max_examples=int(os.environ.get("MLCYCLE_HYPOTHESIS_EXAMPLES", "32")),
    deadline=None,
    derandomize=os.environ.get("MLCYCLE_HYPOTHESIS_RANDOM") != "1",
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutation=mutations())
def test_a_broken_design_or_data_ends_in_a_clear_error(
    mutation: Any, folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    case, design, kind, path, column, damage = mutation
    folder = tmp_path_factory.mktemp("broken")
    shutil.copytree(folders[case.name], folder, dirs_exist_ok=True)
    (folder / "mlcycle.yaml").write_text(yaml.safe_dump(design, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if column is not None:
        source = folder / design["data"]["source"]
        data = pd.read_parquet(source) if source.suffix == ".parquet" else pd.read_csv(source)
        if damage is None:
            data = data.rename(columns={column: f"{column}_renamed"})
        else:
            data = damage(data, column)
        data.to_parquet(source, index=False) if source.suffix == ".parquet" else data.to_csv(source, index=False)

    runner = CliRunner()
    for command in (["design"], ["data", "check"], ["experiment", "--trials", "1"]):
        result = runner.invoke(app, [*command, "-u", str(folder)])
        output = result.output + (result.stderr or "")
        where = f"mlcycle {' '.join(command)} after {kind} {_dotted(path) if path else column!r}"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(
                f"{where} crashed: {type(result.exception).__name__}: {result.exception}\n{output}"
            ) from result.exception
        assert result.exit_code in (0, 1, 2), f"{where} exited {result.exit_code}:\n{output}"
        assert "Traceback" not in output, f"{where} printed a traceback:\n{output}"
        event(f"{command[0]} exit {result.exit_code}")  # counted by pytest --hypothesis-show-statistics
        if result.exit_code == 2:
            if damage is not None and column not in output:
                assert "data" in output, f"{where}: the message names neither the column nor the data:\n{output}"
                return  # rows cut or doubled, or a column's damage felt by a design setting that reads the data
            named = [column] if column else [_dotted(path[:n]) for n in range(len(path), 0, -1)]
            assert any(name in output for name in named), f"{where}: the message names none of {named}:\n{output}"
            return
        if result.exit_code == 1 and command[0] != "experiment":
            return  # a no-go or a blocking data problem: the user reads why and stops there
