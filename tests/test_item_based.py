"""ItemBased: an item-based model that speaks users x items."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.compose import ItemBased
from sklearn_recae.datasets import make_interactions
from sklearn_recae.ensemble import MultiMetricAutoRec
from sklearn_recae.metrics import get_scorer, ndcg_at_k, recall_at_k, rmse
from sklearn_recae.model_selection import PredefinedEntrySplit, train_test_split

INNER = dict(hidden_units=(16,), max_epochs=15, batch_size=32, lr=1e-2, alpha=1.0,
             clip_predictions=False, random_state=0)


@pytest.fixture(scope="module")
def split():
    X = make_interactions(150, 60, density=0.25, noise=0.1, random_state=0)
    return train_test_split(X, test_size=0.2, random_state=0)


@pytest.fixture(scope="module")
def models(split):
    X_train, _ = split
    item_based = ItemBased(AutoRec(**INNER), batch_size=13).fit(X_train)
    transposed = AutoRec(**INNER).fit(X_train.T)
    return item_based, transposed


def _reference_top_k(scores: np.ndarray, X, k: int) -> np.ndarray:
    scores = scores.copy()
    scores[X.toarray() != 0] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def test_predictions_are_the_transposed_models(split, models):
    X_train, _ = split
    item_based, transposed = models
    # float32 products of blocks of other heights may round differently in the last bit
    np.testing.assert_allclose(item_based.predict(X_train), transposed.predict(X_train.T).T,
                               rtol=1e-6)
    assert item_based.n_users_ == X_train.shape[0]
    assert item_based.n_features_in_ == X_train.shape[1]
    assert item_based.estimator_.n_features_in_ == X_train.shape[0]


@pytest.mark.parametrize("k", [1, 7, 60])
def test_streaming_top_k_equals_a_full_sort(split, models, k):
    X_train, _ = split
    item_based, transposed = models
    full = transposed.predict(X_train.T).T  # unobserved columns tie at the global mean
    masked = np.where(X_train.toarray() != 0, -np.inf, full)
    items, scores = item_based.recommend(X_train, k=k, return_scores=True)
    assert all(len(set(row)) == k for row in items)
    np.testing.assert_array_equal(scores, -np.sort(-masked, axis=1)[:, :k])
    np.testing.assert_array_equal(np.take_along_axis(masked, items, 1), scores)
    with_seen = item_based.recommend(X_train, k=k, exclude_seen=False)
    np.testing.assert_array_equal(np.take_along_axis(full, with_seen, 1),
                                  -np.sort(-full, axis=1)[:, :k])


def test_scorers_equal_a_per_user_computation(split, models):
    X_train, X_test = split
    item_based, transposed = models
    full = transposed.predict(X_train.T).T
    assert -get_scorer("neg_rmse")(item_based, X_train, X_test) == pytest.approx(
        rmse(X_test, full), rel=1e-6)
    top = _reference_top_k(full, X_train, 10)
    assert get_scorer("ndcg@10")(item_based, X_train, X_test) == pytest.approx(
        ndcg_at_k(X_test, top, k=10), rel=1e-6)
    assert get_scorer("recall@10")(item_based, X_train, X_test) == pytest.approx(
        recall_at_k(X_test, top, k=10), rel=1e-6)
    assert item_based.score(X_train, X_test) == pytest.approx(-rmse(X_test, full), rel=1e-6)


def test_refuses_other_users_and_says_why(split, models):
    X_train, _ = split
    item_based, _ = models
    for method in (item_based.predict, item_based.recommend):
        with pytest.raises(ValueError, match="cannot fold in new users.*entry hold-out"):
            method(X_train[:10])
    search = GridSearchCV(ItemBased(AutoRec(**INNER)), {"estimator__alpha": [1.0]}, cv=KFold(3),
                          scoring=get_scorer("neg_rmse"), error_score="raise")
    with pytest.raises(ValueError, match="cannot fold in new users"):
        search.fit(X_train)


def test_x_valid_reaches_the_inner_model_transposed(split):
    X_train, X_test = split
    model = ItemBased(AutoRec(**{**INNER, "max_epochs": 5})).fit(X_train, X_valid=X_test)
    reference = AutoRec(**{**INNER, "max_epochs": 5}).fit(X_train.T, X_valid=X_test.T)
    np.testing.assert_array_equal(model.estimator_.validation_scores_,
                                  reference.validation_scores_)


def test_grid_search_tunes_nested_parameters_on_an_entry_split(split):
    X_train, X_test = split
    search = GridSearchCV(
        ItemBased(AutoRec(**INNER)), {"estimator__alpha": [0.1, 1000.0]},
        cv=PredefinedEntrySplit(), scoring=get_scorer("neg_rmse"),
    ).fit(X_train, X_test)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert search.best_estimator_.estimator_.alpha == search.best_params_["estimator__alpha"]


def test_item_based_mma(split):
    X_train, X_test = split
    bases = [(f"{loss}_{penalty}", AutoRec(loss=loss, penalty=penalty, **{**INNER, "max_epochs": 4}))
             for loss in ("l1", "l2") for penalty in ("l1", "l2")]
    i_mma = ItemBased(MultiMetricAutoRec(bases, random_state=0)).fit(X_train)
    assert set(i_mma.estimator_.named_weights_) == {"l1_l1", "l1_l2", "l2_l1", "l2_l2"}
    assert i_mma.predict(X_train).shape == X_train.shape
    assert np.isfinite(get_scorer("neg_rmse")(i_mma, X_train, X_test))


def test_fit_sets_the_inner_models_training_record(split):
    X_train, _ = split
    model = ItemBased(AutoRec(**{**INNER, "max_epochs": 3})).fit(X_train)
    inner = model.estimator_
    assert model.interrupted_ is False
    assert model.n_epochs_ == inner.n_epochs_ and model.best_epoch_ == inner.best_epoch_
    np.testing.assert_array_equal(model.validation_scores_, inner.validation_scores_)
    assert len(model.history_) == len(inner.history_)
    assert model.device_ == inner.device_ == torch.device("cpu")


def test_a_pipeline_ending_in_knn_gets_the_item_interactions(split):
    from sklearn.decomposition import TruncatedSVD
    from sklearn.pipeline import make_pipeline

    from sklearn_recae.neighbors import KNeighborsRecommender

    X_train, _ = split
    model = ItemBased(make_pipeline(TruncatedSVD(4, random_state=0), KNeighborsRecommender(5)))
    model.fit(X_train)
    assert model.estimator_[-1].interactions_.shape == X_train.T.shape
    assert model.predict(X_train).shape == X_train.shape  # items x users, not embedding columns
    assert model.recommend(X_train, k=3).shape == (X_train.shape[0], 3)
