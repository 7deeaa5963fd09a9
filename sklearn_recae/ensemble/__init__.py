"""Ensembles of recommenders: MMA, the Multi-Metric AutoRec."""

from ._mma import MultiMetricAutoRec, default_mma_estimators
from ._weighting import accumulated_losses, self_adaptive_weights

__all__ = [
    "MultiMetricAutoRec",
    "accumulated_losses",
    "default_mma_estimators",
    "self_adaptive_weights",
]
