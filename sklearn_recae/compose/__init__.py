"""Meta-estimators that compose recommenders."""

from ._item_based import ItemBased

__all__ = ["ItemBased"]
