"""Temporal and leave-one-out splits: time order, counts per row, seeding, errors, GridSearchCV."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV

from sklearn_recae.datasets import make_interactions
from sklearn_recae.linear import EASE
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import (
    PredefinedEntrySplit,
    leave_one_out_split,
    temporal_split,
)


@pytest.fixture
def data():
    """40 x 25 ratings (rows with 0, 1 and 2 to ~12 entries) and distinct integer times."""
    X = make_interactions(40, 25, density=0.25, min_per_row=2, random_state=0).tolil()
    X[0, :] = 0.0  # a row without entries
    X[1, :] = 0.0
    X[1, 3] = 4.0  # a row with one entry
    X = X.tocsr()
    X.eliminate_zeros()
    times = X.copy().astype(np.int64)
    times.data = 1_000_000 + np.random.RandomState(0).permutation(X.nnz) * 60
    return X, times


def _times_of(part: sp.csr_matrix, T: sp.csr_matrix) -> sp.csr_matrix:
    """The times of ``part``'s entries (T restricted to part's pattern)."""
    return T.multiply(part != 0).tocsr()


def _check_partition(parts, X):
    assert all(sp.isspmatrix_csr(p) and p.shape == X.shape and p.dtype == np.float32 for p in parts)
    assert sum(p.nnz for p in parts) == X.nnz
    assert (sum(parts[1:], parts[0]) != X).nnz == 0


def _row_extremes(M: sp.csr_matrix, reduce) -> np.ndarray:
    """Per-row min or max of the stored values, NaN for empty rows."""
    out = np.full(M.shape[0], np.nan)
    for r in range(M.shape[0]):
        values = M.data[M.indptr[r] : M.indptr[r + 1]]
        if values.size:
            out[r] = reduce(values)
    return out


# ---------------------------------------------------------------- global cut-off


def test_global_cutoff_puts_every_test_entry_after_it(data):
    X, T = data
    cutoff = np.quantile(T.data, 0.8)
    X_train, X_test = temporal_split(X, T, cutoff=cutoff)
    _check_partition([X_train, X_test], X)
    assert _times_of(X_test, T).data.min() >= cutoff
    assert _times_of(X_train, T).data.max() < cutoff
    assert X_test.nnz == np.count_nonzero(T.data >= cutoff)


def test_global_fraction_holds_out_the_latest_entries(data):
    X, T = data
    X_train, X_valid, X_test = temporal_split(X, T, test_size=0.2, valid_size=10)
    _check_partition([X_train, X_valid, X_test], X)
    assert (X_valid.nnz, X_test.nnz) == (10, math.ceil(0.2 * X.nnz))
    train, valid, test = (_times_of(p, T).data for p in (X_train, X_valid, X_test))
    assert train.max() < valid.min() and valid.max() < test.min()
    # the default is the latest 10% of the entries
    assert temporal_split(X, T)[1].nnz == math.ceil(0.1 * X.nnz)


def test_global_cutoff_with_validation(data):
    X, T = data
    cutoff = np.quantile(T.data, 0.9)
    X_train, X_valid, X_test = temporal_split(X, T, cutoff=cutoff, valid_size=0.1)
    assert X_valid.nnz == math.ceil(0.1 * X.nnz)
    assert _times_of(X_valid, T).data.max() < cutoff <= _times_of(X_test, T).data.min()
    assert _times_of(X_train, T).data.max() < _times_of(X_valid, T).data.min()


def test_ties_are_broken_by_storage_order():
    X = np.ones((2, 3))
    T = np.full((2, 3), 7)
    X_train, X_test = temporal_split(X, T, test_size=2)
    np.testing.assert_array_equal(X_test.toarray(), [[0, 0, 0], [0, 1, 1]])
    X_train, X_test = temporal_split(X, T, test_size=1, per_user=True)
    np.testing.assert_array_equal(X_test.toarray(), [[0, 0, 1], [0, 0, 1]])


# ---------------------------------------------------------------- per user


@pytest.mark.parametrize("test_size", [1, 3, 0.3])
def test_per_user_test_entries_follow_every_train_entry_of_the_row(data, test_size):
    X, T = data
    X_train, X_test = temporal_split(X, T, test_size=test_size, per_user=True)
    _check_partition([X_train, X_test], X)
    n = np.diff(X.indptr)
    if isinstance(test_size, int):
        expected = np.minimum(test_size, np.maximum(n - 1, 0))
    else:
        expected = np.clip(np.floor(test_size * n + 0.5), 1, np.maximum(n - 1, 1))
    expected[n < 2] = 0
    np.testing.assert_array_equal(np.diff(X_test.indptr), expected)
    first_test = _row_extremes(_times_of(X_test, T), np.min)
    last_train = _row_extremes(_times_of(X_train, T), np.max)
    held = ~np.isnan(first_test)
    assert held.sum() == np.count_nonzero(n >= 2)
    assert np.all(first_test[held] > last_train[held])


def test_per_user_validation_part_and_min_entries(data):
    X, T = data
    X_train, X_valid, X_test = temporal_split(
        X, T, test_size=1, valid_size=2, per_user=True, min_entries=5
    )
    _check_partition([X_train, X_valid, X_test], X)
    n = np.diff(X.indptr)
    np.testing.assert_array_equal(np.diff(X_test.indptr), np.where(n >= 5, 1, 0))
    np.testing.assert_array_equal(np.diff(X_valid.indptr), np.where(n >= 5, np.minimum(2, n - 2), 0))
    held = n >= 5
    assert np.all(
        _row_extremes(_times_of(X_valid, T), np.max)[held]
        < _row_extremes(_times_of(X_test, T), np.min)[held]
    )
    assert np.all(
        _row_extremes(_times_of(X_train, T), np.max)[held]
        < _row_extremes(_times_of(X_valid, T), np.min)[held]
    )


def test_dense_timestamps_and_extra_stored_times(data):
    """A dense matrix of times works; times stored where X has no entry are ignored."""
    X, T = data
    expected = temporal_split(X, T, test_size=2, per_user=True)
    dense = temporal_split(X.toarray(), T.toarray(), test_size=2, per_user=True)
    X_high = X.multiply(X >= 4).tocsr()  # a filtered X against the times of all ratings
    filtered = temporal_split(X_high, T, test_size=2, per_user=True)
    assert all((a != b).nnz == 0 for a, b in zip(expected, dense))
    assert _times_of(filtered[1], T).nnz == filtered[1].nnz
    assert (filtered[0] + filtered[1] != X_high).nnz == 0


# ---------------------------------------------------------------- leave-one-out


def test_leave_one_out_by_time_holds_out_each_rows_last_entry(data):
    X, T = data
    X_train, X_test = leave_one_out_split(X, T)
    _check_partition([X_train, X_test], X)
    n = np.diff(X.indptr)
    np.testing.assert_array_equal(np.diff(X_test.indptr), (n >= 2).astype(int))
    last = _row_extremes(T, np.max)
    np.testing.assert_array_equal(_row_extremes(_times_of(X_test, T), np.max)[n >= 2], last[n >= 2])


def test_leave_one_out_random_is_seeded_and_has_a_validation_part(data):
    X, T = data
    n = np.diff(X.indptr)
    a = leave_one_out_split(X, random_state=0, return_valid=True, min_entries=3)
    b = leave_one_out_split(X, random_state=0, return_valid=True, min_entries=3)
    c = leave_one_out_split(X, random_state=1, return_valid=True, min_entries=3)
    _check_partition(a, X)
    assert all((p != q).nnz == 0 for p, q in zip(a, b))
    assert (a[2] != c[2]).nnz > 0
    np.testing.assert_array_equal(np.diff(a[2].indptr), (n >= 3).astype(int))
    np.testing.assert_array_equal(np.diff(a[1].indptr), (n >= 3).astype(int))
    assert np.all(np.diff(a[0].indptr)[n > 0] >= 1)  # every row keeps a training entry
    # each entry of a 4-entry row is left out in about a quarter of the draws
    row = np.ones((1, 4))
    hits = sum(leave_one_out_split(row, random_state=s)[1].toarray() for s in range(400))
    assert np.all(np.abs(hits / 400 - 0.25) < 0.08)


def test_splits_do_not_modify_the_inputs(data):
    X, T = data
    X.data[0] = 0.0  # an explicit stored zero: unobserved, and its time is ignored
    X_before, T_before = X.copy(), T.copy()
    T_dense = T.toarray()
    temporal_split(X, T, test_size=0.2)
    temporal_split(X, T_dense, test_size=1, per_user=True)
    leave_one_out_split(X, T, return_valid=True)
    for M, before in ((X, X_before), (T, T_before)):
        assert M.nnz == before.nnz and np.array_equal(M.data, before.data)
        assert np.array_equal(M.indices, before.indices)
    np.testing.assert_array_equal(T_dense, T_before.toarray())


# ---------------------------------------------------------------- errors


def _nan_times(X, T):
    T = T.astype(float)
    T.data[3] = np.nan
    return T


@pytest.mark.parametrize(
    ("make_times", "kwargs", "error", "match"),
    [
        (lambda X, T: T[:, :-1], {}, ValueError, r"matrix of X's shape \(40, 25\)"),
        (lambda X, T: T.data, {}, ValueError, "matrix of X's shape"),
        (lambda X, T: T.T.tocsr(), {}, ValueError, "shape"),
        (lambda X, T: sp.csr_matrix(sp.random(40, 25, density=0.25, random_state=1)),
         {}, ValueError, "no time for .* observed entries of X"),
        (_nan_times, {}, ValueError, "NaN or infinity"),
        (lambda X, T: T.toarray().astype("datetime64[s]"), {}, TypeError, "int64"),
        (lambda X, T: T.toarray().astype(bool), {}, TypeError, "real numbers"),
        (lambda X, T: None, {}, TypeError, "timestamps is required"),
        (lambda X, T: T, {"cutoff": 5, "test_size": 0.1}, ValueError, "not both"),
        (lambda X, T: T, {"cutoff": 5, "per_user": True}, ValueError, "global time"),
        (lambda X, T: T, {"cutoff": 5}, ValueError, r"puts (\d+) of the \1 entries"),
        (lambda X, T: T, {"cutoff": 2e6}, ValueError, "puts 0 of the"),
        (lambda X, T: T, {"cutoff": "2020"}, TypeError, "cutoff must be a time"),
        (lambda X, T: T, {"cutoff": float("nan")}, ValueError, "finite"),
        (lambda X, T: T, {"test_size": 0, "per_user": True}, ValueError, ">= 1"),
        (lambda X, T: T, {"test_size": 1.5, "per_user": True}, ValueError, r"\(0, 1\)"),
        (lambda X, T: T, {"test_size": "1"}, TypeError, "float or an int"),
        (lambda X, T: T, {"test_size": 0.6, "valid_size": 0.5}, ValueError, "sum of"),
        (lambda X, T: T, {"per_user": 1}, TypeError, "per_user must be True or False"),
        (lambda X, T: T, {"min_entries": 1, "per_user": True}, ValueError, "min_entries"),
    ],
)
def test_temporal_split_errors(data, make_times, kwargs, error, match):
    X, T = data
    with pytest.raises(error, match=match):
        temporal_split(X, make_times(X, T), **kwargs)


def test_leave_one_out_errors(data):
    X, T = data
    with pytest.raises(ValueError, match="no observed entries"):
        leave_one_out_split(sp.csr_matrix((3, 4)))
    with pytest.raises(TypeError, match="return_valid"):
        leave_one_out_split(X, return_valid="yes")
    with pytest.raises(ValueError, match="matrix of X's shape"):
        leave_one_out_split(X, T[:-1])
    with pytest.raises(ValueError, match="min_entries must be >= 2"):
        leave_one_out_split(X, min_entries=1)


# ---------------------------------------------------------------- with GridSearchCV


def test_temporal_split_through_predefined_entry_split(data):
    """A temporal split's train/valid parts drive GridSearchCV as a uniform split does."""
    X, T = data
    X_train, X_valid, X_test = temporal_split(X, T, test_size=1, valid_size=1, per_user=True)
    scorer = get_scorer("mrr@5")
    grid = {"l2": [1.0, 100.0]}
    search = GridSearchCV(EASE(), grid, cv=PredefinedEntrySplit(), scoring=scorer)
    search.fit(X_train, X_valid)
    for l2, score in zip(grid["l2"], search.cv_results_["mean_test_score"]):
        assert score == pytest.approx(scorer(EASE(l2=l2).fit(X_train), X_train, X_valid))
    assert 0.0 <= search.score(X_train + X_valid, X_test) <= 1.0


@pytest.mark.slow
def test_movielens_timestamps_drive_the_splits():
    """The loader's timestamps: cut-off, per-user and leave-one-out splits of the real data."""
    from sklearn_recae.datasets import load_movielens_100k

    data = load_movielens_100k()
    X, T = data.ratings, data.timestamps
    cutoff = int(np.quantile(T.data, 0.9))
    X_train, X_test = temporal_split(X, T, cutoff=cutoff)
    assert _times_of(X_train, T).data.max() < cutoff <= _times_of(X_test, T).data.min()
    X_train, X_test = leave_one_out_split(X, T)
    # every user has >= 20 ratings: one test entry each, the latest of the user
    np.testing.assert_array_equal(np.diff(X_test.indptr), np.ones(943))
    last = _row_extremes(T, np.max)
    np.testing.assert_array_equal(_row_extremes(_times_of(X_test, T), np.max), last)
    positives = (X >= 4).astype(np.float32).tocsr()  # a filtered X with the times of all ratings
    parts = temporal_split(positives, T, test_size=0.1, valid_size=0.1, per_user=True)
    _check_partition(parts, positives)
