"""KNeighborsRecommender: predictions against a brute-force user-kNN, self-matches, errors."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.neighbors import NearestNeighbors

from sklearn_recae.neighbors import KNeighborsRecommender


def _interactions(n_rows=40, n_items=25, density=0.3, seed=0) -> sp.csr_matrix:
    """Random ratings in (1, 5): continuous values, so no two distances tie."""
    rng = np.random.RandomState(seed)
    dense = np.where(rng.rand(n_rows, n_items) < density, rng.uniform(1, 5, (n_rows, n_items)), 0)
    dense[np.arange(n_rows), rng.randint(n_items, size=n_rows)] = 3.0  # >= 1 entry per row
    return sp.csr_matrix(dense, dtype=np.float32)


def _distances(Q, T, metric, VI=None) -> np.ndarray:
    Q, T = np.asarray(Q, np.float64), np.asarray(T, np.float64)
    if metric == "cosine":
        Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        Tn = T / np.linalg.norm(T, axis=1, keepdims=True)
        return 1 - Qn @ Tn.T
    diff = Q[:, None, :] - T[None, :, :]
    VI = np.eye(Q.shape[1]) if VI is None else VI
    return np.sqrt(np.einsum("qti,ij,qtj->qt", diff, VI, diff))


def _brute_force(Q, T, R, k, metric="cosine", weights="similarity", skip_self=False, VI=None):
    """sum over the k nearest rows of T (row i of T skipped for query i) of w(d) * R[v]."""
    D = _distances(Q, T, metric, VI)
    if skip_self:
        D[np.arange(len(Q)), np.arange(len(Q))] = np.inf
    R = R.toarray()
    out = np.zeros((len(Q), R.shape[1]))
    for u, row in enumerate(D):
        for v in np.argsort(row, kind="stable")[:k]:
            d = row[v]
            w = 1.0 if weights == "uniform" else (1 - d if metric == "cosine" else 1 / (1 + d))
            out[u] += w * R[v]
    return out


@pytest.mark.parametrize("weights", ["similarity", "uniform"])
def test_cosine_on_raw_rows_matches_brute_force(weights):
    X = _interactions()
    new = _interactions(seed=1)[:10]
    model = KNeighborsRecommender(5, weights=weights).fit(X)
    expected = _brute_force(new.toarray(), X.toarray(), X, 5, weights=weights)
    predicted = model.predict(new)
    assert predicted.shape == (10, 25) and predicted.dtype == np.float32
    np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_embeddings_with_interactions_match_brute_force(metric):
    rng = np.random.RandomState(0)
    E, E_new, R = rng.randn(40, 6), rng.randn(8, 6), _interactions()
    model = KNeighborsRecommender(7, metric=metric).fit(E, interactions=R)
    expected = _brute_force(E_new, E, R, 7, metric=metric)
    np.testing.assert_allclose(model.predict(E_new), expected, rtol=1e-5, atol=1e-5)
    assert model.n_features_in_ == 6 and model.n_items_ == 25
    assert not model.input_is_interactions_


def test_mahalanobis_with_metric_params():
    rng = np.random.RandomState(0)
    E, E_new, R = rng.randn(40, 4), rng.randn(8, 4), _interactions()
    A = rng.randn(4, 4)
    VI = A @ A.T + np.eye(4)
    model = KNeighborsRecommender(6, metric="mahalanobis", metric_params={"VI": VI},
                                  algorithm="brute").fit(E, interactions=R)
    expected = _brute_force(E_new, E, R, 6, metric="mahalanobis", VI=VI)
    np.testing.assert_allclose(model.predict(E_new), expected, rtol=1e-5, atol=1e-5)
    identity = KNeighborsRecommender(6, metric="mahalanobis", metric_params={"VI": np.eye(4)},
                                     algorithm="brute").fit(E, interactions=R)
    euclidean = KNeighborsRecommender(6, metric="euclidean").fit(E, interactions=R)
    np.testing.assert_allclose(identity.predict(E_new), euclidean.predict(E_new), rtol=1e-5)


def test_callable_weights():
    X = _interactions()
    model = KNeighborsRecommender(4, weights=lambda d: np.exp(-d)).fit(X)
    W = model.neighbor_weights(X[:5])
    nn = NearestNeighbors(n_neighbors=4, metric="cosine").fit(X)
    distances, indices = nn.kneighbors(None, n_neighbors=4)  # training rows: self left out
    for u in range(5):
        np.testing.assert_array_equal(np.sort(W[u].indices), np.sort(indices[u]))
        np.testing.assert_allclose(W[u, indices[u]].toarray().ravel(), np.exp(-distances[u]),
                                   rtol=1e-5)
    bad = KNeighborsRecommender(4, weights=lambda d: d[:, :1]).fit(X)
    with pytest.raises(ValueError, match="must return weights of the distances. shape"):
        bad.predict(X[:2])


def test_exclude_self_matches_kneighbors_without_query_point():
    """On the training rows, exclude_self=True is NearestNeighbors.kneighbors(X=None)."""
    X = _interactions()
    model = KNeighborsRecommender(6).fit(X)
    _, indices = NearestNeighbors(n_neighbors=6, metric="cosine").fit(X).kneighbors()
    W = model.neighbor_weights(X)
    assert np.all(np.diff(W.indptr) == 6)
    for u in range(X.shape[0]):
        assert set(W[u].indices) == set(indices[u]) and u not in W[u].indices
    expected = _brute_force(X.toarray(), X.toarray(), X, 6, skip_self=True)
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-5)


def test_exclude_self_is_per_row_and_leaves_new_rows_alone():
    X = _interactions()
    new = _interactions(seed=1)[:10]
    keep = KNeighborsRecommender(6, exclude_self=False).fit(X)
    drop = KNeighborsRecommender(6, exclude_self=True).fit(X)
    np.testing.assert_array_equal(drop.predict(new), keep.predict(new))
    # a batch mixing training rows and new rows, in any batch size: the same per row
    mixed = sp.vstack([X[[3, 7]], new[:2]]).tocsr()
    expected = np.vstack([drop.predict(X)[[3, 7]], drop.predict(new[:2])])
    np.testing.assert_allclose(drop.set_params(batch_size=1).predict(mixed), expected, rtol=1e-6)
    # keeping the self-match puts the row itself first, with weight 1 (cosine 1)
    W = keep.neighbor_weights(X[:4])
    for u in range(4):
        np.testing.assert_allclose(W[u, u], 1.0, rtol=1e-6)


def test_exclude_self_drops_one_of_two_identical_rows():
    X = _interactions()
    X = sp.vstack([X, X[0]]).tocsr()  # row 40 duplicates row 0
    W = KNeighborsRecommender(5).fit(X).neighbor_weights(X[[0]])
    assert len(set(W.indices) & {0, 40}) == 1 and W.nnz == 5


def test_exclude_self_on_embeddings():
    rng = np.random.RandomState(0)
    E, R = rng.randn(30, 4).astype(np.float32), _interactions(n_rows=30)
    model = KNeighborsRecommender(5, metric="euclidean").fit(E, interactions=R)
    expected = _brute_force(E, E, R, 5, metric="euclidean", skip_self=True)
    np.testing.assert_allclose(model.predict(E), expected, rtol=1e-4, atol=1e-4)


def test_more_neighbours_than_rows_uses_all_and_warns():
    X = _interactions(n_rows=6)
    with pytest.warns(UserWarning, match="every training row is a neighbour"):
        model = KNeighborsRecommender(10).fit(X)
    assert np.all(np.diff(model.neighbor_weights(X).indptr) == 5)  # all rows but itself
    expected = _brute_force(X.toarray(), X.toarray(), X, 5, skip_self=True)
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-5)


def test_batch_size_does_not_change_predictions():
    X = _interactions()
    full = KNeighborsRecommender(5).fit(X).predict(X)
    np.testing.assert_array_equal(KNeighborsRecommender(5, batch_size=3).fit(X).predict(X), full)


def test_sparse_and_dense_embeddings_agree():
    rng = np.random.RandomState(0)
    E, R = rng.randn(30, 5) * (rng.rand(30, 5) < 0.6), _interactions(n_rows=30)
    E[:, 0] += 1.0  # no row of zeros
    dense = KNeighborsRecommender(4).fit(E, interactions=R).predict(E)
    sparse = KNeighborsRecommender(4).fit(sp.csr_matrix(E), interactions=R).predict(E)
    np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-6)


def test_training_interactions_stay_sparse_and_caller_data_unchanged():
    rng = np.random.RandomState(0)
    E, R = rng.randn(40, 6), _interactions()
    E_copy, R_copy = E.copy(), R.copy()
    model = KNeighborsRecommender(5).fit(E, interactions=R)
    model.predict(E)
    assert sp.issparse(model.interactions_) and model.interactions_.dtype == np.float32
    np.testing.assert_array_equal(E, E_copy)
    np.testing.assert_array_equal(R.toarray(), R_copy.toarray())
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(E), model.predict(E))


def test_embedding_mode_recommend_and_score():
    rng = np.random.RandomState(0)
    E, R = rng.randn(40, 6), _interactions()
    model = KNeighborsRecommender(5).fit(E, interactions=R)
    with pytest.raises(ValueError, match="exclude_seen=False"):
        model.recommend(E)
    with pytest.raises(ValueError, match="get_scorer"):
        model.score(E, R)
    items, scores = model.recommend(E, k=4, exclude_seen=False, return_scores=True)
    predicted = model.predict(E)
    np.testing.assert_array_equal(items, np.argsort(-predicted, axis=1, kind="stable")[:, :4])
    np.testing.assert_allclose(scores, np.take_along_axis(predicted, items, axis=1))
    with pytest.raises(ValueError, match=r"k must be in \[1, n_items=25\]"):
        model.recommend(E, k=26, exclude_seen=False)


def test_raw_rows_recommend_excludes_seen_and_scores():
    X = _interactions()
    model = KNeighborsRecommender(5).fit(X)
    recommended = model.recommend(X, k=5)
    for u, items in enumerate(recommended):
        assert not set(X[u].indices) & set(items)
    assert 0.0 <= model.score(X) <= 1.0


def test_interactions_errors():
    rng = np.random.RandomState(0)
    E, R = rng.randn(40, 6), _interactions()
    with pytest.raises(ValueError, match="interactions has 39 rows but X has 40"):
        KNeighborsRecommender().fit(E, interactions=R[:39])
    with pytest.raises(ValueError, match="interactions has no stored non-zero"):
        KNeighborsRecommender().fit(E, interactions=sp.csr_matrix(R.shape))
    with pytest.raises(ValueError, match="interactions contains NaN"):
        KNeighborsRecommender().fit(E, interactions=np.full(R.shape, np.nan))
    with pytest.raises(ValueError, match="NaN"):
        KNeighborsRecommender().fit(np.full(E.shape, np.nan), interactions=R)
    model = KNeighborsRecommender(5).fit(E, interactions=R)
    with pytest.raises(ValueError, match="features"):
        model.predict(E[:, :-1])


@pytest.mark.parametrize("params, match", [
    ({"n_neighbors": 0}, "n_neighbors"),
    ({"weights": "distance"}, "weights"),
    ({"algorithm": "annoy"}, "algorithm"),
])
def test_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        KNeighborsRecommender(**params).fit(_interactions())


def test_fit_request_for_metadata_routing():
    with config_context(enable_metadata_routing=True):
        model = KNeighborsRecommender().set_fit_request(interactions=True)
        assert model.get_metadata_routing().fit.requests["interactions"] is True


def test_failed_fit_keeps_the_previous_model():
    X = _interactions()
    model = KNeighborsRecommender(5).fit(X)
    expected = model.predict(X)
    with warnings.catch_warnings(), pytest.raises(ValueError):
        warnings.simplefilter("ignore")
        model.fit(np.ones((40, 3)), interactions=X[:10])
    np.testing.assert_array_equal(model.predict(X), expected)


def test_callable_weights_returning_nan_name_the_values_not_the_shape():
    X = _interactions()
    model = KNeighborsRecommender(4, weights=lambda d: np.full_like(d, np.nan)).fit(X)
    with pytest.raises(ValueError, match="non-finite weight") as error:
        model.predict(X[:3])
    assert "distances' shape" not in str(error.value)


def test_pipeline_without_interactions_warns_that_x_looks_like_an_embedding():
    from sklearn.decomposition import TruncatedSVD
    from sklearn.pipeline import make_pipeline

    X = _interactions()
    pipe = make_pipeline(TruncatedSVD(5, random_state=0), KNeighborsRecommender(3))
    with pytest.warns(UserWarning, match="looks like an embedding"):
        pipe.fit(X)
    with warnings.catch_warnings():  # with its interactions: no warning, items are X's columns
        warnings.simplefilter("error")
        pipe.fit(X, kneighborsrecommender__interactions=X)
    assert pipe.predict(X).shape == X.shape


def test_interaction_matrices_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KNeighborsRecommender(3).fit(_interactions())  # sparse
        KNeighborsRecommender(3).fit(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 1.0]]))  # dense ratings
