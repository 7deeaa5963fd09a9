"""``ColdStartFallback``: serve rows with too few observations from a fallback model.

A model that ranks from a row's observations has nothing to rank an empty
row by: EASE scores it ``0 @ B`` (every item 0, the list falls back to item
index order), a user kNN finds no neighbour. Under a global temporal split
half of MovieLens-100K's test users have no training entry, and there the
most-popular list beats EASE (``benchmarks/temporal_protocols.py``). This
meta-estimator keeps the model for every row it can read and gives the
other rows the fallback's scores (by default :class:`PopularityRecommender`),
inside the one serving loop: ``predict``, ``recommend`` (with its item
filters), ``score`` and the scorers all see the combined scores.
"""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone

from .._similarity import ItemSimilarity
from ..base import RecommenderMixin, ScoreBlock, atomic_fit, ndcg_at_100
from ..utils._sklearn import HasMethods, Interval, _fit_context, check_is_fitted
from ..utils.validation import check_interactions

__all__ = ["ColdStartFallback"]


class ColdStartFallback(RecommenderMixin, MetaEstimatorMixin, BaseEstimator):
    """Recommend with ``estimator``, and with ``fallback`` for rows it cannot read.

    ``fit(X)`` fits a clone of each on ``X``. At prediction, a row of ``X``
    with fewer than ``min_interactions`` stored entries (a cold user: none at
    all by default) gets the fallback's scores; every other row the
    estimator's. Seen items and the ``filter_items``/``items`` of
    ``recommend`` apply to both alike::

        model = ColdStartFallback(EASE()).fit(X_train)
        model.recommend(X_new, k=10)     # empty rows get the most popular items

    Parameters
    ----------
    estimator : recommender
        The model of the rows it can read (any estimator of the package with
        ``predict``; fit parameters such as ``X_valid`` reach it).
    fallback : recommender, default=None
        The model of the cold rows; None is
        :class:`~sklearn_recae.linear.PopularityRecommender` (the most-popular
        items of ``X``). Rating models need none: they already predict the
        column means for an empty row.
    min_interactions : int, default=1
        Rows with fewer stored entries than this are cold. 1: only empty rows.
    batch_size : int, default=1024
        Rows per batch of the cold rows' fallback scores.

    Attributes
    ----------
    estimator_ : recommender
        The fitted clone of ``estimator``.
    fallback_ : recommender
        The fitted clone of ``fallback``.
    n_features_in_ : int
        Number of items (columns) seen in ``fit``.

    See Also
    --------
    sklearn_recae.model_selection.temporal_split : the protocol with cold test users.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sklearn_recae.compose import ColdStartFallback
    >>> from sklearn_recae.linear import EASE
    >>> X = sp.csr_matrix([[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1], [1, 1, 1, 0]])
    >>> model = ColdStartFallback(EASE(l2=1.0)).fit(X)
    >>> model.recommend(sp.csr_matrix((1, 4)), k=2)   # an empty row: the most popular items
    array([[0, 1]])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "fallback": [HasMethods(["fit", "predict"]), None],
        "min_interactions": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, estimator, fallback=None, *, min_interactions: int = 1,
                 batch_size: int = 1024) -> None:
        self.estimator = estimator
        self.fallback = fallback
        self.min_interactions = min_interactions
        self.batch_size = batch_size

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit clones of ``estimator`` (with ``fit_params``) and of ``fallback`` on ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Interactions; not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        **fit_params : dict
            Passed to ``estimator.fit`` (e.g. ``X_valid``).

        Returns
        -------
        self : ColdStartFallback
        """
        X = check_interactions(self, X, reset=True)
        self.estimator_ = clone(self.estimator).fit(X, **fit_params)
        self.fallback_ = clone(self._fallback()).fit(X)
        return self

    def _fallback(self):
        if self.fallback is not None:
            return self.fallback
        from ..linear import PopularityRecommender  # linear builds on this package's base

        return PopularityRecommender(batch_size=self.batch_size)

    @property
    def _n_items_out(self) -> int:
        return self.estimator_._n_items_out

    def _serve(self, X, context: dict) -> tuple[sp.csr_matrix, Iterator[ScoreBlock]]:
        """The estimator's blocks, the cold rows' scores replaced by the fallback's."""
        check_is_fitted(self)
        X, blocks = self.estimator_._serve(X, context)
        cold = np.diff(X.indptr) < self.min_interactions
        return X, (blocks if not cold.any() else self._replace_cold(X, cold, blocks))

    def _replace_cold(self, X: sp.csr_matrix, cold: np.ndarray,
                      blocks: Iterator[ScoreBlock]) -> Iterator[ScoreBlock]:
        for block in blocks:
            rows = np.flatnonzero(cold[block.rows])
            if rows.size:
                fallback = self.fallback_.predict(X[block.rows][rows])[:, block.items]
                block.scores[torch.from_numpy(rows).to(block.scores.device)] = torch.from_numpy(
                    np.asarray(fallback, dtype=np.float32)
                ).to(block.scores.device, block.scores.dtype)
            yield block

    def _item_similarity(self) -> ItemSimilarity:
        """The estimator's item similarity (the fallback has none to add)."""
        return self.estimator_._item_similarity()

    def _item_similarity_unavailable(self) -> str | None:
        if hasattr(self.estimator, "similar_items"):
            return None
        return (f"This ColdStartFallback's {type(self.estimator).__name__} has no "
                "similar_items, so neither has the ColdStartFallback.")

    def _default_scorer(self):
        """The estimator's default metric (NDCG@100 for a model without one)."""
        default = getattr(self.estimator_, "_default_scorer", None)
        return default() if default is not None else ndcg_at_100

    # The scorers' hook: a model that scores all rows at once (ItemBased) keeps doing so.
    def _iter_recommendations(
        self, X, rows: np.ndarray, k: int, batch_size: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(rows, top-k of those rows)``, in one pass when the estimator needs all rows."""
        whole = hasattr(self.estimator_, "_iter_recommendations")
        recommended = self.recommend(X, k=k, exclude_seen=True) if whole else None
        for start in range(0, rows.size, batch_size):
            batch = rows[start : start + batch_size]
            yield batch, (recommended[batch] if whole
                          else self.recommend(X[batch], k=k, exclude_seen=True))
