"""Neighbourhood recommenders: user-based collaborative filtering over any row representation."""

from ._knn import KNeighborsRecommender

__all__ = ["KNeighborsRecommender"]
