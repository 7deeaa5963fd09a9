"""``ItemBased``: a row model fitted on the item × user matrix that speaks users × items.

I-AutoRec and I-MMA, the strong variants of their papers, are row models
fitted on ``X.T``: a sample is an item's rating vector over the users. This
meta-estimator does the transposing once, so that everything after ``fit``
takes and returns users × items like every other recommender: ``predict``,
``recommend``, ``score`` and the scorers of :mod:`sklearn_recae.metrics`.

Its inputs are item vectors over the users seen in fit, so it serves exactly
those users, in that order (their observations may change, e.g. the training
matrix plus new ratings); it cannot fold in new users. ``recommend`` over all
users streams item blocks and keeps a running top-k per user, so its memory is
a few ``n_users × (k + batch_size)`` floats, never the dense users × items matrix.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.pipeline import Pipeline

from .._blocks import iter_row_blocks
from .._similarity import ItemSimilarity
from .._torch_base import TorchRecommender
from ..base import RecommenderMixin, ScoreBlock, atomic_fit
from ..utils._sklearn import HasMethods, Interval, _fit_context, check_is_fitted
from ..utils.validation import check_held_out, check_interactions

__all__ = ["ItemBased"]

#: Fitted attributes of the inner model that describe its training, copied after fit.
_TRAINING_RECORD = ("interrupted_", "best_epoch_", "n_epochs_", "validation_scores_", "device_")


def _interactions_route(estimator, X_items: sp.csr_matrix) -> dict:
    """The fit parameters that give a Pipeline's final step the item × user interactions.

    A Pipeline ending in a step whose ``fit`` takes ``interactions`` (e.g.
    :class:`~sklearn_recae.neighbors.KNeighborsRecommender` over embeddings)
    needs the interactions its earlier steps turn into a representation:
    ``ItemBased`` passes them, as the transposed ``X`` it fits on. Another
    meta-estimator whose inner steps take ``interactions`` cannot be reached
    and is refused rather than fitted on the wrong matrix.
    """
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        if last != "passthrough" and "interactions" in inspect.signature(last.fit).parameters:
            return {f"{name}__interactions": X_items}
        return {}
    nested = [value for key, value in estimator.get_params(deep=True).items()
              if "__" in key and hasattr(value, "fit")
              and "interactions" in inspect.signature(value.fit).parameters]
    if nested:
        raise ValueError(
            f"ItemBased cannot pass the interactions to the {type(nested[0]).__name__} inside "
            f"{type(estimator).__name__}: wrap it in a Pipeline whose last step it is, "
            "or fit it on interactions directly."
        )
    return {}


class ItemBased(RecommenderMixin, MetaEstimatorMixin, BaseEstimator):
    """Fit a row model on the item × user matrix; predict and recommend for users.

    ``fit(X)`` fits a clone of ``estimator`` on ``X.T`` (a sample is an item's
    interactions over the users). ``predict``, ``recommend``, ``score`` and
    the scorers of :mod:`sklearn_recae.metrics` then take and return
    **users × items**, for the users seen in ``fit``::

        i_autorec = ItemBased(AutoRec()).fit(R_train)        # I-AutoRec
        i_autorec.recommend(R_train, k=10)                   # top-10 of every user
        i_mma = ItemBased(MultiMetricAutoRec())               # I-MMA

    **No fold-in of new users.** The inner model reads each item's vector over
    the users seen in fit, so every call takes the full users × items matrix,
    the same users in the same rows (their observed entries may differ from
    fit's, e.g. the training matrix plus new ratings). Score it under the
    entry hold-out protocol (``train_test_split``, ``PredefinedEntrySplit``),
    not by cross-validating over users; a user-based model folds in new users.
    A matrix of another row count is refused; one with the same row count but
    other users (e.g. an equal-sized fold of ``KFold``) cannot be told apart.

    Parameters
    ----------
    estimator : estimator object
        A recommender with ``fit`` and ``predict`` (e.g.
        :class:`~sklearn_recae.autoencoder.AutoRec`), cloned at fit. Its
        parameters tune through this one as ``estimator__<param>``.
    batch_size : int, default=1024
        Items per block in ``predict`` and ``recommend``; ``recommend`` holds
        ``n_users × (k + batch_size)`` scores at a time.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator`` (its rows are the items).
    n_users_ : int
        Number of users (rows of ``X``) seen in fit.
    n_features_in_ : int
        Number of items (columns of ``X``) seen in fit.
    item_codes_ : ndarray of shape (n_items, n_components), float32
        The inner estimator's ``transform`` of each item's row (only when it
        has ``transform``): ``similar_items`` is their cosine similarity.
    interrupted_, best_epoch_, n_epochs_, validation_scores_, history_, device_
        The inner estimator's (each where it has it): whether Ctrl-C stopped
        its fit, the epoch kept, the epochs run, the validation score per
        epoch, its training history and the torch device it trained on.

    See Also
    --------
    sklearn_recae.autoencoder.AutoRec : I-AutoRec is ``ItemBased(AutoRec())``.
    sklearn_recae.ensemble.MultiMetricAutoRec : I-MMA is ``ItemBased(MultiMetricAutoRec())``.

    Examples
    --------
    >>> from sklearn_recae.autoencoder import AutoRec
    >>> from sklearn_recae.compose import ItemBased
    >>> from sklearn_recae.datasets import make_interactions
    >>> X = make_interactions(50, 30, density=0.3, random_state=0)
    >>> model = ItemBased(AutoRec(hidden_units=(8,), max_epochs=3, random_state=0)).fit(X)
    >>> model.predict(X).shape, model.recommend(X, k=5).shape
    ((50, 30), (50, 5))
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, estimator, *, batch_size: int = 1024) -> None:
        self.estimator = estimator
        self.batch_size = batch_size

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, *, X_valid=None):
        """Fit a clone of ``estimator`` on the item × user matrix ``X.T``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Interactions; zeros (stored or not) are unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_users, n_items), default=None
            Held-out entries, passed transposed to the inner estimator's
            ``fit(X.T, X_valid=X_valid.T)`` (entry hold-out protocol).

        Returns
        -------
        self : ItemBased
        """
        X = check_interactions(self, X, reset=True)
        X_items = X.T.tocsr()
        fit_params = _interactions_route(self.estimator, X_items)
        if X_valid is not None:
            fit_params["X_valid"] = check_held_out(X_valid, X).T.tocsr()
        self.estimator_ = clone(self.estimator).fit(X_items, **fit_params)
        self.n_users_ = X.shape[0]
        if hasattr(self.estimator_, "transform"):
            self.item_codes_ = np.asarray(self.estimator_.transform(X_items), dtype=np.float32)
        for name in _TRAINING_RECORD:  # the inner model's record of its training, if any
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        return self

    @property
    def history_(self):
        """The inner estimator's training history (skorch's, or MMA's per-epoch records)."""
        check_is_fitted(self)
        try:
            return self.estimator_.history_
        except AttributeError:
            raise AttributeError(
                f"{type(self.estimator_).__name__} keeps no training history, so this "
                "ItemBased has none."
            ) from None

    def _check_predict_input(self, X) -> sp.csr_matrix:
        """Validate ``X``: the users × items matrix of the users seen in fit, in order."""
        check_is_fitted(self)
        X = check_interactions(self, X, reset=False)
        if X.shape[0] != self.n_users_:
            raise ValueError(
                f"X has {X.shape[0]} rows, but this ItemBased model was fitted on "
                f"{self.n_users_} users. An item-based model reads each item's vector over "
                "the users seen in fit, so it cannot fold in new users, nor take a subset "
                "or another order of them: pass the full users x items matrix (the entry "
                "hold-out protocol: train_test_split, PredefinedEntrySplit), or use the "
                "user-based estimator itself to fold in new users."
            )
        return X

    def _iter_scores(self, X: sp.csr_matrix) -> Iterator[ScoreBlock]:
        """Item blocks: the inner model's (n_block_items, n_users) scores, seen as users × items.

        A torch inner model scores each block where it lives (a CUDA model's
        scores stay on the GPU, for ``recommend`` to merge there); any other
        model through its ``predict``. The serving loop merges the blocks into
        a running top-k per user: memory is ``n_users × (k + batch_size)``.
        """
        inner = self.estimator_
        X_items = X.T.tocsr()
        if isinstance(inner, TorchRecommender):
            X_items = inner._check_predict_input(X_items)  # what its predict does first
            score_block = inner._score_block
        else:
            def score_block(block: sp.csr_matrix) -> torch.Tensor:
                return torch.from_numpy(np.asarray(inner.predict(block), dtype=np.float32))
        users = slice(0, X.shape[0])
        for items, block in iter_row_blocks(X_items, self.batch_size):
            yield ScoreBlock(users, items, score_block(block).T, block, item_major=True)

    def _item_similarity(self) -> ItemSimilarity:
        """Cosine similarity of the inner model's codes of the item rows."""
        return ItemSimilarity(self.item_codes_, "cosine")

    def _item_similarity_unavailable(self) -> str | None:
        if hasattr(self.estimator, "transform"):
            return None
        return (
            f"This ItemBased's {type(self.estimator).__name__} has no transform, so the items "
            "(its rows) have no representation to compare and ItemBased has no similar_items. "
            "Use an inner model with transform (e.g. AutoRec), or EASE / KNeighborsRecommender."
        )

    def _default_scorer(self):
        """The inner estimator's default metric, computed per user."""
        from ..metrics import get_scorer

        default = getattr(self.estimator_, "_default_scorer", None)
        return default() if default is not None else get_scorer("neg_rmse")

    # Hooks of sklearn_recae.metrics' scorers: a user's scores need every user's column.
    def _iter_entry_predictions(
        self, X, y: sp.csr_matrix, batch_size: int
    ) -> Iterator[tuple[sp.csr_matrix, np.ndarray]]:
        """Yield ``(held-out block, predictions)`` covering ``y``'s entries, by item blocks."""
        X_items, y_items = self._check_predict_input(X).T.tocsr(), y.T.tocsr()
        with_entries = np.flatnonzero(np.diff(y_items.indptr))
        for start in range(0, with_entries.size, batch_size):
            items = with_entries[start : start + batch_size]
            scores = np.asarray(self.estimator_.predict(X_items[items]), dtype=np.float32)
            yield y_items[items], scores

    def _iter_recommendations(
        self, X, rows: np.ndarray, k: int, batch_size: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(rows, top-k of those rows)``: one streaming pass over all users."""
        recommended = self.recommend(X, k=k, exclude_seen=True)
        for start in range(0, rows.size, batch_size):
            batch = rows[start : start + batch_size]
            yield batch, recommended[batch]
