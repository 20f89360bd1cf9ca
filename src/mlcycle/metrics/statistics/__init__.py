"""Drift statistics by name, one module each: psi, ks, wasserstein, jensen_shannon, chi2."""

from __future__ import annotations

from mlcycle.contract.vocabulary import StatisticTerm, tell
from mlcycle.exceptions import DesignError
from mlcycle.metrics.statistics._base import Measured, Statistic
from mlcycle.metrics.statistics.chi2 import ChiSquare
from mlcycle.metrics.statistics.jensen_shannon import JensenShannon
from mlcycle.metrics.statistics.ks import KS, ks_raw
from mlcycle.metrics.statistics.psi import PSI
from mlcycle.metrics.statistics.wasserstein import Wasserstein

REGISTRY: dict[str, Statistic] = {s.name: s for s in (PSI(), KS(), Wasserstein(), JensenShannon(), ChiSquare())}
for _statistic in REGISTRY.values():
    tell(StatisticTerm(_statistic.name, _statistic.kinds))


def get(name: str, kind: str) -> Statistic:
    statistic = REGISTRY.get(name)
    if statistic is None:
        raise DesignError(f"unknown drift statistic {name!r}; known: {', '.join(REGISTRY)}")
    if kind not in statistic.kinds:
        raise DesignError(
            f"drift statistic {name} is for {' and '.join(sorted(statistic.kinds))} columns, not {kind} "
            f"ones; choose it per column type under monitoring.drift, or per_feature for one column"
        )
    return statistic


__all__ = ["REGISTRY", "Measured", "Statistic", "get", "ks_raw"]
