"""Meta-estimators that compose recommenders."""

from ._cold_start import ColdStartFallback
from ._item_based import ItemBased
from ._pipeline import RecommenderPipeline, make_recommender_pipeline

__all__ = ["ColdStartFallback", "ItemBased", "RecommenderPipeline", "make_recommender_pipeline"]
