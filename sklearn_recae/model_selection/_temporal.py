"""Temporal and leave-one-out splits of the stored entries of an interaction matrix.

A random entry split lets a model train on a user's future to predict their
past. The protocols here read the time of each interaction instead: a global
cut-off (train on the past, test on what came after: closest to deployment),
each user's latest entries, and leave-one-out (each user's last entry, or a
random one, seeded) as in the sequential and NCF literature. Like
:func:`~sklearn_recae.model_selection.train_test_split` they return matrices
of ``X``'s shape, ready for ``fit(X_train)``, ``score(X_train, y=X_test)``
and ``GridSearchCV(..., cv=PredefinedEntrySplit())``.

Timestamps are a matrix of ``X``'s shape (the loader's ``timestamps``, with
the sparsity pattern of its ``ratings``), never an array in some storage
order: a matrix cannot be misaligned silently. Everything is one sort over the
stored entries (no Python loop over users), so ML-20M sized input takes seconds
(``benchmarks/splitter_speed.py``).
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ..utils.validation import as_interactions
from ._split import (
    _check_min_entries,
    _check_nonempty,
    _entry_rows,
    _rank_within_rows,
    _row_counts,
    _size_to_count,
    _split_by_rank,
    _split_counts,
)

__all__ = ["leave_one_out_split", "temporal_split"]


def _first_position(X: sp.csr_matrix, mask: np.ndarray) -> str:
    """'row r, column c' of the first stored entry of ``X`` where ``mask`` holds."""
    first = int(np.flatnonzero(mask)[0])
    return f"row {_entry_rows(X)[first]}, column {X.indices[first]}"


def _check_time_values(times: np.ndarray) -> np.ndarray:
    if times.dtype.kind not in "iuf" or times.dtype == np.bool_:
        raise TypeError(
            f"timestamps must hold real numbers (e.g. Unix seconds), got dtype {times.dtype}; "
            "convert datetimes with .astype('datetime64[s]').astype('int64')."
        )
    if times.dtype.kind == "f" and not np.isfinite(times).all():
        raise ValueError("timestamps contains NaN or infinity at an observed entry of X.")
    return times


def _sparse_entry_times(timestamps, X: sp.csr_matrix) -> np.ndarray:
    """Times of ``X``'s stored entries read from a sparse ``timestamps`` of its shape."""
    T = sp.csr_matrix(timestamps, copy=True)
    T.sum_duplicates()  # also sorts the indices, as in X
    if np.array_equal(T.indptr, X.indptr) and np.array_equal(T.indices, X.indices):
        return T.data  # the same pattern (the loader's timestamps): no look-up
    n_items = X.shape[1]
    t_keys = _entry_rows(T).astype(np.int64) * n_items + T.indices
    x_keys = _entry_rows(X).astype(np.int64) * n_items + X.indices
    if t_keys.size == 0:
        missing = np.ones(X.nnz, dtype=bool)
    else:
        pos = np.minimum(np.searchsorted(t_keys, x_keys), t_keys.size - 1)
        missing = t_keys[pos] != x_keys
    if missing.any():
        raise ValueError(
            f"timestamps stores no time for {int(missing.sum())} of the {X.nnz} observed "
            f"entries of X (first at {_first_position(X, missing)}): timestamps must be a "
            "matrix of X's shape holding the time of every observed entry (the same "
            "sparsity pattern; a time of 0 must be stored explicitly)."
        )
    return T.data[pos]


def _entry_times(timestamps, X: sp.csr_matrix) -> np.ndarray:
    """Time of each stored entry of canonical ``X``, in storage order.

    ``timestamps`` is a sparse matrix or a dense array of ``X``'s shape; only
    its values at ``X``'s observed entries are read (other stored times, e.g.
    those of ratings filtered out of ``X``, are ignored).
    """
    if timestamps is None:
        raise TypeError("timestamps is required: a matrix of X's shape with the time of each entry.")
    if not sp.issparse(timestamps):
        timestamps = np.asarray(timestamps)
    if timestamps.ndim != 2 or timestamps.shape != X.shape:
        raise ValueError(
            f"timestamps must be a matrix of X's shape {X.shape}, got shape "
            f"{timestamps.shape}; it holds the time of each entry of X at the same position."
        )
    if np.iscomplexobj(timestamps):
        raise TypeError("timestamps holds complex values; times must be real numbers.")
    if sp.issparse(timestamps):
        times = _sparse_entry_times(timestamps, X)
    else:
        times = timestamps[_entry_rows(X), X.indices]
    return _check_time_values(np.asarray(times))


def _check_cutoff(cutoff) -> float:
    if isinstance(cutoff, (bool, np.bool_)) or not isinstance(cutoff, numbers.Real):
        raise TypeError(
            f"cutoff must be a time (a real number in the units of timestamps), got "
            f"{type(cutoff).__name__}."
        )
    if not np.isfinite(cutoff):
        raise ValueError(f"cutoff must be finite, got {cutoff}.")
    return cutoff


def _global_split(X, times, test_size, valid_size, cutoff) -> list[sp.csr_matrix]:
    """Hold out the latest entries of all rows: ``times >= cutoff`` or ``test_size`` of them."""
    recency = np.empty(X.nnz, dtype=np.int64)  # 0 = the latest entry (ties: storage order)
    recency[np.argsort(times, kind="stable")] = np.arange(X.nnz)[::-1]
    if cutoff is None:
        sizes = [test_size] if valid_size is None else [valid_size, test_size]
        names = ["test_size"] if valid_size is None else ["valid_size", "test_size"]
        counts = _split_counts(X.nnz, sizes, names)
        return _split_by_rank(X, recency, counts[-1], None if valid_size is None else counts[0])
    n_test = int(np.count_nonzero(times >= _check_cutoff(cutoff)))
    if not 0 < n_test < X.nnz:
        raise ValueError(
            f"cutoff={cutoff} puts {n_test} of the {X.nnz} entries in the test part; the "
            f"times of X's entries run from {times.min()} to {times.max()}, and both parts "
            "need an entry."
        )
    if valid_size is None:
        return _split_by_rank(X, recency, n_test)
    n_valid = _size_to_count(valid_size, X.nnz, "valid_size")
    if n_test + n_valid >= X.nnz:
        raise ValueError(
            f"valid_size = {n_valid} entries before cutoff={cutoff} leaves no training "
            f"entry ({X.nnz - n_test} entries are before the cut-off)."
        )
    return _split_by_rank(X, recency, n_test, n_valid)


def _per_row_split(X, keys, test_size, valid_size, min_entries, latest) -> list[sp.csr_matrix]:
    """Hold out entries of each row by ``keys``: the largest when ``latest``, else the smallest."""
    n_per_row = np.diff(X.indptr)
    n_test = _row_counts(n_per_row, test_size, "test_size", min_entries)
    rows = _entry_rows(X)
    rank = _rank_within_rows(X, keys)
    if latest:
        rank = n_per_row[rows] - 1 - rank
    if valid_size is None:
        return _split_by_rank(X, rank, n_test[rows])
    n_valid = _row_counts(n_per_row, valid_size, "valid_size", min_entries)
    n_valid = np.clip(n_valid, 0, n_per_row - n_test - 1)  # at least one training entry
    return _split_by_rank(X, rank, n_test[rows], n_valid[rows])


def temporal_split(
    X,
    timestamps,
    *,
    test_size: float | int | None = None,
    valid_size: float | int | None = None,
    cutoff: float | None = None,
    per_user: bool = False,
    min_entries: int = 2,
) -> list[sp.csr_matrix]:
    """Split the stored entries of ``X`` by time: the latest ones are held out.

    Two protocols:

    - **global** (``per_user=False``): the test part is every entry at or
      after ``cutoff`` (``timestamps >= cutoff``), or the latest ``test_size``
      of all entries. Every test entry is then no earlier than every training
      entry: the model is trained on the past and scored on what followed, as
      when it is deployed. Users whose entries are all after the cut-off keep
      no training entry (fold-in from an empty row), as in deployment.
    - **per user** (``per_user=True``): each row's latest ``test_size``
      entries (an int: that many; a float: that fraction, rounded half up,
      at least 1), never all of a row's entries, and none of a row with
      fewer than ``min_entries`` entries. Every test entry of a row is then
      no earlier than every training entry of that row.

    The validation part (``valid_size``, same units) is made the same way
    from the entries just before the test part, so that model selection
    follows the protocol of the test; leave ``valid_size`` out and split the
    training part again for a separate validation split. Ties in time are
    broken by storage order (row, then column): the later position counts as
    the later entry.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_rows, n_items)
        Interactions; zeros, stored or not, are unobserved. Not modified.
    timestamps : {array-like, sparse matrix} of shape (n_rows, n_items)
        Time of each entry of ``X`` at the same position, as real numbers
        (e.g. the Unix seconds of ``load_movielens_100k().timestamps``). A
        sparse matrix must store a time at every observed entry of ``X``
        (the same sparsity pattern); times at other positions are ignored,
        so the timestamps of all ratings serve a filtered ``X`` (e.g. the
        ratings >= 4). Not modified.
    test_size : float or int, default=None
        Global: fraction (in (0, 1), rounded up) or number of all stored
        entries in the test part. Per user: fraction or number of each row's
        entries. None means 0.1 unless ``cutoff`` is given.
    valid_size : float or int, default=None
        The same for a validation part of the entries just before the test
        part; None makes no validation part.
    cutoff : float, default=None
        Global only: a time in the units of ``timestamps``; entries at or
        after it are the test part. Excludes ``test_size``.
    per_user : bool, default=False
        Hold out each row's latest entries instead of the globally latest.
    min_entries : int, default=2
        Per user only: rows with fewer stored entries hold out nothing; >= 2.

    Returns
    -------
    splits : list of scipy.sparse.csr_matrix of shape (n_rows, n_items)
        ``[X_train, X_test]``, or ``[X_train, X_valid, X_test]`` with
        ``valid_size``: canonical float32 CSR matrices, disjoint, summing to ``X``.

    Raises
    ------
    TypeError
        If ``timestamps`` is missing, not real-valued (datetimes: convert to
        int64 first) or ``cutoff``/a size has the wrong type.
    ValueError
        If ``timestamps`` has another shape, lacks the time of an observed
        entry, or holds NaN/infinity there; if both ``cutoff`` and
        ``test_size`` are given, or ``cutoff`` with ``per_user=True``; if a
        size is out of range or a part would be empty (global).

    See Also
    --------
    leave_one_out_split : each row's last entry by time, or a random one.
    train_test_split : a uniform random split of the entries.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recae.model_selection import temporal_split
    >>> X = np.array([[5, 3, 4, 0], [0, 2, 0, 1]])
    >>> T = np.array([[10, 30, 20, 0], [0, 15, 0, 40]])
    >>> X_train, X_test = temporal_split(X, T, cutoff=25)  # times 30 and 40
    >>> X_test.toarray()
    array([[0., 3., 0., 0.],
           [0., 0., 0., 1.]], dtype=float32)
    >>> X_train, X_test = temporal_split(X, T, test_size=1, per_user=True)
    >>> X_test.nonzero()  # each row's latest entry
    (array([0, 1], dtype=int32), array([1, 3], dtype=int32))
    """
    if not isinstance(per_user, (bool, np.bool_)):
        raise TypeError(f"per_user must be True or False, got {per_user!r}.")
    if cutoff is not None and test_size is not None:
        raise ValueError(
            "Give either cutoff (a time) or test_size (a share of the entries), not both."
        )
    if cutoff is not None and per_user:
        raise ValueError(
            "cutoff is a global time; with per_user=True give test_size (each row's "
            "latest entries) instead."
        )
    min_entries = _check_min_entries(min_entries)
    X = as_interactions(X)
    _check_nonempty(X)
    times = _entry_times(timestamps, X)
    if cutoff is None and test_size is None:
        test_size = 0.1
    if per_user:
        return _per_row_split(X, times, test_size, valid_size, min_entries, latest=True)
    return _global_split(X, times, test_size, valid_size, cutoff)


def leave_one_out_split(
    X,
    timestamps=None,
    *,
    return_valid: bool = False,
    min_entries: int = 2,
    random_state=None,
) -> list[sp.csr_matrix]:
    """Hold out one entry of each row: the last by time, or a random one (seeded).

    Every row with at least ``min_entries`` stored entries gives exactly one
    entry to the test part: its latest (by ``timestamps``; ties go to the
    later column) or, without ``timestamps``, one drawn uniformly at random.
    With ``return_valid=True`` the entry before it (the second latest, or a
    second random one) goes to a validation part, where the row keeps a
    training entry. Rows with fewer entries stay whole in the training part.
    This is the leave-one-out protocol of NCF and the sequential
    recommenders; score it with ``hit_rate@k``, ``ndcg@k`` or ``mrr@k``
    over the full catalogue (see :mod:`sklearn_recae.metrics`: no sampled
    negatives).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_rows, n_items)
        Interactions; zeros, stored or not, are unobserved. Not modified.
    timestamps : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
        Time of each entry, as in :func:`temporal_split`; None holds out a
        random entry of each row.
    return_valid : bool, default=False
        Also hold out a validation entry per row.
    min_entries : int, default=2
        Rows with fewer stored entries hold out nothing; >= 2, so that every
        row keeps a training entry.
    random_state : int, RandomState instance or None, default=None
        Seed of the random choice; unused with ``timestamps``.

    Returns
    -------
    splits : list of scipy.sparse.csr_matrix of shape (n_rows, n_items)
        ``[X_train, X_test]``, or ``[X_train, X_valid, X_test]`` with
        ``return_valid=True``: canonical float32 CSR matrices, disjoint,
        summing to ``X``.

    Raises
    ------
    ValueError, TypeError
        For bad ``X`` or ``timestamps`` (see :func:`temporal_split`) or ``min_entries``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recae.model_selection import leave_one_out_split
    >>> X = np.array([[5, 3, 4, 0], [0, 2, 0, 0]])
    >>> T = np.array([[10, 30, 20, 0], [0, 15, 0, 0]])
    >>> X_train, X_valid, X_test = leave_one_out_split(X, T, return_valid=True)
    >>> X_test.nonzero(), X_valid.nonzero()  # row 1 has one entry: kept for training
    ((array([0], dtype=int32), array([1], dtype=int32)), (array([0], dtype=int32), \
array([2], dtype=int32)))
    """
    if not isinstance(return_valid, (bool, np.bool_)):
        raise TypeError(f"return_valid must be True or False, got {return_valid!r}.")
    min_entries = _check_min_entries(min_entries)
    X = as_interactions(X)
    _check_nonempty(X)
    valid_size = 1 if return_valid else None
    if timestamps is None:
        keys = check_random_state(random_state).random_sample(X.nnz)
        return _per_row_split(X, keys, 1, valid_size, min_entries, latest=False)
    times = _entry_times(timestamps, X)
    return _per_row_split(X, times, 1, valid_size, min_entries, latest=True)
