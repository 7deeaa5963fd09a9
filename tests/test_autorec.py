import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.datasets import make_interactions
from sklearn_recae.metrics import get_scorer, rmse
from sklearn_recae.model_selection import PredefinedEntrySplit, train_test_split

FAST = dict(hidden_units=(16,), batch_size=32, lr=1e-2, alpha=1.0, random_state=0)


@pytest.fixture(scope="module")
def ratings():
    """I-AutoRec orientation (rows = 100 items, columns = 400 users), 80/20 entry split."""
    X = make_interactions(400, 100, density=0.2, noise=0.1, random_state=0).T.tocsr()
    return train_test_split(X, test_size=0.2, random_state=0)


def _test_rmse(model, X_train, X_test):
    return -get_scorer("neg_rmse")(model, X_train, X_test)


def test_learns_low_rank_ratings_better_than_the_mean(ratings):
    X_train, X_test = ratings
    model = AutoRec(max_epochs=100, **FAST).fit(X_train)
    baseline = np.sqrt(np.mean((X_test.data - X_train.data.mean()) ** 2))
    assert _test_rmse(model, X_train, X_test) < 0.8 * baseline


@pytest.mark.parametrize("loss,penalty", [("l1", "l1"), ("l1", "l2"), ("l2", "l1"), ("l2", None)])
def test_every_loss_and_penalty_trains(ratings, loss, penalty):
    X_train, X_test = ratings
    model = AutoRec(max_epochs=30, loss=loss, penalty=penalty, **FAST).fit(X_train)
    losses = model.history_[:, "train_loss"]
    assert losses[-1] < losses[0]
    assert np.isfinite(model.predict(X_train)).all()


def test_stronger_penalty_gives_smaller_weights(ratings):
    X_train, _ = ratings
    norms = []
    for alpha in (0.0, 50.0):
        model = AutoRec(max_epochs=20, early_stopping=False, **{**FAST, "alpha": alpha}).fit(X_train)
        norms.append(sum(w.norm().item() for w in model.net_.module_.weight_matrices()))
    assert norms[1] < 0.5 * norms[0]


def test_early_stopping_keeps_best_epoch(ratings):
    X_train, _ = ratings
    model = AutoRec(max_epochs=300, n_iter_no_change=5, refit=False, **FAST).fit(X_train)
    valid = model.history_[:, "valid_rmse"]
    assert len(valid) < 300
    best_epoch = int(np.argmin(valid))
    assert len(valid) - 1 - best_epoch >= 5  # ran patience epochs past the best
    # The kept weights are the best epoch's, and valid_rmse is exact over all held-out entries.
    X_fit, X_valid = train_test_split(X_train, test_size=0.1, random_state=model._seed())
    assert rmse(X_valid, model.predict(X_fit)) == pytest.approx(valid[best_epoch], rel=1e-5)


def test_unseen_columns_and_empty_rows_fall_back(ratings):
    X_train, _ = ratings
    X = X_train.tolil()
    X[:, 5] = 0
    X = X.tocsr()
    model = AutoRec(max_epochs=5, **FAST).fit(X)
    scores = model.predict(X)
    assert np.allclose(scores[:, 5], model.global_mean_)
    empty = sp.csr_matrix((2, X.shape[1]), dtype=np.float32)
    np.testing.assert_allclose(model.predict(empty), np.tile(model.column_means_, (2, 1)))


def test_clip_predictions_to_training_range(ratings):
    X_train, _ = ratings
    fixed = dict(FAST, max_epochs=30, early_stopping=False)
    clipped = AutoRec(**fixed).fit(X_train).predict(X_train)
    raw = AutoRec(clip_predictions=False, **fixed).fit(X_train).predict(X_train)
    assert raw.min() < 1 or raw.max() > 5
    np.testing.assert_array_equal(clipped, np.clip(raw, 1, 5))


def test_transform_returns_hidden_code(ratings):
    X_train, _ = ratings
    model = AutoRec(max_epochs=2, **FAST).fit(X_train)
    codes = model.transform(X_train[:5])
    assert codes.shape == (5, 16) and codes.dtype == np.float32
    assert ((codes > 0) & (codes < 1)).all()  # sigmoid code
    assert list(model.get_feature_names_out()[:2]) == ["autorec0", "autorec1"]


def test_same_seed_same_model_other_seed_differs(ratings):
    X_train, _ = ratings
    a = AutoRec(max_epochs=3, **FAST).fit(X_train).predict(X_train)
    b = AutoRec(max_epochs=3, **FAST).fit(X_train).predict(X_train)
    c = AutoRec(max_epochs=3, **{**FAST, "random_state": 1}).fit(X_train).predict(X_train)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_does_not_touch_global_torch_rng(ratings):
    import torch

    X_train, _ = ratings
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AutoRec(max_epochs=1, **FAST).fit(X_train)
    assert torch.equal(torch.rand(3), expected)


def test_diverging_loss_raises():
    X = sp.csr_matrix(np.random.RandomState(0).uniform(1, 1e30, (20, 6)).astype(np.float32))
    with pytest.raises(FloatingPointError, match="Training loss became"):
        AutoRec(max_epochs=2, early_stopping=False, **FAST).fit(X)


def test_invalid_parameters_raise(ratings):
    X_train, _ = ratings
    for bad in ({"loss": "l3"}, {"hidden_units": 0}, {"activation": "nope"}, {"alpha": -1.0}):
        with pytest.raises(ValueError, match=re.escape(next(iter(bad)))):
            AutoRec(**bad).fit(X_train)


@pytest.mark.parametrize("units", [(8, 4), (), (0,), 200])
def test_hidden_units_is_a_tuple_of_one_width(ratings, units):
    with pytest.raises(ValueError, match="hidden_units"):
        AutoRec(hidden_units=units, max_epochs=1).fit(ratings[0])


def test_verbose_prints_epoch_table(ratings, capsys):
    X_train, _ = ratings
    AutoRec(max_epochs=2, verbose=1, **FAST).fit(X_train)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_rmse" in out


def test_grid_search_fold_in_protocol_with_two_jobs(ratings):
    X_train, _ = ratings
    search = GridSearchCV(
        AutoRec(max_epochs=15, **FAST),
        {"hidden_units": [(4,), (32,)]},
        cv=KFold(3, shuffle=True, random_state=0),
        scoring=get_scorer("neg_rmse"),
        n_jobs=2,
    ).fit(X_train)
    assert search.best_params_["hidden_units"] in ((4,), (32,))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X_train[:3]).shape == (3, X_train.shape[1])


def test_grid_search_entry_holdout_protocol(ratings):
    X_train, X_test = ratings
    X_fit, X_valid = train_test_split(X_train, test_size=0.1, random_state=1)
    search = GridSearchCV(
        AutoRec(max_epochs=30, **FAST),
        {"alpha": [1.0, 1e4]},
        cv=PredefinedEntrySplit(),
        scoring=get_scorer("neg_rmse"),
    ).fit(X_fit, X_valid)
    assert search.best_params_["alpha"] == 1.0  # a huge penalty collapses the model
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] > scores[1]


def test_x_valid_records_validation_and_early_stops_on_it(ratings):
    X_train, X_test = ratings
    stopped = AutoRec(max_epochs=200, n_iter_no_change=3, **FAST).fit(X_train, X_valid=X_test)
    assert stopped.n_epochs_ == len(stopped.validation_scores_) < 200  # no refit with X_valid
    best = stopped.validation_scores_[stopped.best_epoch_ - 1]
    assert rmse(X_test, stopped.predict(X_train)) == pytest.approx(best, rel=1e-5)
    recorded = AutoRec(max_epochs=4, early_stopping=False, **FAST).fit(X_train, X_valid=X_test)
    assert recorded.best_epoch_ == recorded.n_epochs_ == 4
    assert np.isfinite(recorded.validation_scores_).all() and len(recorded.validation_scores_) == 4
    plain = AutoRec(max_epochs=4, early_stopping=False, **FAST).fit(X_train)
    assert np.isnan(plain.validation_scores_).all()


def test_x_valid_must_match_and_hold_entries(ratings):
    X_train, X_test = ratings
    with pytest.raises(ValueError, match="same shape"):
        AutoRec(max_epochs=1, **FAST).fit(X_train, X_valid=X_test[:, :-1])
    with pytest.raises(ValueError, match="no stored entry"):
        AutoRec(max_epochs=1, **FAST).fit(X_train, X_valid=sp.csr_matrix(X_train.shape))


@pytest.mark.gpu
def test_cuda_training_and_pickle_round_trip(ratings):
    import pickle

    X_train, X_test = ratings
    model = AutoRec(max_epochs=20, device="cuda", **FAST).fit(X_train)
    assert str(next(model.net_.module_.parameters()).device).startswith("cuda")
    cpu = AutoRec(max_epochs=20, device="cpu", **FAST).fit(X_train)
    # other kernels and masking noise drawn on the GPU: close in quality, not bitwise
    assert _test_rmse(model, X_train, X_test) == pytest.approx(
        _test_rmse(cpu, X_train, X_test), abs=0.05
    )
    scores = model.predict(X_train)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X_train), scores)


def test_random_state_none_draws_a_new_validation_split(ratings):
    X_train, _ = ratings
    seeds = {AutoRec(random_state=None)._validation_split(X_train, None).random_state
             for _ in range(5)}
    assert len(seeds) > 1
    seeded = {AutoRec(random_state=3)._validation_split(X_train, None).random_state
              for _ in range(3)}
    assert len(seeded) == 1


def test_validation_fraction_that_leaves_nothing_to_train_on_is_refused(ratings):
    X_train, _ = ratings
    with pytest.raises(ValueError, match="validation_fraction=0.999999 holds out .* leaves none"):
        AutoRec(validation_fraction=0.999999).fit(X_train)


def test_divergence_stops_with_a_clear_error(ratings):
    X_train, _ = ratings
    model = AutoRec(lr=1e6, max_epochs=5, **{k: v for k, v in FAST.items() if k != "lr"})
    with pytest.raises(FloatingPointError, match="diverged|became"):
        model.fit(X_train)
    assert not hasattr(model, "net_")
