"""Ensembles of recommenders: the self-adaptive / NNLS rating ensemble and MMA, its four-AutoRec case."""

from ._mma import MultiMetricAutoRec, default_mma_estimators
from ._stacking import RatingEnsemble, nnls_blend
from ._weighting import accumulated_losses, self_adaptive_weights

__all__ = [
    "MultiMetricAutoRec",
    "RatingEnsemble",
    "accumulated_losses",
    "default_mma_estimators",
    "nnls_blend",
    "self_adaptive_weights",
]
