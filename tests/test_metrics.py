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
    mrr_at_k,
    ndcg_at_k,
    novelty_weighted_map_at_k,
    popularity_tail_shares,
    precision_at_k,
    recall_at_k,
    rmse,
)

RANKING = [recall_at_k, precision_at_k, hit_rate_at_k, ndcg_at_k, map_at_k, mrr_at_k]
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
    with pytest.raises(ValueError, match="y_pred contains NaN at 1 held-out entry"):
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


def test_mrr_hand_computed(held_out):
    # first hits at ranks 1, none, 1 -> (1 + 0 + 1) / 3; at k=3 row 1 still misses
    assert mrr_at_k(*held_out) == pytest.approx(2 / 3)
    # first hit at rank 3 of 5 -> 1/3; a later second hit does not count
    y_true = sp.csr_matrix([[0, 0, 0, 1, 0, 1]])
    assert mrr_at_k(y_true, [[0, 1, 3, 2, 5]]) == pytest.approx(1 / 3)
    assert mrr_at_k(y_true, [[0, 1, 3, 2, 5]], k=2) == 0.0  # cut off before the hit
    np.testing.assert_allclose(
        mrr_at_k(sp.csr_matrix([[1, 1, 0], [0, 0, 1], [0, 0, 0]]), [[2, 1, 0], [0, 1, 2],
                 [0, 1, 2]], average=False), [1 / 2, 1 / 3, np.nan])


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


# ---------------------------------------------------------------- input validation
# Every array argument is checked by name (design §6): a ValueError/TypeError in
# the user's terms, never a scipy/numpy error, a ComplexWarning or a NaN score.

GOOD = np.array([[5.0, 0.0, 3.0], [0.0, 4.0, 1.0]])
GOOD_REC = np.array([[0, 1], [1, 2]])
GOOD_POP = np.array([3.0, 2.0, 1.0])


def _with(value, position=(0, 0), base=GOOD):
    out = base.astype(np.result_type(base, type(value)))
    out[position] = value
    return out


# (id, bad matrix, error, message with {name} for the argument's name)
BAD_MATRICES = [
    ("nan", _with(np.nan), ValueError,
     r"{name} contains NaN at 1 entry \(first at row 0, item 0\)"),
    ("nan-sparse", sp.csr_matrix(_with(np.nan, (1, 2))), ValueError,
     r"{name} contains NaN at 1 entry \(first at row 1, item 2\)"),
    ("inf", _with(np.inf), ValueError, "{name} contains infinity"),
    ("-inf-sparse-coo", sp.coo_matrix(_with(-np.inf)), ValueError, "{name} contains infinity"),
    ("1e39", _with(1e39), ValueError, "{name} has 1 value that overflows float32"),
    ("-1e39-sparse", sp.csc_matrix(_with(-1e39, (1, 1))), ValueError,
     r"{name} has 1 value that overflows float32 \(-1e\+39 at row 1, item 1"),
    ("complex", GOOD + 1j, TypeError,
     "{name} has complex values; complex values are not supported"),
    ("complex-sparse", sp.csr_matrix(GOOD + 1j), TypeError, "complex values are not supported"),
    ("complex-object", np.array([[1, 2j, 0], [0, 1, 0]], dtype=object), TypeError,
     "{name} has complex values"),
    ("3-d", GOOD[None], ValueError,
     r"{name} must be a 2-d matrix .* got 3-d input of shape \(1, 2, 3\)"),
    ("1-d", GOOD[0], ValueError, r"{name} must be a 2-d matrix .* got 1-d input"),
    ("1-d-sparse-array", sp.coo_array(GOOD[0]), ValueError, "{name} must be a 2-d matrix"),
    ("strings", GOOD.astype(str), TypeError, "{name} must hold numbers, got dtype <U"),
    ("ragged", [[1.0, 0.0, 3.0], [1.0]], ValueError, "{name} could not be read as an array"),
]

# public metric functions of y_true, the other arguments good
Y_TRUE_METRICS = {
    "rmse": lambda y: rmse(y, np.ones((2, 3))),
    "mae": lambda y: mae(y, np.ones((2, 3))),
    "error_sums": lambda y: error_sums(y, np.ones((2, 3))),
    **{f.__name__: (lambda y, f=f: f(y, GOOD_REC)) for f in RANKING},
    "novelty_weighted_map_at_k": lambda y: novelty_weighted_map_at_k(y, GOOD_REC, GOOD_POP),
}


@pytest.mark.filterwarnings("error")  # no ComplexWarning / RuntimeWarning on the way
@pytest.mark.parametrize("metric", list(Y_TRUE_METRICS), ids=str)
@pytest.mark.parametrize(
    ("bad", "error", "match"), [case[1:] for case in BAD_MATRICES], ids=[c[0] for c in BAD_MATRICES]
)
def test_bad_y_true(metric, bad, error, match):
    with pytest.raises(error, match=match.format(name="y_true")):
        Y_TRUE_METRICS[metric](bad)


BAD_PREDICTIONS = [
    ("nan", _with(np.nan, (1, 1)), ValueError,
     r"y_pred contains NaN at 1 held-out entry of y_true \(first at row 1, item 1\)"),
    ("inf", _with(-np.inf, (0, 2)), ValueError, "y_pred contains infinity at 1 held-out entry"),
    ("complex", GOOD + 1j, TypeError,
     "y_pred has complex values; complex values are not supported"),
    ("3-d", GOOD[None], ValueError, "y_pred must be 2-d"),
    ("1-d", GOOD[0], ValueError, "y_pred must be 2-d"),
    ("strings", GOOD.astype(str), TypeError, "y_pred must hold numbers"),
    ("ragged", [[1.0, 0.0, 3.0], [1.0]], ValueError, "y_pred could not be read as an array"),
    ("sparse", sp.csr_matrix(GOOD), TypeError, "y_pred must be a dense array"),
    ("shape", np.ones((2, 4)), ValueError, "y_true and y_pred must have the same shape"),
    ("sum-overflows-float64", np.full((2, 3), 1e300), ValueError, "overflows float64"),
]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("metric", [rmse, mae, error_sums])
@pytest.mark.parametrize(
    ("bad", "error", "match"), [c[1:] for c in BAD_PREDICTIONS], ids=[c[0] for c in BAD_PREDICTIONS]
)
def test_bad_y_pred(metric, bad, error, match):
    with pytest.raises(error, match=match):
        metric(GOOD, bad)


# public functions of y_rec, the other arguments good
Y_REC_METRICS = {
    **{f.__name__: (lambda r, f=f: f(GOOD, r)) for f in RANKING},
    "novelty_weighted_map_at_k": lambda r: novelty_weighted_map_at_k(GOOD, r, GOOD_POP),
    "coverage": lambda r: coverage(r, n_items=3),
    "popularity_tail_shares": lambda r: popularity_tail_shares(r, GOOD_POP, short=1, medium=2),
}
BAD_RECOMMENDATIONS = [
    ("complex", GOOD_REC + 0j, TypeError,
     "y_rec has complex values; complex values are not supported"),
    ("float", GOOD_REC.astype(float), TypeError, "y_rec must hold integer item indices"),
    ("strings", GOOD_REC.astype(str), TypeError, "y_rec must hold numbers"),
    ("3-d", GOOD_REC[None], ValueError, "y_rec must be a 2-d array"),
    ("1-d", GOOD_REC[0], ValueError, "y_rec must be a 2-d array"),
    ("ragged", [[0, 1], [1]], ValueError, "y_rec could not be read as an array"),
    ("sparse", sp.csr_matrix(GOOD_REC), TypeError, "y_rec must be a dense array"),
    ("out-of-range", GOOD_REC + 1, ValueError, "outside"),
]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("metric", list(Y_REC_METRICS), ids=str)
@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [c[1:] for c in BAD_RECOMMENDATIONS],
    ids=[c[0] for c in BAD_RECOMMENDATIONS],
)
def test_bad_y_rec(metric, bad, error, match):
    with pytest.raises(error, match=match):
        Y_REC_METRICS[metric](bad)


POPULARITY_METRICS = {
    "novelty_weighted_map_at_k": lambda p: novelty_weighted_map_at_k(GOOD, GOOD_REC, p),
    "popularity_tail_shares": lambda p: popularity_tail_shares(GOOD_REC, p, short=1, medium=2),
}
BAD_POPULARITY = [
    ("nan", [3.0, np.nan, 1.0], ValueError, r"item_popularity contains NaN \(first at item 1\)"),
    ("inf", [3.0, 2.0, np.inf], ValueError, "item_popularity contains infinity"),
    ("negative", [3.0, -2.0, 1.0], ValueError, "item_popularity must be non-negative"),
    ("complex", GOOD_POP + 1j, TypeError, "item_popularity has complex values"),
    ("strings", GOOD_POP.astype(str), TypeError, "item_popularity must hold numbers"),
    ("sparse", sp.csr_matrix(GOOD_POP), TypeError, "item_popularity must be a dense 1-d array"),
]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("metric", list(POPULARITY_METRICS), ids=str)
@pytest.mark.parametrize(
    ("bad", "error", "match"), [c[1:] for c in BAD_POPULARITY], ids=[c[0] for c in BAD_POPULARITY]
)
def test_bad_item_popularity(metric, bad, error, match):
    with pytest.raises(error, match=match):
        POPULARITY_METRICS[metric](bad)


@pytest.mark.parametrize("metric", list(Y_TRUE_METRICS), ids=str)
def test_float64_overflowing_float32_is_rejected(metric):
    # 1e39 is a finite float64 but infinity in float32; the largest float32 is accepted
    with pytest.raises(ValueError, match=r"y_true has 1 value that overflows float32 \(1e\+39"):
        Y_TRUE_METRICS[metric](sp.csr_matrix(_with(1e39, (1, 2))))
    big = _with(float(np.finfo(np.float32).max), (1, 2))
    result = Y_TRUE_METRICS[metric](big)
    value = result.rmse if isinstance(result, ErrorSums) else result
    assert np.isfinite(value)


def test_other_arguments_are_type_checked(held_out):
    with pytest.raises(TypeError, match="average must be True or False"):
        recall_at_k(*held_out, average="no")
    with pytest.raises(TypeError, match="short must be an int"):
        popularity_tail_shares([[0]], [1, 2], short=1.5, medium=2)
    with pytest.raises(TypeError, match="n_items must be an int"):
        coverage([[0]], n_items=2.0)


def test_valid_inputs_of_other_types_are_accepted():
    # bool, int, object-of-numbers and sparse formats without canonical form
    assert recall_at_k(GOOD.astype(bool), GOOD_REC) == recall_at_k(GOOD, GOOD_REC)
    assert rmse(GOOD.astype(object), np.ones((2, 3), dtype=int)) == rmse(GOOD, np.ones((2, 3)))
    assert rmse(sp.lil_matrix(GOOD), np.ones((2, 3))) == rmse(GOOD, np.ones((2, 3)))
    assert recall_at_k(sp.dok_matrix(GOOD), GOOD_REC) == recall_at_k(GOOD, GOOD_REC)
