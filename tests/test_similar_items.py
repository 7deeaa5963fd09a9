"""``similar_items``: each model's item similarity against a direct computation, and its contract.

The behaviour suite (test_common.py) checks on the checkerboard that every
model's neighbours come from the item's own block; here each similarity is
compared with the formula its docstring states, on small synthetic data.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from sklearn_recae.autoencoder import AutoRec, MultVAE
from sklearn_recae.compose import ItemBased
from sklearn_recae.datasets import make_interactions
from sklearn_recae.ensemble import MultiMetricAutoRec
from sklearn_recae.hybrid import NRP
from sklearn_recae.linear import EASE, PopularityRecommender
from sklearn_recae.metric_learning import MagneticMetricLearning
from sklearn_recae.neighbors import KNeighborsRecommender


@pytest.fixture(scope="module")
def X():
    return make_interactions(80, 30, density=0.2, implicit=True, random_state=0)


def _ranking_of(similarity: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of each row of a full (n_items, n_items) similarity, the item itself left out."""
    similarity = np.array(similarity, dtype=np.float64)
    np.fill_diagonal(similarity, -np.inf)
    order = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(similarity, order, axis=1)


def _assert_same_ranking(model, similarity: np.ndarray, k: int = 5, rtol: float = 1e-5) -> None:
    """``similar_items`` is the top-k of ``similarity`` (equal scores; items where not tied)."""
    items, scores = model.similar_items(np.arange(similarity.shape[0]), k=k, return_scores=True)
    expected_items, expected_scores = _ranking_of(similarity, k + 1)  # one more: its gap
    np.testing.assert_allclose(scores, expected_scores[:, :k], rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(np.take_along_axis(similarity, items, axis=1),
                               expected_scores[:, :k], rtol=rtol, atol=1e-6)
    assert not (items == np.arange(len(items))[:, None]).any()
    distinct = np.abs(np.diff(expected_scores, axis=1)).min(axis=1) > 1e-4  # no tie to break
    assert distinct.mean() > 0.5
    np.testing.assert_array_equal(items[distinct], expected_items[distinct, :k])


def test_ease_equals_the_ranking_of_its_weight_columns(X):
    model = EASE(l2=10.0).fit(X)
    items, scores = model.similar_items(np.arange(30), k=29, return_scores=True)
    for j in range(30):
        column = model.coef_[:, j].copy()
        column[j] = -np.inf
        order = np.argsort(-column, kind="stable")[:29]
        np.testing.assert_array_equal(items[j], order)
        np.testing.assert_array_equal(scores[j], column[order])


def test_knn_is_the_cosine_of_the_interaction_columns(X):
    model = KNeighborsRecommender(10).fit(X)
    _assert_same_ranking(model, cosine_similarity(X.T))


def test_autoencoder_is_the_cosine_of_the_decoder_item_vectors(X):
    model = MultVAE(hidden_units=(16, 8), max_epochs=2, random_state=0).fit(X)
    weight = model.net_.module_.decoder[-1].weight.detach().numpy()  # (n_items, 16)
    _assert_same_ranking(model, cosine_similarity(weight))


def test_metric_model_is_minus_the_learned_item_distance(X):
    model = MagneticMetricLearning(n_components=4, max_epochs=2, random_state=0).fit(X)
    points, W = model.item_embeddings_.astype(np.float64), model.metrics_["item"]
    diff = points[:, None, :] - points[None, :, :]
    distance = np.einsum("abi,ij,abj->ab", diff, W.astype(np.float64), diff)
    _assert_same_ranking(model, -distance, rtol=1e-4)


def test_item_based_is_the_cosine_of_the_inner_codes():
    R = make_interactions(80, 30, density=0.2, random_state=0)  # ratings
    model = ItemBased(AutoRec(hidden_units=(6,), max_epochs=5, random_state=0)).fit(R)
    np.testing.assert_allclose(model.item_codes_, model.estimator_.transform(R.T), rtol=1e-6)
    _assert_same_ranking(model, cosine_similarity(model.item_codes_))


def test_blocks_single_item_and_errors(X):
    model = EASE(l2=10.0, batch_size=7).fit(X)
    full = EASE(l2=10.0).fit(X).similar_items(np.arange(30), k=4)
    np.testing.assert_array_equal(model.similar_items(np.arange(30), k=4), full)
    np.testing.assert_array_equal(model.similar_items(3, k=4), full[3])
    assert model.similar_items([5, 5, 1]).shape == (3, 10)
    with pytest.raises(ValueError, match=r"n_items - 1 = 29"):
        model.similar_items([0], k=30)
    with pytest.raises(ValueError, match="item indices in"):
        model.similar_items([30])
    with pytest.raises(TypeError, match="integer item indices"):
        model.similar_items([0.5])
    with pytest.raises(TypeError, match="return_scores"):
        model.similar_items([0], return_scores=1)


@pytest.mark.parametrize("model, reason", [
    (PopularityRecommender(), "PopularityRecommender has no item representation"),
    (NRP(), "NRP has no item representation"),
    (MultiMetricAutoRec(), "MultiMetricAutoRec has no item representation"),
    (ItemBased(MultiMetricAutoRec()), "MultiMetricAutoRec has no transform"),
])
def test_models_without_an_item_representation_say_so(model, reason):
    assert not hasattr(model, "similar_items")
    with pytest.raises(AttributeError, match=reason):
        model.similar_items([0])


def test_unfitted_model_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        EASE().similar_items([0])
