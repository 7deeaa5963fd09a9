"""EASE, the closed-form item-item linear model of Steck (2019), as a scikit-learn estimator.

EASE has no network and no training loop: ``fit`` solves one ridge
regression in closed form with numpy/scipy, so it subclasses
:class:`~sklearn_recae.base.RecommenderMixin` and ``BaseEstimator`` alone.

Deviations from the paper's code:

- the Gram matrix is built in blocks of items from the sparse ``X`` (the
  paper densifies ``XᵀX`` from one sparse product) and inverted in place
  through its Cholesky factor (LAPACK ``potrf`` + ``potri``; the paper's
  code calls ``np.linalg.inv``), which needs the matrix to be positive
  definite, hence ``l2 > 0``;
- the solve is in float32 by default (the paper's code: float64), which
  keeps the ranking (``benchmarks/ease_scale.py``); ``dtype=np.float64``
  restores the paper's precision;
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

#: The dtypes ``fit`` can solve in.
_SOLVE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: Rows per block when a triangle is mirrored into the other.
_MIRROR_ROWS = 256
#: Bytes of the dense temporary of one block of Gram rows.
_GRAM_BLOCK_BYTES = 32 << 20


def _item_pair_bytes(dtype) -> int:
    """Peak bytes per items × items entry of ``fit`` solving in ``dtype``.

    One matrix is built, factored, inverted and scaled in place; in float32
    it becomes ``coef_``, in float64 ``coef_`` is its float32 copy.
    """
    dtype = np.dtype(dtype)
    return dtype.itemsize + (0 if dtype == np.float32 else 4)


def max_items_for_memory(max_memory_gb: float, dtype=np.float32) -> int:
    """The largest item count whose ``fit`` in ``dtype`` stays within ``max_memory_gb`` (10**9 bytes)."""
    return math.isqrt(int(max_memory_gb * 1e9) // _item_pair_bytes(dtype))


def _check_memory(n_items: int, max_memory_gb: float | None, dtype) -> None:
    """Raise ``ValueError`` when the dense items × items matrices exceed the budget."""
    if max_memory_gb is None:
        return
    per_pair = _item_pair_bytes(dtype)
    needed = per_pair * n_items**2
    if needed > max_memory_gb * 1e9:
        raise ValueError(
            f"EASE needs about {needed / 1e9:.3g} GB for n_items={n_items} in "
            f"{np.dtype(dtype).name}: dense items x items matrices ({per_pair} bytes x "
            f"n_items**2), more than max_memory_gb={max_memory_gb}. That budget fits at most "
            f"{max_items_for_memory(max_memory_gb, dtype)} items: raise max_memory_gb (None "
            "for no limit) or keep fewer items (e.g. the most frequent ones)."
        )


def _solve_dtype(dtype) -> np.dtype:
    """``dtype`` as a numpy dtype, float32 or float64; ``ValueError`` otherwise."""
    try:
        checked = None if dtype is None else np.dtype(dtype)  # np.dtype(None) is float64
    except TypeError:
        checked = None
    if checked is None or checked not in _SOLVE_DTYPES:
        raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype!r}.")
    return checked


def gram_matrix(X: sp.csr_matrix, dtype=np.float64, *, lower: bool = False) -> np.ndarray:
    """Return the dense ``XᵀX`` in ``dtype``, computed in row blocks to bound temporary memory.

    ``X`` is never densified; each block of Gram rows is a sparse product
    written straight into the result (C order). With ``lower=True`` a block
    of rows gets no columns right of its own: the lower triangle and the
    diagonal, all a Cholesky factorisation reads, are complete for about
    half the work, and most of the strict upper triangle stays zero.
    """
    n_items = X.shape[1]
    X = X.astype(dtype, copy=False)
    X_t = X.T.tocsr()  # rows are items
    gram = np.zeros((n_items, n_items), dtype=dtype)
    step = max(1, _GRAM_BLOCK_BYTES // (gram.itemsize * n_items))
    for start in range(0, n_items, step):
        stop = min(start + step, n_items)
        if lower and stop < n_items:
            # toarray(out=) needs a contiguous block: the rows' first columns are not.
            gram[start:stop, :stop] = (X_t[start:stop] @ X[:, :stop]).toarray()
        else:
            (X_t[start:stop] @ X).toarray(out=gram[start:stop])  # adds into the zeros
    return gram


def _mirror_lower(matrix: np.ndarray) -> None:
    """Copy the lower triangle of the square C-ordered ``matrix`` onto its upper, in place.

    Row blocks bound the temporaries to ``_MIRROR_ROWS`` rows.
    """
    n = matrix.shape[0]
    for start in range(0, n, _MIRROR_ROWS):
        stop = min(start + _MIRROR_ROWS, n)
        block = matrix[start:stop, start:stop]
        block[...] = np.tril(block) + np.tril(block, -1).T
        matrix[start:stop, stop:] = matrix[stop:, start:stop].T


def _not_positive_definite(X: sp.csr_matrix, l2: float, dtype: np.dtype) -> ValueError:
    return ValueError(
        f"XᵀX + l2·I is not numerically positive definite in {dtype.name} with l2={l2}: the "
        f"values of X (largest |value| {np.abs(X.data).max():.3g}) dwarf the penalty. Increase "
        "l2, rescale X" + (" or solve in float64 (dtype=np.float64)." if dtype == np.float32
                           else ".")
    )


def ease_weights(X: sp.csr_matrix, l2: float, dtype=np.float64) -> np.ndarray:
    """Solve EASE in closed form: ``B = I − P·diag(1/diag(P))``, ``P = (XᵀX + l2·I)⁻¹``.

    One ``n_items × n_items`` array is allocated: the Gram matrix is built in
    it, factored and inverted in place by LAPACK (``potrf`` then ``potri``,
    its Cholesky inverse), then mirrored and scaled into ``B`` in place.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        Training interactions, used with their values.
    l2 : float
        Ridge penalty λ > 0 added to the diagonal of the Gram matrix.
    dtype : {np.float32, np.float64}, default=np.float64
        Precision of the Gram matrix and of its inverse.

    Returns
    -------
    B : ndarray of shape (n_items, n_items), dtype ``dtype``, C order
        Item-item weights with a zero diagonal: ``B[i, j]`` is the weight of
        item ``i`` in the score of item ``j``.

    Raises
    ------
    ValueError
        When ``XᵀX`` overflows ``dtype`` or the penalised Gram matrix is not
        numerically positive definite.
    """
    dtype = _solve_dtype(dtype)
    gram = gram_matrix(X, dtype, lower=True)
    diagonal = gram.diagonal()  # the largest |entry| of each row of a Gram matrix
    if not np.isfinite(diagonal).all():
        raise ValueError(
            f"XᵀX overflows {dtype.name} (largest |value| of X {np.abs(X.data).max():.3g}): "
            "rescale X" + (" or solve in float64 (dtype=np.float64)." if dtype == np.float32
                           else ".")
        )
    gram.flat[:: gram.shape[0] + 1] += dtype.type(l2)
    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (gram,))
    # The Gram matrix is symmetric: its transpose is the Fortran-ordered view
    # LAPACK factors and inverts in place, in its upper triangle (the lower
    # triangle of the C-ordered transpose of the result).
    factor, info = potrf(gram.T, lower=False, clean=False, overwrite_a=True)
    del gram
    if info == 0:
        factor, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise _not_positive_definite(X, l2, dtype)
    weights = factor.T
    del factor
    _mirror_lower(weights)  # weights now holds P, symmetric
    weights /= -weights.diagonal().copy()  # column j divided by -P_jj
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

    ``fit`` builds one dense ``n_items × n_items`` matrix and turns it into
    ``B`` in place (Gram matrix, its Cholesky factor, its inverse): in
    float32 it becomes ``coef_``, about ``4 × n_items²`` bytes at the peak;
    in float64 ``8 × n_items²`` bytes plus the float32 ``coef_``, ``12 ×
    n_items²``. ``max_memory_gb`` refuses a catalogue that does not fit
    before anything is allocated.

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
        ``4 × n_items²`` bytes (``12 × n_items²`` with ``dtype=np.float64``)
        exceed it. None disables the check.
    dtype : {np.float32, np.float64}, default=np.float32
        Precision of the Gram matrix and of its inverse. float32 halves the
        memory and the time of the solve and keeps the ranking of float64
        (binarized MovieLens-100K, ``benchmarks/ease_scale.py --ranking``);
        np.float64 is the paper's precision, for ill-conditioned data
        (a small ``l2`` next to large values of ``X``). ``coef_`` is
        float32 either way.
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
        "dtype": "no_validation",  # checked in fit: np.float32 or np.float64
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, l2: float = 300.0, *, max_memory_gb: float | None = 4.0,
                 dtype=np.float32, batch_size: int = 1024) -> None:
        self.l2 = l2
        self.max_memory_gb = max_memory_gb
        self.dtype = dtype
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
            ``max_memory_gb`` (checked before allocating them), when
            ``XᵀX + l2·I`` overflows ``dtype`` or is not numerically positive
            definite in it, besides the input errors of every estimator.
        """
        X = check_interactions(self, X, reset=True)
        X_valid = None if X_valid is None else check_held_out(X_valid, X)
        dtype = _solve_dtype(self.dtype)
        _check_memory(X.shape[1], self.max_memory_gb, dtype)
        weights = ease_weights(X, float(self.l2), dtype)
        self.coef_ = np.ascontiguousarray(weights, dtype=np.float32)  # no copy in float32
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
