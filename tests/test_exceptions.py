"""The exception tree is the whole story: every exception raised in ``src/`` is one of mlcycle's, exported.

A design or data a user can write must end in a clear MlcycleError (the CLI's exit 2 with the
field named), never a bare ValueError or KeyError traceback. This walks every ``raise`` in the
package's source: the class raised must be an MlcycleError subclass listed in
``mlcycle.exceptions.__all__`` and exported by ``mlcycle``. Pydantic validators are the one
exception — their contract is ValueError, which :func:`mlcycle.contract.spec.parse` turns into
DesignError (tested by ``tests/contract/test_spec.py`` and the hypothesis test of the zoo).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import mlcycle
from mlcycle import exceptions

SOURCE = Path(mlcycle.__file__).parent
VALIDATORS = {"field_validator", "model_validator"}


def _decorator_names(function: ast.FunctionDef) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def _raised() -> list[tuple[str, int, str, bool]]:
    """(file, line, class name, inside a Pydantic validator) for every ``raise Name(...)`` in the package."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        validators: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and _decorator_names(node) & VALIDATORS:
                validators |= {n.lineno for n in ast.walk(node) if isinstance(n, ast.Raise)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue  # a bare `raise` re-raises what was caught
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id[:1].isupper():
                found.append((str(path.relative_to(SOURCE)), node.lineno, target.id, node.lineno in validators))
    return found


def test_the_walk_finds_the_raises() -> None:
    names = {name for _, _, name, _ in _raised()}
    assert {
        "DesignError",
        "DataError",
        "UseCaseError",
        "GateFailed",
        "RequestRejected",
        "ModelError",
    } <= names


def test_every_raised_class_belongs_to_the_tree_and_is_exported() -> None:
    tree = {
        name
        for name in exceptions.__all__
        if inspect.isclass(getattr(exceptions, name)) and issubclass(getattr(exceptions, name), exceptions.MlcycleError)
    }
    outside = [
        f"{file}:{line} raises {name}"
        for file, line, name, in_validator in _raised()
        if name not in tree and not (in_validator and name == "ValueError")
    ]
    assert not outside, "raise one of mlcycle.exceptions instead:\n" + "\n".join(outside)
    assert tree <= set(mlcycle.__all__), f"export from mlcycle too: {sorted(tree - set(mlcycle.__all__))}"


def test_every_class_of_the_tree_is_drawn_in_its_docstring() -> None:
    classes = [name for name in exceptions.__all__ if name != "Problem"]
    missing = [name for name in classes if name not in (exceptions.__doc__ or "")]
    assert not missing, f"add to the tree in mlcycle/exceptions.py's docstring: {missing}"
