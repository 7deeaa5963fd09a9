"""AutoRec (Sedhain et al. 2015) as a scikit-learn estimator.

Deviations from the paper, each a parameter:

- the paper trains full-batch with L-BFGS/Rprop; here minibatches (Adam by
  default) follow the paper's objective: the summed error over the batch's
  observed entries plus ``n_batch / n_rows`` times the penalty, so ``alpha``
  is the paper's λ for the whole objective whatever the batch size;
- training early-stops on a held-out fraction of the training entries and,
  with ``refit``, retrains on all of them for the best epoch count;
- ``dropout`` masks input entries in training (denoising); the paper has
  none (``dropout=0``).

The defaults (200 units, ``alpha=100``, ``dropout=0.3``) are I-AutoRec's best
mean validation RMSE over three seeded MovieLens-100K splits
(``benchmarks/autorec_default_sweep.py``; the test parts were never read).
"""

from __future__ import annotations

import functools
from numbers import Integral, Real

import scipy.sparse as sp
import torch

from .._skorch import (
    OPTIMIZERS,
    PRECISIONS,
    RecommenderNet,
    collate_csr,
)
from .._torch_base import CodeTransformerMixin, ExplicitRatingMixin, TorchRecommender
from ..base import atomic_fit
from ..losses import MaskedLpLoss, lp_penalty
from ..nn.autorec import ACTIVATIONS, AutoRecModule
from ..nn.sparse import resolve_sparse_input
from ..utils._sklearn import Interval, StrOptions, _fit_context
from ..utils.validation import (
    check_held_out,
    check_hidden_units,
    check_interactions,
    warn_if_not_ratings,
)

__all__ = ["AutoRec"]


def _weight_penalty(module: torch.nn.Module, penalty: str | None, alpha: float) -> torch.Tensor:
    return lp_penalty(module.weight_matrices(), penalty, alpha)


class AutoRec(ExplicitRatingMixin, CodeTransformerMixin, TorchRecommender):
    """AutoRec: an autoencoder over rating vectors (Sedhain et al. 2015).

    Fitted on a user × item matrix this is **U-AutoRec** (a sample is a user's
    ratings); **I-AutoRec** (a sample is an item's ratings over users), the
    stronger variant in the paper, is
    :class:`~sklearn_recae.compose.ItemBased` around it, which fits on ``X.T``
    and still predicts and recommends for users::

        i_autorec = ItemBased(AutoRec()).fit(R)   # users × items in and out
        i_autorec.recommend(R, k=10)

    AutoRec predicts ratings: on binary (implicit) input it warns, and its
    top-N lists rank poorly even on ratings (it is trained to predict a
    rating, not to rank unseen items).

    The network is ``h(r) = f(W · g(V r + μ) + b)``, trained on the observed
    entries only: ``Σ |r − h(r)|^p ⊙ M`` plus a penalty on ``V`` and ``W``.

    Parameters
    ----------
    hidden_units : tuple of one int, default=(200,)
        Size of the hidden code (AutoRec has exactly one hidden layer).
    loss : {"l2", "l1"}, default="l2"
        Reconstruction error over observed entries: squared (``"l2"``, the
        paper's) or absolute (``"l1"``, MMA's L1 bases).
    penalty : {"l2", "l1"} or None, default="l2"
        Weight penalty: ``(alpha/2) Σ‖W‖_F²`` or ``alpha Σ‖W‖₁``.
    alpha : float, default=100.0
        Penalty strength λ of the whole objective (each minibatch adds its
        share ``n_batch / n_rows``).
    activation : str, default="sigmoid"
        Encoder activation ``g`` (identity, sigmoid, tanh, relu, selu, elu, swish).
    output_activation : str, default="identity"
        Decoder activation ``f``.
    dropout : float, default=0.3
        Probability of masking each observed input entry in training
        (denoising); the masked ratings stay in the target. 0 is the paper's AutoRec.
    optimizer : {"adam", "adamw", "sgd", "rmsprop", "adagrad"} or optimizer class, default="adam"
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=200
        Maximum number of passes over the rows.
    batch_size : int, default=256
        Rows per minibatch; also the row batch of ``predict``/``recommend``.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training *entries*, monitor their
        RMSE each epoch, stop after ``n_iter_no_change`` epochs without
        improvement and keep the best epoch's weights.
    validation_fraction : float, default=0.1
        Fraction of stored entries held out for early stopping.
    n_iter_no_change : int, default=20
        Patience of early stopping, in epochs.
    refit : bool, default=True
        After early stopping on the held-out fraction, train a fresh network on
        all entries of ``X`` for ``best_epoch_`` epochs, so no rating is lost to
        validation. Ignored when ``fit`` is given ``X_valid``.
    clip_predictions : bool, default=True
        Clip predictions to the rating range seen in ``fit``.
    sparse_input : "auto" or bool, default="auto"
        Multiply each batch into the encoder as a sparse tensor instead of
        densifying it (``"auto"``: on CPU when at most 5% of ``X``'s entries
        are stored, 1% above 10,000 items; never on CUDA); as for
        :class:`DenoisingAutoEncoder`, the masking noise then acts on the
        stored values.
    device : str, default="auto"
        torch device; ``"auto"`` picks CUDA when available.
    precision : {"32", "tf32", "bf16"}, default="32"
        Arithmetic of the network's forward passes (training, validation,
        ``predict``): ``"32"`` float32; ``"tf32"`` float32 with TF32 CUDA
        matmuls (the global ``allow_tf32`` flags set during ``fit`` and
        ``predict`` only; on CPU as ``"32"``); ``"bf16"`` mixed precision,
        ``torch.autocast`` to bfloat16 with float32 weights, optimizer and
        loss (for GPUs from Ampere on; on CPU it runs, usually slower).
        Outputs are float32 whatever the precision.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
    verbose : int, default=0
        0 silent; 1 one progress bar per training phase (the early-stopping
        run on the validation part, then the refit on all entries) with the
        epoch, the validation metric and the best so far, plain lines when
        stdout is not a terminal, and the refit's epoch count; 2 also
        skorch's per-epoch table (and a per-batch bar on a terminal).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The fitted skorch net; ``net_.module_`` is the :class:`AutoRecModule`.
    history_ : skorch.History
        The final net's per-epoch ``train_loss`` (and ``valid_loss``,
        ``valid_rmse`` unless it was refitted without a validation part).
    validation_scores_ : ndarray of shape (n_epochs,)
        Validation RMSE of each epoch of the early-stopping run (NaN without
        a validation part).
    best_epoch_ : int
        Epoch (1-based) whose weights were kept, or the number of epochs
        trained without a validation part.
    n_epochs_ : int
        Epochs completed in all (the early-stopping run plus the refit).
    interrupted_ : bool
        True when Ctrl-C stopped the fit (see :class:`~sklearn_recae.base.TorchRecommender`):
        the best weights reached were kept and the refit was skipped.
    device_ : torch.device
        The device the network was trained on (``device="auto"`` resolved).
    n_features_in_ : int
        Number of columns seen in ``fit``.
    global_mean_ : float
        Mean of the training ratings, predicted for columns never observed in fit.
    column_means_ : ndarray of shape (n_items,)
        Mean training rating of each column (``global_mean_`` where unobserved),
        predicted for rows with no observations.
    rating_range_ : tuple of float
        ``(min, max)`` of the training ratings, used by ``clip_predictions``.

    References
    ----------
    .. [1] S. Sedhain, A. K. Menon, S. Sanner and L. Xie, "AutoRec: Autoencoders
       Meet Collaborative Filtering", WWW 2015.

    Examples
    --------
    >>> from sklearn_recae.datasets import make_interactions
    >>> from sklearn_recae.autoencoder import AutoRec
    >>> X = make_interactions(100, 40, density=0.2, random_state=0)
    >>> model = AutoRec(hidden_units=(16,), max_epochs=5, random_state=0).fit(X)
    >>> model.predict(X[:2]).shape
    (2, 40)
    >>> model.recommend(X[:2], k=3).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        "hidden_units": [tuple, list],
        "loss": [StrOptions({"l2", "l1"})],
        "penalty": [StrOptions({"l2", "l1"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "output_activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "refit": ["boolean"],
        "clip_predictions": ["boolean"],
        "sparse_input": [StrOptions({"auto"}), "boolean"],
        "device": [str],
        "precision": [StrOptions(set(PRECISIONS))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_units: tuple[int] = (200,),
        *,
        loss: str = "l2",
        penalty: str | None = "l2",
        alpha: float = 100.0,
        activation: str = "sigmoid",
        output_activation: str = "identity",
        dropout: float = 0.3,
        optimizer="adam",
        lr: float = 1e-3,
        max_epochs: int = 200,
        batch_size: int = 256,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 20,
        refit: bool = True,
        clip_predictions: bool = True,
        sparse_input="auto",
        device: str = "auto",
        precision: str = "32",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.hidden_units = hidden_units
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.refit = refit
        self.clip_predictions = clip_predictions
        self.sparse_input = sparse_input
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_valid=None):
        """Fit the autoencoder on the observed entries of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Ratings; zeros (stored or not) are unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            Held-out ratings, predicted from ``X`` (entry hold-out protocol):
            their RMSE is recorded each epoch (``validation_scores_``) and,
            with ``early_stopping``, training stops on it. When given,
            ``validation_fraction`` and ``refit`` are not used and every entry
            of ``X`` is trained on.

        Returns
        -------
        self : AutoRec
        """
        check_hidden_units(self, 1)
        X = check_interactions(self, X, reset=True)
        X_valid = None if X_valid is None else check_held_out(X_valid, X)
        warn_if_not_ratings(self, X)
        self._set_rating_stats(X)
        self._fit_net(X, X_valid)
        return self

    def _build_net(
        self, X: sp.csr_matrix, device: str, *, train_split, max_epochs: int
    ) -> RecommenderNet:
        return RecommenderNet(
            AutoRecModule,
            module__n_inputs=X.shape[1],
            module__hidden_units=self.hidden_units[0],
            module__activation=self.activation,
            module__output_activation=self.output_activation,
            module__output_bias=self.column_means_ if self.output_activation == "identity" else None,
            module__input_dropout=self.dropout,
            module__sparse_input=resolve_sparse_input(self.sparse_input, *X.shape, X.nnz, device),
            criterion=MaskedLpLoss(p=1 if self.loss == "l1" else 2, reduction="sum"),
            **self._loop_params(device, train_split=train_split, max_epochs=max_epochs,
                                collate_fn=collate_csr),
            **self._rating_validation(train_split),
            penalty=functools.partial(_weight_penalty, penalty=self.penalty, alpha=self.alpha),
        )

    @property
    def _code_size(self) -> int:
        return self.hidden_units[0]
