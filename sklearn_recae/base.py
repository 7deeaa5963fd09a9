"""The recommender mixin and the skorch-backed estimator base shared by all models.

:class:`RecommenderMixin` gives every estimator ``predict``, ``recommend`` and
``score`` on top of one method, ``_score_block`` (dense scores of a CSR block
of rows, on the device). Work is done in row batches, so memory is bounded by
``batch_size × n_items`` except for the dense array ``predict`` returns.

:class:`TorchRecommender` is the base of the neural models: it validates the
input, seeds torch, builds the :class:`~sklearn_recae._skorch.RecommenderNet`
and lets skorch run the training loop.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from .utils._sklearn import check_is_fitted
from .utils.validation import check_interactions, check_k

__all__ = ["RecommenderMixin", "TorchRecommender", "iter_row_blocks", "resolve_device"]


def resolve_device(device: str) -> str:
    """Map ``"auto"`` to ``"cuda"`` when CUDA is available, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def iter_row_blocks(X: sp.csr_matrix, batch_size: int) -> Iterator[tuple[slice, sp.csr_matrix]]:
    """Yield ``(rows, X[rows])`` for consecutive slices of at most ``batch_size`` rows."""
    for start in range(0, X.shape[0], batch_size):
        rows = slice(start, min(start + batch_size, X.shape[0]))
        yield rows, X[rows]


class RecommenderMixin:
    """``predict``, ``recommend`` and ``score`` for every recommender.

    Subclasses implement ``_score_block(X_block) -> torch.Tensor``, the dense
    ``(n_block, n_items)`` scores of a canonical CSR block in a new tensor that
    the caller may modify in place (one batch-sized buffer, not several), and may override
    ``_default_scorer``. ``batch_size`` (an init parameter) sets the row batch.
    """

    _prediction_batch_size = 1024

    def _batch_rows(self) -> int:
        return int(getattr(self, "batch_size", None) or self._prediction_batch_size)

    def _check_predict_input(self, X) -> sp.csr_matrix:
        check_is_fitted(self)
        return check_interactions(self, X, reset=False)

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
        X = self._check_predict_input(X)
        out = np.empty(X.shape, dtype=np.float32)
        with torch.no_grad():
            for rows, block in iter_row_blocks(X, self._batch_rows()):
                out[rows] = self._score_block(block).cpu().numpy()
        return out

    def recommend(self, X, k: int = 10, exclude_seen: bool = True) -> np.ndarray:
        """Return the ``k`` best items of each row, best first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Observed interactions of the rows to recommend for.
        k : int, default=10
            Length of each list, ``1 <= k <= n_items``.
        exclude_seen : bool, default=True
            Leave out the items each row has already interacted with. A row with
            fewer than ``k`` unseen items ends its list with seen items.

        Returns
        -------
        items : ndarray of shape (n_rows, k), dtype int64
            Item (column) indices, computed batch by batch with ``torch.topk``.
        """
        X = self._check_predict_input(X)
        k = check_k(k, self.n_features_in_)
        out = np.empty((X.shape[0], k), dtype=np.int64)
        with torch.no_grad():
            for rows, block in iter_row_blocks(X, self._batch_rows()):
                scores = self._score_block(block)
                if exclude_seen:
                    _mask_seen_(scores, block)
                out[rows] = torch.topk(scores, k, dim=1).indices.cpu().numpy()
        return out

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


def _mask_seen_(scores: torch.Tensor, block: sp.csr_matrix) -> torch.Tensor:
    """Set the scores of each row's observed items to ``-inf``, in place."""
    rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    scores[torch.from_numpy(rows), torch.from_numpy(block.indices.astype(np.int64))] = -torch.inf
    return scores


class TorchRecommender(RecommenderMixin, BaseEstimator):
    """Base of the skorch-backed recommenders.

    Subclasses implement ``_build_net(X, device, *, train_split, max_epochs)``
    (a :class:`~sklearn_recae._skorch.RecommenderNet` whose callbacks record
    ``_validation_metric`` and early-stop on ``_monitor(train_split)``) and
    call :meth:`_fit_net` from ``fit``; they must have the parameters
    ``max_epochs``, ``early_stopping``, ``validation_fraction``, ``refit``,
    ``device`` and ``random_state``. The fitted skorch net is ``net_`` and its
    history ``history_``.
    """

    def _validation_split(self, X: sp.csr_matrix, X_valid: sp.csr_matrix | None):
        """The skorch ``train_split`` for early stopping, or None when it does not apply."""
        from ._skorch import EntryHoldoutSplit, FixedEntrySplit

        if X_valid is not None:
            return FixedEntrySplit(X_valid)
        if not self.early_stopping:
            return None
        if X.nnz * self.validation_fraction < 1 or X.nnz < 2:
            warnings.warn(
                f"Too few entries ({X.nnz}) to hold out validation_fraction="
                f"{self.validation_fraction}; training without early stopping.",
                UserWarning,
            )
            return None
        seed = self._seed()
        return EntryHoldoutSplit(self.validation_fraction, 0 if seed is None else seed)

    #: History key of the per-epoch validation score (lower is better).
    _validation_metric = "valid_rmse"

    def _monitor(self, train_split) -> str | None:
        """The history key early stopping watches, or None when training does not stop early."""
        return self._validation_metric if train_split is not None and self.early_stopping else None

    def _fit_net(self, X: sp.csr_matrix, X_valid: sp.csr_matrix | None = None) -> None:
        """Train ``net_`` on ``X`` with skorch, early-stopping on held-out entries.

        With ``X_valid`` the stored entries of ``X_valid`` are the validation
        set: their RMSE is recorded every epoch and, with ``early_stopping``,
        training stops on it and the best epoch's weights are kept. Without
        it, ``early_stopping`` holds out a ``validation_fraction`` of ``X``'s
        entries; with ``refit`` a fresh net is then trained on all of ``X``
        for the best epoch count found.
        """
        from ._skorch import CSRRows

        device = self._device()
        train_split = self._validation_split(X, X_valid)
        with self._torch_rng(device):
            net = self._build_net(X, device, train_split=train_split, max_epochs=self.max_epochs)
            net.fit(CSRRows(X), y=None)
            self.validation_scores_ = np.asarray(
                [epoch.get(self._validation_metric, np.nan) for epoch in net.history],
                dtype=np.float64,
            )
            self.best_epoch_ = self.n_epochs_ = len(net.history)
            early_stopping = dict(net.callbacks_).get("early_stopping")
            if early_stopping is not None:
                self.best_epoch_ = int(early_stopping.best_epoch_)
                if X_valid is None and self.refit:
                    net = self._build_net(X, device, train_split=None, max_epochs=self.best_epoch_)
                    net.fit(CSRRows(X), y=None)
                    self.n_epochs_ += self.best_epoch_
        self.net_ = net

    def _seed(self) -> int | None:
        if self.random_state is None:
            return None
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    @contextlib.contextmanager
    def _torch_rng(self, device: str):
        """Seed torch for the duration of a fit without touching the caller's global RNG."""
        seed = self._seed()
        if seed is None:
            yield
            return
        devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    def _device(self) -> str:
        return resolve_device(self.device)

    def _score_block(self, block: sp.csr_matrix) -> torch.Tensor:
        from ._skorch import csr_to_torch

        net = self.net_
        net.module_.eval()
        return net.infer(csr_to_torch(block))

    @property
    def history_(self):
        """The skorch training history (epochs, losses, validation metrics)."""
        check_is_fitted(self)
        return self.net_.history
