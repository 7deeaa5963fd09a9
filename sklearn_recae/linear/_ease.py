"""EASE, the closed-form item-item linear model of Steck (2019), as a scikit-learn estimator.

EASE has no network and no training loop: ``fit`` solves one ridge
regression in closed form with numpy/scipy, so it subclasses
:class:`~sklearn_recae.base.RecommenderMixin` and ``BaseEstimator`` alone.

Deviations from the paper's code:

- the Gram matrix is built in blocks of items from the sparse ``X`` (the
  paper densifies ``XᵀX`` from one sparse product) and inverted through its
  Cholesky factor, which needs the matrix to be positive definite, hence
  ``l2 > 0``;
- ``max_memory_gb`` refuses, before allocating, a catalogue whose dense
  items × items matrices would not fit;
- the default ``l2=300`` (the paper uses 500 on ML-20M and Netflix) is the
  best mean validation NDCG@100 over three seeded MovieLens-100K splits
  (``benchmarks/ease_l2_sweep.py``; the test parts were never read).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator

from .._similarity import ItemSimilarity
from ..base import RecommenderMixin, atomic_fit, ndcg_at_100
from ..utils._sklearn import Interval, _fit_context
from ..utils.validation import check_held_out, check_interactions

__all__ = ["EASE"]

#: Peak bytes per entry of the items × items matrices during ``fit``: the
#: float64 Gram matrix (factored in place) and its float64 inverse.
_BYTES_PER_ITEM_PAIR = 16
#: Bytes of the dense temporary of one block of Gram rows.
_GRAM_BLOCK_BYTES = 32 << 20


def max_items_for_memory(max_memory_gb: float) -> int:
    """The largest item count whose ``fit`` stays within ``max_memory_gb`` (10**9 bytes)."""
    return math.isqrt(int(max_memory_gb * 1e9) // _BYTES_PER_ITEM_PAIR)


def _check_memory(n_items: int, max_memory_gb: float | None) -> None:
    """Raise ``ValueError`` when the dense items × items matrices exceed the budget."""
    if max_memory_gb is None:
        return
    needed = _BYTES_PER_ITEM_PAIR * n_items**2
    if needed > max_memory_gb * 1e9:
        raise ValueError(
            f"EASE needs about {needed / 1e9:.3g} GB for n_items={n_items}: a dense float64 "
            f"items x items Gram matrix and its inverse ({_BYTES_PER_ITEM_PAIR} bytes x "
            f"n_items**2), more than max_memory_gb={max_memory_gb}. That budget fits at most "
            f"{max_items_for_memory(max_memory_gb)} items: raise max_memory_gb (None for no "
            "limit) or keep fewer items (e.g. the most frequent ones)."
        )


def gram_matrix(X: sp.csr_matrix) -> np.ndarray:
    """Return the dense float64 ``XᵀX``, computed in row blocks to bound temporary memory.

    ``X`` is never densified; each block of Gram rows is a sparse product
    written straight into the result.
    """
    n_items = X.shape[1]
    X = X.astype(np.float64)
    X_t = X.T.tocsr()  # rows are items
    gram = np.zeros((n_items, n_items), dtype=np.float64)  # toarray(out=) adds into it
    step = max(1, _GRAM_BLOCK_BYTES // (8 * n_items))
    for start in range(0, n_items, step):
        stop = min(start + step, n_items)
        (X_t[start:stop] @ X).toarray(out=gram[start:stop])
    return gram


def ease_weights(X: sp.csr_matrix, l2: float) -> np.ndarray:
    """Solve EASE in closed form: ``B = I − P·diag(1/diag(P))``, ``P = (XᵀX + l2·I)⁻¹``.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        Training interactions, used with their values.
    l2 : float
        Ridge penalty λ > 0 added to the diagonal of the Gram matrix.

    Returns
    -------
    B : ndarray of shape (n_items, n_items), dtype float64, Fortran order
        Item-item weights with a zero diagonal: ``B[i, j]`` is the weight of
        item ``i`` in the score of item ``j``.

    Raises
    ------
    ValueError
        When the penalised Gram matrix is not numerically positive definite.
    """
    gram = gram_matrix(X)
    gram.flat[:: gram.shape[0] + 1] += l2
    try:
        # The Gram matrix is symmetric: its transpose is the Fortran-ordered
        # view LAPACK factors in place, without a copy.
        factor = scipy.linalg.cho_factor(gram.T, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"XᵀX + l2·I is not numerically positive definite with l2={l2}: the values of X "
            f"(largest |value| {np.abs(X.data).max():.3g}) dwarf the penalty. Increase l2 or "
            "rescale X."
        ) from None
    identity = np.eye(gram.shape[0], dtype=np.float64, order="F")
    del gram
    weights = scipy.linalg.cho_solve(factor, identity, overwrite_b=True, check_finite=False)
    del factor, identity
    weights /= -np.diag(weights)  # column j divided by -P_jj
    np.fill_diagonal(weights, 0.0)
    return weights


class EASE(RecommenderMixin, BaseEstimator):
    """EASE: Embarrassingly Shallow Autoencoder, a closed-form item-item model (Steck 2019).

    A linear autoencoder over the items of each row, ``x ↦ x·B``, whose
    weights solve ``min_B ‖X − XB‖²_F + λ‖B‖²_F`` subject to ``diag(B) = 0``
    (an item may not predict itself). The solution is closed-form::

        P = (XᵀX + λ·I)⁻¹
        B = I − P · diag(1 ⊘ diag(P))      (so diag(B) = 0)

    and the scores of a row ``x`` are ``x · B``. Rows unseen in ``fit`` are
    folded in as they are (any ``X`` with the fitted item count).

    EASE uses the values of ``X`` as given: binarize implicit feedback
    yourself (e.g. ``(R >= 4).astype(float)``) if the values are ratings or
    counts that should not act as weights. An item never observed in ``fit``
    has zero weights, so it scores 0 and contributes nothing.

    ``score`` is NDCG@100 (all items ranked, each row's own excluded), the
    metric of a ranking model (NDCG@n_items with fewer than 100 items).
    ``similar_items(j)`` ranks the other items by column ``j`` of ``coef_``
    (their weight in item ``j``'s score).

    ``fit`` builds dense ``n_items × n_items`` float64 matrices: about
    ``16 × n_items²`` bytes at its peak (the Gram matrix and its inverse),
    and ``coef_`` keeps ``4 × n_items²`` bytes. ``max_memory_gb`` refuses a
    catalogue that does not fit before anything is allocated.

    Parameters
    ----------
    l2 : float, default=300.0
        Ridge penalty λ > 0 added to the diagonal of ``XᵀX``. The paper uses
        500 on ML-20M and Netflix; 300 had the best mean validation NDCG@100
        on binarized MovieLens-100K (ratings >= 4, three seeded splits; see
        ``benchmarks/ease_l2_sweep.py``). λ grows with the data: tune it on
        validation data for another dataset.
    max_memory_gb : float or None, default=4.0
        Largest peak memory of ``fit`` (in 10**9 bytes) that is allowed;
        ``fit`` raises a ``ValueError`` naming the item-count limit when
        ``16 × n_items²`` bytes exceed it. None disables the check.
    batch_size : int, default=1024
        Rows per batch of ``predict``/``recommend``; their memory is bounded
        by ``batch_size × n_items``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_items, n_items), dtype float32
        The item-item weights ``B`` (zero diagonal); ``predict(X)`` is ``X @ coef_``.
    validation_score_ : float
        NDCG@100 of the entries of ``X_valid`` (entry hold-out protocol),
        only when ``fit`` was given ``X_valid``.
    n_features_in_ : int
        Number of items (columns) seen in ``fit``.

    See Also
    --------
    PopularityRecommender : the same list of the most frequent items for every row.

    References
    ----------
    .. [1] H. Steck, "Embarrassingly Shallow Autoencoders for Sparse Data",
       WWW 2019. https://arxiv.org/abs/1905.03375

    Examples
    --------
    >>> from sklearn_recae.datasets import make_interactions
    >>> from sklearn_recae.linear import EASE
    >>> X = make_interactions(100, 40, density=0.2, implicit=True, random_state=0)
    >>> model = EASE(l2=10.0).fit(X)
    >>> model.coef_.shape, float(abs(model.coef_.diagonal()).max())
    ((40, 40), 0.0)
    >>> model.recommend(X[:2], k=3).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        "l2": [Interval(Real, 0, None, closed="neither")],
        "max_memory_gb": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, l2: float = 300.0, *, max_memory_gb: float | None = 4.0,
                 batch_size: int = 1024) -> None:
        self.l2 = l2
        self.max_memory_gb = max_memory_gb
        self.batch_size = batch_size

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_valid=None):
        """Solve the item-item weights ``coef_`` in closed form from ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Interactions, used with their values; zeros (stored or not) are
            unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            Held-out entries of the same rows, disjoint from ``X``. EASE has
            nothing to early-stop: they are only scored (NDCG@100, predicted
            from ``X``) into ``validation_score_``.

        Returns
        -------
        self : EASE

        Raises
        ------
        ValueError
            When the dense items × items matrices would exceed
            ``max_memory_gb`` (checked before allocating them), besides the
            input errors of every estimator.
        """
        X = check_interactions(self, X, reset=True)
        X_valid = None if X_valid is None else check_held_out(X_valid, X)
        _check_memory(X.shape[1], self.max_memory_gb)
        weights = ease_weights(X, float(self.l2))
        self.coef_ = np.array(weights, dtype=np.float32, order="C")
        del weights
        if X_valid is not None:
            self.validation_score_ = self._default_scorer()(self, X, X_valid)
        return self

    def _score_block(self, block: sp.csr_matrix) -> torch.Tensor:
        # A sparse-times-dense product row by row: a row's scores depend on its
        # own entries only, not on the batch it sits in.
        return torch.from_numpy(np.asarray(block @ self.coef_, dtype=np.float32))

    def _item_similarity(self) -> ItemSimilarity:
        """``similar_items`` ranks item ``j``'s neighbours by column ``j`` of ``coef_``."""
        return ItemSimilarity(self.coef_, "columns")

    def _default_scorer(self):
        return ndcg_at_100
