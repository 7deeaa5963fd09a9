"""The base of the implicit-feedback autoencoders: DAE, Mult-DAE, Mult-VAE and RecVAE.

:class:`_ImplicitAutoEncoder` holds what the four share: ``fit`` (with its
``X_valid``), the assembly of the skorch net from small hooks, the ``"auto"``
resolution of ``sparse_input`` and the code width ``transform`` returns. Each
model derives from it directly and declares only the parameters it has; the
parameters all four have are validated by :data:`TRAINING_CONSTRAINTS`.
"""

from __future__ import annotations

from numbers import Integral, Real

import scipy.sparse as sp
import torch

from .._skorch import OPTIMIZERS, PRECISIONS, Callback, RecommenderNet, collate_csr
from .._torch_base import CodeTransformerMixin, ImplicitFeedbackMixin, TorchRecommender
from ..base import atomic_fit
from ..losses import MultinomialLoss
from ..nn.sparse import resolve_sparse_input
from ..utils._sklearn import Interval, StrOptions, _fit_context
from ..utils.validation import check_held_out, check_hidden_units, check_interactions

__all__ = ["TRAINING_CONSTRAINTS", "store_init_params", "weight_decay_params"]

#: Constraints of the parameters every implicit autoencoder has.
TRAINING_CONSTRAINTS: dict = {
    "hidden_units": [tuple, list],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "k_valid": [Interval(Integral, 1, None, closed="left")],
    "refit": ["boolean"],
    "binarize": ["boolean"],
    "sparse_input": [StrOptions({"auto"}), "boolean"],
    "device": [str],
    "precision": [StrOptions(set(PRECISIONS))],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def store_init_params(estimator, arguments: dict) -> None:
    """Store an ``__init__``'s arguments (its ``locals()``) as attributes of the same names."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def weight_decay_params(weight_decay: float) -> dict:
    """The net's ``optimizer__weight_decay`` argument, left out when 0 (the optimizer's default)."""
    return {"optimizer__weight_decay": weight_decay} if weight_decay else {}


class _ImplicitAutoEncoder(ImplicitFeedbackMixin, CodeTransformerMixin, TorchRecommender):
    """Fit, net assembly and ``transform`` of the implicit-feedback autoencoders.

    A subclass sets ``_module`` (the torch module) and ``_net_class`` (a
    :class:`~sklearn_recae._skorch.RecommenderNet`, by default that class) and
    implements ``_model_params()`` (its module's ``module__`` arguments beyond
    ``n_items``, ``dropout`` and ``sparse_input``, and any argument of its
    net); it may override
    ``_criterion`` (the multinomial log-likelihood), ``_training_callbacks``
    (none), ``_optimizer_params`` (none), ``_check_params`` (for checks of
    its own parameters, calling this one), ``_drop_last`` (False) and
    ``_code_size`` (the last hidden width). Every subclass has the
    parameters of :data:`TRAINING_CONSTRAINTS`.
    """

    #: The torch module class and the skorch net class (the VAEs' add the KL term).
    _module: type[torch.nn.Module]
    _net_class = RecommenderNet
    #: The number of hidden widths ``hidden_units`` must hold (None: any).
    _n_hidden_units: int | None = None

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_valid=None):
        """Fit the autoencoder on the rows of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Implicit feedback; zeros (stored or not) are unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            Held-out entries, ranked from ``X``'s (their NDCG@``k_valid`` is
            recorded each epoch and, with ``early_stopping``, training stops on it).

        Returns
        -------
        self : object
        """
        self._check_params()
        X = self._prepare(check_interactions(self, X, reset=True))
        self._check_rows(X)
        X_valid = None if X_valid is None else check_held_out(X_valid, X)
        self._fit_net(X, X_valid)
        return self

    def _check_params(self) -> None:
        """Checks of parameter combinations that ``_parameter_constraints`` cannot express."""
        check_hidden_units(self, self._n_hidden_units)

    def _check_rows(self, X: sp.csr_matrix) -> None:
        """Checks of the training matrix the model needs (none by default)."""

    def _build_net(
        self, X: sp.csr_matrix, device: str, *, train_split, max_epochs: int
    ) -> RecommenderNet:
        return self._net_class(
            **self._module_params(X, device),
            criterion=self._criterion(),
            **self._optimizer_params(),
            **self._loop_params(device, train_split=train_split, max_epochs=max_epochs,
                                collate_fn=collate_csr),
            iterator_train__drop_last=self._drop_last(X),
            **self._ranking_validation(train_split, self._training_callbacks(X)),
        )

    def _module_params(self, X: sp.csr_matrix, device: str) -> dict:
        """``_module`` and its ``module__`` arguments for ``X`` on ``device``.

        The arguments every model's module takes (``n_items``, ``dropout``,
        ``sparse_input``), then the model's own, :meth:`_model_params`.
        """
        return {
            "module": self._module,
            "module__n_items": X.shape[1],
            "module__dropout": self.dropout,
            "module__sparse_input": self._sparse_input(X, device),
            **self._model_params(),
        }

    def _model_params(self) -> dict:
        """The module's other ``module__`` arguments (its widths, ...) and any net argument."""
        raise NotImplementedError

    def _criterion(self) -> torch.nn.Module:
        return MultinomialLoss()

    def _optimizer_params(self) -> dict:
        """The net's ``optimizer__`` arguments beyond the class and ``lr``."""
        return {}

    def _drop_last(self, X: sp.csr_matrix) -> bool:
        """Whether training drops a short last batch."""
        return False

    def _training_callbacks(self, X: sp.csr_matrix) -> list[tuple[str, Callback]]:
        """The callbacks acting on training steps (between scoring and early stopping)."""
        return []

    def _sparse_input(self, X: sp.csr_matrix, device: str) -> bool:
        """``sparse_input`` resolved for ``X`` and ``device`` (``"auto"``: by density, on CPU)."""
        return resolve_sparse_input(self.sparse_input, *X.shape, X.nnz, device)

    @property
    def _code_size(self) -> int:
        return self.hidden_units[-1]
