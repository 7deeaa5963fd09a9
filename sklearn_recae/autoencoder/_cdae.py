"""CDAE: the Collaborative Denoising Auto-Encoder for top-N recommendation (Wu et al. 2016).

A one-hidden-layer denoising autoencoder over a user's implicit-feedback row
with one extra input node per user, ``V_u``: ``z = h(Wᵀ ỹ_u + V_u + b)``,
``ŷ_u = f(W'z + b')`` (:class:`~sklearn_recae.nn.cdae.CDAEModule`), trained
on the positives and sampled negatives of each row with the logistic or the
square loss and an L2 penalty. Training early-stops on the NDCG@k of
held-out entries of each row, as :class:`DenoisingAutoEncoder` does.

The user node needs the user of each training row: the skorch glue's
:class:`~sklearn_recae._skorch.net.UserRowsNet` batches ``(x, users)`` pairs
(:func:`~sklearn_recae._skorch.data.collate_user_csr`), feeds them to the
module, records the validation NDCG from ``x`` and adds the L2 penalty of the
batch's users to the training loss.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch

from .._blocks import iter_row_blocks
from .._skorch import (
    OPTIMIZERS,
    PRECISIONS,
    UserRowsNet,
    collate_user_csr,
    csr_to_torch,
)
from .._torch_base import CodeTransformerMixin, ImplicitFeedbackMixin, TorchRecommender
from ..base import ScoreBlock, atomic_fit
from ..losses import PointwiseCrossEntropyLoss, PointwiseSquaredLoss
from ..nn.cdae import CDAEModule
from ..nn.dae import ACTIVATION_PAIRS, parse_activation_pair
from ..utils._sklearn import Interval, StrOptions, _fit_context
from ..utils.validation import check_held_out, check_hidden_units, check_interactions

__all__ = ["CDAE"]

#: The activation pair each loss uses when ``activation=None`` (the authors' code:
#: sigmoid hidden layer; logistic loss on σ of the output, square loss on the raw output).
_DEFAULT_ACTIVATION = {"logistic": "sig-sig", "square": "sig-lin"}


class CDAE(ImplicitFeedbackMixin, CodeTransformerMixin, TorchRecommender):
    """Collaborative Denoising Auto-Encoder: a denoising autoencoder with a user input node.

    Each row ``y_u`` of ``X`` (user ``u``'s implicit feedback) is corrupted
    by dropout (kept entries scaled by ``1/(1 − q)``), encoded with the
    user's own input node ``V_u`` into ``z = h(Wᵀ ỹ_u + V_u + b)`` and
    decoded into a score of every item, ``ŷ_u = f(W'z + b')``. Training
    compares the scores with the uncorrupted row on its positives and
    ``neg_ratio`` sampled unobserved items per positive. ``predict``
    returns the scores (probabilities for ``loss="logistic"``),
    ``recommend`` the best unseen items, ``transform`` the code ``z``.

    **Users.** ``V_u`` exists for the rows of the matrix given to ``fit``
    (user ``u`` is row ``u``). ``predict``, ``recommend`` and ``transform``
    cannot know which user a row is, so by default every row is a *new* user
    (fold-in, strong generalization) and gets the mean user vector
    ``V̄ = mean_u V_u`` instead of ``V_u``; ``score`` and the package's
    scorers do the same. To score fitted users with their own ``V_u``
    (the paper's setting, weak generalization) pass their row indices in
    ``fit``'s matrix: ``predict(X, users=...)``, ``recommend(X, users=...)``
    or ``transform(X, users=...)``, e.g. ``users=np.arange(n_users_)`` for
    ``X_train`` itself. The validation NDCG of early stopping uses ``V_u``.

    Parameters
    ----------
    loss : {"logistic", "square"}, default="logistic"
        ``"logistic"``: cross-entropy of the sigmoid output
        (:class:`~sklearn_recae.losses.PointwiseCrossEntropyLoss`);
        ``"square"``: squared error
        (:class:`~sklearn_recae.losses.PointwiseSquaredLoss`). Both on each
        row's positives (target 1) and sampled negatives (target 0), summed
        per row and averaged over the rows. The authors' code defaults to
        the logistic loss.
    neg_ratio : float or None, default=None
        Unobserved items sampled per positive, anew in every batch (the
        authors' code samples 5 per positive); None uses every unobserved item
        (the default: see Notes).
    hidden_units : tuple of one int, default=(50,)
        Hidden units ``K`` (the paper's experiments use 50; CDAE has exactly
        one hidden layer).
    activation : str or None, default=None
        ``"<h>-<f>"`` hidden and output activations (``"sig-sig"``,
        ``"sig-lin"``, ``"lin-sig"``, ... as for
        :class:`DenoisingAutoEncoder`); None: ``"sig-sig"`` for the logistic
        loss and ``"sig-lin"`` for the square loss (the authors' code: sigmoid
        hidden layer, linear output, which the logistic loss reads through a
        sigmoid). ``"logistic"`` needs a sigmoid output.
    dropout : float, default=0.5
        Corruption level ``q``: each input entry is dropped with probability
        ``q`` in training and the kept ones are scaled by ``1/(1 − q)`` (the
        paper's unbiased corruption; ``q = 0.5`` is the authors' default).
    weight_decay : float, default=0.001
        ``λ`` of the L2 penalty ``λ/2 (‖W‖² + ‖W'‖² + ‖V‖² + ‖b‖² + ‖b'‖²)``
        (the authors' default is ``λ = 0.01``; see Notes), added to each batch's loss with
        each user's ``V_u`` counted in the batch that holds its row, so that
        an epoch decays every ``V_u`` once, as the authors' per-user SGD does
        (an optimizer's weight decay would shrink every user's vector at every
        step). Biases are penalised too, as in the paper.
    optimizer : str or optimizer class, default="adagrad"
        The paper trains with AdaGrad, which also leaves the vectors of the
        users outside a batch untouched (Adam's momentum would move them).
    lr : float, default=0.1
        Learning rate (the authors' AdaGrad step 0.1).
    max_epochs : int, default=200
    batch_size : int, default=100
        Rows per minibatch (the authors' code updates after every user).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of each row's entries, record their
        NDCG@``k_valid`` every epoch (ranked with each row's own ``V_u``),
        stop after ``n_iter_no_change`` epochs without improvement and keep
        the best epoch's weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    k_valid : int, default=100
        Cut-off of the validation NDCG.
    refit : bool, default=True
        Retrain on all entries for ``best_epoch_`` epochs after early stopping.
        It pays for its cost (``benchmarks/implicit_time_to_quality.py
        --model cdae --mode nested``, binarized MovieLens-100K, each seed
        fitted on the training part with its own 10% validation split and
        scored on a held-back validation part, test parts not read): over
        seeds 0-7 the refit raised NDCG@100 on 7 of 8 seeds (mean +0.0025;
        seeds 0-2 alone were within noise, +0.001), for about 47% more CPU
        seconds (3 s on ML-100K).
    binarize : bool, default=True
        Read positive values as 1 and negative values as −1 (negative
        feedback: an input of −1, counted as unobserved by the losses); False
        keeps the values as input weights (the losses still read ``> 0`` as
        a positive of target 1).
    device : str, default="auto"
    precision : {"32", "tf32", "bf16"}, default="32"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        As for :class:`~sklearn_recae.autoencoder.AutoRec`.

    Attributes
    ----------
    n_users_ : int
        Rows of the matrix given to ``fit``: the users with a vector ``V_u``.
    net_, history_, validation_scores_ (NDCG@k_valid per epoch), best_epoch_,
    n_epochs_, interrupted_, device_, n_features_in_
        As for :class:`~sklearn_recae.autoencoder.DenoisingAutoEncoder`.

    See Also
    --------
    DenoisingAutoEncoder : the same kind of model without the user node.

    Notes
    -----
    Deviations from the paper, each a parameter: minibatches instead of one
    user per step; negatives sampled without replacement (at most every
    unobserved item of the row); early stopping on per-row validation NDCG;
    separate encoder and decoder weights ``W`` and ``W'`` as in the paper (the
    authors' code ties them by default). ``V`` starts at zero. An item-based
    CDAE is the same estimator fitted on ``X.T`` (one node per item).

    ``neg_ratio=None`` (every unobserved item in the loss) and ``λ = 0.001``
    were chosen on validation data only (``benchmarks/implicit_default_sweep.py
    --model cdae``: binarized MovieLens-100K, three seeded per-user splits,
    test parts never read; validation NDCG@100 with the mean user vector, as
    the package's scorers rank): 0.3053 ± 0.0038, against 0.2850 ± 0.0050 for
    the authors' 5 sampled negatives per positive with λ = 0.01, 0.2967 ±
    0.0033 for every negative with λ = 0.01, 0.3030 ± 0.0078 for λ = 1e-4;
    200 hidden units, dropout 0.2 and AdaGrad step 0.3 were worse. Using every
    negative is also faster here: sampling costs more than scoring all 1,682
    items.

    References
    ----------
    .. [1] Y. Wu, C. DuBois, A. X. Zheng and M. Ester, "Collaborative Denoising
       Auto-Encoders for Top-N Recommender Systems", WSDM 2016, pp. 153-162.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recae.autoencoder import CDAE
    >>> from sklearn_recae.datasets import make_interactions
    >>> X = (make_interactions(100, 40, density=0.2, random_state=0) > 3).astype(float)
    >>> model = CDAE(hidden_units=(16,), max_epochs=3, random_state=0).fit(X)
    >>> model.recommend(X[:2], k=3).shape  # new users: the mean user vector
    (2, 3)
    >>> model.recommend(X[:2], k=3, users=[0, 1]).shape  # users 0 and 1 of fit
    (2, 3)
    >>> model.transform(X[:2]).shape
    (2, 16)
    """

    _parameter_constraints: dict = {
        "loss": [StrOptions({"logistic", "square"})],
        "neg_ratio": [Interval(Real, 0, None, closed="neither"), None],
        "hidden_units": [tuple, list],
        "activation": [StrOptions(set(ACTIVATION_PAIRS)), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
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
        "device": [str],
        "precision": [StrOptions(set(PRECISIONS))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        loss: str = "logistic",
        *,
        neg_ratio: float | None = None,
        hidden_units: tuple[int] = (50,),
        activation: str | None = None,
        dropout: float = 0.5,
        weight_decay: float = 0.001,
        optimizer="adagrad",
        lr: float = 0.1,
        max_epochs: int = 200,
        batch_size: int = 100,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        k_valid: int = 100,
        refit: bool = True,
        binarize: bool = True,
        device: str = "auto",
        precision: str = "32",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.loss = loss
        self.neg_ratio = neg_ratio
        self.hidden_units = hidden_units
        self.activation = activation
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.k_valid = k_valid
        self.refit = refit
        self.binarize = binarize
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_valid=None):
        """Fit the CDAE on the rows of ``X``; row ``u`` is user ``u``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Implicit feedback; zeros (stored or not) are unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_users, n_items), default=None
            Held-out entries of the same users, ranked from ``X``'s with each
            row's ``V_u`` (their NDCG@``k_valid`` is recorded each epoch and,
            with ``early_stopping``, training stops on it).

        Returns
        -------
        self : CDAE
        """
        check_hidden_units(self, 1)
        self._check_activation()
        X = self._prepare(check_interactions(self, X, reset=True))
        X_valid = None if X_valid is None else check_held_out(X_valid, X)
        self._fit_net(X, X_valid)
        self.n_users_ = X.shape[0]
        return self

    def _activation(self) -> str:
        return _DEFAULT_ACTIVATION[self.loss] if self.activation is None else self.activation

    def _check_activation(self) -> None:
        _, output = parse_activation_pair(self._activation())
        if self.loss == "logistic" and output != "sigmoid":
            raise ValueError(
                "loss='logistic' reads the output as a probability and needs a sigmoid "
                f"output (activation '<hidden>-sig' or None), got activation={self.activation!r}."
            )


    def _check_users(self, users, n_rows: int) -> np.ndarray:
        """``users`` as int64 row indices of fit's matrix, one per row of ``X``."""
        array = np.asarray(users)
        if array.dtype == bool or (array.size and not np.issubdtype(array.dtype, np.integer)):
            raise TypeError(
                "users must hold integer row indices of the matrix given to fit, got "
                f"dtype {array.dtype}."
            )
        if array.shape != (n_rows,):
            raise ValueError(
                f"users must give one user (row index of fit's matrix) per row of X: "
                f"expected shape ({n_rows},), got {array.shape}."
            )
        array = array.astype(np.int64)
        if array.size and (array.min() < 0 or array.max() >= self.n_users_):
            raise ValueError(
                f"users must be row indices of the matrix given to fit, in [0, "
                f"{self.n_users_ - 1}]; got values in [{array.min()}, {array.max()}]. "
                "Rows of users not in fit need no index: leave users=None (mean user vector)."
            )
        return array

    def _criterion(self) -> torch.nn.Module:
        if self.loss == "logistic":
            return PointwiseCrossEntropyLoss(neg_ratio=self.neg_ratio)
        return PointwiseSquaredLoss(neg_ratio=self.neg_ratio)

    def _build_net(
        self, X: sp.csr_matrix, device: str, *, train_split, max_epochs: int
    ) -> UserRowsNet:
        return UserRowsNet(
            CDAEModule,
            module__n_items=X.shape[1],
            module__n_users=X.shape[0],
            module__n_hidden=self.hidden_units[0],
            module__activation=self._activation(),
            module__dropout=self.dropout,
            criterion=self._criterion(),
            l2=self.weight_decay,
            **self._loop_params(device, train_split=train_split, max_epochs=max_epochs,
                                collate_fn=collate_user_csr),
            **self._ranking_validation(train_split),
        )

    def _score_block(self, block: sp.csr_matrix, users: np.ndarray | None = None) -> torch.Tensor:
        """Scores of a CSR block whose users are ``users`` (None: new users, ``V̄``)."""
        net = self.net_
        net.module_.eval()
        return net.infer((csr_to_torch(block), None if users is None else torch.from_numpy(users)))

    def _check_context(self, X: sp.csr_matrix, users=None) -> dict:
        return {"users": None if users is None else self._check_users(users, X.shape[0])}

    def _iter_scores(self, X: sp.csr_matrix, users: np.ndarray | None = None):
        """Row blocks scored with their users' ``V_u`` (None: new users, ``V̄``)."""
        items = slice(0, self.n_features_in_)
        for rows, block in iter_row_blocks(X, self._batch_rows()):
            scores = self._score_block(block, None if users is None else users[rows])
            yield ScoreBlock(rows, items, scores, block)

    def predict(self, X, users=None) -> np.ndarray:
        """Predict every item's preference score from each row's observations.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Observed interactions of the rows to predict for. Zeros are unobserved.
        users : array-like of int of shape (n_rows,), default=None
            The user (row index of the matrix given to ``fit``) of each row,
            whose own vector ``V_u`` is used. None: every row is a new user,
            given the mean user vector.

        Returns
        -------
        scores : ndarray of shape (n_rows, n_items), dtype float32
            Probabilities for ``loss="logistic"``, real scores for ``"square"``
            (with the default activation).
        """
        return self._predict(X, {"users": users})

    def recommend(
        self, X, k: int = 10, exclude_seen: bool = True, return_scores: bool = False,
        users=None, *, filter_items=None, items=None,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Return the ``k`` best items of each row, best first.

        Parameters
        ----------
        X, k, exclude_seen, return_scores, filter_items, items
            As for :meth:`RecommenderMixin.recommend <sklearn_recae.base.RecommenderMixin.recommend>`.
        users : array-like of int of shape (n_rows,), default=None
            As for :meth:`predict`: the fitted user of each row, or None for new users.

        Returns
        -------
        items : ndarray of shape (n_rows, k), dtype int64
        scores : ndarray of shape (n_rows, k), dtype float32
            Only with ``return_scores``.
        """
        return self._recommend(X, k, exclude_seen, return_scores, {"users": users},
                               filter_items=filter_items, items=items)

    def transform(self, X, users=None) -> np.ndarray:
        """Return the hidden code ``z`` of each row (no corruption).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
        users : array-like of int of shape (n_rows,), default=None
            As for :meth:`predict`: the fitted user of each row, or None for new users.

        Returns
        -------
        codes : ndarray of shape (n_rows, hidden_units[0]), dtype float32
        """
        return self._encode_rows(X, self._code_size, users)

    @property
    def _code_size(self) -> int:
        return self.hidden_units[0]
