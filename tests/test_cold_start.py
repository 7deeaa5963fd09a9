"""ColdStartFallback: the estimator's lists for rows it can read, the fallback's for cold rows."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_recae.compose import ColdStartFallback, ItemBased
from sklearn_recae.datasets import make_interactions
from sklearn_recae.linear import EASE, PopularityRecommender
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import train_test_split


@pytest.fixture(scope="module")
def X():
    X = make_interactions(n_users=60, n_items=25, density=0.2, implicit=True, random_state=0)
    X = X.tolil()
    X[[3, 17], :] = 0  # two cold users
    X = X.tocsr()
    X.eliminate_zeros()
    return X


def test_cold_rows_get_the_fallback_warm_rows_the_estimator(X):
    model = ColdStartFallback(EASE(l2=5.0)).fit(X)
    ease, popularity = EASE(l2=5.0).fit(X), PopularityRecommender().fit(X)
    top = model.recommend(X, k=5)
    warm = np.diff(X.indptr) > 0
    np.testing.assert_array_equal(top[warm], ease.recommend(X[warm], k=5))
    # the most popular items, by count (the counts of this data have no tie at the top)
    np.testing.assert_array_equal(top[~warm], np.tile(popularity.ranking_[:5], (2, 1)))
    predicted = model.predict(X)
    np.testing.assert_allclose(predicted[~warm], np.tile(popularity.item_counts_, (2, 1)))
    np.testing.assert_allclose(predicted[warm], ease.predict(X[warm]), rtol=1e-6)


def test_plain_ease_cannot_rank_an_empty_row(X):
    """Why the meta-estimator exists: EASE scores an empty row 0 everywhere."""
    assert np.all(EASE(l2=5.0).fit(X).predict(sp.csr_matrix((1, X.shape[1]))) == 0)


def test_min_interactions_and_custom_fallback(X):
    counts = np.diff(X.indptr)
    fallback = EASE(l2=500.0)
    model = ColdStartFallback(EASE(l2=5.0), fallback, min_interactions=4).fit(X)
    cold = counts < 4
    assert 2 < cold.sum() < X.shape[0]
    np.testing.assert_allclose(model.predict(X)[cold],
                               EASE(l2=500.0).fit(X).predict(X[cold]), rtol=1e-6)
    assert model.fallback_ is not fallback and not hasattr(fallback, "coef_")


def test_filters_and_seen_items_apply_to_cold_rows(X):
    model = ColdStartFallback(EASE(l2=5.0)).fit(X)
    ranking = model.fallback_.ranking_
    top = model.recommend(X[[3]], k=3, filter_items=ranking[:2])
    np.testing.assert_array_equal(top[0], ranking[2:5])
    one = sp.csr_matrix(([1.0], ([0], [ranking[0]])), shape=(1, X.shape[1]))
    cold_one = ColdStartFallback(EASE(l2=5.0), min_interactions=2).fit(X)
    np.testing.assert_array_equal(cold_one.recommend(one, k=3)[0], ranking[1:4])


def test_fit_params_reach_the_estimator_and_inputs_are_kept(X):
    X, X_valid = train_test_split(X, test_size=0.2, random_state=0)
    before, before_valid = X.copy(), X_valid.copy()
    model = ColdStartFallback(EASE(l2=5.0)).fit(X, X_valid=X_valid)
    assert hasattr(model.estimator_, "validation_score_")
    assert (X != before).nnz == 0 and (X_valid != before_valid).nnz == 0


def test_scorers_work_with_an_estimator_that_needs_every_row(X):
    """ItemBased serves only its fit users, all at once: the scorers' hook keeps that."""
    X, X_test = train_test_split(X, test_size=0.2, random_state=0)
    model = ColdStartFallback(ItemBased(EASE(l2=5.0))).fit(X)
    score = get_scorer("ndcg@10")(model, X, X_test)
    assert 0.0 <= score <= 1.0
    np.testing.assert_array_equal(
        model.recommend(X, k=4)[np.diff(X.indptr) > 0],
        model.estimator_.recommend(X, k=4)[np.diff(X.indptr) > 0],
    )


def test_similar_items_is_the_estimators(X):
    model = ColdStartFallback(EASE(l2=5.0)).fit(X)
    np.testing.assert_array_equal(model.similar_items([0, 1], k=3),
                                  model.estimator_.similar_items([0, 1], k=3))
    assert not hasattr(ColdStartFallback(PopularityRecommender()), "similar_items")


def test_bad_parameters_raise(X):
    with pytest.raises(InvalidParameterError, match="min_interactions"):
        ColdStartFallback(EASE(), min_interactions=0).fit(X)
    with pytest.raises(InvalidParameterError, match="fallback"):
        ColdStartFallback(EASE(), fallback="popularity").fit(X)
