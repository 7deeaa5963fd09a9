"""Ranking quality of a batch of scores, on the device: the validation metric of implicit models.

Plain torch, no scikit-learn. The package's metrics (``sklearn_recae.metrics``)
work on numpy arrays of recommended items; early stopping needs the same
NDCG@k per epoch without leaving the device, from per-batch sums.
"""

from __future__ import annotations

import torch

__all__ = ["ndcg_sums"]


def ndcg_sums(
    scores: torch.Tensor, held_out: torch.Tensor, seen: torch.Tensor, k: int
) -> dict[str, torch.Tensor]:
    """``{"ndcg_sum", "ndcg_count"}``: summed NDCG@k of the rows with a held-out entry, and their count.

    The same definition as :func:`sklearn_recae.metrics.ndcg_at_k` (binary
    relevance, ideal DCG over ``min(k, |held-out|)`` hits): each row's seen
    items (non-zero in ``seen``) are excluded, its top ``k`` items are ranked
    by ``scores`` and compared with the non-zero entries of ``held_out``.

    Parameters
    ----------
    scores : torch.Tensor of shape (n_rows, n_items)
    held_out : torch.Tensor of shape (n_rows, n_items)
        Dense held-out entries (non-zero = relevant).
    seen : torch.Tensor of shape (n_rows, n_items)
        Dense input entries (non-zero = excluded from the ranking).
    k : int
        Cut-off (clipped to ``n_items``).
    """
    k = min(k, scores.shape[1])
    masked = scores.detach().masked_fill(seen != 0, -torch.inf)
    top = torch.topk(masked, k, dim=1).indices
    hits = (held_out.gather(1, top) != 0).to(scores.dtype)
    discounts = 1.0 / torch.log2(torch.arange(2, k + 2, device=scores.device, dtype=scores.dtype))
    dcg = hits @ discounts
    n_relevant = (held_out != 0).sum(dim=1)
    ideal = torch.cumsum(discounts, 0)[(n_relevant.clamp(1, k) - 1)]
    rows = n_relevant > 0
    return {"ndcg_sum": torch.where(rows, dcg / ideal, 0.0).sum(), "ndcg_count": rows.sum()}
