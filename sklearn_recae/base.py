"""The recommender mixin: the one serving loop of every model, and ``atomic_fit``.

:class:`RecommenderMixin` gives every estimator ``predict``, ``recommend``,
``score`` and its tags on top of one scorer: ``_score_block`` (dense scores of
a CSR block of rows, on the device), or, for models that score otherwise,
``_iter_scores`` (CDAE's fitted users, NRP's side information, ``ItemBased``'s
item blocks). Work is done in blocks, so memory is bounded by ``batch_size ×
n_items`` except for the dense array ``predict`` returns. ``similar_items``
ranks a model's item representation (``_item_similarity``) by blocks of
query items (:mod:`sklearn_recae._similarity`).
"""

from __future__ import annotations

import functools
import types
import warnings
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch

from ._blocks import iter_row_blocks, mask_seen_, reused_row_buffer
from ._similarity import ItemSimilarity, top_similar_items
from .utils._sklearn import check_is_fitted
from .utils.validation import check_bool, check_interactions, check_item_indices, check_k

__all__ = [
    "RecommenderMixin",
    "ScoreBlock",
    "atomic_fit",
    "if_item_representation",
    "ndcg_at_100",
    "warn_interrupted",
]


def atomic_fit(fit: Callable) -> Callable:
    """Decorate ``fit`` so that a fit that raises leaves the estimator as it was.

    The estimator's attributes are saved before ``fit`` runs and restored when
    it raises anything (``KeyboardInterrupt`` included): a fresh estimator
    stays unfitted, a fitted one keeps its previous model. ``fit`` must assign
    new fitted attributes, never mutate the previous ones in place (every
    estimator of the package builds new objects).
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        saved = self.__dict__.copy()
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


def warn_interrupted(estimator, what: str) -> None:
    """Mark ``estimator`` as interrupted (``interrupted_ = True``) and warn what was kept."""
    estimator.interrupted_ = True
    warnings.warn(
        f"{type(estimator).__name__}.fit was interrupted (KeyboardInterrupt): {what}. "
        "interrupted_ is True; call fit again to train fully.",
        UserWarning,
        stacklevel=3,
    )


class if_item_representation:  # noqa: N801 - a decorator, named like sklearn's available_if
    """Decorate a method that exists only where ``obj._item_similarity_unavailable()`` is None.

    As :func:`sklearn.utils.metaestimators.available_if`: ``hasattr(model,
    "similar_items")`` is False for a model without an item representation;
    the ``AttributeError`` carries that model's own reason and what to use.
    """

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.fn
        reason = obj._item_similarity_unavailable()
        if reason is not None:
            raise AttributeError(reason)
        return types.MethodType(self.fn, obj)


class ScoreBlock(NamedTuple):
    """Scores of some rows for some items, as a model's ``_iter_scores`` yields them.

    Attributes
    ----------
    rows : slice
        The rows of ``X`` scored.
    items : slice
        The items (columns) scored, in order; consecutive blocks of the same
        rows cover the items from first to last.
    scores : torch.Tensor of shape (n_block_rows, n_block_items)
        A new tensor (possibly a view of one) the loop may modify in place.
    observed : scipy.sparse.csr_matrix
        ``X[rows, items]``: the observations of the block, whose items
        ``recommend(exclude_seen=True)`` masks; or its transpose with
        ``item_major``.
    item_major : bool, default=False
        ``observed`` is items × rows.
    """

    rows: slice
    items: slice
    scores: torch.Tensor
    observed: sp.csr_matrix
    item_major: bool = False


def _observed_part(seen: sp.csr_matrix, block: ScoreBlock) -> sp.csr_matrix:
    """``seen``'s entries of a block's rows and items, laid out as the block's ``observed``."""
    part = seen[block.rows][:, block.items]
    return part.T.tocsr() if block.item_major else part


class RecommenderMixin:
    """``predict``, ``recommend``, ``score`` and the tags of every recommender: one serving loop.

    A subclass implements ``_score_block(X_block) -> torch.Tensor``, the dense
    ``(n_block, n_items)`` scores of a canonical CSR block in a new tensor
    that the caller may modify in place (one batch-sized buffer, not
    several); or overrides ``_iter_scores(X, **context)`` to yield
    :class:`ScoreBlock` s another way, taking the checked keyword arguments of
    its ``predict``/``recommend`` (``_check_context``). It may override
    ``_default_scorer``. ``batch_size`` (an init parameter) sets the block.
    A model with an item representation implements ``_item_similarity()``
    (an :class:`~sklearn_recae._similarity.ItemSimilarity`) and has
    ``similar_items``; the others do not (``hasattr`` is False).
    """

    _prediction_batch_size = 1024

    def _batch_rows(self) -> int:
        return int(getattr(self, "batch_size", None) or self._prediction_batch_size)

    def _check_predict_input(self, X) -> sp.csr_matrix:
        check_is_fitted(self)
        return check_interactions(self, X, reset=False)

    def _check_context(self, X: sp.csr_matrix, **context) -> dict:
        """The checked per-call arguments of ``_iter_scores`` (none by default)."""
        if context:
            raise TypeError(f"Unexpected arguments {sorted(context)}.")
        return context

    @property
    def _n_items_out(self) -> int:
        """The number of items scored (the columns of ``predict``)."""
        return self.n_features_in_

    def _iter_scores(self, X: sp.csr_matrix, **context) -> Iterator[ScoreBlock]:
        """Yield the scores of ``X`` block by block: row blocks of ``_score_block`` by default."""
        items = slice(0, self._n_items_out)
        for rows, block in iter_row_blocks(X, self._batch_rows()):
            yield ScoreBlock(rows, items, self._score_block(block), block)

    def _serve(self, X, context: dict) -> tuple[sp.csr_matrix, Iterator[ScoreBlock]]:
        X = self._check_predict_input(X)
        return X, self._iter_scores(X, **self._check_context(X, **context))

    def predict(self, X) -> np.ndarray:
        """Predict every item's rating or preference score from each row's observations.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Observed interactions of the rows to predict for (fold-in: rows may
            be unseen in ``fit``). Zeros are unobserved.

        Returns
        -------
        scores : ndarray of shape (n_rows, n_items), dtype float32
            Predicted rating (explicit models) or preference score (implicit).
        """
        return self._predict(X, {})

    def _predict(self, X, context: dict) -> np.ndarray:
        with torch.no_grad(), reused_row_buffer():
            X, blocks = self._serve(X, context)
            out = np.empty((X.shape[0], self._n_items_out), dtype=np.float32)
            for block in blocks:
                out[block.rows, block.items] = block.scores.cpu().numpy()
        return out

    def recommend(
        self, X, k: int = 10, exclude_seen: bool = True, return_scores: bool = False, *,
        filter_items=None, items=None,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Return the ``k`` best items of each row, best first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Observed interactions of the rows to recommend for.
        k : int, default=10
            Length of each list, ``1 <= k <= n_items``.
        exclude_seen : bool, default=True
            Leave out the items each row has already interacted with. A row with
            fewer than ``k`` unseen items ends its list with seen items (score ``-inf``).
        return_scores : bool, default=False
            Also return the score of each recommended item.
        filter_items : array-like of int, default=None
            Item indices never recommended (a blacklist, items out of stock).
        items : array-like of int, default=None
            Rank only these candidate items (``k`` at most their number,
            after ``filter_items``). Both act on the scored blocks: no dense
            users × items mask is built.

        Returns
        -------
        items : ndarray of shape (n_rows, k), dtype int64
            Item (column) indices, computed block by block with ``torch.topk``.
        scores : ndarray of shape (n_rows, k), dtype float32
            Only with ``return_scores``: the predicted score of each item of
            ``items`` (``-inf`` for seen items that fill a short list).
        """
        return self._recommend(X, k, exclude_seen, return_scores, {},
                               filter_items=filter_items, items=items)

    def _allowed_items(self, filter_items, items) -> np.ndarray | None:
        """The items ``recommend`` may return (a boolean mask), or None for all of them."""
        if filter_items is None and items is None:
            return None
        n_items = self._n_items_out
        allowed = np.zeros(n_items, dtype=bool) if items is not None else np.ones(n_items, bool)
        for name, value, flag in (("items", items, True), ("filter_items", filter_items, False)):
            if value is None:
                continue
            allowed[check_item_indices(value, n_items, name)] = flag
        if not allowed.any():
            raise ValueError("No item is left to recommend: items is empty or every candidate "
                             "is in filter_items.")
        return allowed

    def _recommend(self, X, k, exclude_seen, return_scores, context: dict, *,
                   filter_items=None, items=None, seen: sp.csr_matrix | None = None):
        """``recommend``'s loop; ``seen`` (rows × items) replaces ``X`` as the items to exclude.

        A pipeline passes its input as ``seen``: its last step scores the
        transformed rows, whose columns are no items.
        """
        exclude_seen = check_bool(exclude_seen, "exclude_seen")
        return_scores = check_bool(return_scores, "return_scores")
        check_is_fitted(self)
        allowed = self._allowed_items(filter_items, items)
        k = check_k(k, self._n_items_out if allowed is None else int(allowed.sum()))
        with torch.no_grad(), reused_row_buffer():
            X, blocks = self._serve(X, context)
            if seen is not None and seen.shape != (X.shape[0], self._n_items_out):
                raise ValueError(
                    f"The rows whose seen items are excluded have shape {seen.shape}, but the "
                    f"model ranks {X.shape[0]} rows x {self._n_items_out} items: they must be "
                    "the users x items interactions of the same rows (or pass exclude_seen=False)."
                )
            out_items = np.empty((X.shape[0], k), dtype=np.int64)
            out_scores = np.empty((X.shape[0], k), dtype=np.float32)
            running: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}
            for block in blocks:
                if exclude_seen:
                    observed = block.observed if seen is None else _observed_part(seen, block)
                    mask_seen_(block.scores, observed, item_major=block.item_major)
                scores = block.scores
                columns = torch.arange(block.items.start, block.items.stop, device=scores.device)
                if allowed is not None:  # rank the allowed columns only
                    local = torch.from_numpy(np.flatnonzero(allowed[block.items])).to(scores.device)
                    scores, columns = scores.index_select(1, local), columns[local]
                top_scores, top_columns = self._select_top(scores, min(k, scores.shape[1]), columns)
                top_items = columns[top_columns]
                key = (block.rows.start, block.rows.stop)
                if key in running:  # merge with the best of the row's earlier item blocks
                    kept_scores, kept_items = running.pop(key)
                    top_scores = torch.cat([kept_scores, top_scores], dim=1)
                    top_items = torch.cat([kept_items, top_items], dim=1)
                    best = torch.topk(top_scores, min(k, top_scores.shape[1]), dim=1)
                    top_scores, top_items = best.values, top_items.gather(1, best.indices)
                if block.items.stop < self._n_items_out:
                    running[key] = (top_scores, top_items)
                else:
                    out_items[block.rows] = top_items.cpu().numpy()
                    out_scores[block.rows] = top_scores.cpu().numpy()
        return (out_items, out_scores) if return_scores else out_items

    @staticmethod
    def _select_top(scores: torch.Tensor, k: int,
                    columns: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` best ``(scores, positions)`` of each row of ``scores``, best first.

        ``columns`` are the items of ``scores``' columns (for a model whose
        order needs them).
        """
        top = torch.topk(scores, k, dim=1)
        return top.values, top.indices

    @if_item_representation
    def similar_items(self, items, k: int = 10, *, return_scores: bool = False):
        """Return the ``k`` items most similar to each of ``items``, most similar first.

        An item is never its own neighbour. Each model compares its own item
        representation (its docstring says which):

        - ``EASE``: column ``j`` of ``coef_`` ranks the neighbours of item ``j``
          (the weight of each item in ``j``'s score);
        - the autoencoders: cosine similarity of the item vectors of the output
          (decoder) layer, row ``j`` of its weight;
        - ``MagneticMetricLearning``, ``CML``: minus the learned item–item
          distance ``F_I`` of the item points (squared Euclidean for ``CML``);
        - ``KNeighborsRecommender``: cosine similarity of the items' interaction
          columns (item-item cosine over the training rows);
        - ``ItemBased``: cosine similarity of the inner model's codes of the
          item rows (``item_codes_``).

        Models without an item representation have no ``similar_items``
        (``hasattr`` is False; the ``AttributeError`` says why).

        Parameters
        ----------
        items : int or array-like of int of shape (n_queries,)
            Item (column) indices.
        k : int, default=10
            Neighbours per item, ``1 <= k <= n_items - 1``.
        return_scores : bool, default=False
            Also return the similarity of each neighbour.

        Returns
        -------
        neighbours : ndarray of shape (n_queries, k), dtype int64
            Item indices; shape ``(k,)`` for a single int ``items``. Computed in
            blocks of query items: never the ``n_items × n_items`` matrix.
        scores : ndarray of shape (n_queries, k), dtype float32
            Only with ``return_scores``: the similarity of each neighbour
            (higher is more similar).
        """
        return_scores = check_bool(return_scores, "return_scores")
        check_is_fitted(self)
        n_items = self._n_items_out
        single = np.ndim(items) == 0
        queries = check_item_indices(np.reshape(items, -1) if single else items, n_items)
        k = check_k(k, n_items)
        if k >= n_items:
            raise ValueError(f"k must be in [1, n_items - 1 = {n_items - 1}]: an item is never "
                             f"its own neighbour; got k={k}.")
        neighbours, scores = top_similar_items(self._item_similarity(), queries, k,
                                               self._batch_rows())
        if single:
            neighbours, scores = neighbours[0], scores[0]
        return (neighbours, scores) if return_scores else neighbours

    def _item_similarity(self) -> ItemSimilarity:
        """The fitted item representation ``similar_items`` compares (a model that has one)."""
        raise NotImplementedError

    def _item_similarity_unavailable(self) -> str | None:
        """Why this model has no ``similar_items``, or None when it has one."""
        if type(self)._item_similarity is not RecommenderMixin._item_similarity:
            return None
        return (
            f"{type(self).__name__} has no item representation to compare items with, so it "
            "has no similar_items. EASE, the autoencoders, MagneticMetricLearning/CML, "
            "KNeighborsRecommender and ItemBased over a model with transform have one."
        )

    def score(self, X, y=None) -> float:
        """Default metric of the estimator, greater is better.

        With ``y`` (entry hold-out protocol) the model predicts from ``X`` and is
        scored on the entries stored in ``y``; without ``y`` (fold-in protocol)
        a seeded 20% of each row's entries is hidden, predicted from the rest
        and scored. See ``_default_scorer`` for the metric.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Observed interactions the model predicts from.
        y : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            Held-out entries to score (entry hold-out protocol).

        Returns
        -------
        score : float
        """
        self._check_predict_input(X)
        return self._default_scorer()(self, X, y)

    def _default_scorer(self):
        from .metrics import get_scorer

        return get_scorer("neg_rmse")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        return tags


def ndcg_at_100(estimator, X, y=None) -> float:
    """The default score of the ranking models: NDCG@100, or NDCG@n_items with fewer items.

    With ``n_items <= 100`` every item is ranked, so NDCG@n_items is the value
    NDCG@100 would have; ``recommend`` refuses a ``k`` above the item count.
    The cut-off is read from ``X`` at each call, so ``ItemBased`` (whose inner
    model's items are the users) scores its users × items input alike.
    """
    from .metrics import get_scorer

    shape = np.shape(X)
    n_items = shape[1] if len(shape) == 2 else 100
    return get_scorer(f"ndcg@{max(1, min(100, n_items))}")(estimator, X, y)
