"""Entry-level and per-row splits for the two evaluation protocols.

- :func:`train_test_split`: uniform split of the stored entries into
  train/(valid/)test matrices of the same shape (weak generalization).
- :func:`temporal_split`: split by time, with a global cut-off or each
  user's latest entries; :func:`leave_one_out_split`: each user's last entry
  by time, or a random one.
- :func:`holdout_row_entries`: hide a fraction of each row's entries
  (strong generalization, fold-in); the fold-in scorers use it.
- :class:`PredefinedEntrySplit`: ``cv=`` for ``GridSearchCV`` over a fixed
  entry split (any of the above).

Score the held-out parts with the full-catalogue metrics of
:mod:`sklearn_recae.metrics`; sampled metrics are left out on purpose
(Krichene & Rendle, KDD 2020).
"""

from ._split import PredefinedEntrySplit, holdout_row_entries, train_test_split
from ._temporal import leave_one_out_split, temporal_split

__all__ = [
    "PredefinedEntrySplit",
    "holdout_row_entries",
    "leave_one_out_split",
    "temporal_split",
    "train_test_split",
]
