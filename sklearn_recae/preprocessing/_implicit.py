"""From explicit ratings to implicit (binary) feedback, as Mult-VAE/MIL-style models are trained.

:func:`binarize_interactions` keeps the ratings at or above a threshold as
positive interactions (1.0), drops the others (they become unobserved), then
drops the rows left with too few positives. It returns the indices of the rows
it kept, so user ids (``user_ids[kept_rows]``) can be mapped back; the columns
are never dropped, so item indices and ``item_ids`` stay valid.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from ..utils.validation import check_interaction_matrix, check_not_long_format

__all__ = ["binarize_interactions"]


def _check_threshold(threshold) -> float:
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a real number, got {type(threshold).__name__}.")
    threshold = float(threshold)
    if not np.isfinite(threshold):
        raise ValueError(
            f"threshold must be finite, got {threshold}: a rating is kept as a positive "
            "interaction when rating >= threshold."
        )
    return threshold


def _check_min_row_interactions(value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"min_row_interactions must be an int, got {type(value).__name__}."
        )
    if value < 0:
        raise ValueError(f"min_row_interactions must be >= 0, got {value}.")
    return int(value)


def binarize_interactions(
    X, *, threshold: float = 4.0, min_row_interactions: int = 5
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Turn ratings into implicit feedback: ``rating >= threshold`` becomes 1, the rest unobserved.

    The usual preparation of explicit ratings for implicit-feedback models
    (Mult-VAE, MIL): each stored rating at or above ``threshold`` becomes a
    positive interaction of value 1.0, every other rating is dropped (it
    becomes unobserved, not a stored 0), and then the rows with fewer than
    ``min_row_interactions`` positives are dropped. Columns are never dropped:
    item indices (and an ``item_ids`` array) keep their meaning, and an item
    without any positive is an empty column.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_rows, n_items)
        Ratings (users × items); a zero, stored or not, is unobserved and is
        never a positive, whatever the threshold. ``X`` is not modified.
    threshold : float, default=4.0
        Ratings ``>= threshold`` are positives. It must be finite. The
        comparison is made in the precision of ``X``'s values (a threshold of
        4.1 keeps a float32 rating of 4.1).
    min_row_interactions : int, default=5
        Rows with fewer positives than this are dropped; 0 keeps every row,
        including rows without positives.

    Returns
    -------
    X_binary : scipy.sparse.csr_matrix of shape (len(kept_rows), n_items), float32
        Canonical CSR whose stored entries are all 1.0: row ``r`` is row
        ``kept_rows[r]`` of ``X``.
    kept_rows : ndarray of shape (n_kept_rows,), dtype intp
        Indices of the rows of ``X`` that were kept, increasing; map ids back
        with ``user_ids[kept_rows]``.

    Raises
    ------
    TypeError
        If ``threshold`` is not a real number or ``min_row_interactions`` not
        an int; for complex or non-numeric ``X``.
    ValueError
        If ``threshold`` is NaN or infinite or ``min_row_interactions < 0``; if
        ``X`` is not 2-d, holds NaN, infinity or values that overflow float32,
        or is a long (user, item, rating) table; if nothing is left (no rating
        ``>= threshold``, or no row with ``min_row_interactions`` positives).

    See Also
    --------
    InteractionEncoder : builds ``X`` from a long table of ratings.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from sklearn_recae.preprocessing import binarize_interactions
    >>> X = sp.csr_matrix(np.array([[5, 4, 1, 0], [3, 0, 0, 4], [4, 0, 5, 5]], dtype=float))
    >>> user_ids = np.array(["ann", "bob", "cy"])
    >>> X_binary, kept_rows = binarize_interactions(X, threshold=4, min_row_interactions=2)
    >>> X_binary.toarray()
    array([[1., 1., 0., 0.],
           [1., 0., 1., 1.]], dtype=float32)
    >>> kept_rows, user_ids[kept_rows]  # bob has a single rating >= 4
    (array([0, 2]), array(['ann', 'cy'], dtype='<U3'))
    """
    threshold = _check_threshold(threshold)
    min_row_interactions = _check_min_row_interactions(min_row_interactions)
    check_not_long_format(X, "binarize_interactions")
    input_dtype = getattr(X, "dtype", None)
    # float64 holds float32, float64 and integer ratings exactly; the checks
    # (finite, no float32 overflow) are those of every matrix of the package
    R = check_interaction_matrix(X, "X", dtype=np.float64)
    cut = threshold  # compared in X's precision; messages show the threshold given
    if input_dtype is not None and np.dtype(input_dtype).kind == "f":
        with np.errstate(over="ignore"):  # a huge threshold becomes inf: nothing is kept
            cut = float(np.asarray(threshold, dtype=input_dtype))

    n_rows, n_items = R.shape
    row_of_entry = np.repeat(np.arange(n_rows), np.diff(R.indptr))
    positive = R.data >= cut
    counts = np.bincount(row_of_entry[positive], minlength=n_rows)
    if not positive.any():
        largest = f"its largest rating is {R.data.max():g}" if R.nnz else "it stores no rating"
        raise ValueError(
            f"Nothing is left: X has no rating >= threshold={threshold:g} ({largest}); "
            "lower the threshold."
        )
    kept_rows = np.flatnonzero(counts >= min_row_interactions)
    if kept_rows.size == 0:
        raise ValueError(
            f"Nothing is left: no row has min_row_interactions={min_row_interactions} "
            f"ratings >= threshold={threshold:g} (the most any of the {n_rows} rows has "
            f"is {counts.max()}); lower min_row_interactions or the threshold."
        )
    keep_entry = positive & (counts >= min_row_interactions)[row_of_entry]
    indptr = np.zeros(kept_rows.size + 1, dtype=np.int64)
    np.cumsum(counts[kept_rows], out=indptr[1:])
    index_dtype = np.int32 if indptr[-1] < np.iinfo(np.int32).max else np.int64
    X_binary = sp.csr_matrix(
        (
            np.ones(int(indptr[-1]), dtype=np.float32),
            R.indices[keep_entry].astype(index_dtype),
            indptr.astype(index_dtype),
        ),
        shape=(kept_rows.size, n_items),
    )
    X_binary.has_canonical_format = True  # subset of a canonical matrix's entries
    return X_binary, kept_rows
