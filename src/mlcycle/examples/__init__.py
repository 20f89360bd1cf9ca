"""Bundled example use cases, written to a folder by ``mlcycle init DIR --example NAME``."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from mlcycle.exceptions import UseCaseError

# example name → (files copied to the use-case root, data files copied to data/)
EXAMPLES: dict[str, tuple[list[str], list[str]]] = {
    "sales": (["mlcycle.yaml", "DATA.md"], ["sales.csv.gz"]),
}


def write(name: str, folder: Path, *, overwrite: bool = False) -> Path:
    """Write example ``name`` into ``folder``; returns the design file's path."""
    if name not in EXAMPLES:
        raise UseCaseError(f"no example called {name!r}; examples: {', '.join(EXAMPLES)}")
    design = folder / "mlcycle.yaml"
    if design.exists() and not overwrite:
        raise UseCaseError(f"{design} already exists; pick another folder, or pass --force to overwrite it")
    root_files, data_files = EXAMPLES[name]
    source = resources.files("mlcycle.examples") / name
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for file in root_files:
        with resources.as_file(source / file) as path:
            shutil.copyfile(path, folder / file)
    for file in data_files:
        with resources.as_file(source / file) as path:
            shutil.copyfile(path, folder / "data" / file)
    if name == "sales":
        _next_day_files(folder / "data")
    return design


def _next_day_files(data: Path) -> None:
    """The first day after the training cut-off as the shop would see it: the order sheet, then the actuals.

    ``next_day.csv`` has what is known before the day (date, item, description, price) — the input
    of ``mlcycle predict``; ``next_day_actuals.csv`` what sold that day — the input of ``mlcycle feedback``.
    """
    import pandas as pd

    sales = pd.read_csv(data / "sales.csv.gz")
    day = sales.loc[sales["date"] > "2011-08-31", "date"].min()
    today = sales[sales["date"] == day]
    today[["date", "item", "description", "price"]].to_csv(data / "next_day.csv", index=False)
    today[["date", "item", "units"]].to_csv(data / "next_day_actuals.csv", index=False)
