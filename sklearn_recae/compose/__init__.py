"""Meta-estimators that compose recommenders."""

from ._item_based import ItemBased
from ._pipeline import RecommenderPipeline, make_recommender_pipeline

__all__ = ["ItemBased", "RecommenderPipeline", "make_recommender_pipeline"]
