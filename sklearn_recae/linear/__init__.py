"""Linear and non-personalised recommenders without a network: EASE, the bias baseline and popularity."""

from ._baseline import BaselineRatings
from ._ease import EASE
from ._popularity import PopularityRecommender

__all__ = ["BaselineRatings", "EASE", "PopularityRecommender"]
