"""The architecture holds: the layers of ``pyproject.toml`` are kept, and no modules or packages import in a circle.

The layer contract is import-linter's (``[tool.importlinter]`` in ``pyproject.toml``, the same
check as ``lint-imports``); the circles are found here on grimp's graph of the package — the
graph import-linter itself builds —, imports under ``if TYPE_CHECKING`` included, because a
circle for the type checker is a knot for the reader too.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import grimp

import mlcycle

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path(mlcycle.__file__).parent


@functools.cache
def _graph() -> grimp.ImportGraph:
    """Built once for the module's tests (nothing here changes the source)."""
    return grimp.build_graph("mlcycle", exclude_type_checking_imports=False, cache_dir=None)


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_layer_contract_is_kept() -> None:
    linter = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run(
        [str(linter), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_no_module_imports_itself_through_others() -> None:
    graph = _graph()
    edges = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    assert _circles(edges) == []


def test_no_package_imports_itself_through_others_at_any_depth() -> None:
    """Within each package, its direct children (modules and subpackages, each taken whole) form no circle."""
    graph = _graph()
    circles = []
    for package in sorted(m for m in graph.modules if graph.find_children(m)):
        children = graph.find_children(package)
        owner = {descendant: child for child in children for descendant in {child, *graph.find_descendants(child)}}
        edges: dict[str, set[str]] = defaultdict(set)
        for module, child in owner.items():
            for target in graph.find_modules_directly_imported_by(module):
                if target in owner and owner[target] != child:
                    edges[child].add(owner[target])
        circles += _circles(edges)
    assert circles == []


def test_the_contract_imports_nothing_of_mlcycle_but_the_exceptions() -> None:
    graph = _graph()
    contract = {"mlcycle.contract", *graph.find_descendants("mlcycle.contract")}
    outside = {
        (module, target)
        for module in contract
        for target in graph.find_modules_directly_imported_by(module)
        if target not in contract and target.startswith("mlcycle") and target != "mlcycle.exceptions"
    }
    assert outside == set()


def test_every_registry_is_imported_where_the_vocabulary_says() -> None:
    """The registries tell the contract their names on import; mlcycle/__init__ must import each of them."""
    tree = ast.parse((SOURCE / "__init__.py").read_text(encoding="utf-8"))
    imported = {
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    tellers = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "mlcycle.contract.vocabulary"
                and {a.name for a in node.names} & {"tell", "tell_sink"}
            ):
                tellers.add(".".join(path.relative_to(SOURCE.parent).with_suffix("").parts).removesuffix(".__init__"))
    tellers.discard("mlcycle.contract.vocabulary")
    assert tellers and tellers <= imported, f"import in mlcycle/__init__.py: {sorted(tellers - imported)}"


def test_nothing_outside_the_store_names_its_tables() -> None:
    """No SQL written against the store's tables from outside it (the import contract stops the imports)."""
    from mlcycle.store.sql.tables import metadata

    names = sorted(metadata.tables)
    found = [
        f"{path.relative_to(SOURCE)}: {name}"
        for path in SOURCE.rglob("*.py")
        if "store" not in path.relative_to(SOURCE).parts[:1]
        for name in names
        if name in path.read_text(encoding="utf-8")
    ]
    assert names and not found, found
