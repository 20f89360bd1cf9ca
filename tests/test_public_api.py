"""Guard the public surface: what `import mlcycle` offers is exactly what __all__ says."""

from __future__ import annotations

import types

import mlcycle
from mlcycle import exceptions


def test_all_matches_public_names() -> None:
    public = {n for n, v in vars(mlcycle).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    assert public | {"__version__"} == set(mlcycle.__all__)


def test_exceptions_share_one_root_and_map_to_exit_codes() -> None:
    assert exceptions.__all__ == sorted(exceptions.__all__)
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        if isinstance(cls, type) and issubclass(cls, Exception):
            assert issubclass(cls, exceptions.MlcycleError)
            assert cls.exit_code in (1, 2)
    assert exceptions.DesignError("x").exit_code == 2
    assert exceptions.DataCheckFailed([]).exit_code == 1
