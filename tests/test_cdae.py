"""CDAE: the user input node, its fallback for new users, the skorch glue and sklearn checks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_recae.autoencoder import CDAE
from sklearn_recae._skorch import UserCSRRows, collate_user_csr
from sklearn_recae.metrics import ndcg_at_k
from sklearn_recae.model_selection import holdout_row_entries
from sklearn_recae.nn.cdae import CDAEModule

from .recommender_checks import make_checkerboard, precision_of_withheld

FAST = dict(hidden_units=(16,), batch_size=16, max_epochs=15, early_stopping=False, random_state=0)
ROWS = np.arange(120)  # the checkerboard's rows, 30 per block
FIT, NEW = ROWS[ROWS % 4 != 0], ROWS[ROWS % 4 == 0]  # fitted user u is row FIT[u]; NEW: new users
N_FIT = len(FIT)


@pytest.fixture(scope="module")
def data():
    return make_checkerboard(explicit=False)


@pytest.fixture(scope="module", params=["logistic", "square"])
def fitted(request, data):
    X, _ = data
    return CDAE(request.param, **FAST).fit(X[FIT])


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _by_hand(model, X, user_vectors):
    """``f(W' h(Wᵀx + v + b) + b')`` in float64 from the fitted module's parameters."""
    m = model.net_.module_
    W, b = (p.detach().double().numpy() for p in (m.encoder.weight, m.encoder.bias))
    W2, b2 = (p.detach().double().numpy() for p in (m.decoder.weight, m.decoder.bias))
    z = _sigmoid(X.toarray() @ W.T + b + user_vectors)
    out = z @ W2.T + b2
    return z, (_sigmoid(out) if model.loss == "logistic" else out)


def _user_matrix(model):
    return model.net_.module_.user_embedding.weight.detach().double().numpy()


def test_learns_the_checkerboard_for_new_and_fitted_users(fitted, data):
    X, withheld = data
    k = int(np.diff(withheld.indptr).max())
    new = fitted.recommend(X[NEW], k=k)
    assert precision_of_withheld(new, withheld[NEW]) >= 0.8
    own = fitted.recommend(X[FIT], k=k, users=np.arange(N_FIT))
    assert precision_of_withheld(own, withheld[FIT]) >= 0.8
    assert fitted.n_users_ == N_FIT and fitted.n_epochs_ == FAST["max_epochs"]


def test_new_rows_get_the_mean_user_vector(fitted, data):
    X, _ = data
    V = _user_matrix(fitted)
    assert V.shape == (N_FIT, 16)
    z, scores = _by_hand(fitted, X[NEW], V.mean(axis=0))
    np.testing.assert_allclose(fitted.predict(X[NEW]), scores, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fitted.transform(X[NEW]), z, rtol=1e-4, atol=1e-5)
    items, top = fitted.recommend(X[NEW], k=5, return_scores=True)
    np.testing.assert_allclose(top, np.take_along_axis(scores, items, axis=1), rtol=1e-4,
                               atol=1e-5)


def test_fitted_users_get_their_own_vectors(fitted, data):
    X, _ = data
    users = np.array([0, 31, 64, 89, 5])
    rows = X[FIT[users]]
    V = _user_matrix(fitted)
    z, scores = _by_hand(fitted, rows, V[users])
    np.testing.assert_allclose(fitted.predict(rows, users=users), scores, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fitted.transform(rows, users=users), z, rtol=1e-4, atol=1e-5)
    items, top = fitted.recommend(rows, k=5, return_scores=True, users=users)
    np.testing.assert_allclose(top, np.take_along_axis(scores, items, axis=1), rtol=1e-4,
                               atol=1e-5)
    assert not set(items[0]) & set(rows[0].indices)  # seen items still excluded


def test_the_user_node_changes_the_predictions_of_fitted_users(fitted, data):
    X, _ = data
    V = _user_matrix(fitted)
    assert np.ptp(V, axis=0).max() > 1e-3  # trained away from its zero start, per user
    rows = X[FIT]
    own = fitted.predict(rows, users=np.arange(N_FIT))
    mean = fitted.predict(rows)
    assert np.abs(own - mean).max() > 1e-3
    # Another user's vector on the same observations gives other scores.
    swapped = fitted.predict(rows, users=np.roll(np.arange(N_FIT), 45))
    assert np.abs(own - swapped).max() > 1e-3
    # Giving one row's vector to every row equals the mean when V is constant.
    module = fitted.net_.module_
    saved = module.user_embedding.weight.detach().clone()
    try:
        with torch.no_grad():
            module.user_embedding.weight.copy_(saved[3].expand_as(saved))
        np.testing.assert_allclose(fitted.predict(rows, users=np.arange(N_FIT)),
                                   fitted.predict(rows), rtol=1e-5, atol=1e-6)
    finally:
        with torch.no_grad():
            module.user_embedding.weight.copy_(saved)


@pytest.mark.parametrize(
    "users,error,match",
    [
        (np.arange(3), ValueError, "one user"),
        (np.array([0, 1, 2, N_FIT]), ValueError, r"in \[0, 89\]"),
        (np.array([0, 1, 2, -1]), ValueError, "row indices"),
        (np.array([0.0, 1.0, 2.0, 3.0]), TypeError, "integer"),
        (np.array([True, False, True, False]), TypeError, "integer"),
    ],
)
def test_users_are_checked(fitted, data, users, error, match):
    X, _ = data
    for call in (fitted.predict, fitted.recommend, fitted.transform):
        with pytest.raises(error, match=match):
            call(X[:4], users=users)


def test_validation_ndcg_ranks_with_each_users_own_vector(data):
    X, _ = data
    model = CDAE(hidden_units=(16,), batch_size=16, max_epochs=6, n_iter_no_change=2,
                 refit=False, random_state=0).fit(X)
    scores = model.validation_scores_
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()
    assert model.best_epoch_ == int(np.argmax(scores)) + 1
    X_fit, X_valid = holdout_row_entries(X, 0.1, random_state=model._seed())
    ranked = model.recommend(X_fit, k=X.shape[1], users=np.arange(X.shape[0]))
    assert ndcg_at_k(X_valid, ranked) == pytest.approx(scores[model.best_epoch_ - 1], abs=1e-4)


def test_fixed_validation_matrix_keeps_the_row_users(data):
    X, withheld = data
    rows = np.flatnonzero(np.diff(withheld.indptr))[::2]
    keep = np.zeros(X.shape[0], dtype=np.float32)
    keep[rows] = 1.0
    X_valid = sp.csr_matrix(sp.diags(keep) @ withheld)  # zero rows are stored as no entry
    model = CDAE(hidden_units=(8,), batch_size=32, max_epochs=2, random_state=0)
    model.fit(X, X_valid=X_valid)
    ranked = model.recommend(X, k=X.shape[1], users=np.arange(X.shape[0]))
    assert ndcg_at_k(X_valid, ranked) == pytest.approx(model.validation_scores_[-1], abs=1e-4)


def test_dataset_yields_row_indices_and_collates_them():
    X = sp.csr_matrix(np.array([[1, 0, 2], [0, 3, 0], [4, 0, 0]], dtype=np.float32))
    y = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float32))
    dataset = UserCSRRows(X, y, rows=[2, 0])
    assert len(dataset) == 2
    (x, users), target = collate_user_csr(dataset.__getitems__([1, 0]))
    assert users.dtype == torch.int64 and users.tolist() == [0, 2]
    np.testing.assert_array_equal(x.to_dense().numpy(), X[[0, 2]].toarray())
    np.testing.assert_array_equal(target.to_dense().numpy(), y[[0, 2]].toarray())
    (x, _), target = collate_user_csr(UserCSRRows(X).__getitems__([1]))
    assert target is x  # an autoencoder's target is its input


def test_module_penalty_and_mean_fallback_hand_computed():
    module = CDAEModule(n_items=2, n_users=3, n_hidden=1, activation="lin-lin", dropout=0.0)
    with torch.no_grad():
        module.encoder.weight.copy_(torch.tensor([[1.0, 2.0]]))
        module.encoder.bias.fill_(0.5)
        module.decoder.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        module.decoder.bias.copy_(torch.tensor([0.0, 1.0]))
        module.user_embedding.weight.copy_(torch.tensor([[1.0], [2.0], [6.0]]))
    x = torch.tensor([[1.0, 1.0]])
    # z = 1 + 2 + 0.5 + v; new user: v = mean(1, 2, 6) = 3 -> z = 6.5, scores (6.5, -5.5)
    assert module(x).tolist() == [[6.5, -5.5]]
    assert module(x, torch.tensor([2])).tolist() == [[9.5, -8.5]]
    # ½(1 + 4 + 0.25 + 1 + 1 + 0 + 1) = 4.125; users 0 and 2: + ½ mean(1, 36) = 9.25
    assert module.l2_penalty().item() == pytest.approx(4.125)
    assert module.l2_penalty(torch.tensor([0, 2])).item() == pytest.approx(4.125 + 9.25)


def test_weight_decay_shrinks_the_weights(data):
    X, _ = data
    params = dict(FAST, max_epochs=3)
    norms = []
    for weight_decay in (0.0, 1.0):
        model = CDAE(weight_decay=weight_decay, **params).fit(X[:32])
        norms.append(model.net_.module_.l2_penalty(torch.arange(32)).item())
    assert norms[1] < norms[0]


def test_hidden_units_is_a_tuple_of_one_width(data):
    message = r"CDAE has exactly 1 hidden width.*e\.g\. \(16,\), got \(16, 8\)"
    with pytest.raises(ValueError, match=message):
        CDAE(hidden_units=(16, 8), max_epochs=1).fit(data[0])


def test_logistic_loss_needs_a_sigmoid_output(data):
    X, _ = data
    with pytest.raises(ValueError, match="needs a sigmoid output"):
        CDAE("logistic", activation="sig-lin").fit(X)


def test_pickle_keeps_the_user_vectors(fitted, data):
    X, _ = data
    users = np.arange(10)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X[FIT[:10]], users=users),
                                  fitted.predict(X[FIT[:10]], users=users))
    np.testing.assert_array_equal(restored.predict(X[NEW]), fitted.predict(X[NEW]))
