"""Bad designs and bad data never crash: hypothesis mutates valid use cases and runs the first three commands.

Each example takes one valid zoo design and breaks it one way — removes a key, puts a value of
the wrong type or an impossible value at some YAML path, or renames a column of the data —
then runs ``mlcycle design``, ``data check`` and (when both pass) ``experiment --trials 1``.
Every run must end with exit 0, 1 or 2, never a traceback; on exit 2 the message must name
the YAML path that was broken (or one above it), or the renamed column.
"""

from __future__ import annotations

import copy
import os
import shutil
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


@st.composite
def mutations(draw: st.DrawFn) -> tuple[Case, dict[str, Any], str, tuple[Any, ...] | None, str | None]:
    """(case, broken design, kind, the YAML path broken, the column renamed)."""
    case = draw(st.sampled_from(BASES))
    design = copy.deepcopy(case.design)
    kind = draw(st.sampled_from(["remove", "wrong", "rename_column"]))
    if kind == "rename_column":
        column = draw(st.sampled_from(sorted(case.data().columns)))
        return case, design, kind, None, column
    path = draw(st.sampled_from(_paths(design)))
    if kind == "remove":
        _set(design, path, None, remove=True)
    else:
        _set(design, path, draw(WRONG_VALUES))
    return case, design, kind, path, None


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
    max_examples=int(os.environ.get("MLCYCLE_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    derandomize=os.environ.get("MLCYCLE_HYPOTHESIS_RANDOM") != "1",
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutation=mutations())
def test_a_broken_design_or_data_ends_in_a_clear_error(
    mutation: Any, folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    case, design, kind, path, column = mutation
    folder = tmp_path_factory.mktemp("broken")
    shutil.copytree(folders[case.name], folder, dirs_exist_ok=True)
    (folder / "mlcycle.yaml").write_text(yaml.safe_dump(design, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if column is not None:
        source = folder / design["data"]["source"]
        data = pd.read_parquet(source) if source.suffix == ".parquet" else pd.read_csv(source)
        data = data.rename(columns={column: f"{column}_renamed"})
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
            named = [column] if column else [_dotted(path[:n]) for n in range(len(path), 0, -1)]
            assert any(name in output for name in named), f"{where}: the message names none of {named}:\n{output}"
            return
        if result.exit_code == 1 and command[0] != "experiment":
            return  # a no-go or a blocking data problem: the user reads why and stops there
