"""Entry-level and per-row splits for the two evaluation protocols.

- :func:`train_test_split`: uniform split of the stored entries into
  train/(valid/)test matrices of the same shape (weak generalization).
- :func:`holdout_row_entries`: hide a fraction of each row's entries
  (strong generalization, fold-in); the fold-in scorers use it.
- :class:`PredefinedEntrySplit`: ``cv=`` for ``GridSearchCV`` over a fixed
  entry split.
"""

from ._split import PredefinedEntrySplit, holdout_row_entries, train_test_split

__all__ = ["PredefinedEntrySplit", "holdout_row_entries", "train_test_split"]
