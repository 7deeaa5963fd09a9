"""Loss functions and weight penalties shared by the models.

Plain torch: no scikit-learn and no skorch here. Every reconstruction loss
takes dense ``(batch, n_items)`` tensors in which a zero target means
"unobserved". The explicit-feedback losses (:class:`MaskedLpLoss`) compute over
observed entries only; the implicit-feedback losses (:class:`MILLoss`,
:class:`PointwiseCrossEntropyLoss`, :class:`PairwiseCrossEntropyLoss`,
:class:`MultinomialLoss`) also use the unobserved entries, and are reduced as
a sum over entries divided by the batch size (eq. 3 of the MIL paper: the loss
averaged over users), so their scale does not depend on the batch size.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "MILLoss",
    "MaskedLpLoss",
    "MaxNorm",
    "MultinomialLoss",
    "PairwiseCrossEntropyLoss",
    "PointwiseCrossEntropyLoss",
    "PointwiseSquaredLoss",
    "lp_penalty",
    "masked_squared_error_sums",
    "max_norm_",
]


class MaskedLpLoss(nn.Module):
    """Lp reconstruction error over the observed entries of the target.

    ``loss = Σ_{(j,k): y_jk ≠ 0} |y_jk − ŷ_jk|^p`` with ``reduction="sum"``
    (the AutoRec objective of Sedhain et al. 2015 for ``p=2``; MMA's L1-loss
    bases for ``p=1``), or that sum divided by the number of observed entries
    with ``reduction="mean"``.

    Parameters
    ----------
    p : {1, 2}, default=2
        Exponent of the error.
    reduction : {"sum", "mean"}, default="sum"
        How the per-entry errors are combined.
    """

    def __init__(self, p: int = 2, reduction: str = "sum") -> None:
        super().__init__()
        if p not in (1, 2):
            raise ValueError(f"p must be 1 or 2, got {p!r}.")
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}.")
        self.p = p
        self.reduction = reduction

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        mask = y_true != 0
        # zeros where unobserved, not boolean indexing: its output size is read back from the GPU
        diff = torch.where(mask, y_pred - y_true, 0.0)
        per_entry = diff.abs() if self.p == 1 else diff.square()
        if self.reduction == "sum":
            return per_entry.sum()
        return per_entry.sum() / mask.sum().clamp_min(1)


def lp_penalty(weights: Iterable[torch.Tensor], penalty: str | None, alpha: float) -> torch.Tensor:
    """Weight penalty ``alpha Σ‖W‖₁`` (``"l1"``) or ``(alpha/2) Σ‖W‖_F²`` (``"l2"``).

    Parameters
    ----------
    weights : iterable of torch.Tensor
        The penalised weight matrices (biases are not penalised).
    penalty : {"l1", "l2"} or None
        Which norm; None gives zero.
    alpha : float
        Penalty strength (λ in the papers).
    """
    weights = list(weights)
    if penalty is None or alpha == 0 or not weights:
        return torch.zeros((), device=weights[0].device if weights else None)
    if penalty == "l1":
        return alpha * sum(w.abs().sum() for w in weights)
    if penalty == "l2":
        return 0.5 * alpha * sum(w.square().sum() for w in weights)
    raise ValueError(f"penalty must be 'l1', 'l2' or None, got {penalty!r}.")


def masked_squared_error_sums(
    y_pred: torch.Tensor, y_true: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(Σ (y − ŷ)², n_observed)`` over the non-zero entries of ``y_true``.

    Summed per batch and divided at the end, these give the exact RMSE over all
    entries, not a mean of per-batch RMSEs.
    """
    mask = y_true != 0
    return torch.where(mask, y_pred - y_true, 0.0).square().sum(), mask.sum()


# ---------------------------------------------------------------------------
# Implicit-feedback reconstruction losses (MIL paper, eqs. 2-8) and max-norm
# regularization (eq. 14).
#
# Targets are dense ``(batch, n_items)`` tensors read by their sign:
# ``y > 0`` is a positive (seen) item, ``y == 0`` unobserved, and ``y < 0``
# explicit negative feedback. All losses return
# ``sum over entries (or pairs) / batch size``.
# ---------------------------------------------------------------------------


def _check_batch(y_pred: torch.Tensor, y_true: torch.Tensor) -> None:
    if y_pred.shape != y_true.shape or y_pred.dim() != 2:
        raise ValueError(
            "y_pred and y_true must be 2-d tensors of the same shape (batch, n_items), "
            f"got {tuple(y_pred.shape)} and {tuple(y_true.shape)}."
        )


def _check_neg_ratio(neg_ratio: float | None) -> None:
    if neg_ratio is not None and not neg_ratio >= 0:
        raise ValueError(f"neg_ratio must be non-negative or None, got {neg_ratio!r}.")


class MILLoss(nn.Module):
    """Missing Information Loss (MIL paper, eqs. 7 and 8).

    Per entry with target ``p`` and predicted preference ``p̂``::

        l(p, p̂) = ½ p(1+p) |1 − p̂|^γ₊                 (observed positive)
                + ½ (1+p)(1−p) A |p̂ − 0.5|^{2γ}        (missing information)
                + ½ p(p−1) |p̂|^γ₋                      (negative feedback, eq. 8)

    that is ``|1 − p̂|^γ₊`` for ``p = 1``, ``A (p̂ − 0.5)^{2γ}`` for ``p = 0``
    and ``|p̂|^γ₋`` for ``p = −1``. The middle term is a barrier: it costs
    nothing at ``p̂ = 0.5`` and ``A · 0.5^{2γ}`` (≈ 0.95 for the paper's best
    ``A = 1e6, γ = 10``) at ``p̂ = 0`` or ``1``, so unobserved items are
    neither pushed to "disliked" nor to "liked". Targets are read by their
    sign (``> 0`` positive, ``0`` unobserved, ``< 0`` negative feedback),
    which equals the polynomial form for ``p ∈ {−1, 0, 1}``.

    Parameters
    ----------
    A : float, default=1e6
        Height of the missing-information barrier (``A_MI``).
    gamma : float, default=10
        Sharpness of the barrier (``γ_MI``; the exponent is ``2γ``).
    gamma_pos : float, default=1
        Exponent ``γ₊`` of the positive-feedback term.
    gamma_neg : float, default=1
        Exponent ``γ₋`` of the negative-feedback term (used only where the
        target is negative).
    neg_ratio : float or None, default=None
        Unobserved entries whose missing-information term counts, per
        positive: row ``u`` gets ``min(round(neg_ratio · |I_u|), |Ĩ_u|)`` of
        its unobserved entries, uniformly without replacement (a target set
        ``T_u`` as in eq. 4). ``None`` counts every unobserved entry: the
        paper sums eq. 7 over all items (eq. 3); its target-set sampling
        (§3.3) is for the cross-entropy baselines. Sampling uses torch's
        global RNG.

    Notes
    -----
    ``y_pred`` must be **probabilities** in ``[0, 1]`` (the output of a
    sigmoid decoder, the paper's "lin-sig" / "sig-sig" DAEs), not logits.
    Exponents below 1 give an infinite gradient where the base is 0.
    The reduction is the sum over all entries divided by the batch size.

    Examples
    --------
    >>> y_true = torch.tensor([[1.0, 0.0, 0.0]])
    >>> y_pred = torch.tensor([[1.0, 0.5, 0.0]])
    >>> round(MILLoss()(y_pred, y_true).item(), 4)  # 0 + 0 + 1e6 * 0.5**20
    0.9537
    """

    def __init__(
        self,
        A: float = 1e6,
        gamma: float = 10,
        gamma_pos: float = 1,
        gamma_neg: float = 1,
        neg_ratio: float | None = None,
    ) -> None:
        super().__init__()
        params = {"A": A, "gamma": gamma, "gamma_pos": gamma_pos, "gamma_neg": gamma_neg}
        for name, value in params.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}.")
        _check_neg_ratio(neg_ratio)
        self.A = A
        self.gamma = gamma
        self.gamma_pos = gamma_pos
        self.gamma_neg = gamma_neg
        self.neg_ratio = neg_ratio

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        _check_batch(y_pred, y_true)
        positive = y_true > 0
        negative = y_true < 0
        unobserved = _sample_negatives(positive, y_true == 0, self.neg_ratio)

        positive_term = (1 - y_pred).abs().pow(self.gamma_pos)
        missing_term = self.A * (y_pred - 0.5).abs().pow(2 * self.gamma)
        negative_term = y_pred.abs().pow(self.gamma_neg)

        zero = torch.zeros_like(y_pred)
        per_entry = (
            torch.where(positive, positive_term, zero)
            + torch.where(unobserved, missing_term, zero)
            + torch.where(negative, negative_term, zero)
        )
        return per_entry.sum() / y_pred.shape[0]


def _sample_per_row(candidates: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Boolean mask choosing ``counts[r]`` of the True entries of each row ``r``.

    Uniform sampling without replacement, using torch's global RNG: each
    candidate gets a uniform random key, non-candidates get a key above all
    others, and the ``counts[r]`` entries with the smallest keys are chosen.
    ``counts`` must not exceed the number of candidates of its row.
    """
    keys = torch.rand(candidates.shape, device=candidates.device)
    keys = keys.masked_fill(~candidates, 2.0)
    rank = keys.argsort(dim=1).argsort(dim=1)  # rank of each entry in its row
    return candidates & (rank < counts.unsqueeze(1))


def _sample_negatives(
    positive: torch.Tensor, candidates: torch.Tensor, neg_ratio: float | None
) -> torch.Tensor:
    """The negatives of each row: all ``candidates`` (``neg_ratio=None``) or a sample of them.

    Row ``r`` gets ``min(round(neg_ratio · |positives of r|), |candidates of r|)``
    of its candidates, uniformly without replacement (:func:`_sample_per_row`).
    """
    if neg_ratio is None:
        return candidates
    n_neg = torch.round(neg_ratio * positive.sum(dim=1)).long()
    return _sample_per_row(candidates, torch.minimum(n_neg, candidates.sum(dim=1)))


class PointwiseCrossEntropyLoss(nn.Module):
    """Point-wise binary cross-entropy with negative sampling (MIL paper, eqs. 2-4).

    ``L = (1/|batch|) Σ_u Σ_{i ∈ T_u} −p_ui log p̂_ui − (1 − p_ui) log(1 − p̂_ui)``
    with the confidence ``C(p) = 1``. The target set ``T_u`` of each row holds
    all its positive entries (``y > 0``, target 1) and a uniform random
    sample, without replacement, of its other entries (target 0). Entries with
    negative feedback (``y < 0``) count as unobserved: they are negatives and
    may be sampled like any unobserved entry.

    Parameters
    ----------
    neg_ratio : float or None, default=None
        Negatives sampled per positive: row ``u`` gets
        ``min(round(neg_ratio · |I_u|), |Ĩ_u|)`` negatives, so a row with no
        positive contributes nothing and an all-positive row only its
        positives. ``None`` uses every unobserved entry (eq. 3). The paper's
        best setting samples ``50 × mean(|I_u|)`` items per user, i.e.
        ``neg_ratio=50`` on average. Sampling uses torch's global RNG, so
        ``torch.manual_seed`` (and skorch's seeding) makes it reproducible.
    eps : float, default=1e-5
        Predictions are clamped to ``[eps, 1 − eps]`` before the logarithms,
        as in the paper (its ``ε = 10⁻⁵``); clamped entries get no gradient.

    Notes
    -----
    ``y_pred`` must be **probabilities** in ``(0, 1)`` (a sigmoid decoder
    output, the paper's "lin-sig" / "sig-sig" setting), not logits. The
    reduction is the sum over the chosen entries divided by the batch size.

    Examples
    --------
    >>> y_true = torch.tensor([[1.0, 0.0]])
    >>> y_pred = torch.tensor([[0.5, 0.5]])
    >>> round(PointwiseCrossEntropyLoss()(y_pred, y_true).item(), 4)  # 2 ln 2
    1.3863
    """

    def __init__(self, neg_ratio: float | None = None, eps: float = 1e-5) -> None:
        super().__init__()
        _check_neg_ratio(neg_ratio)
        if not 0 < eps < 0.5:
            raise ValueError(f"eps must be in (0, 0.5), got {eps!r}.")
        self.neg_ratio = neg_ratio
        self.eps = eps

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        _check_batch(y_pred, y_true)
        positive = y_true > 0
        # unobserved and negative feedback
        sampled = _sample_negatives(positive, ~positive, self.neg_ratio)

        p_hat = y_pred.clamp(self.eps, 1 - self.eps)
        zero = torch.zeros_like(p_hat)
        per_entry = torch.where(positive, -torch.log(p_hat), zero) + torch.where(
            sampled, -torch.log(1 - p_hat), zero
        )
        return per_entry.sum() / y_pred.shape[0]


class PairwiseCrossEntropyLoss(nn.Module):
    """Pair-wise cross-entropy (MIL paper, eq. 5; BPR / CDAE's logistic pair-wise loss).

    For (seen ``i``, unseen ``j``) pairs of a row, eq. 5 applies the
    cross-entropy of eq. 2 to the pair target ``p_uij = p_ui − p_uj = 1`` and
    the pair score ``p̂_uij = p̂_ui − p̂_uj``; the score is mapped to a
    probability by the logistic function, giving per pair::

        l = −log σ(p̂_ui − p̂_uj) = softplus(p̂_uj − p̂_ui)

    (a literal ``−log(p̂_ui − p̂_uj)`` is undefined whenever ``p̂_uj ≥ p̂_ui``).
    ``L = (1/|batch|) Σ_u Σ_{(i,j) ∈ P_u} l``. Seen means ``y > 0``; unseen is
    every other entry, so negative feedback (``y < 0``) counts as unseen.

    Parameters
    ----------
    n_pairs : int or None, default=100
        Pairs sampled per row: ``i`` uniform over the row's seen entries and
        ``j`` uniform over its unseen entries, independently and with
        replacement. The paper's best setting uses ``100 × mean(|I_u|)``.
        Rows with no seen or no unseen entry contribute nothing. ``None``
        uses every pair ``I_u × Ĩ_u`` once (memory: the batch's seen entries
        × ``n_items``). Sampling uses torch's global RNG.

    Notes
    -----
    ``y_pred`` is the score the model ranks by and is used **as given**: in
    the paper's setting (CEPair "lin-sig" / "sig-sig") it is the sigmoid
    output, a probability; with logits the loss is the classical BPR loss.
    No clamping is needed: the loss is finite for any finite scores. The
    reduction is the sum over pairs divided by the batch size.

    Examples
    --------
    >>> y_true = torch.tensor([[1.0, 0.0]])
    >>> y_pred = torch.tensor([[0.5, 0.5]])
    >>> round(PairwiseCrossEntropyLoss(n_pairs=None)(y_pred, y_true).item(), 4)  # ln 2
    0.6931
    """

    def __init__(self, n_pairs: int | None = 100) -> None:
        super().__init__()
        if n_pairs is not None and not (isinstance(n_pairs, numbers.Integral) and n_pairs >= 1):
            raise ValueError(f"n_pairs must be a positive int or None, got {n_pairs!r}.")
        self.n_pairs = n_pairs

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        _check_batch(y_pred, y_true)
        seen = y_true > 0
        unseen = ~seen
        if self.n_pairs is None:
            # one row per seen entry (u, i): diff[p, j] = ŝ_ui − ŝ_uj for every item j,
            # kept where j is unseen by u
            rows, items = seen.nonzero(as_tuple=True)
            diff = y_pred[rows, items].unsqueeze(1) - y_pred[rows]
            per_pair = torch.where(unseen[rows], -F.logsigmoid(diff), torch.zeros_like(diff))
            return per_pair.sum() / y_pred.shape[0]

        # Rows lacking a seen or an unseen entry sample from all entries (so
        # torch.multinomial gets valid weights) and are masked out afterwards.
        valid = seen.any(dim=1) & unseen.any(dim=1)
        all_entries = torch.ones_like(seen)
        seen_weights = torch.where(valid.unsqueeze(1), seen, all_entries).float()
        unseen_weights = torch.where(valid.unsqueeze(1), unseen, all_entries).float()
        i = torch.multinomial(seen_weights, int(self.n_pairs), replacement=True)
        j = torch.multinomial(unseen_weights, int(self.n_pairs), replacement=True)
        diff = y_pred.gather(1, i) - y_pred.gather(1, j)
        per_pair = -F.logsigmoid(diff)
        per_pair = torch.where(valid.unsqueeze(1), per_pair, torch.zeros_like(per_pair))
        return per_pair.sum() / y_pred.shape[0]


class MultinomialLoss(nn.Module):
    """Multinomial negative log-likelihood (MIL paper, eq. 6; Mult-DAE/VAE).

    ``L = −(1/|batch|) Σ_u Σ_i y_ui log softmax(ŝ_u)_i``, exactly the
    ``-mean(sum(log_softmax(logits) * x, 1))`` of Liang et al.'s reference
    code (dawenl/vae_cf). Positive targets are used as they are (binary
    preferences or counts); negative feedback (``y < 0``) is set to 0, i.e.
    treated as unobserved, since a negative weight would reward a low
    likelihood instead of penalising a high one.

    Notes
    -----
    ``y_pred`` must be **logits** (a linear decoder, the paper's "tanh-lin"),
    normalised here by ``log_softmax`` over the items. The reduction is the
    per-row sum averaged over the rows. A row with no positive costs 0.

    Examples
    --------
    >>> y_true = torch.tensor([[1.0, 0.0]])
    >>> y_pred = torch.tensor([[0.0, 0.0]])
    >>> round(MultinomialLoss()(y_pred, y_true).item(), 4)  # ln 2
    0.6931
    """

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        _check_batch(y_pred, y_true)
        log_probs = F.log_softmax(y_pred, dim=1)
        return -(log_probs * y_true.clamp_min(0)).sum(dim=1).mean()


@torch.no_grad()
def max_norm_(weight: torch.Tensor, max_norm: float, dim: int = 0) -> torch.Tensor:
    """Clip, in place, the L2 norm of each vector of ``weight`` to ``max_norm``.

    ``dim`` is the dimension the norms are taken **over** (as in
    ``torch.linalg.vector_norm``): for a 2-d weight, ``dim=0`` clips every
    column ``weight[:, k]`` and ``dim=1`` every row ``weight[k, :]``. A vector
    ``x`` with ``‖x‖₂ > max_norm`` becomes ``x · max_norm / ‖x‖₂`` (same
    direction); vectors within the bound are left exactly unchanged.

    For the MIL paper's eq. 14 with torch's ``nn.Linear`` layout
    (``weight`` of shape ``(out_features, in_features)``), an item's encoder
    embedding ``W[:, i]`` is a column of ``encoder.weight`` (``dim=0``) and its
    decoding ``W'[i, :]`` a row of ``decoder.weight`` (``dim=1``); the bound is
    ``α · sqrt(weight.shape[dim])`` (see :class:`MaxNorm`).

    Returns ``weight``.

    Examples
    --------
    >>> w = torch.tensor([[3.0, 0.3], [4.0, 0.4]])
    >>> max_norm_(w, 1.0, dim=0)
    tensor([[0.6000, 0.3000],
            [0.8000, 0.4000]])
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}.")
    norms = torch.linalg.vector_norm(weight, ord=2, dim=dim, keepdim=True)
    scale = (max_norm / norms).clamp(max=1.0)  # 1 within the bound (and for zero vectors)
    return weight.mul_(scale)


class MaxNorm:
    """Max-norm regularization of eq. 14: ``max_norm_(w, α · sqrt(w.shape[dim]), dim)``.

    ``n² = α² dim(x)`` makes the strength comparable across layers of
    different widths. Call it on a weight after each optimizer step (biases
    are not regularized); the paper uses separate ``α`` for the encoder
    (``MaxNorm(alpha_enc, dim=0)`` on ``encoder.weight``, item columns) and
    the decoder (``MaxNorm(alpha_dec, dim=1)`` on ``decoder.weight``, item
    rows).

    Parameters
    ----------
    alpha : float
        Bound per unit of vector length (``α``).
    dim : int, default=0
        Dimension the norms are taken over, see :func:`max_norm_`.

    Examples
    --------
    >>> w = torch.full((4, 2), 1.0)  # columns of norm 2, bound 0.5 * sqrt(4) = 1
    >>> MaxNorm(0.5, dim=0)(w)
    tensor([[0.5000, 0.5000],
            [0.5000, 0.5000],
            [0.5000, 0.5000],
            [0.5000, 0.5000]])
    """

    def __init__(self, alpha: float, dim: int = 0) -> None:
        if not alpha > 0:
            raise ValueError(f"alpha must be positive, got {alpha!r}.")
        self.alpha = alpha
        self.dim = dim

    def bound(self, weight: torch.Tensor) -> float:
        """The norm bound ``α · sqrt(weight.shape[dim])`` for this weight."""
        return self.alpha * weight.shape[self.dim] ** 0.5

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return max_norm_(weight, self.bound(weight), self.dim)

    def __repr__(self) -> str:
        return f"MaxNorm(alpha={self.alpha!r}, dim={self.dim!r})"


class PointwiseSquaredLoss(nn.Module):
    """Point-wise squared error with negative sampling (CDAE's square loss, Wu et al. 2016).

    ``L = (1/|batch|) Σ_u [Σ_{i ∈ I_u} (1 − ŷ_ui)² + Σ_{j ∈ N_u} ŷ_uj²]``: the
    squared error of every positive entry of a row (``y > 0``, target 1) and
    of a uniform random sample ``N_u``, without replacement, of its other
    entries (target 0). As in :class:`PointwiseCrossEntropyLoss`, entries
    with negative feedback (``y < 0``) count as unobserved: they are
    negatives and may be sampled like any unobserved entry.

    Parameters
    ----------
    neg_ratio : float or None, default=None
        Negatives sampled per positive: row ``u`` gets
        ``min(round(neg_ratio · |I_u|), |Ĩ_u|)`` negatives. ``None`` uses
        every other entry (the plain squared error of the binarized row).
        Sampling uses torch's global RNG.

    Notes
    -----
    ``y_pred`` is used as given: any real score (CDAE's square loss with an
    identity output) or a probability (a sigmoid output). The reduction is
    the sum over the chosen entries divided by the batch size.

    Examples
    --------
    >>> y_true = torch.tensor([[1.0, 0.0]])
    >>> y_pred = torch.tensor([[0.5, 0.5]])
    >>> PointwiseSquaredLoss()(y_pred, y_true).item()  # 0.5² + 0.5²
    0.5
    """

    def __init__(self, neg_ratio: float | None = None) -> None:
        super().__init__()
        _check_neg_ratio(neg_ratio)
        self.neg_ratio = neg_ratio

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        _check_batch(y_pred, y_true)
        positive = y_true > 0
        # unobserved and negative feedback
        sampled = _sample_negatives(positive, ~positive, self.neg_ratio)
        zero = torch.zeros_like(y_pred)
        per_entry = torch.where(positive, (1 - y_pred).square(), zero) + torch.where(
            sampled, y_pred.square(), zero
        )
        return per_entry.sum() / y_pred.shape[0]


