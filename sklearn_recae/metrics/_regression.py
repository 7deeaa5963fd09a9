"""Rating-prediction errors (RMSE, MAE) on the stored entries of a sparse held-out matrix.

scikit-learn's ``mean_squared_error`` compares two dense vectors; here the
truth is a sparse ``(n_rows, n_items)`` matrix whose stored entries are the
held-out ratings, and the prediction is a dense block of the same shape (what
``estimator.predict`` returns for a batch of rows). Only the predictions at
the held-out entries are read. :func:`error_sums` returns additive sums, so a
scorer can accumulate batch by batch and obtain exactly the RMSE over all
entries (not a mean of per-batch RMSEs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ..utils.validation import as_real_array, check_interaction_matrix, check_same_shape

__all__ = ["ErrorSums", "error_sums", "mae", "rmse"]


@dataclass(frozen=True)
class ErrorSums:
    """Additive sums of prediction errors over a set of held-out entries.

    Add two instances (``a + b``) to combine batches; ``rmse`` and ``mae``
    are then exact over all the entries seen.

    Attributes
    ----------
    squared : float
        Sum of squared errors.
    absolute : float
        Sum of absolute errors.
    count : int
        Number of held-out entries.
    """

    squared: float = 0.0
    absolute: float = 0.0
    count: int = 0

    def __add__(self, other: ErrorSums) -> ErrorSums:
        if not isinstance(other, ErrorSums):
            return NotImplemented
        return ErrorSums(
            self.squared + other.squared, self.absolute + other.absolute, self.count + other.count
        )

    def _check_count(self) -> None:
        if self.count == 0:
            raise ValueError("y_true has no stored (held-out) entry to score.")

    @property
    def rmse(self) -> float:
        """Root mean squared error; ValueError if ``count`` is 0."""
        self._check_count()
        return float(np.sqrt(self.squared / self.count))

    @property
    def mae(self) -> float:
        """Mean absolute error; ValueError if ``count`` is 0."""
        self._check_count()
        return float(self.absolute / self.count)


def error_sums(y_true: ArrayLike | sp.spmatrix, y_pred: ArrayLike) -> ErrorSums:
    """Sums of squared and absolute errors at the stored entries of ``y_true``.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_rows, n_items)
        Held-out ratings; stored non-zero entries are scored, zeros are not.
    y_pred : array-like of shape (n_rows, n_items)
        Dense predictions (e.g. ``estimator.predict(X)``); only the values at
        ``y_true``'s stored entries are read.

    Returns
    -------
    sums : ErrorSums
        Additive sums; ``count`` may be 0.

    Raises
    ------
    TypeError
        If ``y_pred`` is sparse, or either argument holds complex or
        non-numeric values.
    ValueError
        If either argument is not 2-d, the shapes differ, ``y_true`` holds NaN,
        infinity or a value that overflows float32, or a prediction at a
        held-out entry is NaN or infinite (predictions elsewhere are not read).
    """
    # float64 for exact sums; the values must still be finite once cast to float32
    y_true = check_interaction_matrix(y_true, "y_true", dtype=np.float64)
    if sp.issparse(y_pred):
        raise TypeError("y_pred must be a dense array of shape y_true.shape, not a sparse matrix.")
    y_pred = as_real_array(y_pred, "y_pred")
    if y_pred.ndim != 2:
        raise ValueError(f"y_pred must be 2-d of shape {y_true.shape}, got shape {y_pred.shape}.")
    check_same_shape(y_true, y_pred, names=("y_true", "y_pred"))
    rows = np.repeat(np.arange(y_true.shape[0]), np.diff(y_true.indptr))
    predicted = y_pred[rows, y_true.indices].astype(np.float64)
    for problem, bad in (("NaN", np.isnan(predicted)), ("infinity", np.isinf(predicted))):
        where = np.flatnonzero(bad)
        if where.size:
            raise ValueError(
                f"y_pred contains {problem} at {where.size} held-out "
                f"entr{'ies' if where.size > 1 else 'y'} of y_true (first at row "
                f"{rows[where[0]]}, item {y_true.indices[where[0]]}); predictions at "
                "held-out entries must be finite."
            )
    errors = predicted - y_true.data
    with np.errstate(over="ignore"):
        squared, absolute = float(errors @ errors), float(np.abs(errors).sum())
    if not (np.isfinite(squared) and np.isfinite(absolute)):
        raise ValueError(
            "The sum of squared errors between y_pred and y_true overflows float64 "
            f"(largest |error| {np.abs(errors).max():.3g}); check the scale of y_pred."
        )
    return ErrorSums(squared, absolute, int(errors.size))


def rmse(y_true: ArrayLike | sp.spmatrix, y_pred: ArrayLike) -> float:
    """Root mean squared error over the stored entries of ``y_true``.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_rows, n_items)
        Held-out ratings; stored non-zero entries are scored.
    y_pred : array-like of shape (n_rows, n_items)
        Dense predictions; only values at ``y_true``'s stored entries are read.

    Returns
    -------
    rmse : float

    Raises
    ------
    TypeError
        If ``y_pred`` is sparse, or either argument holds complex or
        non-numeric values.
    ValueError
        If ``y_true`` has no stored entry, either argument is not 2-d, the
        shapes differ, ``y_true`` holds NaN, infinity or a value that
        overflows float32, or a prediction at a held-out entry is not finite.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sklearn_recae.metrics import rmse
    >>> y_true = sp.csr_matrix([[5.0, 0.0], [0.0, 3.0]])
    >>> rmse(y_true, np.array([[4.0, 9.0], [9.0, 3.0]]))  # sqrt((1 + 0) / 2)
    0.7071067811865476
    """
    return error_sums(y_true, y_pred).rmse


def mae(y_true: ArrayLike | sp.spmatrix, y_pred: ArrayLike) -> float:
    """Mean absolute error over the stored entries of ``y_true``.

    Parameters and errors are those of :func:`rmse`.

    Returns
    -------
    mae : float

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sklearn_recae.metrics import mae
    >>> y_true = sp.csr_matrix([[5.0, 0.0], [0.0, 3.0]])
    >>> mae(y_true, np.array([[4.0, 9.0], [9.0, 1.0]]))  # (1 + 2) / 2
    1.5
    """
    return error_sums(y_true, y_pred).mae
