"""The most-popular baseline: every row gets the items observed most often in ``fit``.

No model and no training: ``fit`` counts the stored entries of each column.
``recommend`` is overridden because the ranking is the same for every row:
it walks one precomputed order of the items (ties broken by item index),
which ``torch.topk`` over equal scores would not guarantee.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator

from ..base import RecommenderMixin, atomic_fit, ndcg_at_100
from ..utils._sklearn import Interval, _fit_context
from ..utils.validation import check_held_out, check_interactions

__all__ = ["PopularityRecommender"]


class PopularityRecommender(RecommenderMixin, BaseEstimator):
    """Recommend the items with the most stored entries in the training matrix.

    The score of item ``i`` is ``item_counts_[i]``, the number of rows of the
    training ``X`` that store a non-zero entry in column ``i`` (the values
    themselves are ignored), the same for every row. Ties are broken by item
    index, the lower index first, so the lists are deterministic
    (``ranking_`` is the full order). ``recommend`` leaves out each row's own
    items, so a row gets the most popular items it has not seen.

    A non-personalised baseline: any personalised model should beat it.
    ``score`` is NDCG@100, as for :class:`EASE`.

    Parameters
    ----------
    batch_size : int, default=1024
        Rows per batch of ``predict``/``recommend``; their memory is bounded
        by ``batch_size × n_items``.

    Attributes
    ----------
    item_counts_ : ndarray of shape (n_items,), dtype int64
        Stored (non-zero) entries of each column of the training ``X``.
        ``predict`` returns them as float32, exact up to 2**24 entries.
    ranking_ : ndarray of shape (n_items,), dtype int64
        Item indices by decreasing count, ties by increasing index.
    validation_score_ : float
        NDCG@100 of the entries of ``X_valid`` (entry hold-out protocol),
        only when ``fit`` was given ``X_valid``.
    n_features_in_ : int
        Number of items (columns) seen in ``fit``.

    See Also
    --------
    EASE : a personalised closed-form item-item model.

    References
    ----------
    .. [1] P. Cremonesi, Y. Koren and R. Turrin, "Performance of Recommender
       Algorithms on Top-N Recommendation Tasks", RecSys 2010 (the
       most-popular baseline, "MovieAvg"/"TopPop").

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recae.linear import PopularityRecommender
    >>> X = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    >>> model = PopularityRecommender().fit(X)
    >>> model.item_counts_
    array([1, 3, 2, 1])
    >>> model.recommend(X, k=1)  # item 1, or the best unseen one
    array([[2],
           [0],
           [2],
           [1]])
    """

    _parameter_constraints: dict = {
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, *, batch_size: int = 1024) -> None:
        self.batch_size = batch_size

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_valid=None):
        """Count the stored entries of each item.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Interactions; zeros (stored or not) are unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            Held-out entries of the same rows, disjoint from ``X``: only
            scored (NDCG@100, from ``X``) into ``validation_score_``.

        Returns
        -------
        self : PopularityRecommender
        """
        X = check_interactions(self, X, reset=True)
        X_valid = None if X_valid is None else check_held_out(X_valid, X)
        counts = np.bincount(X.indices, minlength=X.shape[1]).astype(np.int64)
        self.item_counts_ = counts
        self.ranking_ = np.argsort(-counts, kind="stable").astype(np.int64)
        self._scores = counts.astype(np.float32)
        if X_valid is not None:
            self.validation_score_ = self._default_scorer()(self, X, X_valid)
        return self

    def _score_block(self, block: sp.csr_matrix) -> torch.Tensor:
        return torch.from_numpy(self._scores).repeat(block.shape[0], 1)

    def _select_top(self, scores: torch.Tensor, k: int,
                    columns: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` best of each row by (unseen first, count, lower index): a stable sort.

        Seen items (``-inf``) that fill a short list keep the popularity order.
        """
        counts = torch.from_numpy(self._scores).to(scores.device)[columns]
        offset = float(counts.max()) + 1 if counts.numel() else 1.0
        key = torch.where(torch.isneginf(scores), counts - offset, scores)
        order = torch.sort(key, dim=1, descending=True, stable=True).indices[:, :k]
        return scores.gather(1, order), order

    def _default_scorer(self):
        return ndcg_at_100
