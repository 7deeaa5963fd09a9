"""Metric-learning recommenders: users and items embedded in one metric space."""

from ._mml import CML, MagneticMetricLearning

__all__ = ["CML", "MagneticMetricLearning"]
