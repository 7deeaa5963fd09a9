"""NRP: no leakage, entry batches, side information and its routing, pair predictions."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_recae.datasets import make_interactions
from sklearn_recae.hybrid import NRP
from sklearn_recae._skorch import EntryBatch
from sklearn_recae.hybrid._side import RowsWithUserFeatures
from sklearn_recae.metrics import get_scorer, rmse
from sklearn_recae.model_selection import PredefinedEntrySplit, train_test_split
from sklearn_recae.nn.nrp import NRPModule, RatingEncoder

TINY = dict(encoder_units=(16, 8), side_units=(4,), predictor_units=(8,), batch_size=64,
            device="cpu", random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = make_interactions(40, 25, density=0.3, random_state=0)
    U = sp.csr_matrix((rng.rand(40, 6) < 0.4).astype(np.float32))
    V = sp.csr_matrix((rng.rand(25, 5) < 0.4).astype(np.float32))
    return X, U, V


@pytest.fixture(scope="module")
def fitted(data):
    X, U, V = data
    model = NRP(**TINY, item_features=V, item_sources=(2, 3), max_epochs=3)
    return model.fit(X, user_features=U)


def test_left_out_entry_code_equals_zeroed_input():
    torch.manual_seed(0)
    encoder = RatingEncoder(7, (5, 3), "selu").eval()
    x = torch.rand(4, 7) * (torch.rand(4, 7) < 0.6)
    index, left_out = torch.tensor([0, 0, 2, 3]), torch.tensor([1, 5, 2, 0])
    values = x[index, left_out]
    zeroed = x[index].clone()
    zeroed[torch.arange(4), left_out] = 0
    torch.testing.assert_close(encoder(x, index, left_out, values), encoder(zeroed))


def _planted(seed=0, n=400):
    """One random rating (1 or 5) per row and per column: unpredictable from anything else."""
    rng = np.random.RandomState(seed)
    values = rng.choice([1.0, 5.0], n).astype(np.float32)
    return sp.csr_matrix((values, (np.arange(n), rng.permutation(n))), shape=(n, n))


def _training_mse(X, leak: bool, monkeypatch) -> float:
    if leak:  # the positive control: the encoders see the rating they predict
        forward = RatingEncoder.forward
        monkeypatch.setattr(RatingEncoder, "forward",
                            lambda self, x, index=None, left_out=None, values=None:
                            forward(self, x, index))
    model = NRP(encoder_units=(8, 4), side_units=(4,), predictor_units=(8,), lr=3e-3,
                max_epochs=20, batch_size=50, early_stopping=False, device="cpu",
                random_state=0).fit(X)
    monkeypatch.undo()
    return float(np.mean(model.history_[-3:, "train_loss"]))


def test_no_leakage_of_the_predicted_rating(monkeypatch):
    """Each entry is alone in its row and column: its rating is only in the input.

    Without the entry, every user row and item column is empty, so NRP can
    only learn the mean (training error = the variance of the ratings, about
    4); a network that sees the rating it predicts (the positive control)
    copies it and its training error falls far below.
    """
    X = _planted()
    variance = float(np.var(X.data))
    honest = _training_mse(X, leak=False, monkeypatch=monkeypatch)
    leaky = _training_mse(X, leak=True, monkeypatch=monkeypatch)
    assert honest > 0.95 * variance, (honest, variance)
    assert leaky < 0.5 * variance, (leaky, variance)


def test_training_batches_are_entries_not_the_dense_matrix(data, monkeypatch):
    X, _, _ = data
    seen = []
    to = EntryBatch.to

    def spy(self, device):
        seen.append((len(self), tuple(self.user_rows.shape), tuple(self.item_cols.shape)))
        return to(self, device)

    monkeypatch.setattr(EntryBatch, "to", spy)
    NRP(**{**TINY, "batch_size": 16}, max_epochs=1, early_stopping=False).fit(X)
    assert sum(n for n, _, _ in seen) == X.nnz  # one epoch = every entry once
    assert all(n <= 16 for n, _, _ in seen)
    # each batch densifies its distinct users' rows and items' columns only
    assert all(u[0] <= n and u[1] == X.shape[1] and c[0] <= n and c[1] == X.shape[0]
               for n, u, c in seen)


def test_predict_pairs_matches_predict_and_leaves_the_entry_out(fitted, data):
    X, U, _ = data
    rows, cols = np.nonzero(np.ones(X.shape))
    dense = fitted.predict(X, user_features=U)
    assert dense.shape == X.shape and dense.dtype == np.float32
    pairs = fitted.predict_pairs(X, rows, cols, user_features=U)
    np.testing.assert_allclose(pairs, dense[rows, cols], rtol=1e-5, atol=1e-5)
    # an observed entry is predicted as if it were held out
    r, c = X.nonzero()
    without = X.tolil()
    without[r[0], c[0]] = 0
    np.testing.assert_allclose(
        fitted.predict_pairs(X, r[:1], c[:1], user_features=U),
        fitted.predict_pairs(without.tocsr(), r[:1], c[:1], user_features=U), rtol=1e-5)


def test_score_is_the_rmse_of_the_held_out_entries(data):
    X, U, V = data
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    model = NRP(**TINY, item_features=V, max_epochs=2).fit(X_train, user_features=U)
    rows, cols = X_test.nonzero()
    expected = rmse(np.asarray(X_test[rows, cols]),
                    model.predict_pairs(X_train, rows, cols, user_features=U)[None, :])
    assert model.score(X_train, X_test, user_features=U) == pytest.approx(-expected, rel=1e-5)
    dense = model.predict(X_train, user_features=U)
    assert rmse(X_test, dense) == pytest.approx(expected, rel=1e-5)


def test_package_scorers_read_fit_row_count_as_the_fitted_users(fitted, data):
    X, U, _ = data
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    assert get_scorer("neg_rmse")(fitted, X_train, X_test) == pytest.approx(
        fitted.score(X_train, X_test, user_features=U))
    assert fitted.score(X_train, X_test) == pytest.approx(
        fitted.score(X_train, X_test, user_features=U))
    with pytest.raises(ValueError, match="fitted with user_features"):
        fitted.score(X_train[:10], X_test[:10])
    assert get_scorer("ndcg@5")(fitted, X_train, X_test) == pytest.approx(
        get_scorer("ndcg@5")(
            RowsWithUserFeatures(fitted, U), X_train, X_test))


def test_item_features_as_a_fit_argument(data):
    X, U, V = data
    by_param = NRP(**TINY, item_features=V, max_epochs=2).fit(X, user_features=U)
    by_fit = NRP(**TINY, max_epochs=2).fit(X, user_features=U, item_features=V)
    np.testing.assert_array_equal(by_param.predict(X, user_features=U),
                                  by_fit.predict(X, user_features=U))


def test_user_features_are_required_and_checked(fitted, data):
    X, U, V = data
    with pytest.raises(ValueError, match="fitted with user_features"):
        fitted.predict(X)
    with pytest.raises(ValueError, match="fitted with user_features"):
        get_scorer("neg_rmse")(fitted, X[:10])  # not the fitted users: no features to use
    with pytest.raises(ValueError, match="both a parameter and a fit argument"):
        NRP(**TINY, item_features=V).fit(X, item_features=V)
    with pytest.raises(ValueError, match="one row per user"):
        fitted.predict(X, user_features=U[:-1])
    with pytest.raises(ValueError, match="columns"):
        fitted.predict(X, user_features=U[:, :-1])
    with pytest.raises(TypeError, match="one matrix"):
        NRP(**TINY).fit(X, user_features=[U[:, :3], U[:, 3:]])
    with pytest.raises(ValueError, match="one row per item"):
        NRP(**TINY, item_features=V[:-1]).fit(X)
    with pytest.raises(ValueError, match="summing"):
        NRP(**TINY, item_features=V, item_sources=(2, 2)).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        NRP(**TINY).fit(X, user_features=np.full((40, 2), np.nan))
    with pytest.raises(ValueError, match="without user_features"):
        NRP(**TINY, max_epochs=1).fit(X).predict(X, user_features=U)


def test_new_rows_fold_in_with_their_features(fitted, data):
    X, U, _ = data
    order = np.array([5, 2, 30])
    np.testing.assert_allclose(fitted.predict(X[order], user_features=U[order]),
                               fitted.predict(X, user_features=U)[order], rtol=1e-5, atol=1e-5)
    items = fitted.recommend(X[order], k=4, user_features=U[order])
    assert items.shape == (3, 4)


def test_side_information_changes_predictions_of_a_cold_user(fitted, data):
    X, U, _ = data
    empty = sp.csr_matrix((2, X.shape[1]), dtype=np.float32)
    two = sp.csr_matrix(np.array([[1, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1]], dtype=np.float32))
    scores = fitted.predict(empty, user_features=two)
    assert not np.allclose(scores[0], scores[1])


def test_clone_and_pickle_keep_item_features(fitted, data):
    X, U, V = data
    expected = fitted.predict(X, user_features=U)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict(X, user_features=U),
                                  expected)
    cloned = clone(fitted)
    assert cloned.item_features is not V and (cloned.item_features != V).nnz == 0
    np.testing.assert_array_equal(cloned.fit(X, user_features=U).predict(X, user_features=U),
                                  expected)


def test_grid_search_routes_user_features_in_both_protocols():
    """Square ratings (n_items == n_users): item features must never be sliced with rows."""
    rng = np.random.RandomState(0)
    X = make_interactions(30, 30, density=0.3, random_state=1)
    U = sp.csr_matrix(rng.rand(30, 4).astype(np.float32))
    V = sp.csr_matrix(rng.rand(30, 3).astype(np.float32))
    X_train, X_valid = train_test_split(X, test_size=0.2, random_state=0)
    grid = {"structure": ["direct", "autoencoder"]}
    params = {**TINY, "side_units": (8,), "max_epochs": 2, "item_features": V}
    with sklearn.config_context(enable_metadata_routing=True):
        model = NRP(**params).set_fit_request(user_features=True, X_valid=False)
        model = model.set_score_request(user_features=True)
        holdout = GridSearchCV(model, grid, cv=PredefinedEntrySplit()).fit(
            X_train, X_valid, user_features=U)
        foldin = GridSearchCV(model, grid, cv=KFold(3)).fit(X, user_features=U)
    best = holdout.best_estimator_
    assert holdout.best_score_ == pytest.approx(best.score(X_train, X_valid, user_features=U))
    assert np.isfinite(foldin.cv_results_["mean_test_score"]).all()
    assert foldin.best_estimator_.n_users_ == 30


@pytest.mark.parametrize("structure", ["direct", "autoencoder"])
def test_structures_and_id_embeddings_train(structure, data):
    X, U, V = data
    model = NRP(structure, **{**TINY, "side_units": (8,)}, id_components=3, item_features=V,
                max_epochs=3).fit(X, user_features=U)
    assert np.isfinite(model.validation_scores_).all() and model.n_params_ > 0
    assert isinstance(model.net_.module_, NRPModule)
    assert np.isfinite(model.predict(X, user_features=U)).all()


def _entry_batch(X, U, V, rows, cols):
    from sklearn_recae._skorch import collate_entries
    from sklearn_recae._skorch.entries import EntryDataset

    dataset = EntryDataset(X, rows, cols, np.asarray(X[rows, cols]).ravel(), U, V)
    batch, targets = collate_entries(dataset.__getitems__(np.arange(len(rows))))
    return batch.to("cpu"), targets


def _asdae_module(X, U, V, **params):
    torch.manual_seed(0)
    return NRPModule(X.shape[0], X.shape[1], [U.shape[1]], [V.shape[1]],
                     encoder_units=(16, 8, 4), structure="autoencoder", activation="tanh",
                     rating_offset=3.0, **params)


def test_noise_in_training_only_and_the_left_out_entry_stays_out(data):
    X, U, V = data
    rows, cols = X.nonzero()
    batch, _ = _entry_batch(X, U, V, rows[:30], cols[:30])
    module = _asdae_module(X, U, V, mask_fraction=0.5, noise_std=0.3)
    module.eval()  # deterministic, no corruption
    torch.testing.assert_close(module(batch), module(batch))
    assert module.corrupt(batch.user_rows) is batch.user_rows
    module.train()
    torch.manual_seed(1)
    first, _ = module(batch)
    second, _ = module(batch)
    assert not torch.allclose(first, second)
    noisy = module.corrupt(batch.user_rows)
    stored = batch.user_rows != 0
    assert torch.all(noisy[~stored] == 0)  # unobserved entries stay unobserved
    kept = (noisy[stored] != 0).float().mean().item()
    assert 0.3 < kept < 0.7  # about half of the stored values are masked
    assert not torch.allclose(noisy[noisy != 0], batch.user_rows[noisy != 0])  # Gaussian noise
    # the code of an entry equals the code of its zeroed (corrupted) input
    encoder = module.user_ratings.eval()
    x, side = noisy, batch.user_side
    index, left_out = batch.user_index, batch.items
    zeroed = x[index].clone()
    zeroed[torch.arange(len(index)), left_out] = 0
    torch.testing.assert_close(encoder.encode(x, side, index, left_out),
                               encoder.encode(zeroed, side[index]), rtol=1e-5, atol=1e-5)


def test_side_information_reaches_every_encoder_and_decoder_layer(data):
    X, U, V = data
    rows, cols = X.nonzero()
    batch, targets = _entry_batch(X, U, V, rows[:40], cols[:40])
    module = _asdae_module(X, U, V).train()
    for autoencoder, width in ((module.user_ratings, U.shape[1]),
                               (module.item_ratings, V.shape[1])):
        hidden = [layer.out_features for layer in autoencoder.rating_layers]
        assert hidden == [16, 8, 4, 8, 16]  # encoder, code, mirrored decoder
        assert [(layer.in_features, layer.out_features) for layer in autoencoder.side_layers] \
            == [(width, w) for w in hidden]
        assert autoencoder.side_output.out_features == width
    ratings, reconstruction = module(batch)
    ((ratings - targets).square().mean() + reconstruction).backward()
    for autoencoder in (module.user_ratings, module.item_ratings):
        for layer in [*autoencoder.side_layers, autoencoder.side_output]:
            assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    # the rating error alone reaches the side weights of every encoder layer
    module.zero_grad(set_to_none=False)
    module(batch)[0].sum().backward()
    for autoencoder in (module.user_ratings, module.item_ratings):
        grads = [layer.weight.grad.abs().sum().item() for layer in autoencoder.side_layers]
        assert all(g > 0 for g in grads[:3]) and all(g == 0 for g in grads[3:])


def test_the_papers_penalty_on_weights_not_biases(data):
    X, U, V = data
    model = NRP("autoencoder", **TINY, alpha=0.03, max_epochs=1, item_features=V).fit(
        X, user_features=U)
    assert model._resolved("activation") == "tanh"
    groups = model.net_.optimizer_.param_groups
    decay = {id(p): g["weight_decay"] for g in groups for p in g["params"]}
    for name, param in model.net_.module_.named_parameters():
        expected = 0.0 if name.endswith("bias") else 0.06  # the gradient of 0.03 ||W||^2
        assert decay[id(param)] == pytest.approx(expected), name
    assert NRP(**TINY, max_epochs=1).fit(X)._resolved("alpha") == 0.0


@pytest.mark.parametrize("reconstruction", ["mean", "sum"])
def test_reconstruction_normalisations(data, reconstruction):
    """"sum" is the paper's per-row sums, each row once an epoch; "mean" the batch means."""
    X, U, V = data
    rows, cols = X.nonzero()
    batch, _ = _entry_batch(X, U, V, rows[:50], cols[:50])
    module = _asdae_module(X, U, V, reconstruction=reconstruction, side_weight=0.0)
    ratings_hat, _ = module.user_ratings(batch.user_rows, batch.user_side)
    items_hat, _ = module.item_ratings(batch.item_cols, batch.item_side)
    terms = []
    for hat, clean, index in ((ratings_hat, batch.user_rows, batch.user_index),
                              (items_hat, batch.item_cols, batch.item_index)):
        observed = clean != 0
        if reconstruction == "sum":
            share = torch.bincount(index, minlength=len(clean)) / observed.sum(1)
            terms.append((share * (hat - clean).square().sum(1)).sum() / len(index))
        else:
            terms.append((hat - clean)[observed].square().mean())
    torch.testing.assert_close(module.reconstruction_loss(batch), sum(terms))


def test_autoencoder_learns_ratings_without_side_information():
    """The aSDAE structure alone beats the global mean by a wide margin (no side data)."""
    X = make_interactions(300, 80, density=0.25, noise=0.1, random_state=0)
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    model = NRP("autoencoder", encoder_units=(32, 8), batch_size=128, lr=3e-3, max_epochs=30,
                device="cpu", random_state=0).fit(X_train)
    baseline = np.sqrt(np.mean((X_test.data - X_train.data.mean()) ** 2))
    assert -model.score(X_train, X_test) < 0.85 * baseline


def test_bad_pairs(fitted, data):
    X, U, _ = data
    with pytest.raises(ValueError, match="indices in"):
        fitted.predict_pairs(X, [0, 99], [0, 1], user_features=U)
    with pytest.raises(TypeError, match="integer"):
        fitted.predict_pairs(X, [0.5], [1], user_features=U)
    with pytest.raises(ValueError, match="same length"):
        fitted.predict_pairs(X, [0, 1], [1], user_features=U)


def test_grid_search_without_routing_on_the_entry_split(data):
    """Without routing the fit arguments are sliced (all rows here) and scoring reads the fitted
    users; a fold-in search then has no features for its test rows and says so."""
    X, U, V = data
    X_train, X_valid = train_test_split(X, test_size=0.2, random_state=0)
    model = NRP(**TINY, item_features=V, max_epochs=2)
    search = GridSearchCV(model, {"lr": [1e-3, 3e-3]}, cv=PredefinedEntrySplit()).fit(
        X_train, X_valid, user_features=U)
    assert search.best_score_ == pytest.approx(
        search.best_estimator_.score(X_train, X_valid, user_features=U))
    with pytest.raises(ValueError, match="metadata routing"):
        GridSearchCV(model, {"lr": [1e-3]}, cv=KFold(3), error_score="raise").fit(
            X, user_features=U)
