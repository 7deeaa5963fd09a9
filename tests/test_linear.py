"""EASE and the popularity baseline: closed-form weights, counts, memory budget, rankings."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from sklearn_recae.datasets import make_interactions
from sklearn_recae.linear import EASE, PopularityRecommender
from sklearn_recae.linear._ease import max_items_for_memory
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import PredefinedEntrySplit, train_test_split

from .recommender_checks import make_checkerboard, precision_of_withheld

@pytest.fixture(scope="module")
def implicit():
    return make_interactions(150, 40, density=0.15, implicit=True, random_state=0)


def _direct_ease(X: np.ndarray, l2: float) -> np.ndarray:
    P = np.linalg.inv(X.T @ X + l2 * np.eye(X.shape[1]))
    return np.eye(X.shape[1]) - P @ np.diag(1.0 / np.diag(P))


# --- EASE ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float64"])
@pytest.mark.parametrize("l2", [0.5, 10.0, 500.0])
def test_ease_weights_equal_a_direct_solve(l2, dtype):
    rng = np.random.RandomState(0)
    X = rng.rand(30, 12) * (rng.rand(30, 12) < 0.4)
    model = EASE(l2=l2, dtype=dtype).fit(X)
    assert model.coef_.dtype == np.float32 and model.coef_.shape == (12, 12)
    assert model.coef_.flags.c_contiguous
    np.testing.assert_array_equal(np.diag(model.coef_), 0.0)
    np.testing.assert_allclose(model.coef_, _direct_ease(X, l2), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_items", [5, 16, 600])  # one block of mirrored rows, one, 38
def test_ease_weights_are_the_inverse_scaled_in_one_array(n_items, dtype, monkeypatch):
    """ease_weights allocates one items x items array (no copy in LAPACK) and mirrors it fully."""
    import tracemalloc

    from sklearn_recae.linear import _ease

    monkeypatch.setattr(_ease, "_GRAM_BLOCK_BYTES", 64 * n_items)  # small Gram blocks
    monkeypatch.setattr(_ease, "_MIRROR_ROWS", 16)  # small mirrored blocks
    X = make_interactions(200, n_items, density=0.1, implicit=True, random_state=0)
    tracemalloc.start()
    weights = _ease.ease_weights(X, 20.0, dtype)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    matrix_bytes = np.dtype(dtype).itemsize * n_items**2
    assert weights.dtype == dtype and weights.flags.c_contiguous
    assert peak < matrix_bytes * 1.25 + 300_000  # a copy of the matrix would be 2x
    expected = _direct_ease(X.toarray().astype(np.float64), 20.0)
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(weights, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("block_bytes", [8 * 40, 32 << 20])  # one row per block, one block
def test_gram_matrix_in_blocks_is_x_transpose_x(implicit, block_bytes, monkeypatch):
    from sklearn_recae.linear import _ease

    monkeypatch.setattr(_ease, "_GRAM_BLOCK_BYTES", block_bytes)
    expected = (implicit.T @ implicit).toarray()
    full = _ease.gram_matrix(implicit, np.float64)
    lower = _ease.gram_matrix(implicit, np.float32, lower=True)
    assert full.dtype == np.float64 and lower.dtype == np.float32
    np.testing.assert_array_equal(full, expected)
    np.testing.assert_array_equal(np.tril(lower), np.tril(expected))


def test_ease_float32_keeps_the_float64_ranking():
    """On a MovieLens-100K-shaped matrix the two precisions recommend the same items."""
    X = make_interactions(943, 1682, density=0.035, implicit=True, random_state=0)
    X_fit, X_valid = train_test_split(X, test_size=0.2, random_state=0)
    single = EASE(dtype=np.float32).fit(X_fit, X_valid=X_valid)
    double = EASE(dtype=np.float64).fit(X_fit, X_valid=X_valid)
    np.testing.assert_allclose(single.coef_, double.coef_, rtol=0, atol=1e-5 * abs(double.coef_).max())
    top_single, top_double = single.recommend(X_fit, k=20), double.recommend(X_fit, k=20)
    shared = [len(np.intersect1d(a, b)) for a, b in zip(top_single, top_double)]
    assert np.mean(shared) / 20 > 0.999
    assert abs(single.validation_score_ - double.validation_score_) < 1e-4


@pytest.mark.parametrize("dtype", [np.int32, "float16", "double precision", None])
def test_ease_rejects_a_dtype_other_than_float32_or_float64(implicit, dtype):
    with pytest.raises(ValueError, match="dtype must be np.float32 or np.float64"):
        EASE(dtype=dtype).fit(implicit)


def test_ease_weights_solve_the_constrained_ridge_problem(implicit):
    """KKT of min ||X - XB||² + l2 ||B||² s.t. diag(B) = 0: the gradient is zero off the diagonal."""
    X, l2 = implicit.toarray().astype(np.float64), 20.0
    B = EASE(l2=l2).fit(implicit).coef_.astype(np.float64)
    gradient = -X.T @ (X - X @ B) + l2 * B
    off_diagonal = ~np.eye(B.shape[0], dtype=bool)
    assert np.abs(gradient[off_diagonal]).max() < 1e-3 * np.abs(X.T @ X).max()


def test_ease_uses_values_as_given():
    X = sp.csr_matrix(np.array([[1.0, 2.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0]]))
    np.testing.assert_allclose(
        EASE(l2=1.0).fit(X).coef_, _direct_ease(X.toarray(), 1.0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("batch_size", [1, 7, 1024])
def test_ease_scores_are_x_times_b(implicit, batch_size):
    model = EASE(l2=20.0, batch_size=batch_size).fit(implicit[:100])
    new_rows = implicit[100:]  # folded in: unseen in fit
    expected = new_rows.toarray() @ model.coef_
    np.testing.assert_allclose(model.predict(new_rows), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(new_rows), EASE(l2=20.0).fit(implicit[:100])
                                  .predict(new_rows))


def test_ease_item_unseen_in_fit_has_zero_weights(implicit):
    X = implicit.tolil()
    X[:, 3] = 0
    model = EASE(l2=5.0).fit(X.tocsr())
    np.testing.assert_array_equal(model.coef_[3], 0.0)
    np.testing.assert_array_equal(model.coef_[:, 3], 0.0)


def test_ease_memory_budget_raises_before_allocating(implicit, monkeypatch):
    from sklearn_recae.linear import _ease

    def fail(*args, **kwargs):
        raise AssertionError("the Gram matrix was built")

    monkeypatch.setattr(_ease, "gram_matrix", fail)
    for dtype, per_pair in [(np.float32, 4), (np.float64, 12)]:
        budget = per_pair * 39**2 / 1e9  # 39 items fit, 40 do not
        assert max_items_for_memory(budget, dtype) == 39
        model = EASE(max_memory_gb=budget, dtype=dtype)
        with pytest.raises(ValueError, match=r"n_items=40 in float.*at most 39 items"):
            model.fit(implicit)
        with pytest.raises(NotFittedError):
            model.predict(implicit)


def test_ease_memory_budget_allows_what_fits(implicit):
    assert EASE(max_memory_gb=4 * 40**2 / 1e9).fit(implicit).coef_.shape == (40, 40)
    assert EASE(max_memory_gb=12 * 40**2 / 1e9, dtype=np.float64).fit(implicit).coef_.shape == (
        40, 40)
    assert EASE(max_memory_gb=None).fit(implicit).coef_.shape == (40, 40)
    # The default budget: 31,622 items in float32 (ML-20M's 26,744 fit), 18,257 in float64.
    assert max_items_for_memory(4.0) == 31622
    assert max_items_for_memory(4.0, np.float64) == 18257


def test_ease_failed_fit_keeps_the_previous_model(implicit):
    model = EASE(l2=20.0).fit(implicit)
    expected = model.predict(implicit)
    model.set_params(max_memory_gb=1e-9)
    with pytest.raises(ValueError, match="max_memory_gb"):
        model.fit(implicit)
    np.testing.assert_array_equal(model.predict(implicit), expected)


@pytest.mark.parametrize("params", [{"l2": 0.0}, {"l2": -1.0}, {"max_memory_gb": 0.0},
                                    {"batch_size": 0}])
def test_ease_rejects_bad_parameters(implicit, params):
    with pytest.raises(ValueError, match=next(iter(params))):
        EASE(**params).fit(implicit)


@pytest.mark.parametrize("dtype, scale, advice", [
    (np.float64, 2.0**100, r"rescale X\.$"),  # the penalty vanishes next to X'X in float64
    (np.float32, 2.0**40, "rescale X or solve in float64"),  # and in float32
])
def test_ease_gram_not_positive_definite_is_a_clear_error(dtype, scale, advice):
    X = np.array([[scale, scale]])
    model = EASE(l2=1e-30, dtype=dtype)
    with pytest.raises(ValueError, match="not numerically positive definite.*Increase l2.*" + advice):
        model.fit(X)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_ease_gram_overflowing_float32_is_a_clear_error():
    X = np.array([[2.0**100, 1.0], [0.0, 1.0]])  # X'X is 2**200: finite in float64 only
    with pytest.raises(ValueError, match="XᵀX overflows float32.*dtype=np.float64"):
        EASE(l2=1.0).fit(X)
    assert np.isfinite(EASE(l2=1.0, dtype=np.float64).fit(X).coef_).all()


def test_ease_learns_the_checkerboard():
    X, withheld = make_checkerboard(explicit=False)
    model = EASE(l2=10.0).fit(X)
    k = int(np.diff(withheld.indptr).max())
    assert precision_of_withheld(model.recommend(X, k=k), withheld) >= 0.9
    rows = np.arange(X.shape[0])
    fit_rows, new_rows = rows[rows % 3 != 0], rows[rows % 3 == 0]
    folded = EASE(l2=10.0).fit(X[fit_rows]).recommend(X[new_rows], k=k)
    assert precision_of_withheld(folded, withheld[new_rows]) >= 0.8


def test_ease_beats_popularity_on_held_out_entries(implicit):
    X_train, X_test = train_test_split(implicit, test_size=0.2, random_state=0)
    ease = EASE(l2=20.0).fit(X_train, X_valid=X_test)
    popularity = PopularityRecommender().fit(X_train, X_valid=X_test)
    assert ease.validation_score_ == ease.score(X_train, X_test)
    assert ease.validation_score_ > popularity.validation_score_


def test_default_score_is_ndcg_at_100_or_all_items(implicit):
    X_train, X_test = train_test_split(implicit, test_size=0.2, random_state=0)
    for model in (EASE(l2=20.0), PopularityRecommender()):
        model.fit(X_train)
        assert model.score(X_train, X_test) == get_scorer("ndcg@40")(model, X_train, X_test)
        wide = sp.hstack([X_train, sp.csr_matrix((X_train.shape[0], 80))]).tocsr()
        wide_test = sp.hstack([X_test, sp.csr_matrix((X_test.shape[0], 80))]).tocsr()
        fitted = clone(model).fit(wide)
        assert fitted.score(wide, wide_test) == get_scorer("ndcg@100")(fitted, wide, wide_test)


def test_ease_grid_search_over_an_entry_split(implicit):
    X_train, X_valid = train_test_split(implicit, test_size=0.2, random_state=0)
    search = GridSearchCV(EASE(), {"l2": [1.0, 30.0]}, cv=PredefinedEntrySplit(),
                          scoring=get_scorer("ndcg@20")).fit(X_train, X_valid)
    assert search.best_params_["l2"] in (1.0, 30.0)


# --- PopularityRecommender -------------------------------------------------------------


def test_popularity_counts_stored_entries(implicit):
    X = implicit.astype(np.float64) * 3.5  # values are ignored, only entries count
    model = PopularityRecommender().fit(X)
    expected = np.asarray((implicit != 0).sum(axis=0)).ravel()
    np.testing.assert_array_equal(model.item_counts_, expected)
    assert model.item_counts_.dtype == np.int64
    scores = model.predict(implicit[:5])
    assert scores.dtype == np.float32
    np.testing.assert_array_equal(scores, np.tile(expected.astype(np.float32), (5, 1)))


def test_popularity_ignores_explicit_zeros():
    X = sp.csr_matrix((np.array([1.0, 0.0, 2.0]), (np.array([0, 1, 1]), np.array([0, 0, 1]))),
                      shape=(2, 3))
    assert X.nnz == 3
    np.testing.assert_array_equal(PopularityRecommender().fit(X).item_counts_, [1, 1, 0])


def _brute_force_popular(counts: np.ndarray, seen: np.ndarray, k: int) -> list[list[int]]:
    """Unseen items by (decreasing count, increasing index)."""
    order = sorted(range(counts.size), key=lambda i: (-counts[i], i))
    return [[i for i in order if not row_seen[i]][:k] for row_seen in seen]


def test_popularity_ranks_the_most_counted_unseen_items_first():
    X, _ = make_checkerboard(explicit=False)
    model = PopularityRecommender().fit(X)
    counts = model.item_counts_
    assert len(np.unique(counts)) < counts.size  # ties are exercised
    recommended, scores = model.recommend(X, k=10, return_scores=True)
    np.testing.assert_array_equal(recommended, _brute_force_popular(counts, X.toarray() > 0, 10))
    np.testing.assert_array_equal(scores, counts[recommended].astype(np.float32))
    np.testing.assert_array_equal(model.ranking_, np.lexsort((np.arange(counts.size), -counts)))


def test_popularity_ties_broken_by_item_index():
    X = np.array([[1, 1, 1, 0], [1, 0, 1, 1], [0, 0, 0, 1]])
    model = PopularityRecommender().fit(X)
    np.testing.assert_array_equal(model.item_counts_, [2, 1, 2, 2])
    np.testing.assert_array_equal(model.ranking_, [0, 2, 3, 1])
    np.testing.assert_array_equal(model.recommend(X, k=1, exclude_seen=False), [[0]] * 3)
    np.testing.assert_array_equal(model.recommend(np.array([[1, 0, 0, 0]]), k=3), [[2, 3, 1]])


def test_popularity_short_lists_end_with_seen_items():
    X = np.array([[1, 1, 1, 0], [0, 1, 0, 0]])
    model = PopularityRecommender(batch_size=1).fit(X)
    items, scores = model.recommend(X, k=4, return_scores=True)
    np.testing.assert_array_equal(items, [[3, 1, 0, 2], [0, 2, 3, 1]])
    np.testing.assert_array_equal(scores[0], [0.0, -np.inf, -np.inf, -np.inf])
    np.testing.assert_array_equal(scores[1], [1.0, 1.0, 0.0, -np.inf])


@pytest.mark.parametrize("model", [PopularityRecommender(), EASE(l2=10.0)], ids=type)
def test_recommend_agrees_with_predict(implicit, model):
    model.fit(implicit)
    items, scores = model.recommend(implicit, k=5, return_scores=True)
    masked = model.predict(implicit)
    masked[implicit.toarray() > 0] = -np.inf
    np.testing.assert_allclose(scores, -np.sort(-masked, axis=1)[:, :5], rtol=1e-6)
    np.testing.assert_array_equal(scores, np.take_along_axis(masked, items, axis=1))


def test_item_based_ease_scores_with_fewer_than_100_items():
    from sklearn_recae.compose import ItemBased

    X, withheld = make_checkerboard(explicit=False)  # 120 users x 40 items
    model = ItemBased(EASE(l2=10.0)).fit(X)
    assert model.score(X, withheld) == get_scorer("ndcg@40")(model, X, withheld)
