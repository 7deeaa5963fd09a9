"""The self-adaptive ensemble weights of MMA (eqs. 5–8 of the MMA paper).

Given the validation loss ``Sl_t(n)`` of each base model ``t`` after each
training iteration ``n``, the accumulated loss is ``Al_t(n) = Σ_{h≤n} Sl_t(h)``
(eq. 6) and the weight ``ε_t(n) = exp(−δ Al_t(n)) / Σ_s exp(−δ Al_s(n))``
(eq. 7): a softmax over bases of ``−δ·Al(n)``. Plain numpy, no estimator.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

__all__ = ["accumulated_losses", "self_adaptive_weights"]


def _check_losses(losses) -> np.ndarray:
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 2 or losses.shape[0] == 0 or losses.shape[1] == 0:
        raise ValueError(
            f"losses must be a non-empty 2-d array (n_iterations, n_bases), got shape {losses.shape}."
        )
    if not np.all(np.isfinite(losses)):
        raise ValueError("losses must be finite.")
    return losses


def accumulated_losses(losses) -> np.ndarray:
    """``Al_t(n) = Σ_{h≤n} Sl_t(h)`` (eq. 6) for every iteration ``n`` and base ``t``.

    Parameters
    ----------
    losses : array-like of shape (n_iterations, n_bases)
        ``Sl_t(n)``: validation loss of base ``t`` after iteration ``n``.

    Returns
    -------
    accumulated : ndarray of shape (n_iterations, n_bases)
    """
    return np.cumsum(_check_losses(losses), axis=0)


def self_adaptive_weights(losses, delta: float) -> np.ndarray:
    """Ensemble weights ``ε_t(n) = softmax_t(−δ·Al_t(n))`` (eq. 7) after every iteration.

    Parameters
    ----------
    losses : array-like of shape (n_iterations, n_bases)
        ``Sl_t(n)``: validation loss of base ``t`` after iteration ``n``.
    delta : float
        Balance factor ``δ >= 0``, any finite value: 0 gives uniform weights, a
        large value gives all the weight to the base of least accumulated loss
        (split equally between tied bases).

    Returns
    -------
    weights : ndarray of shape (n_iterations, n_bases)
        Each row is non-negative and sums to 1.

    Examples
    --------
    >>> from sklearn_recae.ensemble import self_adaptive_weights
    >>> self_adaptive_weights([[1.0, 2.0]], delta=0.0)
    array([[0.5, 0.5]])
    """
    if not np.isfinite(delta) or delta < 0:
        raise ValueError(f"delta must be a finite number >= 0, got {delta}.")
    accumulated = accumulated_losses(losses)
    if not np.all(np.isfinite(accumulated)):
        raise ValueError("The accumulated losses overflow; the losses are too large to weigh.")
    # Shift each row by its least loss before scaling: the gaps are finite and >= 0,
    # so -delta * gap is 0 for the best bases and at worst -inf (weight 0), never
    # -inf - (-inf) = NaN, for any finite delta. Tied best bases share the weight.
    gaps = accumulated - accumulated.min(axis=1, keepdims=True)
    with np.errstate(over="ignore"):
        logits = -delta * gaps
    return softmax(logits, axis=1)
