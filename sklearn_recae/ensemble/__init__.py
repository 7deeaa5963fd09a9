"""Ensembles of recommenders: rating (self-adaptive / NNLS) and ranking (z-scored) blends, and MMA."""

from ._mma import MultiMetricAutoRec, default_mma_estimators
from ._ranking import RankingEnsemble, simplex_grid
from ._stacking import RatingEnsemble, nnls_blend
from ._weighting import accumulated_losses, self_adaptive_weights

__all__ = [
    "MultiMetricAutoRec",
    "RankingEnsemble",
    "RatingEnsemble",
    "accumulated_losses",
    "default_mma_estimators",
    "nnls_blend",
    "self_adaptive_weights",
    "simplex_grid",
]
