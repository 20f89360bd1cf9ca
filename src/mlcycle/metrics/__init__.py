"""The three metric views (data scientist, domain expert, business) and the money model."""

from mlcycle.metrics.catalogue import CATALOGUE, VIEW_READERS, Metric, Scored, evaluate, names, resolve
from mlcycle.metrics.cost import CostModel

__all__ = ["CATALOGUE", "VIEW_READERS", "CostModel", "Metric", "Scored", "evaluate", "names", "resolve"]
