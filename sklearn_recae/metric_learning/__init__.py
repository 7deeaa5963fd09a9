"""Metric-learning recommenders: users and items embedded in one metric space."""

from ._mml import CML, MML_PAPER_PARAMS, MagneticMetricLearning

__all__ = ["CML", "MML_PAPER_PARAMS", "MagneticMetricLearning"]
