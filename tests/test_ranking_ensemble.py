"""RankingEnsemble: per-user z-scored blends of ranking models, self-adaptive or searched weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sklearn_recae.autoencoder import MultDAE
from sklearn_recae.base import ndcg_at_100
from sklearn_recae.datasets import make_interactions
from sklearn_recae.ensemble import RankingEnsemble, self_adaptive_weights, simplex_grid
from sklearn_recae.linear import EASE
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import train_test_split


@pytest.fixture(scope="module")
def clicks():
    X = (make_interactions(150, 50, density=0.3, random_state=0) >= 3).astype(np.float32)
    return train_test_split(X, test_size=0.2, random_state=0)


def _zscore(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(axis=1, keepdims=True)) / scores.std(axis=1, keepdims=True)


def test_simplex_grid():
    grid = simplex_grid(3, 0.5)
    assert grid.shape == (6, 3)
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert {tuple(row) for row in grid} >= {(1.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.0, 0.0, 1.0)}
    assert simplex_grid(3, 0.1).shape == (66, 3)
    with pytest.raises(ValueError, match="search_step"):
        simplex_grid(2, 0.3)


def test_searched_weights_blend_z_scores(clicks):
    X_fit, X_valid = clicks
    # no tied scores (popularity's ties are broken by its own order, not by topk's)
    bases = [("ease", EASE(l2=10.0)), ("smooth", EASE(l2=2000.0))]
    ensemble = RankingEnsemble(bases, weighting="search", search_step=0.25).fit(
        X_fit, X_valid=X_valid)
    ease, pop = ensemble.estimators_
    expected = (ensemble.weights_[0] * _zscore(ease.predict(X_fit))
                + ensemble.weights_[1] * _zscore(pop.predict(X_fit)))
    np.testing.assert_allclose(ensemble.predict(X_fit), expected, atol=1e-4)
    # the grid holds each base alone: the searched blend validates at least as well
    assert ensemble.validation_score_ >= max(ndcg_at_100(b, X_fit, X_valid) for b in (ease, pop))
    assert ensemble.validation_score_ == pytest.approx(ndcg_at_100(ensemble, X_fit, X_valid))
    assert ensemble.weights_.sum() == pytest.approx(1.0) and ensemble.intercept_ == 0.0
    # each weight vector of the grid scores no better than the chosen one
    for point in simplex_grid(2, 0.25):
        blend = RankingEnsemble(bases, weighting="search").fit(X_fit, X_valid=X_valid)
        blend.weights_ = point
        assert ndcg_at_100(blend, X_fit, X_valid) <= ensemble.validation_score_ + 1e-9


def test_self_adaptive_on_ndcg_trajectories(clicks):
    X_fit, X_valid = clicks
    dae = MultDAE((16, 8), max_epochs=5, lr=1e-2, batch_size=32, early_stopping=False)
    ensemble = RankingEnsemble([("dae", dae), ("ease", EASE(l2=10.0))],
                               weighting="self_adaptive", delta=2.0,
                               random_state=0).fit(X_fit, X_valid=X_valid)
    history = pd.DataFrame(ensemble.history_)
    fitted = ensemble.named_estimators_
    assert len(history) == 5
    np.testing.assert_allclose(history["dae_valid_loss"], 1 - fitted["dae"].validation_scores_)
    np.testing.assert_allclose(history["ease_valid_loss"],
                               1 - ndcg_at_100(fitted["ease"], X_fit, X_valid), rtol=1e-6)
    expected = self_adaptive_weights(history[["dae_valid_loss", "ease_valid_loss"]], 2.0)[-1]
    np.testing.assert_allclose(ensemble.weights_, expected)
    # recommend and the ranking scorers work on it as on any recommender
    top = ensemble.recommend(X_fit, k=5)
    seen = X_fit.toarray() > 0
    assert not np.take_along_axis(seen, top, axis=1).any()
    assert 0 < get_scorer("recall@10")(ensemble, X_fit, X_valid) <= 1
    new_users = ensemble.predict(X_fit[:3])  # every base folds in: so does the blend
    np.testing.assert_allclose(new_users, ensemble.predict(X_fit)[:3], atol=1e-5)
