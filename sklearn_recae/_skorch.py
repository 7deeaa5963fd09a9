"""The skorch glue: the only module of the package that imports skorch.

skorch's own sparse path densifies one row at a time on the CPU, and builds
COO tensors from ``X.nonzero()`` which disagrees with ``X.data`` when a CSR
matrix stores explicit zeros. Here instead:

- :class:`CSRRows` yields whole batches (``__getitems__``): the CSR rows of a
  batch, sliced once;
- :func:`collate_csr` turns the blocks into sparse COO tensors, which skorch
  moves to the device, where :class:`RecommenderNet` densifies them;
- :class:`EntryHoldoutSplit` is the entry-level validation split (a fraction
  of the training *entries*, not rows) used for early stopping;
- :class:`ErrorSumScoring` records an exact validation RMSE per epoch from
  per-batch sums, and :class:`RaiseOnDivergence` stops a diverging run;
- :class:`InterruptibleMixin` records a Ctrl-C that skorch swallows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, ProgressBar
from skorch.dataset import get_len
from skorch.utils import to_tensor

__all__ = [
    "CSRRows",
    "EntryHoldoutSplit",
    "ErrorSumScoring",
    "FixedEntrySplit",
    "InterruptibleMixin",
    "RaiseOnDivergence",
    "RecommenderNet",
    "collate_csr",
    "csr_to_torch",
    "clipped_error_sums",
    "densify",
    "make_callbacks",
    "ndcg_error_sums",
    "ndcg_scoring",
    "resolve_optimizer",
    "rmse_from_sums",
    "rmse_scoring",
]


def csr_to_torch(X: sp.csr_matrix) -> torch.Tensor:
    """Convert a canonical CSR block to a coalesced sparse COO tensor (CPU, float32)."""
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
    indices = torch.from_numpy(np.vstack([rows, X.indices.astype(np.int64, copy=False)]))
    values = torch.from_numpy(np.asarray(X.data, dtype=np.float32))
    return torch.sparse_coo_tensor(
        indices, values, X.shape, is_coalesced=True, check_invariants=False
    )


def densify(x: torch.Tensor) -> torch.Tensor:
    """Return ``x`` dense (on its own device); dense tensors pass through."""
    return x.to_dense() if x.layout != torch.strided else x


class CSRRows(torch.utils.data.Dataset):
    """Rows of an input CSR matrix with the matching rows of a target CSR matrix.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        Model input.
    y : scipy.sparse.csr_matrix of shape (n_rows, n_items), default=None
        Reconstruction target; ``X`` itself when None (plain autoencoders).
    rows : array-like of int, default=None
        The rows this dataset exposes; all rows when None.
    """

    def __init__(self, X: sp.csr_matrix, y: sp.csr_matrix | None = None, rows=None) -> None:
        self.X = X
        self.y = X if y is None else y
        self.rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int):
        return self.__getitems__([i])

    def __getitems__(self, indices: Sequence[int]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        rows = self.rows[np.asarray(indices)]
        X_block = self.X[rows]
        y_block = X_block if self.y is self.X else self.y[rows]
        return X_block, y_block


def collate_csr(batch: tuple[sp.csr_matrix, sp.csr_matrix]) -> tuple[torch.Tensor, torch.Tensor]:
    """Collate a ``CSRRows`` batch into a pair of sparse tensors."""
    X_block, y_block = batch
    X_t = csr_to_torch(X_block)
    return X_t, (X_t if y_block is X_block else csr_to_torch(y_block))


class FixedEntrySplit:
    """skorch ``train_split`` that scores a fixed held-out matrix.

    The training dataset is the one skorch is given (input = target = ``X``);
    the validation dataset feeds the same ``X`` as input and scores the stored
    entries of ``X_valid`` (rows with no held-out entry are left out of it).

    Parameters
    ----------
    X_valid : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        Held-out entries, disjoint from the training entries, of the training
        matrix's shape (the estimators check it at ``fit`` with
        :func:`~sklearn_recae.utils.validation.check_held_out`).
    """

    def __init__(self, X_valid: sp.csr_matrix) -> None:
        self.X_valid = X_valid

    def __call__(self, dataset: CSRRows, y=None, **fit_params) -> tuple[CSRRows, CSRRows]:
        valid_rows = np.flatnonzero(np.diff(self.X_valid.indptr))
        return CSRRows(dataset.X), CSRRows(dataset.X, self.X_valid, rows=valid_rows)


class EntryHoldoutSplit:
    """skorch ``train_split`` holding out a fraction of the training *entries*.

    The training dataset keeps the remaining entries as input and target; the
    validation dataset feeds the same remaining entries as input and scores the
    held-out ones, as :class:`FixedEntrySplit` does.

    Parameters
    ----------
    fraction : float
        Fraction of stored entries held out, in (0, 1).
    random_state : int
        Seed of the split.
    per_row : bool, default=False
        False: a uniform split of all entries (``train_test_split``, the
        explicit-rating protocol). True: ``fraction`` of each row's entries
        (``holdout_row_entries``, the implicit-feedback protocol).
    """

    def __init__(self, fraction: float, random_state: int, per_row: bool = False) -> None:
        self.fraction = fraction
        self.random_state = random_state
        self.per_row = per_row

    def __call__(self, dataset: CSRRows, y=None, **fit_params) -> tuple[CSRRows, CSRRows]:
        from .model_selection import holdout_row_entries, train_test_split

        if self.per_row:
            X_fit, X_valid = holdout_row_entries(
                dataset.X, self.fraction, random_state=self.random_state
            )
        else:
            X_fit, X_valid = train_test_split(
                dataset.X, test_size=self.fraction, random_state=self.random_state
            )
        return FixedEntrySplit(X_valid)(CSRRows(X_fit))


def _weight_norm(module: torch.nn.Module) -> float:
    """L2 norm of all the parameters of ``module`` together."""
    with torch.no_grad():
        return float(torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p) for p in module.parameters()])
        ))


class InterruptibleMixin:
    """Record a Ctrl-C that skorch swallows, so the estimator can act on it.

    skorch's ``partial_fit`` catches ``KeyboardInterrupt`` raised in its
    training loop, runs ``on_train_end`` (early stopping then restores the
    best weights seen so far) and returns as if training had finished.
    skorch's ``EarlyStopping`` stops training by raising ``KeyboardInterrupt``
    too; this sets ``interrupted_`` on the net when the interrupt came from
    anywhere else (the user) before skorch swallows it.
    """

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = not self._stopped_early()
            raise

    def _stopped_early(self) -> bool:
        """Whether an ``EarlyStopping`` callback has run out of patience."""
        return any(
            isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience
            for _, cb in self.callbacks_
        )


class RecommenderNet(InterruptibleMixin, NeuralNet):
    """skorch ``NeuralNet`` over CSR batches, with a weight penalty and error sums.

    Parameters
    ----------
    module, criterion, **kwargs
        As for :class:`skorch.NeuralNet`.
    penalty : callable, default=None
        ``penalty(module) -> scalar tensor``: the penalty of the full objective
        (all training rows). Each minibatch adds it times ``n_batch /
        n_train_rows``, so one epoch adds it once in total whatever the batch
        size, and a stochastic gradient step follows the paper's objective.
    error_sums : callable, default=None
        ``error_sums(y_pred, y_true, X) -> dict[str, tensor]`` of per-batch
        sums (``X`` the dense input batch), recorded in the validation
        batches' history (see :class:`ErrorSumScoring`).
    """

    def __init__(self, module, *args, penalty=None, error_sums=None, **kwargs) -> None:
        super().__init__(module, *args, **kwargs)
        self.penalty = penalty
        self.error_sums = error_sums

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        self.n_train_rows_ = len(dataset_train)
        return dataset_train, dataset_valid

    def infer(self, x, **fit_params):
        x = to_tensor(x, device=self.device)
        if not getattr(self.module_, "sparse_input", False):  # else its first layer reads x
            x = densify(x)
        return self.module_(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = densify(to_tensor(y_true, device=self.device))
        loss = self.criterion_(y_pred, y_true)
        if training and self.penalty is not None:
            loss = loss + self.penalty(self.module_) * (len(y_pred) / self.n_train_rows_)
        return loss

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        if self.error_sums is not None:
            X = densify(to_tensor(batch[0], device=self.device))
            y_true = densify(to_tensor(batch[1], device=self.device))
            with torch.no_grad():
                sums = self.error_sums(step["y_pred"], y_true, X)
            for name, value in sums.items():
                self.history.record_batch(name, float(value))
        return step


class ErrorSumScoring(Callback):
    """Record ``name = reduce(Σ numerator, Σ denominator)`` over an epoch's validation batches.

    With ``reduce=lambda s, n: sqrt(s / n)`` over squared-error sums this is the
    exact RMSE over every validation entry.
    """

    def __init__(self, name: str, numerator: str, denominator: str, reduce: Callable) -> None:
        self.name = name
        self.numerator = numerator
        self.denominator = denominator
        self.reduce = reduce

    def on_epoch_end(self, net, **kwargs) -> None:
        batches = net.history[-1, "batches"]
        num = sum(b[self.numerator] for b in batches if self.numerator in b)
        den = sum(b[self.denominator] for b in batches if self.denominator in b)
        if den:
            net.history.record(self.name, self.reduce(num, den))


class RaiseOnDivergence(Callback):
    """Stop training with ``FloatingPointError`` when the training loss is NaN, inf or explodes.

    A batch loss that is not finite stops training at once. Explosion is a
    finite loss that grew out of all proportion: an epoch whose mean training
    loss per row exceeds ``factor`` times the loss per row of the very first
    batch (the untrained network's) stops training too, and so does an epoch
    that ends with the weights' norm over ``factor`` times its initial value
    (a bounded loss, e.g. of sigmoid outputs, saturates instead of exploding). A learning rate far
    too large typically sends the loss from ~1e2 to ~1e16 in a few steps while
    clipped predictions hide it from the validation score.

    Parameters
    ----------
    factor : float, default=1e4
        Growth of the per-row training loss over the untrained network's that
        counts as divergence.
    """

    def __init__(self, factor: float = 1e4) -> None:
        self.factor = factor

    def on_train_begin(self, net, **kwargs) -> None:
        self.initial_loss_ = None
        self.initial_weight_norm_ = _weight_norm(net.module_)

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs) -> None:
        if not training:
            return
        # the loss skorch has just recorded (it copied it to the host once already): reading the
        # history adds no device synchronisation to the training loop
        batches = net.history[-1].get("batches") or [{}]
        value = batches[-1].get("train_loss")
        if value is None:  # a net that records no per-batch train_loss
            value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if not math.isfinite(value):
            raise FloatingPointError(
                f"Training loss became {value} in epoch {len(net.history)}; "
                "lower the learning rate or the penalty strength, or check the input scale."
            )
        if self.initial_loss_ is None:
            self.initial_loss_ = abs(value) / max(get_len(batch[0]), 1)

    def on_epoch_end(self, net, **kwargs) -> None:
        batches = [b for b in net.history[-1, "batches"] if "train_loss" in b]
        rows = sum(b["train_batch_size"] for b in batches)
        if not rows or self.initial_loss_ is None:
            return
        # the batch losses over the rows, as for the first batch (whatever the loss's reduction)
        per_row = sum(b["train_loss"] for b in batches) / rows
        weight_norm = _weight_norm(net.module_)
        net.history.record("weight_norm", weight_norm)  # logged: the one read-back of the epoch
        if weight_norm > self.factor * max(self.initial_weight_norm_, 1e-12):
            raise FloatingPointError(
                f"Training diverged: in epoch {len(net.history)} the norm of the weights "
                f"reached {weight_norm:.3g}, over {self.factor:g} times their initial "
                f"{self.initial_weight_norm_:.3g} (a bounded loss hides this). Lower the "
                "learning rate (lr)."
            )
        # a per-row loss of 0 at the first batch (e.g. a multinomial over one item, before a
        # KL term is annealed in) is no scale: losses below factor * 1e-3 never count
        limit = self.factor * max(self.initial_loss_, 1e-3)
        if per_row > limit:
            raise FloatingPointError(
                f"Training diverged: in epoch {len(net.history)} the training loss per row "
                f"reached {per_row:.3g}, over {self.factor:g} times the untrained network's "
                f"{self.initial_loss_:.3g}. Lower the learning rate (lr) or the penalty "
                "strength, or check the input scale."
            )


def rmse_scoring() -> tuple[str, ErrorSumScoring]:
    """The callback recording ``valid_rmse``, the RMSE over every validation entry of an epoch."""
    return "valid_rmse", ErrorSumScoring("valid_rmse", "valid_sse", "valid_count", rmse_from_sums)


def clipped_error_sums(y_pred, y_true, X, low: float | None, high: float | None) -> dict:
    """``error_sums`` of the rating models: squared-error sums of ``y_pred`` clipped to ``[low, high]``."""
    from .losses import masked_squared_error_sums

    if low is not None:
        y_pred = y_pred.clamp(low, high)
    sse, count = masked_squared_error_sums(y_pred, y_true)
    return {"valid_sse": sse, "valid_count": count}


def ndcg_scoring() -> tuple[str, ErrorSumScoring]:
    """The callback recording ``valid_ndcg``, the mean NDCG@k of an epoch's validation rows."""
    return "valid_ndcg", ErrorSumScoring("valid_ndcg", "valid_ndcg_sum", "valid_ndcg_count",
                                         _mean_from_sums)


def ndcg_error_sums(y_pred, y_true, X, k: int) -> dict:
    """``error_sums`` of the implicit models: per-batch NDCG@k sums for :func:`ndcg_scoring`."""
    from .nn.ranking import ndcg_sums

    sums = ndcg_sums(y_pred, y_true, X, k)
    return {"valid_ndcg_sum": sums["ndcg_sum"], "valid_ndcg_count": sums["ndcg_count"]}


def _mean_from_sums(total: float, count: float) -> float:
    return total / count


def rmse_from_sums(sse: float, count: float) -> float:
    """``sqrt(sse / count)``: the reduce function of the validation RMSE."""
    return math.sqrt(sse / count)


def make_callbacks(
    *, monitor: str | None, patience: int, verbose: int, tol: float = 1e-4,
    lower_is_better: bool = True,
) -> list[tuple[str, Callback]]:
    """The callbacks every estimator uses: divergence guard, early stopping, progress bar."""
    callbacks: list[tuple[str, Callback]] = [("divergence_guard", RaiseOnDivergence())]
    if monitor is not None:
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    patience=patience,
                    threshold=tol,
                    threshold_mode="rel",
                    lower_is_better=lower_is_better,
                    load_best=True,
                    sink=print if verbose else _silent,
                ),
            )
        )
    if verbose > 1:
        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks


def _silent(*args, **kwargs) -> None:
    """A sink that prints nothing."""


OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}


def resolve_optimizer(optimizer) -> type[torch.optim.Optimizer]:
    """Map an optimizer name (one of ``OPTIMIZERS``) to its class; optimizer classes pass through.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything else than a name or a subclass of ``torch.optim.Optimizer``.
    """
    if isinstance(optimizer, str):
        try:
            return OPTIMIZERS[optimizer]
        except KeyError:
            raise ValueError(
                f"Unknown optimizer {optimizer!r}; choose from {sorted(OPTIMIZERS)} "
                "or pass a torch.optim.Optimizer subclass."
            ) from None
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    raise TypeError(
        f"optimizer must be one of {sorted(OPTIMIZERS)} or a torch.optim.Optimizer subclass "
        f"(e.g. torch.optim.Adam), got {optimizer!r}."
    )
