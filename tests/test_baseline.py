"""BaselineRatings: global mean + user and item biases by alternating ridge, against known answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_recae.linear import BaselineRatings
from sklearn_recae.metrics import get_scorer

X_TINY = np.array([[5.0, 3.0, 0.0], [4.0, 0.0, 1.0]])  # mean 13/4


def test_one_iteration_by_hand():
    model = BaselineRatings(alpha_user=1.0, alpha_item=1.0, n_iter=1, clip_predictions=False)
    model.fit(X_TINY)
    assert model.global_mean_ == 3.25
    # centred ratings: (0,0) 7/4, (0,1) -1/4, (1,0) 3/4, (1,2) -9/4; item step from b_u = 0
    item = np.array([(7 / 4 + 3 / 4) / (1 + 2), (-1 / 4) / (1 + 1), (-9 / 4) / (1 + 1)])
    np.testing.assert_allclose(model.item_bias_, item)
    user = np.array([(7 / 4 - item[0] + -1 / 4 - item[1]) / (1 + 2),
                     (3 / 4 - item[0] + -9 / 4 - item[2]) / (1 + 2)])
    np.testing.assert_allclose(model.user_bias_, user)
    np.testing.assert_allclose(model.predict(X_TINY), 3.25 + user[:, None] + item[None, :],
                               rtol=1e-6)


def test_converges_to_the_joint_ridge_solution():
    rng = np.random.default_rng(0)
    X = sp.random(12, 9, density=0.4, random_state=0, format="csr",
                  data_rvs=lambda n: rng.integers(1, 6, n).astype(float))
    alpha_user, alpha_item = 2.0, 3.0
    rows, cols = X.nonzero()
    values = np.asarray(X[rows, cols]).ravel()
    # closed form: the normal equations of the stacked design [user one-hot | item one-hot]
    design = np.hstack([np.eye(12)[rows], np.eye(9)[cols]])
    penalty = np.diag([alpha_user] * 12 + [alpha_item] * 9)
    solution = np.linalg.solve(design.T @ design + penalty,
                               design.T @ (values - values.mean()))
    model = BaselineRatings(alpha_user=alpha_user, alpha_item=alpha_item, n_iter=500).fit(X)
    np.testing.assert_allclose(model.user_bias_, solution[:12], atol=1e-8)
    np.testing.assert_allclose(model.item_bias_, solution[12:], atol=1e-8)


def test_unregularised_fit_is_exact_and_fills_the_gaps():
    model = BaselineRatings(alpha_user=0.0, alpha_item=0.0, n_iter=200).fit(X_TINY)
    # 4 ratings, a connected user-item graph: the biases fit them exactly
    np.testing.assert_allclose(model.predict(X_TINY), [[5, 3, 2], [4, 2, 1]], atol=1e-5)
    assert model.recommend(X_TINY, k=1).tolist() == [[2], [1]]


def test_fold_in_unseen_rows_and_items():
    X = sp.csr_matrix(np.array([[5.0, 3.0, 0.0, 0.0], [4.0, 0.0, 1.0, 0.0]]))
    model = BaselineRatings(alpha_user=2.0, alpha_item=1.0, clip_predictions=False).fit(X)
    assert model.item_bias_[3] == 0.0  # never observed
    new = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 0.0]])
    predicted = model.predict(new)
    np.testing.assert_allclose(predicted[0], model.global_mean_ + model.item_bias_, rtol=1e-6)
    b_u = (5.0 - model.global_mean_ - model.item_bias_[1]) / (2.0 + 1)
    np.testing.assert_allclose(predicted[1], model.global_mean_ + b_u + model.item_bias_,
                               rtol=1e-6)
    # on its training rows the fold-in gives the fitted user biases (the last step is the user's)
    np.testing.assert_allclose(
        model.predict(X), model.global_mean_ + model.user_bias_[:, None] + model.item_bias_,
        rtol=1e-6)


def test_clipping_and_validation_score():
    X = np.array([[5.0, 5.0, 0.0], [5.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    model = BaselineRatings(alpha_user=0.0, alpha_item=0.0, n_iter=50)
    assert model.fit(X).predict(X).max() <= 5.0 and model.predict(X).min() >= 1.0
    unclipped = BaselineRatings(alpha_user=0.0, alpha_item=0.0, n_iter=50,
                                clip_predictions=False).fit(X)
    X_valid = np.array([[0.0, 0.0, 4.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    fitted = BaselineRatings(alpha_user=1.0, alpha_item=1.0).fit(X, X_valid=X_valid)
    predicted = fitted.predict(X)
    expected = np.sqrt(((predicted[0, 2] - 4) ** 2 + (predicted[1, 1] - 2) ** 2) / 2)
    assert fitted.validation_score_ == pytest.approx(expected, rel=1e-6)
    assert -get_scorer("neg_rmse")(fitted, X, X_valid) == pytest.approx(expected, rel=1e-6)
    assert unclipped.predict(X).max() > 5.0  # the exact fit overshoots where clipping bites


def test_bad_parameters_and_input_raise():
    with pytest.raises(ValueError, match="alpha_user"):
        BaselineRatings(alpha_user=-1.0).fit(X_TINY)
    with pytest.raises(ValueError, match="n_iter"):
        BaselineRatings(n_iter=0).fit(X_TINY)
    with pytest.raises(ValueError, match="same shape"):
        BaselineRatings().fit(X_TINY, X_valid=X_TINY[:, :2])
