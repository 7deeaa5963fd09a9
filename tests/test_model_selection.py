"""Entry-level and per-row splits: shapes, disjointness, proportions, seeding, errors."""

from __future__ import annotations


import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_recae.model_selection import (
    PredefinedEntrySplit,
    holdout_row_entries,
    train_test_split,
)


@pytest.fixture
def X():
    """30 x 20 explicit ratings, ~30% observed, plus one explicitly stored zero."""
    rng = np.random.RandomState(0)
    dense = np.where(rng.rand(30, 20) < 0.3, rng.randint(1, 6, (30, 20)), 0).astype(float)
    X = sp.csr_matrix(dense)
    X.data[0] = 0.0  # an explicit stored zero: unobserved
    return X


def _entries(M) -> set[tuple[int, int, float]]:
    M = sp.coo_matrix(M)
    return {(int(r), int(c), float(v)) for r, c, v in zip(M.row, M.col, M.data) if v != 0}


def _assert_partition(parts, X):
    assert all(sp.isspmatrix_csr(p) and p.dtype == np.float32 for p in parts)
    assert all(p.shape == X.shape and p.has_canonical_format for p in parts)
    sets = [_entries(p) for p in parts]
    assert sum(len(s) for s in sets) == len(set().union(*sets))  # disjoint
    assert set().union(*sets) == _entries(X)  # union is X's observed entries
    assert all(np.all(p.data != 0) for p in parts)


# ---------------------------------------------------------------- train_test_split


def test_train_test_split_partition_and_sizes(X):
    n = X.nnz - 1  # observed entries: the stored zero does not count
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    _assert_partition([X_train, X_test], X)
    assert X_test.nnz == int(np.ceil(0.25 * n))
    assert X_train.nnz == n - X_test.nnz


def test_train_test_split_with_validation_part(X):
    n = X.nnz - 1
    X_train, X_valid, X_test = train_test_split(X, test_size=10, valid_size=0.1, random_state=1)
    _assert_partition([X_train, X_valid, X_test], X)
    assert (X_valid.nnz, X_test.nnz) == (int(np.ceil(0.1 * n)), 10)
    assert X_train.nnz == n - X_valid.nnz - 10


def test_train_test_split_is_seeded_and_keeps_input(X):
    before = X.copy()
    a = train_test_split(X, test_size=0.2, random_state=3)
    b = train_test_split(X, test_size=0.2, random_state=3)
    c = train_test_split(X, test_size=0.2, random_state=4)
    assert all((p != q).nnz == 0 for p, q in zip(a, b))
    assert (a[1] != c[1]).nnz > 0
    assert (X != before).nnz == 0 and X.nnz == before.nnz and X.data[0] == 0


def test_train_test_split_accepts_dense_and_other_formats(X):
    for data in (X.toarray(), X.tocoo(), X.tocsc()):
        X_train, X_test = train_test_split(data, test_size=0.5, random_state=0)
        _assert_partition([X_train, X_test], X)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"test_size": 0.0}, ValueError, r"open interval \(0, 1\)"),
        ({"test_size": 1.0}, ValueError, r"open interval \(0, 1\)"),
        ({"test_size": 0}, ValueError, r"must be in \[1,"),
        ({"test_size": 200}, ValueError, r"must be in \[1,"),
        ({"test_size": "0.1"}, TypeError, "float or an int"),
        ({"test_size": True}, TypeError, "float or an int"),
        ({"test_size": 0.5, "valid_size": 0.5}, ValueError, "sum of valid_size and test_size"),
        ({"test_size": 100, "valid_size": 100}, ValueError, "leaves no training entry"),
    ],
)
def test_train_test_split_bad_sizes(X, kwargs, error, match):
    with pytest.raises(error, match=match):
        train_test_split(X, **kwargs)


@pytest.mark.parametrize("empty", [sp.csr_matrix((3, 4)), sp.csr_matrix((0, 4)), np.zeros((2, 2))])
def test_train_test_split_empty_input(empty):
    with pytest.raises(ValueError, match="no observed entries"):
        train_test_split(empty)


def _large(n_rows: int, n_items: int, n_entries: int) -> sp.csr_matrix:
    rng = np.random.RandomState(0)
    rows, cols = rng.randint(n_rows, size=n_entries), rng.randint(n_items, size=n_entries)
    return sp.csr_matrix((np.ones(n_entries), (rows, cols)), shape=(n_rows, n_items))


def test_train_test_split_on_a_million_entries():
    # speed is measured in benchmarks/splitter_speed.py, not asserted here
    X = _large(100_000, 2_000, 1_000_000)
    parts = train_test_split(X, test_size=0.1, valid_size=0.1, random_state=0)
    assert [p.nnz for p in parts] == [X.nnz - 2 * int(np.ceil(0.1 * X.nnz))] + [
        int(np.ceil(0.1 * X.nnz))
    ] * 2
    assert (parts[0] + parts[1] + parts[2] != X).nnz == 0


# ---------------------------------------------------------------- holdout_row_entries


def test_holdout_row_entries_counts_per_row():
    # rows with 10, 5, 3, 2, 1, 0 entries; fraction 0.2
    # hidden = max(1, round(0.2 n)) capped at n - 1: 2, 1, 1, 1, 0 (< min_entries), 0
    counts = [10, 5, 3, 2, 1, 0]
    X = sp.csr_matrix(np.array([[1.0] * c + [0.0] * (10 - c) for c in counts]))
    visible, hidden = holdout_row_entries(X, 0.2, random_state=0)
    _assert_partition([visible, hidden], X)
    np.testing.assert_array_equal(np.diff(hidden.indptr), [2, 1, 1, 1, 0, 0])


def test_holdout_row_entries_rounding_and_cap():
    # n=5, fraction 0.5: round(2.5) half up = 3; n=2, 0.9: round(1.8) = 2 capped to 1
    X = sp.csr_matrix(np.array([[1.0] * 5, [1.0, 1.0, 0, 0, 0]]))
    _, hidden = holdout_row_entries(X, 0.5, random_state=0)
    np.testing.assert_array_equal(np.diff(hidden.indptr), [3, 1])
    _, hidden = holdout_row_entries(X, 0.9, random_state=0)
    np.testing.assert_array_equal(np.diff(hidden.indptr), [4, 1])


def test_holdout_row_entries_min_entries(X):
    n_per_row = np.diff(sp.csr_matrix(X.toarray()).indptr)
    visible, hidden = holdout_row_entries(X, 0.3, min_entries=8, random_state=0)
    _assert_partition([visible, hidden], X)
    hidden_per_row = np.diff(hidden.indptr)
    assert np.all(hidden_per_row[n_per_row < 8] == 0)
    assert np.all(hidden_per_row[n_per_row >= 8] >= 1)
    assert np.all(np.diff(visible.indptr)[n_per_row > 0] >= 1)


def test_holdout_row_entries_seeded_uniform_and_keeps_input(X):
    before = X.copy()
    a = holdout_row_entries(X, 0.2, random_state=0)
    b = holdout_row_entries(X, 0.2, random_state=0)
    assert all((p != q).nnz == 0 for p, q in zip(a, b))
    assert (X != before).nnz == 0 and X.nnz == before.nnz
    # every entry of a 4-entry row is hidden in about a quarter of the draws
    row = sp.csr_matrix(np.ones((1, 4)))
    hits = sum(holdout_row_entries(row, 0.25, random_state=s)[1].toarray() for s in range(400))
    assert np.all(np.abs(hits / 400 - 0.25) < 0.08)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"holdout_fraction": 0.0}, ValueError, r"\(0, 1\)"),
        ({"holdout_fraction": 1.0}, ValueError, r"\(0, 1\)"),
        ({"holdout_fraction": "a"}, TypeError, "float"),
        ({"min_entries": 1}, ValueError, "min_entries must be >= 2"),
        ({"min_entries": 2.0}, TypeError, "min_entries must be an int"),
    ],
)
def test_holdout_row_entries_errors(X, kwargs, error, match):
    with pytest.raises(error, match=match):
        holdout_row_entries(X, **kwargs)


def test_holdout_row_entries_on_a_million_entries():
    X = _large(200_000, 2_000, 1_000_000)
    visible, hidden = holdout_row_entries(X, 0.2, random_state=0)
    assert visible.nnz + hidden.nnz == X.nnz
    assert (visible + hidden != X).nnz == 0


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 8), st.integers(1, 8), st.floats(0.01, 0.99), st.integers(2, 5),
    st.integers(0, 2**16),
)
def test_holdout_row_entries_property(n_rows, n_items, fraction, min_entries, seed):
    rng = np.random.RandomState(seed)
    X = sp.csr_matrix((rng.rand(n_rows, n_items) < 0.6).astype(float))
    visible, hidden = holdout_row_entries(X, fraction, min_entries=min_entries, random_state=seed)
    _assert_partition([visible, hidden], X)
    n = np.diff(X.indptr)
    expected = np.where(
        n >= min_entries, np.clip(np.floor(fraction * n + 0.5), 1, np.maximum(n - 1, 1)), 0
    )
    np.testing.assert_array_equal(np.diff(hidden.indptr), expected)


# ---------------------------------------------------------------- PredefinedEntrySplit


def test_predefined_entry_split(X):
    cv = PredefinedEntrySplit()
    splits = list(cv.split(X, X))
    assert len(splits) == 1 == cv.get_n_splits(X)
    train, test = splits[0]
    np.testing.assert_array_equal(train, np.arange(30))
    np.testing.assert_array_equal(test, np.arange(30))
    assert repr(cv) == "PredefinedEntrySplit()"
