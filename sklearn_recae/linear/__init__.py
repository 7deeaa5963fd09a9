"""Linear and non-personalised recommenders without a network: EASE and the popularity baseline."""

from ._ease import EASE
from ._popularity import PopularityRecommender

__all__ = ["EASE", "PopularityRecommender"]
