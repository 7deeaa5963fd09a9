"""Metrics against hand-computed values, edge cases and a few properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score

from sklearn_recae.metrics import (
    ErrorSums,
    coverage,
    error_sums,
    hit_rate_at_k,
    mae,
    map_at_k,
    ndcg_at_k,
    novelty_weighted_map_at_k,
    popularity_tail_shares,
    precision_at_k,
    recall_at_k,
    rmse,
)

RANKING = [recall_at_k, precision_at_k, hit_rate_at_k, ndcg_at_k, map_at_k]
LOG2_3 = math.log2(3)


@pytest.fixture
def held_out():
    """4 rows x 6 items. Relevant: row 0 {0, 2, 5}, row 1 {1}, row 2 {} (skipped), row 3 {3, 4}.

    Recommended (k=3):     hits
      row 0 [2, 1, 5]  ->  [1, 0, 1]
      row 1 [0, 3, 4]  ->  [0, 0, 0]
      row 2 [0, 1, 2]  ->  skipped
      row 3 [4, 3, 0]  ->  [1, 1, 0]
    """
    y_true = sp.csr_matrix(
        (np.ones(6), ([0, 0, 0, 1, 3, 3], [0, 2, 5, 1, 3, 4])), shape=(4, 6)
    )
    y_rec = np.array([[2, 1, 5], [0, 3, 4], [0, 1, 2], [4, 3, 0]])
    return y_true, y_rec


# ---------------------------------------------------------------- regression


def test_rmse_mae_hand_computed():
    # held-out (0,0)=5, (0,2)=3, (1,1)=4; predictions 4, 3, 2 -> errors -1, 0, -2
    y_true = sp.csr_matrix([[5.0, 0.0, 3.0], [0.0, 4.0, 0.0]])
    y_pred = np.array([[4.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    assert rmse(y_true, y_pred) == pytest.approx(math.sqrt((1 + 0 + 4) / 3))
    assert mae(y_true, y_pred) == pytest.approx((1 + 0 + 2) / 3)
    assert error_sums(y_true, y_pred) == ErrorSums(5.0, 3.0, 3)


def test_error_sums_over_batches_equal_global():
    rng = np.random.RandomState(0)
    y_true = sp.csr_matrix(np.where(rng.rand(50, 20) < 0.2, rng.randint(1, 6, (50, 20)), 0))
    y_pred = rng.uniform(1, 5, size=(50, 20))
    total = ErrorSums()
    for start in range(0, 50, 7):
        total = total + error_sums(y_true[start : start + 7], y_pred[start : start + 7])
    assert total.count == y_true.nnz
    assert total.rmse == pytest.approx(rmse(y_true, y_pred))
    assert total.mae == pytest.approx(mae(y_true, y_pred))


def test_regression_ignores_stored_zeros_and_keeps_input():
    y_true = sp.csr_matrix((np.array([5.0, 0.0]), ([0, 0], [0, 1])), shape=(1, 2))
    before = y_true.copy()
    assert rmse(y_true, np.array([[4.0, 100.0]])) == pytest.approx(1.0)
    assert y_true.nnz == 2 and (y_true != before).nnz == 0


def test_regression_errors():
    y_true = sp.csr_matrix([[5.0, 0.0]])
    with pytest.raises(ValueError, match="same shape"):
        rmse(y_true, np.ones((1, 3)))
    with pytest.raises(ValueError, match="2-d"):
        rmse(y_true, np.ones(2))
    with pytest.raises(ValueError, match="NaN or inf"):
        rmse(y_true, np.array([[np.nan, 1.0]]))
    with pytest.raises(TypeError, match="dense"):
        rmse(y_true, sp.csr_matrix([[1.0, 1.0]]))
    with pytest.raises(ValueError, match="no stored"):
        mae(sp.csr_matrix((1, 2)), np.ones((1, 2)))


def test_nan_outside_held_out_entries_is_ignored():
    assert rmse(sp.csr_matrix([[5.0, 0.0]]), np.array([[5.0, np.nan]])) == 0.0


# ---------------------------------------------------------------- ranking


def test_recall_hand_computed(held_out):
    # row 0: 2 / min(3, 3); row 1: 0 / 1; row 3: 2 / min(3, 2) -> (2/3 + 0 + 1) / 3
    assert recall_at_k(*held_out) == pytest.approx(5 / 9)


def test_precision_hand_computed(held_out):
    # 2/3, 0/3, 2/3 -> 4/9
    assert precision_at_k(*held_out) == pytest.approx(4 / 9)


def test_hit_rate_hand_computed(held_out):
    # 1, 0, 1
    assert hit_rate_at_k(*held_out) == pytest.approx(2 / 3)


def test_ndcg_hand_computed(held_out):
    # row 0: DCG = 1/log2(2) + 1/log2(4) = 1.5, IDCG(3) = 1 + 1/log2(3) + 1/2
    # row 1: 0; row 3: DCG = 1 + 1/log2(3) = IDCG(2) -> 1
    row0 = 1.5 / (1.5 + 1 / LOG2_3)
    assert ndcg_at_k(*held_out) == pytest.approx((row0 + 0 + 1) / 3)


def test_map_hand_computed(held_out):
    # row 0: (P@1 + P@3) / 3 = (1 + 2/3) / 3 = 5/9; row 1: 0; row 3: (1 + 1) / 2 = 1
    assert map_at_k(*held_out) == pytest.approx((5 / 9 + 0 + 1) / 3)


@pytest.mark.parametrize("metric", RANKING)
def test_k1_is_top1_hit(held_out, metric):
    # top-1 items 2 (hit), 0 (miss), 4 (hit): every metric is 2/3 at k=1
    assert metric(*held_out, k=1) == pytest.approx(2 / 3)


def test_k2_cutoff_uses_first_columns(held_out):
    # row 0: hits [1, 0] -> 1/min(2,3); row 1: 0; row 3: hits [1, 1] -> 2/2
    assert recall_at_k(*held_out, k=2) == pytest.approx((0.5 + 0 + 1) / 3)


@pytest.mark.parametrize("metric", RANKING)
def test_per_row_values_skip_empty_rows(held_out, metric):
    values = metric(*held_out, average=False)
    assert values.shape == (4,)
    assert np.isnan(values[2]) and not np.isnan(values[[0, 1, 3]]).any()
    assert np.nanmean(values) == pytest.approx(metric(*held_out))


def test_per_row_hand_values(held_out):
    np.testing.assert_allclose(recall_at_k(*held_out, average=False), [2 / 3, 0, np.nan, 1])
    np.testing.assert_allclose(precision_at_k(*held_out, average=False), [2 / 3, 0, np.nan, 2 / 3])


def test_fewer_held_out_than_k():
    # one relevant item recommended at rank 3 of 5: recall 1/min(5, 1) = 1, precision 1/5,
    # NDCG 1/log2(4) / 1 = 0.5, AP = P@3 / 1 = 1/3
    y_true = sp.csr_matrix([[0, 0, 0, 1, 0, 0]])
    y_rec = [[0, 1, 3, 2, 4]]
    assert recall_at_k(y_true, y_rec) == 1.0
    assert precision_at_k(y_true, y_rec) == pytest.approx(0.2)
    assert ndcg_at_k(y_true, y_rec) == pytest.approx(0.5)
    assert map_at_k(y_true, y_rec) == pytest.approx(1 / 3)


@pytest.mark.parametrize("metric", RANKING)
def test_no_hits_is_zero(metric):
    y_true = sp.csr_matrix([[1, 1, 0, 0], [0, 0, 0, 1]])
    assert metric(y_true, [[2, 3], [0, 1]]) == 0.0


@pytest.mark.parametrize("metric", RANKING)
def test_stored_zeros_are_not_relevant(metric):
    # item 1 stored as an explicit 0: row's only relevant item is 0
    y_true = sp.csr_matrix((np.array([1.0, 0.0]), ([0, 0], [0, 1])), shape=(1, 3))
    before = y_true.copy()
    assert metric(y_true, [[1]]) == 0.0
    assert metric(y_true, [[0]]) == 1.0
    assert y_true.nnz == 2 and (y_true != before).nnz == 0


@pytest.mark.parametrize("metric", RANKING)
def test_no_held_out_row_raises(metric):
    with pytest.raises(ValueError, match="No row of y_true"):
        metric(sp.csr_matrix((2, 3)), [[0], [1]])
    assert np.isnan(metric(sp.csr_matrix((2, 3)), [[0], [1]], average=False)).all()


@pytest.mark.parametrize(
    ("y_rec", "k", "error", "match"),
    [
        ([[0, 1]], 3, ValueError, "k must be in"),
        ([[0, 1]], 0, ValueError, "k must be in"),
        ([[0, 1]], 1.0, TypeError, "k must be an integer"),
        ([[0, 0]], None, ValueError, "twice"),
        ([[0, 5]], None, ValueError, "outside"),
        ([[-1, 0]], None, ValueError, "outside"),
        ([[0.0, 1.0]], None, TypeError, "integer item indices"),
        ([0, 1], None, ValueError, "2-d"),
        ([[0, 1], [1, 2]], None, ValueError, "rows"),
    ],
)
def test_ranking_input_errors(y_rec, k, error, match):
    with pytest.raises(error, match=match):
        recall_at_k(sp.csr_matrix([[1, 0, 1]]), y_rec, k=k)


def test_duplicates_beyond_k_are_allowed():
    # only the first k columns are used
    assert recall_at_k(sp.csr_matrix([[1, 0, 1]]), [[0, 2, 0]], k=2) == 1.0


def test_dense_y_true_is_accepted():
    assert recall_at_k(np.array([[1, 0, 1]]), [[0, 2]]) == 1.0


def test_novelty_weighted_map_hand_computed(held_out):
    # popularity shares nu = [4, 2, 1, 1, 4, 8] / 20 = [.2, .1, .05, .05, .2, .4]
    # row 0: hits item 2 at rank 1 (P=1), item 5 at rank 3 (P=2/3), / min(3, 3)
    # row 1: 0; row 3: item 4 at rank 1 (P=1), item 3 at rank 2 (P=1), / min(3, 2)
    popularity = [4, 2, 1, 1, 4, 8]
    row0 = (-math.log(0.05) - 2 / 3 * math.log(0.4)) / 3
    row3 = (-math.log(0.2) - math.log(0.05)) / 2
    assert novelty_weighted_map_at_k(*held_out, popularity) == pytest.approx((row0 + row3) / 3)


def test_novelty_zero_popularity_hit_raises(held_out):
    with pytest.raises(ValueError, match="zero popularity"):
        novelty_weighted_map_at_k(*held_out, [4, 2, 1, 1, 4, 0])
    # a zero-popularity item that is recommended but not a hit is fine (item 1)
    assert novelty_weighted_map_at_k(*held_out, [4, 0, 1, 1, 4, 8]) > 0
    with pytest.raises(ValueError, match="shape"):
        novelty_weighted_map_at_k(*held_out, [1, 2, 3])


def test_coverage_hand_computed():
    # items {0, 1, 2} of 8
    assert coverage(np.array([[0, 1], [1, 2]]), n_items=8) == pytest.approx(3 / 8)
    with pytest.raises(ValueError, match="outside"):
        coverage([[0, 8]], n_items=8)
    with pytest.raises(ValueError, match="n_items"):
        coverage([[0]], n_items=0)


def test_popularity_tail_shares_hand_computed():
    # popularity [5, 9, 1, 7, 3] -> ranks: item 1, 3, 0, 4, 2
    # short=1: {1}; medium (ranks 1-2): {3, 0}; long: {4, 2}
    # slots 1, 2, 0, 3, 1, 0 -> short 2, medium 3, long 1 of 6
    shares = popularity_tail_shares(
        [[1, 2], [0, 3], [1, 0]], [5, 9, 1, 7, 3], short=1, medium=3
    )
    assert shares == pytest.approx({"short": 2 / 6, "medium": 3 / 6, "long": 1 / 6})
    with pytest.raises(ValueError, match="short <= medium"):
        popularity_tail_shares([[0]], [1, 2], short=3, medium=2)


# ---------------------------------------------------------------- properties


@st.composite
def ranking_case(draw):
    n_rows = draw(st.integers(1, 6))
    n_items = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    dense = rng.rand(n_rows, n_items) < draw(st.floats(0.05, 0.9))
    dense[0, rng.randint(n_items)] = True  # at least one row with a held-out entry
    y_true = sp.csr_matrix(dense)
    y_rec = np.argsort(rng.rand(n_rows, n_items), axis=1)
    k = draw(st.integers(1, n_items))
    return y_true, y_rec, k


@settings(max_examples=60, deadline=None)
@given(ranking_case())
def test_metrics_in_unit_interval(case):
    y_true, y_rec, k = case
    for metric in RANKING:
        values = metric(y_true, y_rec, k=k, average=False)
        valid = values[~np.isnan(values)]
        assert np.all((valid >= 0) & (valid <= 1 + 1e-12))
    assert precision_at_k(y_true, y_rec, k=k) <= hit_rate_at_k(y_true, y_rec, k=k) + 1e-12
    assert 0 < coverage(y_rec[:, :k], y_true.shape[1]) <= 1


@settings(max_examples=60, deadline=None)
@given(ranking_case())
def test_full_lists_recall_everything(case):
    y_true, y_rec, _ = case
    assert recall_at_k(y_true, y_rec) == pytest.approx(1.0)
    assert hit_rate_at_k(y_true, y_rec) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(ranking_case())
def test_ndcg_matches_sklearn(case):
    # sklearn's ndcg_score on dense scores induced by the ranking (no ties)
    y_true, y_rec, k = case
    rows = np.flatnonzero(np.diff(y_true.indptr))
    scores = np.empty(y_rec.shape)
    np.put_along_axis(scores, y_rec, -np.arange(y_rec.shape[1], dtype=float), axis=1)
    dense = y_true.toarray()[rows].astype(float)
    if y_true.shape[1] == 1:
        return  # sklearn's ndcg_score needs at least two items
    expected = ndcg_score(dense, scores[rows], k=k)
    assert ndcg_at_k(y_true, y_rec, k=k) == pytest.approx(expected)
