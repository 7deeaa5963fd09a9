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
import functools
import math
import threading
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state

from .utils._sklearn import check_is_fitted
from .utils.validation import check_interactions, check_k

__all__ = [
    "ImplicitFeedbackMixin",
    "RecommenderMixin",
    "TorchRecommender",
    "atomic_fit",
    "check_bool",
    "dense_rows",
    "iter_row_blocks",
    "mask_seen_",
    "ndcg_at_100",
    "resolve_device",
]


def resolve_device(device: str) -> str:
    """Map ``"auto"`` to ``"cuda"`` when CUDA is available, else ``"cpu"``; check the rest.

    Raises
    ------
    ValueError
        For a string torch does not read as a device, or a CUDA device when
        this torch build or machine has no CUDA.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:<index>'."
        ) from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} but CUDA is not available (torch {torch.__version__}, "
                "no GPU or a CPU-only build); use device='cpu' or device='auto'."
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but only {torch.cuda.device_count()} CUDA device(s) exist."
            )
    return device


def check_bool(value, name: str) -> bool:
    """Return ``value`` if it is a bool (numpy's too), else raise ``TypeError`` naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


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


def iter_row_blocks(X: sp.csr_matrix, batch_size: int) -> Iterator[tuple[slice, sp.csr_matrix]]:
    """Yield ``(rows, X[rows])`` for consecutive slices of at most ``batch_size`` rows."""
    for start in range(0, X.shape[0], batch_size):
        rows = slice(start, min(start + batch_size, X.shape[0]))
        yield rows, X[rows]


_ROW_BUFFER = threading.local()


@contextlib.contextmanager
def reused_row_buffer() -> Iterator[None]:
    """Within the block, :func:`dense_rows` densifies every row block into one reused tensor.

    ``predict`` and ``recommend`` enter it: a fresh ``batch × n_items`` tensor
    per batch (50 MB at 500 × 26,744) is mapped by the allocator and
    page-faulted in anew each time; one buffer, allocated for the first
    (largest) block, is faulted in once. Thread-local, so concurrent calls
    never share a buffer.
    """
    previous = getattr(_ROW_BUFFER, "slot", None)
    _ROW_BUFFER.slot = {}
    try:
        yield
    finally:
        _ROW_BUFFER.slot = previous


def dense_rows(block: sp.csr_matrix, device) -> torch.Tensor:
    """The rows of a canonical CSR block as a dense float32 tensor on ``device``.

    Inside :func:`reused_row_buffer` the result is a view of the one reused
    buffer, valid until the next call: the caller must not keep it, nor
    return it as scores. Elsewhere it is a new tensor.
    """
    from ._skorch import csr_to_torch

    slot = getattr(_ROW_BUFFER, "slot", None)
    if slot is None:
        return csr_to_torch(block).to(device).to_dense()
    n_rows, n_cols = block.shape
    buffer = slot.get("buffer")
    if (buffer is None or buffer.shape[0] < n_rows or buffer.shape[1] != n_cols
            or buffer.device != torch.device(device)):
        buffer = slot["buffer"] = torch.empty((n_rows, n_cols), dtype=torch.float32,
                                              device=device)
    out = buffer[:n_rows].zero_()
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(block.indptr))
    index = (torch.from_numpy(rows).to(device),
             torch.from_numpy(block.indices.astype(np.int64, copy=False)).to(device))
    out.index_put_(index, torch.from_numpy(np.asarray(block.data, dtype=np.float32)).to(device))
    return out


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
        with torch.no_grad(), reused_row_buffer():
            for rows, block in iter_row_blocks(X, self._batch_rows()):
                out[rows] = self._score_block(block).cpu().numpy()
        return out

    def recommend(
        self, X, k: int = 10, exclude_seen: bool = True, return_scores: bool = False
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

        Returns
        -------
        items : ndarray of shape (n_rows, k), dtype int64
            Item (column) indices, computed batch by batch with ``torch.topk``.
        scores : ndarray of shape (n_rows, k), dtype float32
            Only with ``return_scores``: the predicted score of each item of
            ``items`` (``-inf`` for seen items that fill a short list).
        """
        exclude_seen = check_bool(exclude_seen, "exclude_seen")
        return_scores = check_bool(return_scores, "return_scores")
        X = self._check_predict_input(X)
        k = check_k(k, self.n_features_in_)
        items = np.empty((X.shape[0], k), dtype=np.int64)
        scores = np.empty((X.shape[0], k), dtype=np.float32)
        with torch.no_grad(), reused_row_buffer():
            for rows, block in iter_row_blocks(X, self._batch_rows()):
                block_scores = self._score_block(block)
                if exclude_seen:
                    mask_seen_(block_scores, block)
                top = torch.topk(block_scores, k, dim=1)
                items[rows] = top.indices.cpu().numpy()
                scores[rows] = top.values.cpu().numpy()
        return (items, scores) if return_scores else items

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


def _completed_epochs(net) -> list:
    """The history records of the epochs that ran to their end (an interrupted one did not)."""
    return [epoch for epoch in net.history if "train_loss" in epoch]


def _kept_epoch(net) -> int:
    """The epoch (1-based) whose weights the fitted net holds.

    With early stopping, the best validation epoch (restored at train end);
    otherwise, or before any validation score was recorded, the last complete
    epoch (an interrupted epoch has no ``train_loss`` yet).
    """
    early_stopping = dict(net.callbacks_).get("early_stopping")
    if early_stopping is not None and early_stopping.best_epoch_ >= 1:
        return int(early_stopping.best_epoch_)
    return len(_completed_epochs(net))


def mask_seen_(scores: torch.Tensor, block: sp.csr_matrix) -> torch.Tensor:
    """Set the scores of each row's observed items to ``-inf``, in place."""
    rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    scores[torch.from_numpy(rows), torch.from_numpy(block.indices.astype(np.int64))] = -torch.inf
    return scores


class TorchRecommender(RecommenderMixin, BaseEstimator):
    """Base of the skorch-backed recommenders.

    Subclasses implement ``_build_net(X, device, *, train_split, max_epochs)``
    (a :class:`~sklearn_recae._skorch.RecommenderNet` whose callbacks record
    ``_validation_metric`` and early-stop on ``_monitor(train_split)``) and
    call :meth:`_fit_net` from a ``fit`` decorated with :func:`atomic_fit`;
    they must have the parameters ``max_epochs``, ``early_stopping``,
    ``validation_fraction``, ``refit``, ``device`` and ``random_state``. The
    fitted skorch net is ``net_`` and its history ``history_``.

    **Ctrl-C** (``KeyboardInterrupt``) during training stops it at once and
    keeps the best weights reached so far (the best validation epoch's with
    early stopping, else the current ones); the refit is not started;
    ``interrupted_`` is True and a ``UserWarning`` says so. A second Ctrl-C
    outside the training loop raises as usual and leaves the estimator as it
    was before ``fit``.
    """

    def _validation_split(self, X: sp.csr_matrix, X_valid: sp.csr_matrix | None):
        """The skorch ``train_split`` for early stopping, or None when it does not apply."""
        from ._skorch import EntryHoldoutSplit, FixedEntrySplit

        if X_valid is not None:
            return FixedEntrySplit(X_valid)
        if not self.early_stopping:
            return None
        n_valid = math.ceil(X.nnz * self.validation_fraction)
        if n_valid >= X.nnz:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} holds out {n_valid} of the "
                f"{X.nnz} stored entries of X and leaves none to train on; lower it, pass "
                "X_valid, or set early_stopping=False."
            )
        too_few = X.nnz * self.validation_fraction < 1 or X.nnz < 2
        if self._per_row_validation:  # rows need 2 entries to hide one
            too_few = too_few or np.diff(X.indptr).max() < 2
        if too_few:
            warnings.warn(
                f"Too few entries ({X.nnz}) to hold out validation_fraction="
                f"{self.validation_fraction}"
                + (" of a row with at least 2" if self._per_row_validation else "")
                + "; training without early stopping.",
                UserWarning,
            )
            return None
        seed = self._seed()
        if seed is None:  # random_state=None: a new split each fit, like the weights
            seed = int(np.random.randint(np.iinfo(np.int32).max))
        return EntryHoldoutSplit(self.validation_fraction, seed, per_row=self._per_row_validation)

    #: History key of the per-epoch validation score, and its direction.
    _validation_metric = "valid_rmse"
    _validation_lower_is_better = True
    #: Hold out validation entries per row (implicit feedback) instead of uniformly.
    _per_row_validation = False

    def _monitor(self, train_split) -> str | None:
        """The history key early stopping watches, or None when training does not stop early."""
        return self._validation_metric if train_split is not None and self.early_stopping else None

    def _fit_net(self, X: sp.csr_matrix, X_valid: sp.csr_matrix | None = None) -> None:
        """Train ``net_`` on ``X`` with skorch, early-stopping on held-out entries.

        With ``X_valid`` the stored entries of ``X_valid`` are the validation
        set: their ``_validation_metric`` (RMSE, or NDCG for implicit models)
        is recorded every epoch and, with ``early_stopping``,
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
            completed = _completed_epochs(net)
            self.validation_scores_ = np.asarray(
                [epoch.get(self._validation_metric, np.nan) for epoch in completed],
                dtype=np.float64,
            )
            self.n_epochs_ = len(completed)
            self.best_epoch_ = _kept_epoch(net)
            self.interrupted_ = False
            if net.interrupted_:
                warn_interrupted(
                    self, f"kept the weights of epoch {self.best_epoch_} of {self.n_epochs_} "
                    "completed" + (" and skipped the refit" if self._refits(net, X_valid) else "")
                )
            elif self._refits(net, X_valid):
                refitted = self._build_net(X, device, train_split=None,
                                           max_epochs=self.best_epoch_)
                refitted.fit(CSRRows(X), y=None)
                if refitted.interrupted_:
                    warn_interrupted(self, "the refit on all entries was stopped; kept the "
                                           f"early-stopped weights of epoch {self.best_epoch_}")
                else:
                    net = refitted
                    self.n_epochs_ += len(_completed_epochs(refitted))
        self.net_ = net

    def _loop_params(
        self, device: str, *, train_split, max_epochs: int, collate_fn: Callable,
        valid_collate_fn: Callable | None = None,
    ) -> dict:
        """The skorch arguments every net of the package takes the same way.

        The optimizer class (``resolve_optimizer(self.optimizer)``), ``lr``,
        ``batch_size``, ``verbose``, shuffled training batches, the collate
        functions (``valid_collate_fn`` defaults to ``collate_fn``) and the
        ``device``, ``train_split`` and ``max_epochs`` that ``_fit_net`` gives
        ``_build_net``.
        """
        from ._skorch import resolve_optimizer

        return {
            "optimizer": resolve_optimizer(self.optimizer),
            "lr": self.lr,
            "max_epochs": max_epochs,
            "batch_size": self.batch_size,
            "train_split": train_split,
            "iterator_train__shuffle": True,
            "iterator_train__collate_fn": collate_fn,
            "iterator_valid__collate_fn": valid_collate_fn or collate_fn,
            "device": device,
            "verbose": self.verbose,
        }

    def _refits(self, net, X_valid) -> bool:
        """Whether ``_fit_net`` retrains on all entries after early stopping."""
        return X_valid is None and self.refit and "early_stopping" in dict(net.callbacks_)

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

    def _warn_if_not_ratings(self, X: sp.csr_matrix) -> None:
        """Warn when an explicit-rating model is given single-valued (binary) input."""
        values = np.unique(X.data[: 1_000_000])
        if values.size == 1 and np.all(X.data == values[0]):
            warnings.warn(
                f"Every stored entry of X is {values[0]:g}: this looks like implicit "
                f"(binary) feedback, but {type(self).__name__} predicts ratings and learns "
                f"to predict {values[0]:g} everywhere, so its rankings are arbitrary. Use an "
                "implicit-feedback model, or give ratings.",
                UserWarning,
                stacklevel=3,
            )

    def _score_block(self, block: sp.csr_matrix) -> torch.Tensor:
        net = self.net_
        net.module_.eval()
        device = net.device if net.device is not None else next(net.module_.parameters()).device
        if getattr(net.module_, "sparse_input", False):
            from ._skorch import csr_to_torch

            return net.infer(csr_to_torch(block).to(device))
        return net.infer(dense_rows(block, device))

    def _encode_rows(self, X, n_components: int) -> np.ndarray:
        """``net_.module_.encode`` of every row of ``X``, in row batches (for ``transform``)."""
        from ._skorch import csr_to_torch

        X = self._check_predict_input(X)
        module = self.net_.module_.eval()
        out = np.empty((X.shape[0], n_components), dtype=np.float32)
        with torch.no_grad():
            for rows, block in iter_row_blocks(X, self._batch_rows()):
                x = csr_to_torch(block).to(self.net_.device).to_dense()
                out[rows] = module.encode(x).cpu().numpy()
        return out

    @property
    def history_(self):
        """The skorch training history (epochs, losses, validation metrics)."""
        check_is_fitted(self)
        return self.net_.history


class CodeTransformerMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """``transform`` returns the network's code (put it before ``TorchRecommender``).

    The estimator defines ``_code_size``, the code's width from its
    parameters; the module defines ``encode(x)``. Also the output feature
    names (``<classname>0``, ...) and the tags of a sparse-input transformer
    whose ``fit`` needs no target.
    """

    _code_size: int

    def transform(self, X) -> np.ndarray:
        """Return the code of each row (training noise off, posterior mean for the VAEs).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)

        Returns
        -------
        codes : ndarray of shape (n_rows, n_components), dtype float32
            ``n_components`` is the code's width (the last hidden layer, or
            the latent dimension).
        """
        return self._encode_rows(X, self._code_size)

    @property
    def _n_features_out(self) -> int:
        check_is_fitted(self)
        return self._code_size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []
        return tags


class ExplicitRatingMixin:
    """What the rating (explicit-feedback) torch models share (put it before ``TorchRecommender``).

    The rating statistics of ``fit`` (:meth:`_set_rating_stats`), the
    prediction fallbacks (columns never observed in ``fit`` get the global
    mean rating, rows with no observation the column means) and the clipping
    of predictions to the training rating range with the estimator's
    ``clip_predictions`` parameter, for ``predict`` and for the validation
    RMSE (:meth:`_validation_error_sums`).
    """

    def _set_rating_stats(self, X: sp.csr_matrix) -> None:
        counts = np.bincount(X.indices, minlength=X.shape[1])
        sums = np.bincount(X.indices, weights=X.data, minlength=X.shape[1])
        self.global_mean_ = float(X.data.mean()) if X.nnz else 0.0
        self.column_means_ = np.where(
            counts > 0, sums / np.maximum(counts, 1), self.global_mean_
        ).astype(np.float32)
        self._column_observed = counts > 0
        self.rating_range_ = (float(X.data.min()), float(X.data.max())) if X.nnz else (0.0, 0.0)

    def _rating_validation(self, train_split) -> dict:
        """The net's ``callbacks`` and ``error_sums``: record the validation RMSE, early-stop on it."""
        from ._skorch import make_callbacks, rmse_scoring

        callbacks = [rmse_scoring(), *make_callbacks(monitor=self._monitor(train_split),
                                                     patience=self.n_iter_no_change,
                                                     verbose=self.verbose)]
        return {"callbacks": callbacks, "error_sums": self._validation_error_sums()}

    def _validation_error_sums(self) -> Callable:
        """The nets' ``error_sums``: squared errors of the (clipped) predictions."""
        from ._skorch import clipped_error_sums

        low, high = self.rating_range_ if self.clip_predictions else (None, None)
        return functools.partial(clipped_error_sums, low=low, high=high)

    def _score_block(self, block: sp.csr_matrix) -> torch.Tensor:
        scores = super()._score_block(block)
        unobserved = torch.as_tensor(~self._column_observed, device=scores.device)
        scores.masked_fill_(unobserved, self.global_mean_)
        empty_rows = torch.as_tensor(np.diff(block.indptr) == 0, device=scores.device)
        if empty_rows.any():
            scores[empty_rows] = torch.as_tensor(self.column_means_, device=scores.device)
        if self.clip_predictions:
            scores.clamp_(*self.rating_range_)
        return scores


class ImplicitFeedbackMixin:
    """What the implicit-feedback torch models share (put it before ``TorchRecommender``).

    Early stopping on the NDCG of 10% of each row's entries (higher is
    better), input read as signs when the estimator's ``binarize`` parameter
    is True (positive → 1, negative feedback → −1), and NDCG@100 as the
    default score.
    """

    _validation_metric = "valid_ndcg"
    _validation_lower_is_better = False
    _per_row_validation = True

    def _prepare(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """The model input: ``X`` (a canonical copy) binarized in place when asked."""
        if self.binarize:
            X.data = np.sign(X.data).astype(np.float32)
        return X

    def _check_predict_input(self, X) -> sp.csr_matrix:
        return self._prepare(super()._check_predict_input(X))

    def _default_scorer(self):
        return ndcg_at_100

    def _ranking_validation(self, train_split, extra_callbacks=()) -> dict:
        """The net's ``callbacks`` and ``error_sums``: record NDCG@``k_valid``, early-stop on it.

        ``extra_callbacks`` (e.g. KL annealing) go between the scoring and the
        divergence guard / early stopping of
        :func:`~sklearn_recae._skorch.make_callbacks`.
        """
        from ._skorch import make_callbacks, ndcg_error_sums, ndcg_scoring

        callbacks = [
            ndcg_scoring(),
            *extra_callbacks,
            *make_callbacks(monitor=self._monitor(train_split), patience=self.n_iter_no_change,
                            verbose=self.verbose,
                            lower_is_better=self._validation_lower_is_better),
        ]
        return {"callbacks": callbacks,
                "error_sums": functools.partial(ndcg_error_sums, k=self.k_valid)}
