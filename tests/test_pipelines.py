"""Pipelines of a package transformer and KNeighborsRecommender, under both protocols.

The interactions reach the kNN step as a fit parameter (``y`` is the held-out
matrix of the entry hold-out protocol): with step-prefixed parameters or with
metadata routing, sliced by ``GridSearchCV`` with the rows of each fold. The
package scorers rank a Pipeline (no ``recommend``) from ``predict``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import clone
from sklearn.decomposition import TruncatedSVD
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_recae.autoencoder import AutoRec, MultDAE
from sklearn_recae.base import ndcg_at_100
from sklearn_recae.compose import RecommenderPipeline, make_recommender_pipeline
from sklearn_recae.linear import PopularityRecommender
from sklearn_recae.metrics import get_scorer, ndcg_at_k
from sklearn_recae.model_selection import PredefinedEntrySplit, holdout_row_entries
from sklearn_recae.neighbors import KNeighborsRecommender

from .recommender_checks import make_checkerboard


@pytest.fixture(scope="module")
def X():
    return make_checkerboard(explicit=False)[0]


def _autorec(**params):
    return AutoRec(hidden_units=(8,), max_epochs=3, batch_size=32, early_stopping=False,
                   random_state=0, **params)


def _pipe(transformer=None, n_neighbors=10):
    return make_pipeline(transformer or _autorec(), KNeighborsRecommender(n_neighbors))


def test_pipeline_is_the_composition_of_its_steps(X):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # AutoRec on binary input
        pipe = _pipe().fit(X, kneighborsrecommender__interactions=X)
        encoder = _autorec().fit(X)
    E = encoder.transform(X)
    knn = KNeighborsRecommender(10).fit(E, interactions=X)
    np.testing.assert_allclose(pipe.predict(X[:20]), knn.predict(E[:20]), rtol=1e-5, atol=1e-6)
    assert pipe.predict(X).shape == X.shape


def test_metadata_routing_path_gives_the_same_model(X):
    pipe = _pipe(MultDAE(hidden_units=(16, 8), max_epochs=2, batch_size=32, random_state=0))
    expected = clone(pipe).fit(X, kneighborsrecommender__interactions=X).predict(X)
    with config_context(enable_metadata_routing=True):
        pipe[-1].set_fit_request(interactions=True)
        np.testing.assert_allclose(pipe.fit(X, interactions=X).predict(X), expected, rtol=1e-6)


def test_missing_interactions_in_a_pipeline_is_caught(X):
    """Without interactions the kNN step would recommend embedding columns: it must not pass."""
    pipe = make_pipeline(TruncatedSVD(4, random_state=0), KNeighborsRecommender(5))
    with pytest.raises(ValueError, match="interactions has 80 rows but X has 120"):
        pipe.fit(X, kneighborsrecommender__interactions=X[:80])
    pipe.fit(X)  # the SVD codes read as interactions: predict has n_components columns
    assert pipe.predict(X).shape == (X.shape[0], 4)


def _manual_cv_scores(pipe, X, scorer, cv):
    return [scorer(clone(pipe).fit(X[train], kneighborsrecommender__interactions=X[train]),
                   X[test]) for train, test in cv.split(X)]


@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_tunes_both_steps_fold_in(X, routing):
    pipe = _pipe(TruncatedSVD(random_state=0))
    grid = {"truncatedsvd__n_components": [3, 6], "kneighborsrecommender__n_neighbors": [5, 15]}
    scorer, cv = get_scorer("ndcg@10"), KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv, scoring=scorer)
    if routing:
        with config_context(enable_metadata_routing=True):
            pipe[-1].set_fit_request(interactions=True)
            search.fit(X, interactions=X)
    else:
        search.fit(X, kneighborsrecommender__interactions=X)
    # each fold's kNN got the interactions of that fold's training rows: the scores are
    # those of fitting the candidate on the fold by hand
    best = search.best_params_
    expected = _manual_cv_scores(clone(pipe).set_params(**best), X, scorer, cv)
    index = search.best_index_
    got = [search.cv_results_[f"split{i}_test_score"][index] for i in range(3)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert search.best_estimator_[-1].interactions_.shape == X.shape


def test_grid_search_tunes_autorec_and_knn(X):
    pipe = _pipe()
    grid = {"autorec__hidden_units": [(4,), (8,)], "kneighborsrecommender__n_neighbors": [5, 20]}
    search = GridSearchCV(pipe, grid, cv=KFold(3), scoring=get_scorer("recall@10"))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # AutoRec on binary input
        search.fit(X, kneighborsrecommender__interactions=X)
    assert search.cv_results_["mean_test_score"].shape == (4,)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_entry_holdout_protocol(X):
    X_train, X_valid = holdout_row_entries(X, 0.3, random_state=0)
    pipe = _pipe(TruncatedSVD(5, random_state=0))
    scorer = get_scorer("hit_rate@10")
    search = GridSearchCV(pipe, {"kneighborsrecommender__n_neighbors": [5, 15]},
                          cv=PredefinedEntrySplit(), scoring=scorer)
    search.fit(X_train, X_valid, kneighborsrecommender__interactions=X_train)
    for n, score in zip([5, 15], search.cv_results_["split0_test_score"]):
        fitted = clone(pipe).set_params(kneighborsrecommender__n_neighbors=n).fit(
            X_train, kneighborsrecommender__interactions=X_train)
        assert score == pytest.approx(scorer(fitted, X_train, X_valid))
    assert search.best_score_ > 0.5


def _ratings(seed=0, n_rows=60, n_items=30):
    rng = np.random.RandomState(seed)
    dense = np.where(rng.rand(n_rows, n_items) < 0.3, rng.uniform(1, 5, (n_rows, n_items)), 0)
    dense[:, 0] += 1.0
    return sp.csr_matrix(dense, dtype=np.float32)


# k small enough that every list holds items with distinct non-zero scores: torch.topk
# (recommend) and the scorers' argsort order tied scores differently
@pytest.mark.parametrize("metric", ["ndcg@10", "recall@5", "hit_rate@10", "map@10"])
def test_scorers_rank_a_pipeline_like_the_estimator_itself(metric):
    """A Pipeline has no recommend: ranked from predict, it scores as the bare kNN does."""
    X_train, X_test = holdout_row_entries(_ratings(), 0.3, random_state=0)
    knn = KNeighborsRecommender(8).fit(X_train)
    identity = FunctionTransformer(accept_sparse=True)
    pipe = make_pipeline(identity, KNeighborsRecommender(8)).fit(
        X_train, kneighborsrecommender__interactions=X_train)
    assert not hasattr(pipe, "recommend")
    np.testing.assert_allclose(pipe.predict(X_train), knn.predict(X_train))
    k = int(metric.split("@")[1])
    scorer = get_scorer(metric)
    assert scorer(pipe, X_train, X_test) == pytest.approx(scorer(knn, X_train, X_test))
    assert scorer(pipe, _ratings(seed=1)) == pytest.approx(scorer(knn, _ratings(seed=1)))
    if metric.startswith("ndcg"):  # against a ranking computed by hand
        scores = pipe.predict(X_train)
        scores[X_train.nonzero()] = -np.inf
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        assert scorer(pipe, X_train, X_test) == pytest.approx(ndcg_at_k(X_test, top, k=k))


def test_scorer_k_above_the_item_count_is_a_clear_error():
    X = _ratings()
    knn = KNeighborsRecommender(8).fit(X)
    pipe = make_pipeline(FunctionTransformer(accept_sparse=True), KNeighborsRecommender(8)).fit(
        X, kneighborsrecommender__interactions=X)
    for model in (knn, pipe):
        with pytest.raises(ValueError, match=r"k must be in \[1, n_items=30\], got k=50"):
            get_scorer("hit_rate@50")(model, X)


def test_pipeline_score_points_to_the_scorers(X):
    pipe = _pipe(TruncatedSVD(4, random_state=0)).fit(X, kneighborsrecommender__interactions=X)
    with pytest.raises(ValueError, match="get_scorer"):
        pipe.score(X, X)


# ------------------------------------------------- RecommenderPipeline (#20 item 4)
def _recommender_pipe(n_components=4, n_neighbors=10):
    return make_recommender_pipeline(TruncatedSVD(n_components, random_state=0),
                                     KNeighborsRecommender(n_neighbors))


def test_recommender_pipeline_routes_the_interactions_itself(X):
    expected = _pipe(TruncatedSVD(4, random_state=0)).fit(
        X, kneighborsrecommender__interactions=X).predict(X)
    pipe = _recommender_pipe()
    assert isinstance(pipe, RecommenderPipeline)
    np.testing.assert_array_equal(pipe.fit(X).predict(X), expected)
    assert pipe[-1].interactions_.shape == X.shape and not pipe[-1].input_is_interactions_
    with config_context(enable_metadata_routing=True):  # the request is set for the step
        np.testing.assert_array_equal(clone(pipe).fit(X).predict(X), expected)
        assert pipe[-1].get_metadata_routing().fit.requests["interactions"] is None  # unchanged
    given = X.copy()
    given.data[:] = 2.0  # interactions given by hand win
    refit = clone(pipe).fit(X, kneighborsrecommender__interactions=given)
    assert refit[-1].interactions_.max() == 2


def test_recommender_pipeline_never_recommends_a_seen_item(X):
    pipe = _recommender_pipe().fit(X)
    items, scores = pipe.recommend(X, k=5, return_scores=True)
    for row in range(X.shape[0]):
        assert not set(X[row].indices).intersection(items[row])
    # the same ranking as the package scorers' fallback over predict (the original rows masked)
    reference = pipe.predict(X)
    reference[X.nonzero()] = -np.inf
    np.testing.assert_allclose(scores, -np.sort(-reference, axis=1)[:, :5], rtol=1e-5, atol=1e-6)
    plain = make_pipeline(TruncatedSVD(4, random_state=0), KNeighborsRecommender(10)).fit(
        X, kneighborsrecommender__interactions=X)
    by_hand = np.argsort(-plain.predict(X), axis=1)[:, :5]  # what the usability trial did
    assert any(set(X[row].indices).intersection(by_hand[row]) for row in range(X.shape[0]))
    unmasked = pipe.recommend(X, k=5, exclude_seen=False)
    assert any(set(X[row].indices).intersection(unmasked[row]) for row in range(X.shape[0]))


def test_recommender_pipeline_honours_filter_items_and_candidates(X):
    pipe = _recommender_pipe().fit(X)
    n_items = X.shape[1]
    blocked, candidates = np.arange(0, n_items, 2), np.arange(0, n_items, 3)
    assert not np.isin(pipe.recommend(X, k=5, filter_items=blocked), blocked).any()
    assert np.isin(pipe.recommend(X, k=5, items=candidates), candidates).all()
    both = pipe.recommend(X, k=3, items=candidates, filter_items=blocked)
    assert np.isin(both, np.setdiff1d(candidates, blocked)).all()
    with pytest.raises(ValueError, match="item indices in"):
        pipe.recommend(X, filter_items=[n_items])


def test_recommender_pipeline_similar_items_and_score(X):
    pipe = _recommender_pipe().fit(X)
    np.testing.assert_array_equal(pipe.similar_items(np.arange(5), k=4),
                                  pipe[-1].similar_items(np.arange(5), k=4))
    X_train, X_valid = holdout_row_entries(X, 0.3, random_state=0)
    pipe.fit(X_train)
    assert pipe.score(X_train, X_valid) == pytest.approx(ndcg_at_100(pipe, X_train, X_valid))
    no_items = make_recommender_pipeline(FunctionTransformer(accept_sparse=True),
                                         PopularityRecommender())
    assert not hasattr(no_items, "similar_items")
    with pytest.raises(AttributeError, match="PopularityRecommender has no item representation"):
        no_items.similar_items(0)


def test_recommender_pipeline_needs_the_interactions_to_exclude_seen_items(X):
    pipe = _recommender_pipe().fit(X, kneighborsrecommender__interactions=X[:, :30])
    with pytest.raises(ValueError, match="must be the users x items interactions"):
        pipe.recommend(X, k=3)  # X has 40 columns, the model ranks 30 items
    assert pipe.recommend(X, k=3, exclude_seen=False).shape == (X.shape[0], 3)


@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_over_a_recommender_pipeline_unchanged(X, routing):
    """No fit parameter: each fold's kNN gets the fold's training rows as its interactions."""
    grid = {"truncatedsvd__n_components": [3, 6], "kneighborsrecommender__n_neighbors": [5, 15]}
    cv = KFold(3, shuffle=True, random_state=0)
    with config_context(enable_metadata_routing=routing):
        search = GridSearchCV(_recommender_pipe(), grid, cv=cv).fit(X)  # its own score
    expected = [ndcg_at_100(clone(search.best_estimator_).fit(X[train]), X[test])
                for train, test in cv.split(X)]
    got = [search.cv_results_[f"split{i}_test_score"][search.best_index_] for i in range(3)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert search.best_estimator_.recommend(X[:4], k=3).shape == (4, 3)


def test_recommender_pipeline_keeps_a_refused_interactions_request(X):
    """With routing, a step whose request is False gets no interactions (the user's choice)."""
    with config_context(enable_metadata_routing=True):
        pipe = _recommender_pipe()
        pipe[-1].set_fit_request(interactions=False)
        with pytest.warns(UserWarning, match="looks like an embedding"):
            pipe.fit(X)
    assert pipe[-1].input_is_interactions_ and pipe[-1].n_items_ == 4


def test_recommender_pipeline_of_another_last_step_is_a_plain_pipeline():
    from sklearn.linear_model import Ridge

    rng = np.random.RandomState(0)
    features, target = rng.rand(20, 3), rng.rand(20)
    pipe = make_recommender_pipeline(FunctionTransformer(), Ridge()).fit(features, target)
    assert pipe.score(features, target) == make_pipeline(FunctionTransformer(), Ridge()).fit(
        features, target).score(features, target)
    assert not hasattr(pipe, "recommend") and not hasattr(pipe, "similar_items")


def test_recommender_pipeline_over_item_blocks_matches_the_last_step(X):
    """An item-based last step scores item blocks: the pipeline's seen items follow them."""
    from sklearn_recae.compose import ItemBased
    from sklearn_recae.linear import EASE

    last = ItemBased(EASE(l2=10.0), batch_size=7)
    pipe = make_recommender_pipeline(FunctionTransformer(accept_sparse=True), last).fit(X)
    items, scores = pipe.recommend(X, k=4, return_scores=True, filter_items=[0, 1])
    expected_items, expected_scores = pipe[-1].recommend(X, k=4, return_scores=True,
                                                         filter_items=[0, 1])
    np.testing.assert_array_equal(items, expected_items)
    np.testing.assert_array_equal(scores, expected_scores)


def test_recommender_pipeline_under_the_entry_holdout_protocol(X):
    X_train, X_valid = holdout_row_entries(X, 0.3, random_state=0)
    search = GridSearchCV(_recommender_pipe(), {"kneighborsrecommender__n_neighbors": [5, 15]},
                          cv=PredefinedEntrySplit()).fit(X_train, X_valid)
    for n, got in zip([5, 15], search.cv_results_["split0_test_score"]):
        fitted = _recommender_pipe(n_neighbors=n).fit(X_train)
        assert got == pytest.approx(ndcg_at_100(fitted, X_train, X_valid))
