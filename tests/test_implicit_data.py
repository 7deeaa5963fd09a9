"""binarize_interactions: explicit ratings to implicit feedback, with the rows kept."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_recae.preprocessing import binarize_interactions

# rows: 0 has 3 ratings >= 4, 1 has 1, 2 has 2, 3 has none (all < 4), 4 is empty
DENSE = np.array(
    [
        [5, 4, 1, 0, 4],
        [3, 0, 0, 4, 0],
        [4, 0, 5, 0, 2],
        [1, 2, 3, 0, 0],
        [0, 0, 0, 0, 0],
    ],
    dtype=np.float64,
)


def test_values_and_kept_rows():
    X_binary, kept = binarize_interactions(
        sp.csr_matrix(DENSE), threshold=4, min_row_interactions=2
    )
    np.testing.assert_array_equal(kept, [0, 2])
    assert kept.dtype.kind == "i"
    assert sp.isspmatrix_csr(X_binary) and X_binary.dtype == np.float32
    assert X_binary.shape == (2, 5)  # columns are never dropped
    np.testing.assert_array_equal(
        X_binary.toarray(), [[1, 1, 0, 0, 1], [1, 0, 1, 0, 0]]
    )
    # only ratings >= threshold are stored, all as 1.0; canonical CSR
    assert X_binary.nnz == 5 and np.all(X_binary.data == 1.0)
    assert X_binary.has_canonical_format
    # row r of the output is row kept[r] of the input
    np.testing.assert_array_equal(X_binary.toarray() > 0, DENSE[kept] >= 4)


@pytest.mark.parametrize(
    ("threshold", "min_rows", "expected_rows"),
    [
        (4, 0, [0, 1, 2, 3, 4]),  # 0 keeps even rows without positives
        (4, 1, [0, 1, 2]),
        (4, 3, [0]),
        (5, 1, [0, 2]),
        (3.5, 1, [0, 1, 2]),
        (1, 4, [0]),
    ],
)
def test_threshold_and_min_row_interactions(threshold, min_rows, expected_rows):
    X_binary, kept = binarize_interactions(
        DENSE, threshold=threshold, min_row_interactions=min_rows
    )
    np.testing.assert_array_equal(kept, expected_rows)
    expected = (DENSE[kept] >= threshold) & (DENSE[kept] != 0)
    np.testing.assert_array_equal(X_binary.toarray(), expected)


def test_defaults_are_4_and_5():
    X = np.array([[4, 4, 4, 4, 4, 3], [5, 5, 5, 5, 3, 3], [1, 2, 3, 4, 5, 5]], dtype=float)
    X_binary, kept = binarize_interactions(X)
    np.testing.assert_array_equal(kept, [0])
    np.testing.assert_array_equal(X_binary.toarray(), [[1, 1, 1, 1, 1, 0]])


def test_zeros_are_unobserved_even_below_a_negative_threshold():
    X = sp.csr_matrix(np.array([[0.0, -1.0, 2.0], [0.0, 0.0, -3.0]]))
    X.data[X.data == 2.0] = 0.0  # an explicitly stored zero
    X_binary, kept = binarize_interactions(X, threshold=-2, min_row_interactions=1)
    np.testing.assert_array_equal(kept, [0])
    np.testing.assert_array_equal(X_binary.toarray(), [[0, 1, 0]])


def test_threshold_compared_in_the_precision_of_X():
    X = np.array([[4.1, 3.0], [4.0, 5.0]], dtype=np.float32)
    X_binary, kept = binarize_interactions(X, threshold=4.1, min_row_interactions=1)
    np.testing.assert_array_equal(kept, [0, 1])
    np.testing.assert_array_equal(X_binary.toarray(), [[1, 0], [0, 1]])


@pytest.mark.parametrize(
    "make", [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, np.asarray, lambda a: a.tolist()]
)
def test_input_formats_and_input_unchanged(make):
    X = make(DENSE)
    before = X.copy() if hasattr(X, "copy") else list(map(list, X))
    X_binary, kept = binarize_interactions(X, threshold=4, min_row_interactions=2)
    np.testing.assert_array_equal(kept, [0, 2])
    np.testing.assert_array_equal(X_binary.toarray(), [[1, 1, 0, 0, 1], [1, 0, 1, 0, 0]])
    if sp.issparse(X):
        assert X.format == before.format
        assert (X != before).nnz == 0
        np.testing.assert_array_equal(X.toarray(), DENSE)
    else:
        np.testing.assert_array_equal(np.asarray(X), DENSE)


def test_canonical_float32_csr_input_is_not_modified():
    # the validation returns such a matrix without copying: the data must still not change
    X = sp.csr_matrix(DENSE.astype(np.float32))
    data, indices, indptr = X.data.copy(), X.indices.copy(), X.indptr.copy()
    X_binary, _ = binarize_interactions(X, threshold=4, min_row_interactions=1)
    np.testing.assert_array_equal(X.data, data)
    np.testing.assert_array_equal(X.indices, indices)
    np.testing.assert_array_equal(X.indptr, indptr)
    assert not np.shares_memory(X_binary.data, X.data)
    assert not np.shares_memory(X_binary.indices, X.indices)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"threshold": np.nan}, ValueError, "threshold must be finite"),
        ({"threshold": np.inf}, ValueError, "threshold must be finite"),
        ({"threshold": -np.inf}, ValueError, "threshold must be finite"),
        ({"threshold": "4"}, TypeError, "threshold must be a real number, got str"),
        ({"threshold": True}, TypeError, "threshold must be a real number"),
        ({"min_row_interactions": -1}, ValueError, "min_row_interactions must be >= 0, got -1"),
        ({"min_row_interactions": 2.0}, TypeError, "min_row_interactions must be an int"),
        ({"min_row_interactions": None}, TypeError, "min_row_interactions must be an int"),
    ],
)
def test_parameter_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        binarize_interactions(DENSE, **kwargs)


def test_nothing_left_errors():
    with pytest.raises(ValueError, match=r"no rating >= threshold=6 \(its largest rating is 5\)"):
        binarize_interactions(DENSE, threshold=6, min_row_interactions=0)
    with pytest.raises(ValueError, match="it stores no rating"):
        binarize_interactions(np.zeros((2, 3)), min_row_interactions=0)
    with pytest.raises(
        ValueError,
        match=r"no row has min_row_interactions=4 ratings >= threshold=4 .*the most any of "
        r"the 5 rows has is 3\)",
    ):
        binarize_interactions(DENSE, threshold=4, min_row_interactions=4)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.array([[1.0, np.nan]]), ValueError, "X contains NaN"),
        (np.array([[1.0, np.inf]]), ValueError, "X contains infinity"),
        (np.array([[1.0, 1e39]]), ValueError, "overflows float32"),
        (np.array([1.0, 5.0]), ValueError, "X must be a 2-d matrix"),
        (np.array([[1 + 1j]]), TypeError, "complex values"),
        (np.array([["a"]]), TypeError, "X must hold numbers"),
    ],
)
def test_bad_X(X, error, match):
    with pytest.raises(error, match=match):
        binarize_interactions(X, min_row_interactions=0)


def test_long_table_is_refused():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"userId": [1, 2], "movieId": [3, 4], "rating": [5, 4]})
    with pytest.raises(ValueError, match="binarize_interactions takes X as a users x items"):
        binarize_interactions(frame)


@pytest.mark.slow
def test_movielens_100k_rating_4_and_5_positives():
    from sklearn_recae.datasets import load_movielens_100k

    data = load_movielens_100k()
    before = data.ratings.copy()
    X_binary, kept = binarize_interactions(data.ratings, threshold=4, min_row_interactions=5)
    # 55,375 ratings are 4 or 5; 5 users have fewer than 5 of them (users 155, 302,
    # 656, 685 and 824, with 3, 3, 4, 0 and 4: 14 ratings), the 938 others keep 55,361
    assert X_binary.shape == (938, 1682)
    assert X_binary.nnz == 55_361
    np.testing.assert_array_equal(np.setdiff1d(np.arange(943), kept), [154, 301, 655, 684, 823])
    np.testing.assert_array_equal(
        data.user_ids[np.setdiff1d(np.arange(943), kept)], [155, 302, 656, 685, 824]
    )
    assert np.diff(X_binary.indptr).min() >= 5
    assert np.count_nonzero(np.diff(X_binary.tocsc().indptr)) == 1447  # items with a positive
    assert (data.ratings != before).nnz == 0
