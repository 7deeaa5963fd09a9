"""Input validation shared by every estimator, scorer and splitter."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from ._sklearn import validate_data

__all__ = [
    "as_interactions",
    "check_held_out",
    "check_interactions",
    "check_k",
    "check_same_shape",
]


def as_interactions(X, *, dtype=np.float32, copy: bool = False) -> sp.csr_matrix:
    """Return ``X`` as a canonical CSR interaction matrix.

    The result is a ``scipy.sparse.csr_matrix`` of ``dtype`` whose stored
    entries are exactly the observations: explicit zeros are removed and
    duplicates summed. The caller's object is never modified: whenever
    canonicalisation would change ``X`` a copy is made first.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_rows, n_items)
        Interactions; a zero (stored or not) means unobserved.
    dtype : numpy dtype, default=np.float32
        Dtype of the returned matrix.
    copy : bool, default=False
        Always return a new matrix, even if ``X`` is already canonical.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=dtype, copy=True)
    else:
        X = sp.csr_matrix(np.asarray(X), dtype=dtype)
    if not X.has_canonical_format:
        X.sum_duplicates()
    X.eliminate_zeros()
    if X.indices.dtype != np.int32 and X.nnz < np.iinfo(np.int32).max:
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
    return X


def check_interactions(estimator, X, *, reset: bool, dtype=np.float32) -> sp.csr_matrix:
    """Validate ``X`` for ``estimator`` and return a canonical CSR copy.

    Wraps :func:`sklearn.utils.validation.validate_data` so every estimator
    raises the same errors: ``ValueError`` for NaN/inf, empty input or a
    column count other than the one seen in ``fit``; ``TypeError`` or
    ``ValueError`` for non-numeric dtypes. With ``reset=True`` (in ``fit``)
    ``n_features_in_`` is set.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator whose ``n_features_in_`` is set or checked.
    X : {array-like, sparse matrix} of shape (n_rows, n_items)
        Interactions.
    reset : bool
        True in ``fit``, False afterwards.
    dtype : numpy dtype, default=np.float32

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        A canonical copy (see :func:`as_interactions`); ``X`` itself is unchanged.
    """
    if sp.issparse(X) and X.format not in ("csr", "csc", "coo", "lil", "dok", "bsr", "dia"):
        raise TypeError(f"Unsupported sparse format {X.format!r}.")  # pragma: no cover
    X = validate_data(
        estimator,
        X,
        accept_sparse=["csr", "csc", "coo"],
        dtype=[np.float64, np.float32],
        ensure_all_finite=True,
        reset=reset,
        accept_large_sparse=True,
    )
    return as_interactions(X, dtype=dtype, copy=True)


def check_k(k, n_items: int) -> int:
    """Check that ``k`` is an integer in ``[1, n_items]`` and return it."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {type(k).__name__}.")
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, n_items={n_items}], got k={k}.")
    return int(k)


def check_same_shape(X, y, *, names=("X", "y")) -> None:
    """Raise ``ValueError`` unless ``X`` and ``y`` have the same 2-d shape."""
    if X.shape != y.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {X.shape} and {y.shape}."
        )


def check_held_out(X_held_out, shape: tuple[int, int], *, name: str = "X_valid") -> sp.csr_matrix:
    """Validate a held-out matrix (e.g. ``fit(X, X_valid=...)``) against ``X``'s shape.

    Returns a canonical CSR copy (see :func:`as_interactions`); raises
    ``ValueError`` for another shape, NaN/inf values or no stored entry.
    """
    X_held_out = as_interactions(X_held_out)
    if X_held_out.shape != tuple(shape):
        raise ValueError(
            f"{name} and X must have the same shape, got {X_held_out.shape} and {tuple(shape)}."
        )
    if not np.all(np.isfinite(X_held_out.data)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if X_held_out.nnz == 0:
        raise ValueError(f"{name} has no stored entry to validate on.")
    return X_held_out
