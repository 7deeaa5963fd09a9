"""Loss functions and weight penalties shared by the models.

Plain torch: no scikit-learn and no skorch here. Every reconstruction loss
takes dense ``(batch, n_items)`` tensors in which a zero target means
"unobserved"; the losses compute over observed entries only.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

__all__ = ["MaskedLpLoss", "lp_penalty", "masked_squared_error_sums"]


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
        diff = (y_pred - y_true)[mask]
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
    return (y_pred - y_true)[mask].square().sum(), mask.sum()
