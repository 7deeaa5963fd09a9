"""Input validation shared by every estimator, scorer and splitter."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp

from ._sklearn import validate_data

__all__ = [
    "as_interactions",
    "as_numeric",
    "check_bool",
    "check_held_out",
    "check_hidden_units",
    "check_interactions",
    "check_k",
    "check_same_shape",
]


#: A fitted matrix this tall and narrow is more likely a long table of ratings.
_LONG_FORMAT_MAX_COLUMNS, _LONG_FORMAT_MIN_ROWS = 4, 1000


def as_interactions(X, *, dtype=np.float32, copy: bool = False, name: str = "X") -> sp.csr_matrix:
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
    name : str, default="X"
        The argument's name in error messages.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)

    Raises
    ------
    TypeError
        For complex values.
    ValueError
        For NaN or infinity, also where a finite value overflows ``dtype``
        (1e39 in float32), and for input that is not 2-d.
    """
    if not sp.issparse(X):
        X = np.asarray(X)
    if np.iscomplexobj(X):
        raise TypeError(f"{name} holds complex values; interactions must be real numbers.")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-d (n_rows, n_items) matrix, got shape {X.shape}.")
    with np.errstate(over="ignore"):
        X = sp.csr_matrix(X, dtype=dtype, copy=True) if sp.issparse(X) else sp.csr_matrix(X, dtype=dtype)
    if not np.isfinite(X.data).all():
        raise ValueError(
            f"{name} contains NaN or infinity, or a value too large for {np.dtype(dtype).name} "
            f"(|value| > {np.finfo(dtype).max:.3g})."
        )
    if not X.has_canonical_format:
        X.sum_duplicates()
    X.eliminate_zeros()
    if X.indices.dtype != np.int32 and X.nnz < np.iinfo(np.int32).max:
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
    return X


def as_numeric(X, *, name: str = "X"):
    """Convert string and object arrays to float64 as ``fit``/``predict`` do; return others as given.

    ``check_interactions`` (``fit``, ``predict``, ``recommend``) lets
    :func:`sklearn.utils.check_array` cast a string (``"4.0"``) or object array
    to float64; the scorers and ``score`` call this first so that they accept
    the same input. Numeric arrays, sparse matrices and anything else are
    returned unchanged for the caller's own checks (2-d, finite, real).

    Raises
    ------
    ValueError
        If a string does not read as a number (``fit`` raises ``ValueError`` too).
    """
    if sp.issparse(X):
        return X
    try:
        array = np.asarray(X)
    except (TypeError, ValueError):
        return X  # ragged rows: the caller's check says so in its own terms
    if array.dtype.kind not in "USO":
        return X
    if array.dtype.kind == "O" and any(
        isinstance(v, (complex, np.complexfloating)) for v in array.flat
    ):
        return X  # the caller rejects complex values by name
    try:
        return np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must hold numbers: {error}.") from None


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
    from ..preprocessing import check_not_long_format

    check_not_long_format(X, type(estimator).__name__)
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
    X = as_interactions(X, dtype=dtype, copy=True)
    if reset and X.nnz == 0:
        raise ValueError(
            f"X has no stored non-zero entry (shape {X.shape}): zeros are unobserved, "
            f"so there is nothing for {type(estimator).__name__} to learn from."
        )
    if reset and X.shape[1] <= _LONG_FORMAT_MAX_COLUMNS and X.shape[0] >= _LONG_FORMAT_MIN_ROWS:
        warnings.warn(
            f"X has {X.shape[0]} rows but only {X.shape[1]} columns, read as {X.shape[1]} "
            "items. If it is a long table of (user, item, rating) rows, turn it into the "
            "users x items matrix with sklearn_recae.preprocessing.InteractionEncoder.",
            UserWarning,
            stacklevel=3,
        )
    return X


def check_bool(value, name: str) -> bool:
    """Return ``value`` if it is a bool (numpy's too), else raise ``TypeError`` naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_hidden_units(estimator, n_layers: int | None = None) -> tuple[int, ...]:
    """Check ``estimator.hidden_units``: a non-empty tuple of positive ints (``n_layers`` if given).

    Returns the widths as a tuple; raises ``ValueError`` naming the estimator's
    class when a model with exactly ``n_layers`` hidden widths is given another count.
    """
    units = estimator.hidden_units
    if not isinstance(units, (tuple, list)) or not units or not all(
        isinstance(h, numbers.Integral) and not isinstance(h, (bool, np.bool_)) and h >= 1
        for h in units
    ):
        raise ValueError(f"hidden_units must be a non-empty tuple of positive ints, got {units!r}.")
    if n_layers is not None and len(units) != n_layers:
        example = tuple(units[:n_layers]) if len(units) > n_layers else (200,) * n_layers
        raise ValueError(
            f"{type(estimator).__name__} has exactly {n_layers} hidden width(s): hidden_units "
            f"must be a tuple of {n_layers} positive int(s), e.g. {example}, got {units!r}."
        )
    return tuple(int(h) for h in units)


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


def check_held_out(X_held_out, X: sp.csr_matrix, *, name: str = "X_valid") -> sp.csr_matrix:
    """Validate a held-out matrix (e.g. ``fit(X, X_valid=...)``) against the training matrix.

    Returns a canonical CSR copy (see :func:`as_interactions`); raises
    ``ValueError`` for another shape, NaN/inf values, no stored entry, or an
    entry also stored in ``X`` (held-out entries must be disjoint from the
    training entries, or the validation score measures memorisation), and
    ``TypeError`` for complex values.
    """
    X_held_out = as_interactions(X_held_out, name=name)
    if X_held_out.shape != X.shape:
        raise ValueError(
            f"{name} and X must have the same shape, got {X_held_out.shape} and {X.shape}."
        )
    if X_held_out.nnz == 0:
        raise ValueError(f"{name} has no stored entry to validate on.")
    overlap = X_held_out.multiply(X != 0).nnz
    if overlap:
        raise ValueError(
            f"{name} shares {overlap} stored entries with X; held-out entries must be "
            "disjoint from the training entries (split them with "
            "sklearn_recae.model_selection.train_test_split)."
        )
    return X_held_out
