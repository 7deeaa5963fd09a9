"""RatingEnsemble: self-adaptive and NNLS stacking over rating models of any family."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls
from sklearn.model_selection import GridSearchCV

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.compose import ItemBased
from sklearn_recae.datasets import make_interactions
from sklearn_recae.ensemble import MultiMetricAutoRec, RatingEnsemble, nnls_blend
from sklearn_recae.hybrid import NRP
from sklearn_recae.linear import BaselineRatings
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import PredefinedEntrySplit, train_test_split

RMSE = get_scorer("neg_rmse")
SMALL = dict(hidden_units=(8,), lr=1e-2, batch_size=16, max_epochs=4)


def _mma_bases():
    return [(f"{loss}_{penalty}", AutoRec(loss=loss, penalty=penalty, alpha=1.0, **SMALL))
            for loss in ("l1", "l2") for penalty in ("l1", "l2")]


def _cross_family(max_epochs=(4, 6)):
    return [("i_autorec", ItemBased(AutoRec(**{**SMALL, "max_epochs": max_epochs[0]}))),
            ("u_autorec", AutoRec(**{**SMALL, "max_epochs": max_epochs[1]})),
            ("baseline", BaselineRatings())]


@pytest.fixture(scope="module")
def ratings():
    X = make_interactions(120, 40, density=0.3, noise=0.1, random_state=0)
    X_fit, X_valid = train_test_split(X, test_size=0.15, random_state=0)
    return X_fit, X_valid


def _held_out(model, X_fit, X_valid) -> np.ndarray:
    rows = np.repeat(np.arange(X_valid.shape[0]), np.diff(X_valid.indptr))
    return model.predict(X_fit)[rows, X_valid.indices]


def test_mma_is_the_ensemble_of_its_four_bases(ratings):
    X, _ = ratings
    mma = MultiMetricAutoRec(_mma_bases(), delta=3.0, random_state=0).fit(X)
    general = RatingEnsemble(_mma_bases(), weighting="self_adaptive", delta=3.0,
                             random_state=0).fit(X)
    np.testing.assert_array_equal(general.weights_, mma.weights_)
    np.testing.assert_array_equal(general.predict(X), mma.predict(X))
    assert pd.DataFrame(general.history_).equals(pd.DataFrame(mma.history_))
    assert general.validation_score_ == mma.validation_score_


def test_cross_family_self_adaptive_weights(ratings):
    X_fit, X_valid = ratings
    ensemble = RatingEnsemble(_cross_family(), weighting="self_adaptive", delta=5.0,
                              random_state=0)
    ensemble.fit(X_fit, X_valid=X_valid)
    history = pd.DataFrame(ensemble.history_)
    assert len(history) == ensemble.n_epochs_ == 6  # the longest trajectory
    bases = ensemble.named_estimators_
    # the item-based base's record is its inner AutoRec's, held after it stopped
    inner = bases["i_autorec"].estimator_.validation_scores_
    np.testing.assert_allclose(history["i_autorec_valid_rmse"][:4], inner)
    # the closed-form base: its final validation RMSE, constant
    np.testing.assert_allclose(history["baseline_valid_rmse"],
                               -RMSE(bases["baseline"], X_fit, X_valid), rtol=1e-5)
    names = ["i_autorec", "u_autorec", "baseline"]
    from sklearn_recae.ensemble import self_adaptive_weights

    expected = self_adaptive_weights(history[[f"{n}_valid_rmse" for n in names]], 5.0)[-1]
    np.testing.assert_allclose(ensemble.weights_, expected)
    assert list(ensemble.named_weights_) == names
    # the prediction is the weighted sum of the bases' predictions
    summed = sum(w * bases[n].predict(X_fit) for n, w in ensemble.named_weights_.items())
    np.testing.assert_allclose(ensemble.predict(X_fit), summed, rtol=1e-5, atol=1e-5)
    assert ensemble.validation_score_ == pytest.approx(-RMSE(ensemble, X_fit, X_valid))
    top = ensemble.recommend(X_fit, k=3, filter_items=[0])
    assert top.shape == (120, 3) and not (top == 0).any()
    # an item-based base serves the users seen in fit only
    with pytest.raises(ValueError, match="fitted on 120 users"):
        ensemble.predict(X_fit[:10])


def test_nnls_weights_fit_the_held_out_entries(ratings):
    X_fit, X_valid = ratings
    for intercept in (False, True):
        ensemble = RatingEnsemble(_cross_family(), weighting="nnls", fit_intercept=intercept,
                                  random_state=0).fit(X_fit, X_valid=X_valid)
        P = np.column_stack([_held_out(base, X_fit, X_valid) for base in ensemble.estimators_])
        if intercept:
            P = P - P.mean(axis=0)
        weights = nnls(P.astype(np.float64),
                       X_valid.data - (X_valid.data.mean() if intercept else 0.0))[0]
        np.testing.assert_allclose(ensemble.weights_, weights, rtol=1e-4, atol=1e-6)
        assert (ensemble.intercept_ != 0.0) == intercept
        assert "baseline_weight" not in ensemble.history_[-1]  # not the self-adaptive rule
        # in-sample on the validation entries: no worse than the best base
        best = min(-RMSE(base, X_fit, X_valid) for base in ensemble.estimators_)
        assert ensemble.validation_score_ <= best + 1e-6


def test_nnls_blend_known_answer():
    rng = np.random.default_rng(0)
    P = rng.normal(size=(200, 2))
    y = 0.5 + 2.0 * P[:, 0] - 1.0 * P[:, 1]  # the negative weight is clipped to 0
    weights, intercept = nnls_blend(P, y, fit_intercept=True)
    # with w2 = 0: ordinary least squares of y on [1, p1]
    design = np.column_stack([np.ones(200), P[:, 0]])
    (c, w1), *_ = np.linalg.lstsq(design, y, rcond=None)
    np.testing.assert_allclose(weights, [w1, 0.0], atol=1e-10)
    assert intercept == pytest.approx(c)
    exact, zero = nnls_blend(P, 2.0 * P[:, 0] + 3.0 * P[:, 1])
    np.testing.assert_allclose(exact, [2.0, 3.0])
    assert zero == 0.0


def test_side_information_reaches_the_bases_that_take_it():
    rng = np.random.RandomState(0)
    X = make_interactions(40, 25, density=0.3, random_state=0)
    U = sp.csr_matrix((rng.rand(40, 6) < 0.4).astype(np.float32))
    V = sp.csr_matrix((rng.rand(25, 5) < 0.4).astype(np.float32))
    nrp = NRP(encoder_units=(8, 4), side_units=(4,), predictor_units=(8,), max_epochs=2,
              batch_size=64, device="cpu")
    ensemble = RatingEnsemble([("nrp", nrp), ("autorec", AutoRec(**SMALL))], random_state=0)
    ensemble.fit(X, user_features=U, item_features=V)
    fitted = ensemble.named_estimators_["nrp"]
    assert fitted.n_user_features_ == 6 and fitted._item_side.shape == (25, 5)
    w = ensemble.weights_
    expected = (ensemble.intercept_ + w[0] * fitted.predict(X, user_features=U)
                + w[1] * ensemble.named_estimators_["autorec"].predict(X))
    np.testing.assert_allclose(ensemble.predict(X), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ensemble.predict(X, user_features=U), expected, rtol=1e-5,
                               atol=1e-5)
    assert np.isfinite(ensemble.score(X, X))
    with pytest.raises(ValueError, match="user_features was given, but no base"):
        RatingEnsemble([("autorec", AutoRec(**SMALL))]).fit(X, user_features=U)


def test_grid_search_tunes_both_levels(ratings):
    X_fit, X_valid = ratings
    search = GridSearchCV(
        RatingEnsemble(_cross_family(max_epochs=(2, 2)), random_state=0),
        {"weighting": ["self_adaptive", "nnls"], "u_autorec__hidden_units": [(4,), (8,)],
         "baseline__alpha_user": [1.0]},
        cv=PredefinedEntrySplit(), scoring=RMSE,
    ).fit(X_fit, X_valid)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.named_estimators_["baseline"].alpha_user == 1.0


def test_nested_random_state_is_seeded_and_reproducible(ratings):
    X, _ = ratings
    first = RatingEnsemble(_cross_family(max_epochs=(2, 2)), random_state=3).fit(X)
    second = RatingEnsemble(_cross_family(max_epochs=(2, 2)), random_state=3).fit(X)
    assert first.named_estimators_["i_autorec"].estimator_.random_state is not None
    # a meta-estimator seeded itself seeds its own bases
    mma = ItemBased(MultiMetricAutoRec(_mma_bases(), random_state=5))
    clone = RatingEnsemble([("mma", mma)], random_state=3)._seeded_clones([("mma", mma)],
                                                                        np.random.RandomState(0))
    assert all(base.random_state is None for _, base in clone[0].estimator.estimators)
    np.testing.assert_array_equal(first.predict(X), second.predict(X))


def test_bad_estimators_raise(ratings):
    X, _ = ratings

    class NoValid(BaselineRatings):
        def fit(self, X, y=None):
            return super().fit(X)

    with pytest.raises(TypeError, match="'odd'.*X_valid"):
        RatingEnsemble([("odd", NoValid())]).fit(X)
    with pytest.raises(ValueError, match="non-empty"):
        RatingEnsemble([]).fit(X)
    with pytest.raises(ValueError, match="weighting"):
        RatingEnsemble([("b", BaselineRatings())], weighting="mean").fit(X)
