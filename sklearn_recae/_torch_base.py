"""The skorch-backed estimator base and the mixins of the neural models.

:class:`TorchRecommender` validates the input, seeds torch, builds the
model's :class:`~sklearn_recae._skorch.net.RecommenderNet` and lets skorch run
the training loop (early stopping on held-out entries, the refit, Ctrl-C);
its ``_score_block`` serves :class:`~sklearn_recae.base.RecommenderMixin`'s
loop. :class:`ExplicitRatingMixin` and :class:`ImplicitFeedbackMixin` hold
what the rating and the implicit-feedback models share,
:class:`CodeTransformerMixin` the ``transform`` of the autoencoders.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state

from ._blocks import csr_to_torch, dense_rows, iter_row_blocks
from ._similarity import ItemSimilarity
from ._skorch import (
    CSRRows,
    EntryHoldoutSplit,
    FixedEntrySplit,
    add_fit_progress,
    as_float32,
    check_precision,
    clipped_error_sums,
    make_callbacks,
    ndcg_error_sums,
    ndcg_scoring,
    print_table,
    resolve_optimizer,
    rmse_scoring,
)
from .base import RecommenderMixin, ndcg_at_100, warn_interrupted
from .utils._sklearn import check_is_fitted

__all__ = [
    "CodeTransformerMixin",
    "ExplicitRatingMixin",
    "ImplicitFeedbackMixin",
    "TorchRecommender",
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


def _used_device(device: str) -> torch.device:
    """The torch device of a resolved ``device`` string, with the CUDA index torch picked."""
    used = torch.device(device)
    if used.type == "cuda" and used.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return used


class TorchRecommender(RecommenderMixin, BaseEstimator):
    """Base of the skorch-backed recommenders.

    Subclasses implement ``_build_net(X, device, *, train_split, max_epochs)``
    (a :class:`~sklearn_recae._skorch.RecommenderNet` whose callbacks record
    ``_validation_metric`` and early-stop on ``_monitor(train_split)``) and
    call :meth:`_fit_net` from a ``fit`` decorated with :func:`atomic_fit`;
    they must have the parameters ``max_epochs``, ``early_stopping``,
    ``validation_fraction``, ``refit``, ``device``, ``precision`` and
    ``random_state``. The
    fitted skorch net is ``net_``, its history ``history_`` and the device it trained on
    ``device_``; ``verbose`` output is :class:`~sklearn_recae._skorch.FitProgress`'s.

    **Ctrl-C** (``KeyboardInterrupt``) during training stops it at once and
    keeps the best weights reached so far (the best validation epoch's with
    early stopping, else the current ones); the refit is not started;
    ``interrupted_`` is True and a ``UserWarning`` says so. A second Ctrl-C
    outside the training loop raises as usual and leaves the estimator as it
    was before ``fit``.
    """

    def _validation_split(self, X: sp.csr_matrix, X_valid: sp.csr_matrix | None):
        """The skorch ``train_split`` for early stopping, or None when it does not apply."""
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
        device = self._device()
        check_precision(self.precision, device)
        train_split = self._validation_split(X, X_valid)
        with self._torch_rng(device):
            net = self._build_net(X, device, train_split=train_split, max_epochs=self.max_epochs)
            self._add_progress(net, train_split, X_valid)
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
                add_fit_progress(
                    refitted, verbose=self.verbose, name=type(self).__name__, phase="refit",
                    metric=None, title=f"refit: {self.best_epoch_} epoch"
                    f"{'s' if self.best_epoch_ != 1 else ''} on all entries (best epoch of the "
                    "validation run)",
                )
                refitted.fit(CSRRows(X), y=None)
                if refitted.interrupted_:
                    warn_interrupted(self, "the refit on all entries was stopped; kept the "
                                           f"early-stopped weights of epoch {self.best_epoch_}")
                else:
                    net = refitted
                    self.n_epochs_ += len(_completed_epochs(refitted))
        self.net_ = net
        self.device_ = _used_device(device)

    def _add_progress(self, net, train_split, X_valid) -> None:
        """The ``verbose`` output of the first training phase (see :class:`FitProgress`)."""
        name = type(self).__name__
        if train_split is None:
            add_fit_progress(net, verbose=self.verbose, name=name, phase="training", metric=None,
                             title=f"training {self.max_epochs} epochs, no validation part")
            return
        whose = "each row's entries" if self._per_row_validation else "the entries"
        held_out = ("the validation entries given (X_valid)" if X_valid is not None
                    else f"{self.validation_fraction:.0%} of {whose} held out")
        stops = "early stopping on" if self.early_stopping else "monitoring"
        refits = X_valid is None and self.refit and self._monitor(train_split) is not None
        refit = ", then a refit on all entries" if refits else ""
        add_fit_progress(
            net, verbose=self.verbose, name=name, phase="validation run",
            metric=self._validation_metric, lower_is_better=self._validation_lower_is_better,
            title=f"validation run, {stops} {self._validation_metric} of {held_out}, "
                  f"at most {self.max_epochs} epochs{refit}",
        )

    def _loop_params(
        self, device: str, *, train_split, max_epochs: int, collate_fn: Callable,
        valid_collate_fn: Callable | None = None,
    ) -> dict:
        """The skorch arguments every net of the package takes the same way.

        The optimizer class (``resolve_optimizer(self.optimizer)``), ``lr``,
        ``batch_size``, ``verbose``, ``precision``, shuffled training batches,
        the collate functions (``valid_collate_fn`` defaults to ``collate_fn``)
        and the ``device``, ``train_split`` and ``max_epochs`` that
        ``_fit_net`` gives ``_build_net``.
        """
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
            "precision": self.precision,
            # verbose=1 is FitProgress's bar (added by _fit_net); 2 adds skorch's epoch table
            "verbose": int(self.verbose > 1),
            **({"callbacks__print_log__sink": print_table} if self.verbose > 1 else {}),
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

    def _score_block(self, block: sp.csr_matrix) -> torch.Tensor:
        net = self.net_
        net.module_.eval()
        device = net._compute_device()
        if getattr(net.module_, "sparse_input", False):
            return net.infer(csr_to_torch(block).to(device))
        return net.infer(dense_rows(block, device))

    def _encode_rows(self, X, n_components: int, users=None) -> np.ndarray:
        """``net_.module_.encode`` of every row of ``X``, in row batches (for ``transform``).

        ``users`` (models whose encoder reads the row's user, CDAE): the
        fitted user of each row, checked by the model's ``_check_users`` and
        passed to ``encode(x, users)``.
        """
        X = self._check_predict_input(X)
        if users is not None:
            users = self._check_users(users, X.shape[0])
        module = self.net_.module_.eval()
        device = self.net_.device
        out = np.empty((X.shape[0], n_components), dtype=np.float32)
        with torch.no_grad(), self.net_.precision_scope():
            for rows, block in iter_row_blocks(X, self._batch_rows()):
                x = csr_to_torch(block).to(device).to_dense()
                codes = (module.encode(x) if users is None
                         else module.encode(x, torch.from_numpy(users[rows]).to(device)))
                out[rows] = as_float32(codes).cpu().numpy()
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
    names (``<classname>0``, ...), the transformer tags and the item
    representation of ``similar_items``: the cosine similarity of the item
    vectors of the output (decoder) layer.
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

    def _item_similarity(self) -> ItemSimilarity:
        """Cosine of the output layer's item vectors: row ``j`` of its weight is item ``j``'s."""
        module = self.net_.module_
        if hasattr(module, "decoder_weights"):  # DeepRec's, tied or not
            weight = module.decoder_weights()[-1]
        else:
            linear = [m for m in module.decoder.modules() if isinstance(m, torch.nn.Linear)]
            weight = linear[-1].weight
        return ItemSimilarity(weight.detach(), "cosine")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()  # RecommenderMixin's: sparse input, no target
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
        callbacks = [rmse_scoring(), *make_callbacks(monitor=self._monitor(train_split),
                                                     patience=self.n_iter_no_change,
                                                     verbose=self.verbose)]
        return {"callbacks": callbacks, "error_sums": self._validation_error_sums()}

    def _validation_error_sums(self) -> Callable:
        """The nets' ``error_sums``: squared errors of the (clipped) predictions."""
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
        callbacks = [
            ndcg_scoring(),
            *extra_callbacks,
            *make_callbacks(monitor=self._monitor(train_split), patience=self.n_iter_no_change,
                            verbose=self.verbose,
                            lower_is_better=self._validation_lower_is_better),
        ]
        return {"callbacks": callbacks,
                "error_sums": functools.partial(ndcg_error_sums, k=self.k_valid)}
