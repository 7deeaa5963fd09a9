"""Validation of the array arguments of the metrics and scorers, by argument name.

Every matrix a metric or scorer receives (``y_true``, ``y_pred``, ``y_rec``,
``item_popularity``, a scorer's ``X`` and ``y``) goes through one of the two
functions here, so a bad input fails with the same ``TypeError``/``ValueError``
naming the argument (design §6) instead of a message from inside numpy or
scipy, a ``ComplexWarning``, or a silent NaN score:

- :func:`check_interaction_matrix`: a 2-d interaction / held-out matrix,
  returned as canonical CSR; NaN, infinity and values that overflow float32
  are rejected (finiteness is checked *after* the float32 cast, as every
  estimator of the package works in float32).
- :func:`as_real_array`: a dense real-valued array (predictions, item indices,
  popularity); no finiteness check, as the caller knows which values matter.

Both are private to :mod:`sklearn_recae.metrics` for now; they only rely on
:func:`sklearn_recae.utils.validation.as_interactions` and may move there.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..utils.validation import as_interactions

__all__ = ["as_real_array", "check_interaction_matrix"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _complex_error(name: str) -> TypeError:
    return TypeError(
        f"{name} has complex values; complex values are not supported, {name} must "
        "hold real numbers."
    )


def as_real_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a dense numpy array of real numbers (bool, int or float).

    Parameters
    ----------
    value : array-like
        Any input accepted by :func:`numpy.asarray`; not a sparse matrix.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    array : ndarray
        ``value`` as an array of kind bool, integer or float (not copied when
        it already is one); an object array of numbers is converted to float64.

    Raises
    ------
    TypeError
        For complex or non-numeric (string, object, ...) values.
    ValueError
        If ``value`` cannot be read as an array (e.g. rows of different lengths).
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} could not be read as an array: are its rows of different lengths?"
        ) from None
    kind = array.dtype.kind
    if kind == "c":
        raise _complex_error(name)
    if kind == "O":
        if any(isinstance(v, (complex, np.complexfloating)) for v in array.flat):
            raise _complex_error(name)
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must hold numbers, got non-numeric values (dtype object)."
            ) from None
    if kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}.")
    return array


def check_interaction_matrix(X, name: str, *, dtype=np.float32) -> sp.csr_matrix:
    """Validate an interaction or held-out matrix argument and return it as canonical CSR.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_rows, n_items)
        The argument; a zero (stored or not) means unobserved.
    name : str
        The argument's name (``"y_true"``, ``"X"``, ``"y"``), used in the messages.
    dtype : numpy dtype, default=np.float32
        Dtype of the returned matrix. Whatever it is, the values must be finite
        once cast to float32.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        Canonical copy (see :func:`~sklearn_recae.utils.validation.as_interactions`);
        the caller's object is unchanged.

    Raises
    ------
    TypeError
        For complex or non-numeric values.
    ValueError
        If ``X`` is not 2-d, or holds NaN, infinity or a finite value that
        overflows float32 (``|value| > 3.4e38``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recae.metrics._validation import check_interaction_matrix
    >>> check_interaction_matrix([[1.0, 0.0], [0.0, 1e39]], "y")
    Traceback (most recent call last):
    ...
    ValueError: y has 1 value that overflows float32 (1e+39 at row 1, item 1; \
the largest float32 is 3.4e+38): it would become infinity after the cast to float32.
    """
    if sp.issparse(X):
        if X.dtype.kind == "c":
            raise _complex_error(name)
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}.")
    else:
        X = as_real_array(X, name)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-d matrix of shape (n_rows, n_items), got "
            f"{X.ndim}-d input of shape {X.shape}."
        )
    if X.dtype.kind == "f":  # bool and integer values are finite and fit float32
        if sp.issparse(X) and (X.format != "csr" or not X.has_canonical_format):
            # one value per entry (duplicates summed, in X's precision) in a plain array
            X = sp.csr_matrix(X, copy=True)
            X.sum_duplicates()
        _check_finite_float32(X, name)
    return as_interactions(X, dtype=dtype)


def _check_finite_float32(X, name: str) -> None:
    """Raise if the float values of ``X`` (dense or canonical CSR) are not finite in float32."""
    values = X.data if sp.issparse(X) else X
    with np.errstate(over="ignore"):
        if np.isfinite(values.astype(np.float32, copy=False)).all():
            return
    # error path only: say what is wrong and where
    for problem, mask in (("NaN", np.isnan(values)), ("infinity", np.isinf(values))):
        n = int(np.count_nonzero(mask))
        if n:
            raise ValueError(
                f"{name} contains {problem} at {n} entr{'ies' if n > 1 else 'y'} "
                f"(first at {_position(X, mask)}); every value of {name} must be finite."
            )
    with np.errstate(over="ignore"):
        mask = np.isinf(values.astype(np.float32))
    n = int(np.count_nonzero(mask))
    first = float(values[mask][0])
    raise ValueError(
        f"{name} has {n} value{'s' if n > 1 else ''} that overflow{'' if n > 1 else 's'} "
        f"float32 ({first:.3g} at {_position(X, mask)}; the largest float32 is "
        f"{_FLOAT32_MAX:.2g}): {'they' if n > 1 else 'it'} would become infinity after "
        f"the cast to float32."
    )


def _position(X, mask: np.ndarray) -> str:
    """``"row r, item i"`` of the first True of ``mask`` (over ``X`` or its ``data``)."""
    if sp.issparse(X):
        coo = X.tocoo()  # same order of ``data`` as the canonical CSR
        index = int(np.flatnonzero(mask)[0])
        row, item = coo.row[index], coo.col[index]
    else:
        row, item = np.argwhere(mask)[0]
    return f"row {int(row)}, item {int(item)}"
