"""NRP: Neural Representation for Prediction as a scikit-learn estimator.

Deviations from the paper, each a parameter or documented:

- training early-stops on held-out entries (validation RMSE) and, with
  ``refit``, retrains on all entries for the best epoch count;
- the autoencoder structure (NRP-aSDAE) adds a learned bias, initialised to
  the mean rating, to ``z_userᵀ z_item``; by default its reconstruction
  terms are mean squared errors (ratings on observed entries only), not the
  paper's sums over every entry (``reconstruction="sum"``), which swamp the
  rating error (see Notes);
- the L2 penalty ``alpha`` is on the weights, not the biases (as a Keras
  kernel regularizer);
- the prediction of entry ``(u, i)`` never reads ``x_ui`` from the user's row
  (see :mod:`sklearn_recae.nn.nrp`); the item's column is the training
  column, fixed at fit.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch

from .._blocks import iter_row_blocks
from .._skorch import NRPNet, collate_entries, csr_to_torch, entry_values
from .._torch_base import ExplicitRatingMixin, TorchRecommender
from ..autoencoder import AutoRec
from ..base import ScoreBlock, atomic_fit
from ..nn.nrp import NRPModule
from ..utils._sklearn import Interval, StrOptions, _fit_context
from ..utils.validation import check_held_out, check_interactions, warn_if_not_ratings
from ._side import RowsWithUserFeatures, check_side, check_sources

__all__ = ["NRP"]

_UNITS = [tuple, list]

#: The defaults of the parameters left None, per structure (chosen on validation
#: data, see the class Notes; the paper's NRP-aSDAE: tanh, penalty 0.03, summed
#: reconstruction errors).
STRUCTURE_DEFAULTS = {
    "direct": {"activation": "selu", "alpha": 0.0, "dropout": 0.2,
               "mask_fraction": 0.0, "noise_std": 0.0, "reconstruction_weight": 1.0,
               "side_weight": 1.0},
    "autoencoder": {"activation": "tanh", "alpha": 1e-3, "dropout": 0.0,
                    "mask_fraction": 0.2, "noise_std": 0.0, "reconstruction_weight": 1.0,
                    "side_weight": 1.0},
}


def _check_units(units, name: str) -> tuple[int, ...]:
    units = tuple(units)
    if not units or any(not isinstance(u, Integral) or u < 1 for u in units):
        raise ValueError(f"{name} must be a non-empty sequence of positive ints, got {units!r}.")
    return tuple(int(u) for u in units)


class NRP(ExplicitRatingMixin, TorchRecommender):
    """Neural Representation for Prediction: rating prediction from user and item encoders.

    A user is encoded from its rating row and each user side-information
    source, an item from its rating column and each item source; the codes
    are concatenated per entity and a prediction MLP maps ``[z_user, z_item]``
    to the rating (``structure="direct"``, eq. 6 of the paper), or each
    entity has an additional stacked denoising autoencoder (aSDAE: corrupted
    inputs, side information injected into every encoder and decoder layer,
    decoders reconstructing the clean ratings and side information) whose
    middle layers give the rating ``z_userᵀ z_item`` (``structure=
    "autoencoder"``, eq. 2, the paper's NRP-aSDAE). Training samples are the observed
    *entries*; the rating being predicted is removed from both encoders'
    inputs in every batch.

    **Side information.** Item-aligned data is the parameter
    ``item_features`` (one row per column of ``X``; never sliced with the
    rows). User-aligned data is the argument ``user_features`` of ``fit``,
    ``predict``, ``predict_pairs``, ``recommend`` and ``score`` (one row per
    row of ``X``), sliced with the rows by ``GridSearchCV`` under
    scikit-learn's metadata routing (``set_fit_request(user_features=True)``
    and ``set_score_request(user_features=True)``, ``scoring=None``). A
    model fitted with user features needs them for every row it predicts;
    the package's scorers, given no features, read a matrix of fit's row
    count as the fitted users in order (the entry hold-out protocol, as
    :class:`~sklearn_recae.compose.ItemBased` does) and use their features.

    **Fold-in.** ``predict(X)`` encodes each row of ``X`` (rows may be new
    users); items are encoded once at fit from the training matrix's columns.

    Parameters
    ----------
    structure : {"direct", "autoencoder"}, default="direct"
    encoder_units : tuple of int, default=(200, 100)
        Layers of the rating encoders (the paper's ML-100K encoders are
        ``(500, 200, 100)``; see Notes).
    side_units : tuple of int or None, default=None
        Layers of each side-information encoder of the direct structure.
        None: one layer, half as wide as the rating code. The autoencoder
        structure has no separate side encoder (its layers read the side
        information) and ignores it.
    predictor_units : tuple of int, default=(200, 100, 50)
        Hidden layers of the prediction MLP, before its 1-unit output (the
        paper's: ``(500, 200, 100, 50)``).
    id_components : int, default=0
        Width of user and item ID embeddings (§3.2; 0: none). Rows given to
        ``predict`` are new users and get the mean user embedding.
    user_sources, item_sources : tuple of int or None, default=None
        Widths of the side-information sources stacked in ``user_features``
        (``item_features``), one encoder each (the autoencoder reads an
        entity's sources as one vector); None: one source.
    item_features : {array-like, sparse matrix} of shape (n_items, n_item_features), default=None
        Item side information, row ``i`` for column ``i`` of ``X``.
    activation : str or None, default=None
        None: selu for ``"direct"``, tanh for ``"autoencoder"`` (the paper's
        Table 6; unbounded selu codes make the dot product diverge).
    dropout : float or None, default=None
        Dropout after each hidden layer (the paper has none). None: 0.2 for
        ``"direct"``, 0 for ``"autoencoder"``.
    alpha : float or None, default=None
        L2 penalty ``λ‖W‖²`` on the weights (not the biases), added to each
        batch's mean loss as a Keras kernel regularizer. None: the paper's
        ML-100K settings, 0 for ``"direct"`` and 0.03 for ``"autoencoder"``.
    mask_fraction : float or None, default=None
        Masking noise: in training, each stored value of the rating and
        side-information inputs is zeroed with this probability (eval is
        deterministic). None: the structure's default (see Notes).
    noise_std : float or None, default=None
        Additive Gaussian noise of this standard deviation on the stored
        values of the inputs, in training only. None: the structure's default.
    reconstruction : {"mean", "sum"}, default="mean"
        Normalisation of the aSDAE reconstruction terms (``"autoencoder"``):
        ``"sum"`` is the paper's loss, per user (item) the squared error summed
        over its whole rating vector and side information, each counted once
        an epoch against the sum of squared rating errors; ``"mean"`` takes
        mean squared errors (ratings over observed entries) per batch.
    reconstruction_weight : float or None, default=None
        Weight of the rating reconstruction terms against the rating error
        (``"autoencoder"``; the aSDAE's ``α`` with the paper's ``λ₁ = 1``).
        None: the structure's default.
    side_weight : float or None, default=None
        Weight of the side-information reconstruction terms (the aSDAE's
        ``1 − α``). None: the structure's default.
    optimizer : str or optimizer class, default="rmsprop"
    lr : float, default=1e-3
    max_epochs : int, default=100
    batch_size : int, default=1024
        Entries per training batch; rows per ``predict``/``recommend`` block.
    early_stopping : bool, default=True
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    refit : bool, default=True
    clip_predictions : bool, default=True
    device : str, default="auto"
    precision : {"32", "tf32", "bf16"}, default="32"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        As for :class:`~sklearn_recae.autoencoder.AutoRec` (``precision`` applies
        to training and the validation scores; ``predict`` and
        ``predict_pairs`` compute in float32).

    Attributes
    ----------
    net_, history_, validation_scores_, best_epoch_, n_epochs_, interrupted_, device_,
    n_features_in_, global_mean_, column_means_, rating_range_
        As for :class:`~sklearn_recae.autoencoder.AutoRec`.
    n_users_ : int
        Rows of the matrix given to ``fit``.
    n_user_features_ : int
        Width of ``user_features`` in fit (0 without).
    n_params_ : int
        Learnable parameters of the network.

    Notes
    -----
    **Direct structure.** The defaults (the smaller network, dropout 0.2,
    RMSprop at 1e-3, batches of 1024 entries, patience 10) were chosen on
    validation data only
    (``benchmarks/nrp_benchmark.py sweep``: MovieLens-100K with side
    information, three seeded 80/10/10 splits, test parts never read, at most
    40 epochs): validation RMSE 0.9076 ± 0.0033, against 0.9219 ± 0.0062 for
    the paper's sizes (``encoder_units=(500, 200, 100)``, ``side_units=(100,)``,
    ``predictor_units=(500, 200, 100, 50)``, no dropout) and 0.9136 ± 0.0090
    with patience 5. Test RMSE on the same splits: 0.9104 ± 0.0094 (0.9130 ±
    0.0071 without side information; the paper reports 0.897 and 0.901, and
    0.921 for an I-AutoRec that scores 0.888 in this package).

    **Autoencoder structure (NRP-aSDAE).** It replaced an autoencoder that
    summed per-source codes, read the side information at the input only and
    had no noise; with the estimator's then default selu units its dot
    product diverged without side information (training loss 83,595 in epoch
    1, validation RMSE 1.92, 1.78, 1.97 against 1.128 for the global mean): the
    cause of the failure reported in issue 22, hence tanh, the paper's units,
    for this structure. The other defaults of the structure (masking noise
    0.2, no Gaussian noise, penalty 1e-3, mean-normalised reconstructions of
    weight 1, no dropout) were screened on the validation part of the seed-0
    split of ``benchmarks/nrp_benchmark.py`` (no side information, the default
    sizes, patience 3, at most 12 epochs): 0.9649, against 0.9642 with
    dropout 0.2 instead of noise, 0.967 (6 epochs) at ``lr=3e-4``, 1.299 (2
    epochs) with the paper's penalty 0.03 and 1.135 with the paper's loss
    taken literally (``reconstruction="sum", alpha=0.03``), worse than the
    mean; then the three finalists were compared over seeds 0-2, validation
    RMSE with / without side information: masking 0.2 (the default) 0.9949 ±
    0.0126 / 1.0020 ± 0.0361, dropout 0.2 1.0055 ± 0.0284 / 1.0312 ± 0.0239,
    the paper's summed loss with penalty 0.03 1.0492 ± 0.0405 / 1.0381 ±
    0.0431 (best epochs 1-8 of at most 12). Its validation RMSE swings between epochs (e.g.
    1.05, 1.04, 1.35, 1.26, 1.12 on seed 1), on every configuration tried and
    without any noise too: the mean of its predictions on held-out entries
    drifts by up to ±1 star from epoch to epoch (+0.18, +0.25, +1.01, −0.72,
    +0.58; −0.21, +0.27, −0.40, +0.27 without noise) while the rating bias
    stays put, the dot product of unregularised codes; early stopping picks
    the best epoch. Test RMSE on the three splits: 0.9997 ± 0.0342 without
    side information, against 1.1185 ± 0.0053 for the global mean and 0.913
    for the direct structure; with side information 0.9904 ± 0.0063
    (the paper: 0.910).

    References
    ----------
    .. [1] R. Raziperchikolaei, T. Li and Y.-j. Chung, "Neural Representations in
       Hybrid Recommender Systems: Prediction versus Regularization", SIGIR 2021
       (the NRP framework; §3.1 autoencoder and §3.2 direct structures).

    Examples
    --------
    >>> from sklearn_recae.datasets import make_interactions
    >>> from sklearn_recae.hybrid import NRP
    >>> X = make_interactions(60, 30, density=0.3, random_state=0)
    >>> model = NRP(encoder_units=(16, 8), side_units=(4,), predictor_units=(8,),
    ...             max_epochs=3, random_state=0).fit(X)
    >>> model.predict(X[:2]).shape
    (2, 30)
    >>> model.predict_pairs(X, [0, 1], [3, 4]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        "structure": [StrOptions({"direct", "autoencoder"})],
        "encoder_units": _UNITS,
        "side_units": [*_UNITS, None],
        "predictor_units": _UNITS,
        "id_components": [Interval(Integral, 0, None, closed="left")],
        "user_sources": [*_UNITS, None],
        "item_sources": [*_UNITS, None],
        "item_features": ["array-like", "sparse matrix", None],
        "activation": [*AutoRec._parameter_constraints["activation"], None],
        "dropout": [*AutoRec._parameter_constraints["dropout"], None],
        "alpha": [*AutoRec._parameter_constraints["alpha"], None],
        "mask_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "noise_std": [Interval(Real, 0, None, closed="left"), None],
        "reconstruction": [StrOptions({"mean", "sum"})],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left"), None],
        "side_weight": [Interval(Real, 0, None, closed="left"), None],
        # the training parameters mean what they mean for AutoRec
        **{name: AutoRec._parameter_constraints[name] for name in (
            "optimizer", "lr", "max_epochs", "batch_size",
            "early_stopping", "validation_fraction", "n_iter_no_change", "refit",
            "clip_predictions", "device", "precision", "random_state", "verbose")},
    }

    def __init__(
        self,
        structure: str = "direct",
        *,
        encoder_units=(200, 100),
        side_units=None,
        predictor_units=(200, 100, 50),
        id_components: int = 0,
        user_sources=None,
        item_sources=None,
        item_features=None,
        activation: str | None = None,
        dropout: float | None = None,
        alpha: float | None = None,
        mask_fraction: float | None = None,
        noise_std: float | None = None,
        reconstruction: str = "mean",
        reconstruction_weight: float | None = None,
        side_weight: float | None = None,
        optimizer="rmsprop",
        lr: float = 1e-3,
        max_epochs: int = 100,
        batch_size: int = 1024,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        refit: bool = True,
        clip_predictions: bool = True,
        device: str = "auto",
        precision: str = "32",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.structure = structure
        self.encoder_units = encoder_units
        self.side_units = side_units
        self.predictor_units = predictor_units
        self.id_components = id_components
        self.user_sources = user_sources
        self.item_sources = item_sources
        self.item_features = item_features
        self.activation = activation
        self.dropout = dropout
        self.alpha = alpha
        self.mask_fraction = mask_fraction
        self.noise_std = noise_std
        self.reconstruction = reconstruction
        self.reconstruction_weight = reconstruction_weight
        self.side_weight = side_weight
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.refit = refit
        self.clip_predictions = clip_predictions
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_valid=None, user_features=None, item_features=None):
        """Fit the encoders and the predictor on the observed entries of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Ratings; zeros (stored or not) are unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_users, n_items), default=None
            Held-out ratings predicted from ``X`` (entry hold-out protocol):
            their RMSE is recorded each epoch and, with ``early_stopping``,
            training stops on it (no refit).
        user_features : {array-like, sparse matrix} of shape (n_users, n_user_features), \
default=None
            User side information, row ``u`` for row ``u`` of ``X``.
        item_features : {array-like, sparse matrix} of shape (n_items, n_item_features), \
default=None
            Item side information for this fit only, when the parameter
            ``item_features`` is None (both given: ``ValueError``). Prefer the
            parameter in searches: a search slices fit arguments of
            ``n_rows`` rows, which this one has when ``n_items == n_rows``
            (the row-count check then raises instead of misaligning).

        Returns
        -------
        self : NRP
        """
        X = check_interactions(self, X, reset=True)
        X_valid = None if X_valid is None else check_held_out(X_valid, X)
        self._check_architecture()
        self._user_side = None if user_features is None else check_side(
            user_features, X.shape[0], "user_features", "users")
        if item_features is not None and self.item_features is not None:
            raise ValueError("item_features is both a parameter and a fit argument; give one.")
        items = self.item_features if item_features is None else item_features
        self._item_side = None if items is None else check_side(
            items, X.shape[1], "item_features", "items")
        self._user_widths = check_sources(
            self.user_sources, 0 if self._user_side is None else self._user_side.shape[1],
            "user_sources")
        self._item_widths = check_sources(
            self.item_sources, 0 if self._item_side is None else self._item_side.shape[1],
            "item_sources")
        warn_if_not_ratings(self, X)
        self._set_rating_stats(X)
        self.n_users_ = X.shape[0]
        self.n_user_features_ = 0 if self._user_side is None else self._user_side.shape[1]
        self._fit_net(X, X_valid)
        self.n_params_ = sum(p.numel() for p in self.net_.module_.parameters())
        self._item_codes = self._encode_items(X)
        return self

    def _side_units(self) -> tuple[int, ...]:
        if self.side_units is not None:
            return _check_units(self.side_units, "side_units")
        return (max(1, _check_units(self.encoder_units, "encoder_units")[-1] // 2),)

    def _check_architecture(self) -> None:
        _check_units(self.encoder_units, "encoder_units")
        self._side_units()
        _check_units(self.predictor_units, "predictor_units")

    def _resolved(self, name: str):
        """Parameter ``name``, or the structure's default where it is None."""
        value = getattr(self, name)
        return STRUCTURE_DEFAULTS[self.structure][name] if value is None else value

    def _build_net(self, X: sp.csr_matrix, device: str, *, train_split, max_epochs: int):
        return NRPNet(
            NRPModule,
            module__n_users=X.shape[0],
            module__n_items=X.shape[1],
            module__user_sources=self._user_widths,
            module__item_sources=self._item_widths,
            module__encoder_units=tuple(self.encoder_units),
            module__side_units=self._side_units(),
            module__predictor_units=tuple(self.predictor_units),
            module__id_components=self.id_components,
            module__structure=self.structure,
            module__rating_offset=self.global_mean_,
            module__reconstruction=self.reconstruction,
            **{f"module__{name}": self._resolved(name) for name in (
                "activation", "dropout", "mask_fraction", "noise_std", "reconstruction_weight",
                "side_weight")},
            criterion=torch.nn.MSELoss,
            # the gradient of alpha * ||W||^2 on the weights; biases are not penalised
            optimizer__weight_decay=2 * self._resolved("alpha"),
            optimizer__param_groups=[("*bias", {"weight_decay": 0.0})],
            **self._loop_params(device, train_split=train_split, max_epochs=max_epochs,
                                collate_fn=collate_entries),
            **self._rating_validation(train_split),
            user_side=self._user_side,
            item_side=self._item_side,
        )

    def _encode_items(self, X: sp.csr_matrix) -> np.ndarray:
        """Codes of every item from the training matrix's columns (fixed after fit)."""
        module, device = self.net_.module_.eval(), self.net_.device
        X_items = X.T.tocsr()
        codes = []
        with torch.no_grad():
            for start in range(0, X_items.shape[0], self._batch_rows()):
                items = np.arange(start, min(start + self._batch_rows(), X_items.shape[0]))
                cols = csr_to_torch(X_items[items]).to(device).to_dense()
                side = self._dense(self._item_side, items, device)
                ids = torch.from_numpy(items).to(device)
                codes.append(module.item_code(cols, side, items=ids).cpu().numpy())
        return np.concatenate(codes)

    # ------------------------------------------------------------ predict
    @staticmethod
    def _dense(side, rows, device):
        return None if side is None else csr_to_torch(side[rows]).to(device).to_dense()

    def _check_user_features(self, user_features, n_rows: int) -> sp.csr_matrix | None:
        if self.n_user_features_ and user_features is None:
            raise ValueError(
                f"This NRP was fitted with user_features ({self.n_user_features_} columns): "
                "pass user_features for the rows of X (one row each). In GridSearchCV, enable "
                "metadata routing and set_score_request(user_features=True) with scoring=None."
            )
        if not self.n_user_features_ and user_features is not None:
            raise ValueError("This NRP was fitted without user_features; pass none.")
        if user_features is None:
            return None
        features = check_side(user_features, n_rows, "user_features", "users")
        if features.shape[1] != self.n_user_features_:
            raise ValueError(
                f"user_features has {features.shape[1]} columns, but NRP was fitted with "
                f"{self.n_user_features_}."
            )
        return features

    def _fallbacks(self, scores: torch.Tensor, cols: torch.Tensor, empty_rows: torch.Tensor):
        """Mean-rating fallbacks where the model has no information; clipping."""
        if self._item_side is None:
            unobserved = torch.as_tensor(~self._column_observed, device=scores.device)[cols]
            scores = torch.where(unobserved, torch.full_like(scores, self.global_mean_), scores)
        if self._user_side is None and bool(empty_rows.any()):
            means = torch.as_tensor(self.column_means_, device=scores.device)[cols]
            scores = torch.where(empty_rows, means, scores)
        if self.clip_predictions:
            scores = scores.clamp(*self.rating_range_)
        return scores

    def _rate_pairs(self, block: sp.csr_matrix, side, rows: np.ndarray, cols: np.ndarray):
        """Ratings of ``(rows[k], cols[k])`` (rows of ``block``), leaving ``x_ui`` out."""
        module, device = self.net_.module_.eval(), self.net_.device
        x = csr_to_torch(block).to(device).to_dense()
        index = torch.from_numpy(np.asarray(rows, dtype=np.int64)).to(device)
        items = torch.from_numpy(np.asarray(cols, dtype=np.int64)).to(device)
        values = torch.from_numpy(entry_values(block, rows, cols)).to(device)
        z_user = module.user_code(x, side, index=index, left_out=items, values=values)
        z_item = torch.from_numpy(self._item_codes).to(device)[items]
        empty = torch.as_tensor(np.diff(block.indptr) == 0, device=device)[index]
        return self._fallbacks(module.rate(z_user, z_item), items, empty)

    def predict_pairs(self, X, rows, items, *, user_features=None) -> np.ndarray:
        """Predict the ratings of given (row, item) pairs, without the dense block.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Observed ratings of the rows (users) to predict for.
        rows : array-like of int of shape (n_pairs,)
            Row of ``X`` of each pair.
        items : array-like of int of shape (n_pairs,)
            Column of each pair.
        user_features : {array-like, sparse matrix} of shape (n_rows, n_user_features), \
default=None
            Side information of the rows of ``X`` (required when fitted with it).

        Returns
        -------
        ratings : ndarray of shape (n_pairs,), dtype float32
            The rating of each pair, predicted without the pair's own rating
            in ``X`` (a held-out entry is predicted as in training).
        """
        X = self._check_predict_input(X)
        features = self._check_user_features(user_features, X.shape[0])
        rows, items = self._check_pairs(rows, items, X.shape)
        out = np.empty(rows.size, dtype=np.float32)
        step = self._batch_rows()
        with torch.no_grad():
            for start in range(0, rows.size, step):
                chunk = slice(start, start + step)
                distinct, local = np.unique(rows[chunk], return_inverse=True)
                side = self._dense(features, distinct, self.net_.device)
                out[chunk] = self._rate_pairs(X[distinct], side, local, items[chunk]).cpu().numpy()
        return out

    @staticmethod
    def _check_pairs(rows, items, shape) -> tuple[np.ndarray, np.ndarray]:
        rows, items = np.asarray(rows), np.asarray(items)
        for name, value, bound in (("rows", rows, shape[0]), ("items", items, shape[1])):
            if value.ndim != 1 or (value.size and not np.issubdtype(value.dtype, np.integer)):
                raise TypeError(f"{name} must be a 1-d array of integer indices.")
            if value.size and (value.min() < 0 or value.max() >= bound):
                raise ValueError(f"{name} must be indices in [0, {bound - 1}].")
        if rows.shape != items.shape:
            raise ValueError(f"rows and items must have the same length, got {rows.size} and "
                             f"{items.size}.")
        return rows.astype(np.int64), items.astype(np.int64)

    def _score_block(self, block: sp.csr_matrix, side=None) -> torch.Tensor:
        """Dense ratings of a CSR block of rows (``side``: their dense user features)."""
        module, device = self.net_.module_.eval(), self.net_.device
        x = csr_to_torch(block).to(device).to_dense()
        z_items = torch.from_numpy(self._item_codes).to(device)
        z_users = module.user_code(x, side)
        n_items = z_items.shape[0]
        if self.structure == "autoencoder":
            scores = z_users @ z_items.T + module.bias
        else:
            scores = torch.empty((block.shape[0], n_items), device=device)
            step = max(1, 32768 // n_items)
            for start in range(0, block.shape[0], step):
                z = z_users[start:start + step]
                scores[start:start + step] = module.rate(
                    z.repeat_interleave(n_items, 0), z_items.repeat(len(z), 1)
                ).view(len(z), n_items)
        cols = torch.arange(n_items, device=device).expand_as(scores)
        empty = torch.as_tensor(np.diff(block.indptr) == 0, device=device)[:, None]
        scores = self._fallbacks(scores, cols, empty.expand_as(scores))
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        if rows.size:  # observed entries: predicted without their own rating
            scores[rows, block.indices] = self._rate_pairs(block, side, rows, block.indices)
        return scores

    def _check_context(self, X: sp.csr_matrix, user_features=None) -> dict:
        return {"features": self._check_user_features(user_features, X.shape[0])}

    def _iter_scores(self, X: sp.csr_matrix, features=None):
        """Row blocks scored with their rows' side information (``features``, checked)."""
        items = slice(0, self.n_features_in_)
        for rows, block in iter_row_blocks(X, self._batch_rows()):
            side = self._dense(features, np.arange(rows.start, rows.stop), self.net_.device)
            yield ScoreBlock(rows, items, self._score_block(block, side), block)

    def predict(self, X, *, user_features=None) -> np.ndarray:
        """Predict every item's rating for each row of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Observed ratings of the rows (users, possibly new) to predict for.
        user_features : {array-like, sparse matrix} of shape (n_rows, n_user_features), \
default=None
            Side information of the rows (required when fitted with it).

        Returns
        -------
        ratings : ndarray of shape (n_rows, n_items), dtype float32
            An observed entry is predicted without its own rating.
        """
        return self._predict(X, {"user_features": user_features})

    def recommend(self, X, k: int = 10, exclude_seen: bool = True, return_scores: bool = False,
                  *, user_features=None, filter_items=None, items=None):
        """Return the ``k`` items of highest predicted rating of each row, best first.

        Parameters
        ----------
        X, k, exclude_seen, return_scores, filter_items, items
            As for :meth:`RecommenderMixin.recommend <sklearn_recae.base.RecommenderMixin.recommend>`.
        user_features : {array-like, sparse matrix} of shape (n_rows, n_user_features), \
default=None
            Side information of the rows (required when fitted with it).

        Returns
        -------
        items : ndarray of shape (n_rows, k), dtype int64
        scores : ndarray of shape (n_rows, k), dtype float32
            Only with ``return_scores``.
        """
        return self._recommend(X, k, exclude_seen, return_scores,
                               {"user_features": user_features},
                               filter_items=filter_items, items=items)

    def score(self, X, y=None, *, user_features=None) -> float:
        """Negative RMSE of the entries of ``y`` (hold-out) or of hidden entries of ``X`` (fold-in).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
        y : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
        user_features : {array-like, sparse matrix} of shape (n_rows, n_user_features), \
default=None
            Side information of the rows of ``X``. When fitted with it and
            none is given, a matrix of fit's row count is read as the fitted
            users (entry hold-out protocol); another row count raises.

        Returns
        -------
        score : float
        """
        if user_features is None:
            X = self._check_predict_input(X)
            scored = self._scored_users(X)
        else:
            X = self._check_predict_input(X)
            scored = RowsWithUserFeatures(self, self._check_user_features(user_features, X.shape[0]))
        return self._default_scorer()(scored, X, y)

    # Hooks of sklearn_recae.metrics' scorers, called on the estimator itself (no
    # user_features): a matrix of fit's row count is read as the fitted users, in
    # order (the entry hold-out protocol), as ItemBased does; otherwise none.
    def _scored_users(self, source) -> RowsWithUserFeatures:
        fitted = self._user_side if np.shape(source)[0] == self.n_users_ else None
        return RowsWithUserFeatures(self, fitted)

    def _iter_entry_predictions(self, source, target, batch_size):
        yield from self._scored_users(source)._iter_entry_predictions(source, target, batch_size)

    def _iter_recommendations(self, source, rows, k, batch_size):
        yield from self._scored_users(source)._iter_recommendations(source, rows, k, batch_size)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        return tags
