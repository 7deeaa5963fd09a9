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

from ..utils.validation import as_interactions, check_same_shape

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


def error_sums(y_true, y_pred) -> ErrorSums:
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
    ValueError
        If the shapes differ or a prediction at a held-out entry is NaN or inf.
    """
    y_true = as_interactions(y_true, dtype=np.float64)
    if sp.issparse(y_pred):
        raise TypeError("y_pred must be a dense array of shape y_true.shape, not a sparse matrix.")
    y_pred = np.asarray(y_pred)
    if y_pred.ndim != 2:
        raise ValueError(f"y_pred must be 2-d of shape {y_true.shape}, got shape {y_pred.shape}.")
    check_same_shape(y_true, y_pred, names=("y_true", "y_pred"))
    rows = np.repeat(np.arange(y_true.shape[0]), np.diff(y_true.indptr))
    predicted = y_pred[rows, y_true.indices].astype(np.float64)
    if not np.all(np.isfinite(predicted)):
        raise ValueError("y_pred contains NaN or inf at held-out entries of y_true.")
    errors = predicted - y_true.data
    return ErrorSums(float(errors @ errors), float(np.abs(errors).sum()), int(errors.size))


def rmse(y_true, y_pred) -> float:
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
    ValueError
        If ``y_true`` has no stored entry, shapes differ, or predictions at
        held-out entries are not finite.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sklearn_recae.metrics import rmse
    >>> y_true = sp.csr_matrix([[5.0, 0.0], [0.0, 3.0]])
    >>> rmse(y_true, np.array([[4.0, 9.0], [9.0, 3.0]]))  # sqrt((1 + 0) / 2)
    0.7071067811865476
    """
    return error_sums(y_true, y_pred).rmse


def mae(y_true, y_pred) -> float:
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
