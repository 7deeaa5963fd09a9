"""The skorch nets of the package: one base over CSR row batches and the models' variants.

- :class:`RecommenderNet`: CSR batches densified on the device, a weight
  penalty scaled to the full objective, validation error sums, and a record
  of a Ctrl-C that skorch swallows (:class:`InterruptibleMixin`);
- :class:`UserRowsNet`: input ``(x, users)`` (CDAE's user node, the metric models);
- :class:`VAENet` / :class:`RecVAENet`: a KL term; RecVAE's two optimizers and
  alternating passes through skorch's ``get_iterator`` / ``train_step``;
- :class:`DeepRecNet`: dense re-feeding in ``train_step``;
- :class:`NRPNet`: entry batches (:mod:`.entries`);
- :class:`MetricLearningNet`: sampled triplets in training, user rows in validation.

:func:`resolve_optimizer` maps the estimators' ``optimizer`` names to classes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping
from skorch.utils import TeeGenerator, to_tensor

from .data import UserCSRRows, densify
from .entries import EntryDataset
from .precision import as_float32, matmul_scope, precision_scope

__all__ = [
    "OPTIMIZERS",
    "DeepRecNet",
    "InterruptibleMixin",
    "MetricLearningNet",
    "NRPNet",
    "RecVAENet",
    "RecommenderNet",
    "UserRowsNet",
    "VAENet",
    "resolve_optimizer",
]


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
    precision : {"32", "tf32", "bf16"}, default="32"
        The arithmetic of the forward passes (see :mod:`.precision`): every
        :meth:`infer` (training, validation and prediction batches) runs in
        :meth:`precision_scope` and returns float32; the TF32 flags also hold
        over each epoch's backward passes.

    Subclasses change how a batch reaches the module in :meth:`_forward_batch`,
    not in ``infer``, so that the precision applies to them all.
    """

    def __init__(self, module, *args, penalty=None, error_sums=None, precision: str = "32",
                 **kwargs) -> None:
        super().__init__(module, *args, **kwargs)
        self.penalty = penalty
        self.error_sums = error_sums
        self.precision = precision

    def precision_scope(self):
        """The context of a forward pass at ``precision`` on the module's device."""
        return precision_scope(self.precision, self._compute_device())

    def _compute_device(self):
        """The device the module computes on (``device``, or its parameters' under Accelerate)."""
        if self.device is not None:
            return self.device
        return next(self.module_.parameters()).device

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # TF32 matmuls for the backward passes too (they run outside infer)
        with matmul_scope(self.precision, self._compute_device()):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        self.n_train_rows_ = len(dataset_train)
        return dataset_train, dataset_valid

    def infer(self, x, **fit_params):
        """The module's output on a batch, computed at ``precision``, as float32."""
        with self.precision_scope():
            return as_float32(self._forward_batch(x, **fit_params))

    def _forward_batch(self, x, **fit_params):
        """The module's forward pass on a batch as the data loader gives it."""
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


class UserRowsNet(RecommenderNet):
    """:class:`RecommenderNet` whose input is ``(x, users)``: rows with their row (user) indices.

    The datasets of every split become :class:`~sklearn_recae._skorch.data.UserCSRRows`
    (collate them with :func:`~sklearn_recae._skorch.data.collate_user_csr`).

    Parameters
    ----------
    module, criterion, **kwargs
        As for :class:`RecommenderNet`.
    l2 : float, default=0.0
        ``λ``: the training loss of a batch is the criterion plus
        ``λ · module.l2_penalty(users)`` (see
        :meth:`~sklearn_recae.nn.cdae.CDAEModule.l2_penalty`).
    """

    def __init__(self, module, *args, l2: float = 0.0, **kwargs) -> None:
        super().__init__(module, *args, **kwargs)
        self.l2 = l2

    def get_split_datasets(self, X, y=None, **fit_params):
        train, valid = super().get_split_datasets(X, y, **fit_params)
        return UserCSRRows.from_rows(train), UserCSRRows.from_rows(valid)

    @staticmethod
    def _split_input(x):
        """``(x, users)`` of a batch input; a bare ``x`` has unknown users (None)."""
        return x if isinstance(x, (tuple, list)) else (x, None)

    def _forward_batch(self, x, **fit_params):
        x, users = self._split_input(x)
        x = densify(to_tensor(x, device=self.device))
        if users is not None:
            users = to_tensor(users, device=self.device)
        return self.module_(x, users, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training and self.l2:
            users = self._split_input(X)[1] if X is not None else None
            if users is not None:
                users = to_tensor(users, device=self.device)
            loss = loss + self.l2 * self.module_.l2_penalty(users)
        return loss

    def validation_step(self, batch, **fit_params):
        # RecommenderNet's step reads a bare sparse input: run skorch's, then the sums.
        step = NeuralNet.validation_step(self, batch, **fit_params)
        if self.error_sums is not None:
            x = densify(to_tensor(self._split_input(batch[0])[0], device=self.device))
            y_true = densify(to_tensor(batch[1], device=self.device))
            with torch.no_grad():
                sums = self.error_sums(step["y_pred"], y_true, x)
            for name, value in sums.items():
                self.history.record_batch(name, float(value))
        return step


class VAENet(RecommenderNet):
    """:class:`RecommenderNet` for modules returning ``(logits, kl)`` in training.

    The training loss is ``criterion(logits, y) + mean(w · kl)`` with the
    weight ``w`` of :meth:`kl_weight` (``kl_weight_``, set by
    :class:`~sklearn_recae._skorch.callbacks.KLAnnealing`); in evaluation mode the module returns the logits
    alone and the loss is the criterion's (the validation loss is the
    negative log-likelihood).
    """

    kl_weight_: float = 1.0

    def kl_weight(self, y_true: torch.Tensor) -> float | torch.Tensor:
        """The KL weight of a batch: a scalar or one per row."""
        return self.kl_weight_

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if not isinstance(y_pred, tuple):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        logits, kl = y_pred
        y_true = densify(to_tensor(y_true, device=self.device))
        nll = super().get_loss(logits, y_true, X=X, training=training)
        return nll + (self.kl_weight(y_true) * kl).mean()


class _AlternatingPasses:
    """One RecVAE epoch over a data loader: encoder passes, prior refresh, decoder passes."""

    def __init__(self, net: RecVAENet, loader) -> None:
        self.net = net
        self.loader = loader

    def __iter__(self) -> Iterator:
        net = self.net
        for phase, n_passes in (("encoder", net.n_enc_epochs), ("decoder", net.n_dec_epochs)):
            if phase == "decoder":
                net.module_.update_prior()
            for _ in range(n_passes):
                for batch in self.loader:
                    net.phase_ = phase
                    yield batch


class RecVAENet(VAENet):
    """The skorch net of :class:`~sklearn_recae.autoencoder.RecVAE`: two optimizers, alternating passes.

    Parameters
    ----------
    module, **kwargs
        As for :class:`VAENet`.
    n_enc_epochs, n_dec_epochs : int, default=3, 1
        Encoder and decoder passes over the rows in one epoch.
    beta_scale : float or None, default=0.005
        The paper's γ: ``β_u = beta_scale · |x_u|``; None uses ``beta``.
    beta : float, default=0.2
        Constant KL weight when ``beta_scale`` is None.
    """

    def __init__(self, module, *args, n_enc_epochs: int = 3, n_dec_epochs: int = 1,
                 beta_scale: float | None = 0.005, beta: float = 0.2, **kwargs) -> None:
        super().__init__(module, *args, **kwargs)
        self.n_enc_epochs = n_enc_epochs
        self.n_dec_epochs = n_dec_epochs
        self.beta_scale = beta_scale
        self.beta = beta

    phase_ = "encoder"

    def initialize_optimizer(self, triggered_directly=None):
        """One optimizer for the encoder and one for the decoder (the prior is not trained)."""
        for part in ("encoder", "decoder"):
            args, kwargs = self.get_params_for_optimizer(
                "optimizer", getattr(self.module_, part).named_parameters())
            setattr(self, f"optimizer_{part}_", self.optimizer(*args, **kwargs))
        return self

    def get_iterator(self, dataset, training=False):
        loader = super().get_iterator(dataset, training=training)
        return _AlternatingPasses(self, loader) if training else loader

    def kl_weight(self, y_true: torch.Tensor) -> float | torch.Tensor:
        if self.beta_scale is None:
            return self.beta
        return self.beta_scale * y_true.sum(dim=1)

    def train_step(self, batch, **fit_params):
        """One step of the current phase's optimizer (``phase_``: encoder or decoder)."""
        encoder_phase = self.phase_ == "encoder"
        self._zero_grad_optimizer()
        self.module_.decoder.requires_grad_(not encoder_phase)
        try:
            step = self.train_step_single(batch, phase=self.phase_, **fit_params)
        finally:
            self.module_.decoder.requires_grad_(True)
        self.notify("on_grad_computed", named_parameters=TeeGenerator(
            self.get_all_learnable_params()), batch=batch)
        getattr(self, f"optimizer_{self.phase_}_").step()
        return step


class DeepRecNet(RecommenderNet):
    """:class:`RecommenderNet` with DeepRec's dense re-feeding.

    Parameters
    ----------
    module, criterion, **kwargs
        As for :class:`RecommenderNet`.
    refeed_steps : int, default=1
        Re-feeding steps after each training step (the reference's ``aug_step``).
    """

    def __init__(self, module, *args, refeed_steps: int = 1, **kwargs) -> None:
        super().__init__(module, *args, **kwargs)
        self.refeed_steps = refeed_steps

    def train_step(self, batch, **fit_params):
        """One optimizer step on the batch, then ``refeed_steps`` steps on its re-fed output.

        Returns the first (sparse-input) step, whose loss is the epoch's ``train_loss``.
        """
        step = super().train_step(batch, **fit_params)
        outputs = step["y_pred"]
        for _ in range(self.refeed_steps):
            dense = outputs.detach()
            refeed = super().train_step((dense, dense), **fit_params)
            outputs = refeed["y_pred"]
            self.history.record_batch("refeed_loss", refeed["loss"].item())
        self.history.record_batch("refeed_steps", self.refeed_steps)
        return step


class NRPNet(RecommenderNet):
    """:class:`RecommenderNet` over entry batches.

    Parameters
    ----------
    module, criterion, **kwargs
        As for :class:`RecommenderNet` (``penalty`` is
        scaled by the entries of a batch over the training entries).
    user_side, item_side : scipy.sparse.csr_matrix or None
        Side information aligned to the users (rows) and items (columns).
    reconstruction_weight : float, default=1.0
        Weight of the module's reconstruction loss (``structure="autoencoder"``)
        against the mean squared rating error.
    """

    def __init__(self, module, *args, user_side=None, item_side=None,
                 reconstruction_weight: float = 1.0, **kwargs) -> None:
        super().__init__(module, *args, **kwargs)
        self.user_side = user_side
        self.item_side = item_side
        self.reconstruction_weight = reconstruction_weight

    def get_split_datasets(self, X, y=None, **fit_params):
        train, valid = NeuralNet.get_split_datasets(self, X, y, **fit_params)
        X_items = train.X.T.tocsr()
        train = EntryDataset.from_rows(train, self.user_side, self.item_side, X_items)
        if valid is not None:
            same_input = valid.X is train.X
            valid = EntryDataset.from_rows(valid, self.user_side, self.item_side,
                                           X_items if same_input else None)
        self.n_train_rows_ = len(train)
        return train, valid

    def _forward_batch(self, x, **fit_params):
        return self.module_(x.to(self.device), **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        reconstruction = None
        if isinstance(y_pred, tuple):
            y_pred, reconstruction = y_pred
        loss = self.criterion_(y_pred, y_true)
        if reconstruction is not None:
            loss = loss + self.reconstruction_weight * reconstruction
        if training and self.penalty is not None:
            loss = loss + self.penalty(self.module_) * (len(y_pred) / self.n_train_rows_)
        return loss

    def validation_step(self, batch, **fit_params):
        step = NeuralNet.validation_step(self, batch, **fit_params)
        if self.error_sums is not None:
            y_true = to_tensor(batch[1], device=self.device)
            with torch.no_grad():
                sums = self.error_sums(step["y_pred"], y_true, None)
            for name, value in sums.items():
                self.history.record_batch(name, float(value))
        return step


class MetricLearningNet(UserRowsNet):
    """The skorch net of the metric-embedding recommenders: triplets in training, rows in validation.

    Its training set is the dataset ``train_dataset(X_fit)`` builds from the
    training part of the split (batches of sampled triplets, fed to
    ``module.loss``); its validation set the ``(x, users)`` row batches of
    :class:`UserRowsNet` (each fitted user ranks the items by its learned
    distance). After every optimizer step the module projects its parameters
    (``module.project_()``).

    Parameters
    ----------
    module, criterion, **kwargs
        As for :class:`UserRowsNet`.
    train_dataset : callable
        ``train_dataset(X_fit) -> Dataset`` of triplet batches, given the
        training part of the split (so the validation entries never reach it).
    loss_params : dict, default=None
        Keyword arguments of the module's ``loss``.
    """

    def __init__(self, module, *args, train_dataset: Callable, loss_params=None,
                 **kwargs) -> None:
        super().__init__(module, *args, **kwargs)
        self.train_dataset = train_dataset
        self.loss_params = loss_params

    def get_split_datasets(self, X, y=None, **fit_params):
        train, valid = super().get_split_datasets(X, y, **fit_params)
        return self.train_dataset(train.X), valid

    def _forward_batch(self, x, **fit_params):
        """Scores of the fitted users of a validation batch ``(x, users)`` (``x`` is not read)."""
        users = to_tensor(self._split_input(x)[1], device=self.device)
        return self.module_(users, **fit_params)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        triplets = to_tensor(batch[0], device=self.device)
        with self.precision_scope():
            loss = as_float32(self.module_.loss(triplets, **(self.loss_params or {})))
        loss.backward()
        return {"loss": loss, "y_pred": None}

    def train_step(self, batch, **fit_params):
        # the module's sparse gradients (AdaGrad's sparse update builds COO tensors from them;
        # their indices are the module's own, so torch need not check them, nor warn that it does not)
        with torch.sparse.check_sparse_tensor_invariants(enable=False):
            step = super().train_step(batch, **fit_params)
        self.module_.project_()
        return step


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
