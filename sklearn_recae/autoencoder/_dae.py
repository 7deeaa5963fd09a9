"""Denoising autoencoders for implicit feedback: the MIL paper's DAE and its loss baselines.

One user-based DAE (:class:`~sklearn_recae.nn.dae.DenoisingAutoEncoderModule`)
trained with one of five losses of Arévalo et al. (2018): the Missing
Information Loss (eqs. 7–8), point-wise cross-entropy with
negative sampling (eqs. 2–4), pair-wise cross-entropy (eq. 5), the
multinomial log-likelihood (eq. 6, Mult-DAE) and plain squared error.
Training early-stops on the NDCG@k of held-out entries of each row.

How each published choice is implemented (Arévalo et al. 2018):

- MIL (eq. 7, with eq. 8's term for −1 entries) summed over every item of a
  row and averaged over the rows (eq. 3); entries are read by their sign.
  The target-set sampling of §3.3 is for the cross-entropy baselines; it is
  available to MIL as ``neg_ratio`` but off by default.
- Cross-entropy baselines (eqs. 2–5, §3.4): every unobserved item by default
  (``neg_ratio=None``, ``n_pairs=None``). The paper samples
  ``50 × mean(|I_u|)`` items per user (point-wise), which on MovieLens-100K
  exceeds the catalogue, and ``100 × mean(|I_u|)`` pairs (pair-wise).
- §3.3: one hidden layer of 200 units, batch size 100, Adam at 5·10⁻⁴,
  gradients clipped at norm 1, input dropout 0.5 on the L2-normalised row,
  Glorot-uniform weights and truncated-normal(10⁻³) biases (``init="paper"``).
- "Batch normalization at every training step" (§3.3) does not say where:
  ``batch_norm`` places it (``"hidden"``: between the hidden linear map and
  its activation, the former default) or leaves it out (``"none"``, the
  default, chosen on validation: see ``benchmarks/mil_fidelity.py``).

Deviations, each a parameter: minibatch Adam with early stopping on a
per-row validation hold-out instead of 120k iterations (the paper tunes on a
validation set too); ``weight_decay`` is Adam's (coupled) L2, applied to
biases as well; no max-norm by default (``max_norm_encoder/decoder``).
"""

from __future__ import annotations

from numbers import Integral, Real

import scipy.sparse as sp
import torch

from .._skorch import Callback, GradientNormClipping, MaxNormClipping
from ..losses import (
    MILLoss,
    MultinomialLoss,
    PairwiseCrossEntropyLoss,
    PointwiseCrossEntropyLoss,
)
from ..nn.dae import (
    ACTIVATION_PAIRS,
    BATCH_NORM_PLACEMENTS,
    DenoisingAutoEncoderModule,
    parse_activation_pair,
)
from ..utils._sklearn import Interval, StrOptions
from ._implicit_base import (
    TRAINING_CONSTRAINTS,
    _ImplicitAutoEncoder,
    store_init_params,
    weight_decay_params,
)

__all__ = ["DenoisingAutoEncoder"]

#: Losses that read the output as a probability (a sigmoid output).
_PROBABILITY_LOSSES = {"mil", "ce"}


class SquaredErrorLoss(torch.nn.Module):
    """Squared error over every entry, summed per row and averaged over rows."""

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return (y_pred - y_true).square().sum() / y_pred.shape[0]


class DenoisingAutoEncoder(_ImplicitAutoEncoder):
    """User-based denoising autoencoder for implicit feedback, with the MIL loss and baselines.

    A row's interactions are corrupted by dropout, L2-normalised, encoded and
    decoded into a score of every item; the loss compares the scores with the
    uncorrupted row. ``predict`` returns the scores (probabilities for
    ``"mil"``/``"ce"``, logits for ``"multinomial"``), ``recommend`` the
    best unseen items, ``transform`` the code.

    Parameters
    ----------
    loss : {"mil", "ce", "ce_pair", "multinomial", "mse"}, default="mil"
        ``"mil"``: Missing Information Loss (eq. 7; eq. 8's term for −1
        entries); ``"ce"``: point-wise cross-entropy on the positives and
        ``neg_ratio`` sampled unobserved entries per positive (eqs. 2–4);
        ``"ce_pair"``: pair-wise cross-entropy over ``n_pairs`` sampled
        (seen, unseen) pairs per row (eq. 5); ``"multinomial"``: multinomial
        log-likelihood (eq. 6); ``"mse"``: squared error on every entry.
    A, gamma, gamma_pos, gamma_neg : float, default=1e6, 10, 1, 1
        MIL's barrier height and exponents (the paper's best: A=1e6, γ=10, γ₊=1).
    neg_ratio : float or None, default=None
        Unobserved entries sampled per positive by ``"ce"`` and ``"mil"``
        (the target set ``T_u`` of eq. 4); None: every unobserved entry. The
        paper sums MIL over all items (eqs. 3, 7) and samples
        ``50 × mean(|I_u|)`` entries per user for ``"ce"`` (§3.4), more than
        the catalogue of MovieLens-100K: every item, the default.
    n_pairs : int or None, default=None
        (seen, unseen) pairs sampled per row by ``"ce_pair"``; None: every
        pair ``I_u × Ĩ_u`` (every unobserved item against each positive; the
        paper samples ``100 × mean(|I_u|)`` pairs per user, §3.4).
    hidden_units : tuple of int, default=(200,)
        Encoder layer sizes; the decoder mirrors them.
    activation : str, default="lin-sig"
        ``"<hidden>-<output>"`` activations (``lin-sig``, ``sig-sig``,
        ``tanh-lin``, ...). ``"mil"`` and ``"ce"`` need a sigmoid output.
    dropout : float, default=0.5
        Input dropout (the corruption) in training.
    normalize : bool, default=True
        L2-normalise each input row.
    batch_norm : {"auto", "none", "hidden", "post_activation"}, default="auto"
        Batch normalisation in each hidden layer: none, between the linear
        map and the activation, or after the activation; ``"auto"``:
        ``"hidden"`` for ``"ce_pair"``, ``"none"`` for the other losses (see
        Notes). The paper applies
        it "at every training step" (§3.3) without saying where; ``"hidden"``
        (the paper-literal reading and the former default) lost on
        validation (see Notes); ``set_params(batch_norm="hidden")`` restores it.
    init : {"paper", "torch"}, default="paper"
        ``"paper"``: Glorot-uniform weights, biases from N(0, (10⁻³)²)
        truncated at 2σ (§3.3); ``"torch"``: ``nn.Linear``'s default
        (the former default).
    max_norm_encoder, max_norm_decoder : float or None, default=None
        α of eq. 14 for the encoder columns / decoder rows of each item.
    weight_decay : float, default=0.0
        L2 weight decay of the optimizer.
    clip_grad_norm : float or None, default=1.0
        Gradient-norm clipping (the paper clips at 1).
    optimizer : str or optimizer class, default="adam"
    lr : float, default=5e-4
    max_epochs : int, default=200
    batch_size : int, default=100
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of each row's entries, record their
        NDCG@``k_valid`` every epoch, stop after ``n_iter_no_change`` epochs
        without improvement and keep the best epoch's weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    k_valid : int, default=100
        Cut-off of the validation NDCG.
    refit : bool, default=True
        Retrain on all entries for ``best_epoch_`` epochs after early stopping.
    binarize : bool, default=True
        Read positive values as 1 and negative values as −1 (negative
        feedback); False keeps the values (counts, weights).
    sparse_input : "auto" or bool, default="auto"
        The first layer multiplies each training batch as a sparse tensor
        (``torch.sparse.mm`` over its stored entries) instead of densifying
        it; ``predict``/``recommend`` too. ``"auto"``: on CPU when at most 5%
        of the entries of ``X`` are stored (1% above 10,000 items), never on
        CUDA (the measured crossovers, see :mod:`sklearn_recae.nn.sparse`).
        The results are the dense path's up to rounding; in training the
        input noise is drawn per stored entry instead of per dense entry
        (same distribution).
    device : str, default="auto"
    precision : {"32", "tf32", "bf16"}, default="32"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        As for :class:`~sklearn_recae.autoencoder.AutoRec`.

    Attributes
    ----------
    net_, history_, validation_scores_ (NDCG@k_valid per epoch), best_epoch_,
    n_epochs_, interrupted_, device_, n_features_in_
        As for :class:`~sklearn_recae.autoencoder.AutoRec`.

    Notes
    -----
    The MIL defaults ``batch_norm="none"`` (``"auto"``) and ``init="paper"``
    were chosen on validation only (``python benchmarks/mil_fidelity.py --sweep``: binarized
    MovieLens-100K, per-user 80/20 hold-out, early stopping on 10% of each
    user's training entries; best-epoch validation NDCG@100, mean ± std of
    seeds 0–2):

    ===============  ===============  ===============  ===============  ===============
    activation       hidden, torch    hidden, paper    none, torch      none, paper
    ===============  ===============  ===============  ===============  ===============
    ``lin-sig``      0.2355 ± 0.0091  0.2491 ± 0.0100  0.3153 ± 0.0071  0.3139 ± 0.0051
    ``sig-sig``      0.2894 ± 0.0058  0.2994 ± 0.0054  0.3123 ± 0.0080  0.3150 ± 0.0050
    ===============  ===============  ===============  ===============  ===============

    (``post_activation``, ``sig-sig``, paper init: 0.2613 ± 0.0098.) Batch
    normalisation after the hidden linear map costs 0.06–0.08 for ``lin-sig``:
    the 0.5 input dropout makes its training-batch statistics differ from
    the running ones used in evaluation. The two initialisations are within
    noise without batch normalisation; the paper's is kept (better for
    ``sig-sig``, the published setting). The paper-literal configuration is
    ``set_params(batch_norm="hidden", init="paper")``.

    Without batch normalisation ``sig-sig`` learns slowly: its validation
    NDCG climbs fast for ~6 epochs, then crawls along a near-flat stretch
    where ``n_iter_no_change=10`` can stop it (one of three test splits
    stopped at epoch 13, NDCG@100 0.27 against 0.45 for the two others,
    which ran 164 and 178 epochs). ``lin-sig`` (the default) did not.

    ``"ce_pair"`` needs batch normalisation: without it, it stops after ~12
    epochs at popularity level (validation NDCG@100 with every pair, seeds
    0–2: 0.1866 ± 0.0020 with ``"none"``, 0.3008 ± 0.0071 with ``"hidden"``,
    ``python benchmarks/implicit_default_sweep.py --model ce-pair --grid
    '{"batch_norm": ["hidden", "none"]}'``), hence ``"auto"``.

    References
    ----------
    .. [1] J. Arévalo, J. R. Duque and M. Creatura, "A Missing Information Loss
       function for implicit feedback datasets", RecSys 2018.
    .. [2] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational
       Autoencoders for Collaborative Filtering", WWW 2018 (Mult-DAE).

    Examples
    --------
    >>> from sklearn_recae.autoencoder import DenoisingAutoEncoder
    >>> from sklearn_recae.datasets import make_interactions
    >>> X = (make_interactions(100, 40, density=0.2, random_state=0) > 3).astype(float)
    >>> model = DenoisingAutoEncoder(hidden_units=(16,), max_epochs=3, random_state=0).fit(X)
    >>> model.recommend(X[:2], k=3).shape, model.transform(X[:2]).shape
    ((2, 3), (2, 16))
    """

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "loss": [StrOptions({"mil", "ce", "ce_pair", "multinomial", "mse"})],
        "A": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "gamma_pos": [Interval(Real, 0, None, closed="neither")],
        "gamma_neg": [Interval(Real, 0, None, closed="neither")],
        "neg_ratio": [Interval(Real, 0, None, closed="neither"), None],
        "n_pairs": [Interval(Integral, 1, None, closed="left"), None],
        "activation": [StrOptions(set(ACTIVATION_PAIRS))],
        "normalize": ["boolean"],
        "batch_norm": [StrOptions({"auto", *BATCH_NORM_PLACEMENTS})],
        "init": [StrOptions({"paper", "torch"})],
        "max_norm_encoder": [Interval(Real, 0, None, closed="neither"), None],
        "max_norm_decoder": [Interval(Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        loss: str = "mil",
        *,
        A: float = 1e6,
        gamma: float = 10.0,
        gamma_pos: float = 1.0,
        gamma_neg: float = 1.0,
        neg_ratio: float | None = None,
        n_pairs: int | None = None,
        hidden_units: tuple[int, ...] = (200,),
        activation: str = "lin-sig",
        dropout: float = 0.5,
        normalize: bool = True,
        batch_norm: str = "auto",
        init: str = "paper",
        max_norm_encoder: float | None = None,
        max_norm_decoder: float | None = None,
        weight_decay: float = 0.0,
        clip_grad_norm: float | None = 1.0,
        optimizer="adam",
        lr: float = 5e-4,
        max_epochs: int = 200,
        batch_size: int = 100,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        k_valid: int = 100,
        refit: bool = True,
        binarize: bool = True,
        sparse_input="auto",
        device: str = "auto",
        precision: str = "32",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        store_init_params(self, locals())

    def _check_params(self) -> None:
        super()._check_params()
        _, output = parse_activation_pair(self.activation)
        if self.loss in _PROBABILITY_LOSSES and output != "sigmoid":
            raise ValueError(
                f"loss={self.loss!r} reads the output as a probability and needs a sigmoid "
                f"output (activation '<hidden>-sig'), got activation={self.activation!r}."
            )

    def _check_rows(self, X: sp.csr_matrix) -> None:
        if self._batch_norm() != "none" and X.shape[0] < 2:
            raise ValueError(
                f"X has {X.shape[0]} row(s); batch normalization needs at least 2 rows to "
                "train on, got 1 sample. Set batch_norm='none' to fit a single row."
            )

    def _criterion(self) -> torch.nn.Module:
        if self.loss == "mil":
            return MILLoss(A=self.A, gamma=self.gamma, gamma_pos=self.gamma_pos,
                           gamma_neg=self.gamma_neg, neg_ratio=self.neg_ratio)
        if self.loss == "ce":
            return PointwiseCrossEntropyLoss(neg_ratio=self.neg_ratio)
        if self.loss == "ce_pair":
            return PairwiseCrossEntropyLoss(n_pairs=self.n_pairs)
        if self.loss == "multinomial":
            return MultinomialLoss()
        return SquaredErrorLoss()

    def _optimizer_params(self) -> dict:
        return weight_decay_params(self.weight_decay)

    def _drop_last(self, X: sp.csr_matrix) -> bool:
        # batch normalization cannot train on a batch of one row: drop such a last batch
        return self._batch_norm() != "none" and X.shape[0] % self.batch_size == 1

    def _batch_norm(self) -> str:
        """``batch_norm`` with ``"auto"`` resolved for the loss."""
        if self.batch_norm != "auto":
            return self.batch_norm
        return "hidden" if self.loss == "ce_pair" else "none"

    _module = DenoisingAutoEncoderModule

    def _model_params(self) -> dict:
        return {
            "module__hidden_units": tuple(self.hidden_units),
            "module__activation": self.activation,
            "module__normalize": self.normalize,
            "module__batch_norm": self._batch_norm(),
            "module__xavier_init": self.init == "paper",
        }

    def _training_callbacks(self, X: sp.csr_matrix) -> list[tuple[str, Callback]]:
        """The callbacks acting on training steps: gradient clipping and max-norm."""
        callbacks: list[tuple[str, Callback]] = []
        if self.clip_grad_norm is not None:
            callbacks.append(("clip_grad", GradientNormClipping(self.clip_grad_norm)))
        if self.max_norm_encoder is not None or self.max_norm_decoder is not None:
            callbacks.append(("max_norm", MaxNormClipping(self.max_norm_encoder,
                                                          self.max_norm_decoder)))
        return callbacks
