"""From long-format interaction tables to the interaction matrix, and back.

- :class:`InteractionEncoder`: a pandas DataFrame of (user, item, rating)
  rows to the users × items CSR matrix every estimator takes, the matrix back
  to a long table, and ``recommend``'s item indices to item ids.
- :func:`check_not_long_format`: the check that refuses a long table passed
  as ``X`` and points to the encoder.
- :func:`binarize_interactions`: ratings to implicit feedback (``rating >=
  threshold`` becomes 1.0, rows with too few positives dropped), with the
  indices of the rows kept.
"""

from ..utils.validation import check_not_long_format
from ._implicit import binarize_interactions
from ._interactions import InteractionEncoder

__all__ = ["InteractionEncoder", "binarize_interactions", "check_not_long_format"]
