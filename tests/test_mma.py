"""MMA: the self-adaptive weighting (eqs. 5–8) and the meta-estimator."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.datasets import make_interactions
from sklearn_recae.ensemble import (
    MultiMetricAutoRec,
    accumulated_losses,
    default_mma_estimators,
    self_adaptive_weights,
)
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import PredefinedEntrySplit, train_test_split


def test_weights_match_hand_computed_example():
    # Sl for 2 iterations, 3 bases; Al(2) = [1.5, 1.0, 2.0]; delta = ln 2
    losses = [[1.0, 0.5, 1.0], [0.5, 0.5, 1.0]]
    np.testing.assert_allclose(accumulated_losses(losses), [[1.0, 0.5, 1.0], [1.5, 1.0, 2.0]])
    weights = self_adaptive_weights(losses, delta=math.log(2))
    # exp(-ln2 * Al) = 2^-Al: iteration 2 -> [2^-1.5, 2^-1, 2^-2]
    raw = np.array([2**-1.5, 2**-1.0, 2**-2.0])
    np.testing.assert_allclose(weights[1], raw / raw.sum())
    raw = np.array([2**-1.0, 2**-0.5, 2**-1.0])
    np.testing.assert_allclose(weights[0], raw / raw.sum())


def test_delta_zero_is_uniform_and_large_delta_winner_takes_all():
    losses = np.array([[0.95, 0.90, 1.00, 0.92]] * 5)
    np.testing.assert_allclose(self_adaptive_weights(losses, 0.0), 0.25)
    winner = self_adaptive_weights(losses, 1e4)[-1]
    np.testing.assert_allclose(winner, [0, 1, 0, 0], atol=1e-12)
    tiny = self_adaptive_weights(losses, 1e-9)[-1]
    np.testing.assert_allclose(tiny, 0.25, atol=1e-8)


def test_weights_are_stable_for_huge_accumulated_losses():
    weights = self_adaptive_weights(np.full((3, 2), 1e6) + [[0, 1]], delta=1.0)
    assert np.isfinite(weights).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert weights[-1, 0] == pytest.approx(1 / (1 + math.exp(-3.0)))  # Al differs by 3


@pytest.mark.parametrize("delta", [1e308, np.finfo(np.float64).max])
def test_weights_are_well_defined_for_any_finite_delta(delta):
    # -delta * Al overflows to -inf for every base; the weights must not be NaN
    losses = np.array([[0.95, 0.90, 1.00, 0.92]] * 5)
    weights = self_adaptive_weights(losses, delta)
    assert np.isfinite(weights).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(weights[-1], [0, 1, 0, 0])
    # tied best bases share the weight equally
    np.testing.assert_allclose(self_adaptive_weights([[1.0, 2.0, 1.0]], delta), [[0.5, 0, 0.5]])


@pytest.mark.parametrize("bad", [[], [[np.nan, 1.0]], [1.0, 2.0]])
def test_weights_reject_bad_losses(bad):
    with pytest.raises(ValueError):
        self_adaptive_weights(bad, 1.0)
    with pytest.raises(ValueError, match="delta"):
        self_adaptive_weights([[1.0, 2.0]], -1.0)


def _bases(max_epochs=(6, 6, 6, 6), hidden_units=(8,)):
    return [
        (f"{loss}_{penalty}", AutoRec(hidden_units, loss=loss, penalty=penalty, alpha=1.0,
                                      lr=1e-2, batch_size=16, max_epochs=epochs,
                                      n_iter_no_change=10))
        for (loss, penalty), epochs in zip(
            [("l1", "l1"), ("l1", "l2"), ("l2", "l1"), ("l2", "l2")], max_epochs
        )
    ]


@pytest.fixture(scope="module")
def ratings():
    X = make_interactions(200, 60, density=0.25, noise=0.1, random_state=0)
    return train_test_split(X, test_size=0.2, random_state=0)


def test_fit_records_weights_from_the_bases_validation_losses(ratings):
    X_train, _ = ratings
    mma = MultiMetricAutoRec(_bases(max_epochs=(3, 6, 4, 6)), delta=2.0, random_state=0)
    mma.fit(X_train)
    history = pd.DataFrame(mma.history_)
    assert len(history) == 6 and list(history["epoch"]) == [1, 2, 3, 4, 5, 6]
    names = [name for name, _ in mma.estimators]
    for name, base in mma.named_estimators_.items():
        recorded = history[f"{name}_valid_rmse"].to_numpy()
        n = len(base.validation_scores_)
        np.testing.assert_allclose(recorded[:n], base.validation_scores_)
        # after it stopped, a base's loss is that of the weights it kept
        np.testing.assert_allclose(recorded[n:], base.validation_scores_[base.best_epoch_ - 1])
    losses = history[[f"{name}_valid_rmse" for name in names]].to_numpy()
    expected = self_adaptive_weights(losses, 2.0)
    np.testing.assert_allclose(history[[f"{n}_weight" for n in names]].to_numpy(), expected)
    np.testing.assert_allclose(mma.weights_, expected[-1])
    assert mma.weights_.sum() == pytest.approx(1.0)


def test_predict_is_the_weighted_sum_of_the_bases(ratings):
    X_train, X_test = ratings
    mma = MultiMetricAutoRec(_bases(), random_state=0).fit(X_train)
    expected = sum(w * base.predict(X_train) for w, base in zip(mma.weights_, mma.estimators_))
    np.testing.assert_allclose(mma.predict(X_train), expected, rtol=1e-5)
    rmse = -get_scorer("neg_rmse")(mma, X_train, X_test)
    base_rmse = [-get_scorer("neg_rmse")(b, X_train, X_test) for b in mma.estimators_]
    assert rmse <= max(base_rmse)


def test_bases_share_the_validation_split_and_train_on_the_rest(ratings):
    X_train, _ = ratings
    X_fit, X_valid = train_test_split(X_train, test_size=0.2, random_state=3)
    mma = MultiMetricAutoRec(_bases(), random_state=0).fit(X_fit, X_valid=X_valid)
    for base in mma.estimators_:
        assert base.n_features_in_ == X_fit.shape[1]
        assert len(base.validation_scores_) >= 1
    # delta only changes the weights: same bases, other weights
    other = MultiMetricAutoRec(_bases(), delta=0.0, random_state=0).fit(X_fit, X_valid=X_valid)
    np.testing.assert_allclose(other.weights_, 0.25)
    np.testing.assert_array_equal(other.estimators_[0].predict(X_fit), mma.estimators_[0].predict(X_fit))


def test_default_estimators_and_nested_params():
    mma = MultiMetricAutoRec()
    names = [name for name, _ in default_mma_estimators()]
    assert names == ["l1_l1", "l1_l2", "l2_l1", "l2_l2"]
    params = mma.get_params()
    assert params["l2_l2__loss"] == "l2" and params["l1_l2__penalty"] == "l2"
    mma.set_params(l1_l2__hidden_units=(300,), delta=0.5)
    assert dict(mma.estimators)["l1_l2"].hidden_units == (300,)
    default_units = default_mma_estimators()[0][1].hidden_units  # the other bases untouched
    assert mma.estimators[0][1].hidden_units == default_units and mma.delta == 0.5
    assert clone(mma).get_params()["l1_l2__hidden_units"] == (300,)


def test_grid_search_tunes_bases_and_ensemble_together(ratings):
    X_train, _ = ratings
    X_fit, X_valid = train_test_split(X_train, test_size=0.1, random_state=1)
    search = GridSearchCV(
        MultiMetricAutoRec(_bases(max_epochs=(3, 3, 3, 3)), random_state=0),
        {"delta": [0.0, 10.0], "l2_l2__hidden_units": [(4,), (8,)]},
        cv=PredefinedEntrySplit(),
        scoring=get_scorer("neg_rmse"),
    ).fit(X_fit, X_valid)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("estimators,error", [
    ([], ValueError),
    ([("a", AutoRec()), ("a", AutoRec())], ValueError),
    ([("delta", AutoRec())], ValueError),
    ([("a", AutoRec)], TypeError),
])
def test_bad_estimators_raise(ratings, estimators, error):
    with pytest.raises(error):
        MultiMetricAutoRec(estimators).fit(ratings[0])


class _NoValidationRecord(AutoRec):
    def fit(self, X, y=None, *, X_valid=None):
        super().fit(X, X_valid=X_valid)
        del self.validation_scores_
        return self


def test_base_without_validation_record_gets_its_final_validation_rmse(ratings):
    X_train, _ = ratings
    X_fit, X_valid = train_test_split(X_train, test_size=0.2, random_state=3)
    bases = _bases(max_epochs=(3, 3, 3, 3))[:3] + [("odd", _NoValidationRecord((4,), max_epochs=1))]
    mma = MultiMetricAutoRec(bases, random_state=0).fit(X_fit, X_valid=X_valid)
    history = pd.DataFrame(mma.history_)
    final = -get_scorer("neg_rmse")(mma.named_estimators_["odd"], X_fit, X_valid)
    np.testing.assert_allclose(history["odd_valid_rmse"], final, rtol=1e-5)  # constant
    assert len(history) == 3 and mma.weights_.sum() == pytest.approx(1.0)


def test_x_valid_of_another_shape_raises(ratings):
    X_train, _ = ratings
    with pytest.raises(ValueError, match="same shape"):
        MultiMetricAutoRec(_bases()).fit(X_train, X_valid=X_train[:, :-1])


def test_parallel_bases_give_the_same_ensemble(ratings):
    X_train, _ = ratings
    serial = MultiMetricAutoRec(_bases(max_epochs=(3, 3, 3, 3)), random_state=0).fit(X_train)
    parallel = MultiMetricAutoRec(_bases(max_epochs=(3, 3, 3, 3)), random_state=0, n_jobs=2)
    parallel.fit(X_train)
    # joblib's workers run torch with one thread each, this process with more: float32
    # sums may then differ in their last bits, nothing more
    np.testing.assert_allclose(parallel.weights_, serial.weights_, rtol=1e-6)
    np.testing.assert_allclose(parallel.predict(X_train), serial.predict(X_train), rtol=1e-5)


def test_named_weights_and_huge_delta_in_fit(ratings):
    X_train, X_test = ratings
    mma = MultiMetricAutoRec(_bases(max_epochs=(3, 3, 3, 3)), delta=1e308, random_state=0)
    mma.fit(X_train)
    assert np.isfinite(mma.weights_).all() and mma.weights_.sum() == pytest.approx(1.0)
    names = [name for name, _ in mma.estimators]
    assert list(mma.named_weights_) == names
    np.testing.assert_array_equal([mma.named_weights_[n] for n in names], mma.weights_)
    final = pd.DataFrame(mma.history_).iloc[-1]
    best = names[int(np.argmin([final[f"{n}_accumulated_loss"] for n in names]))]
    assert mma.named_weights_[best] == pytest.approx(1.0)
    assert np.isfinite(mma.predict(X_train)).all()
    assert np.isfinite(mma.validation_score_)


@pytest.mark.parametrize("X,fraction,n_entries,needed", [
    (np.array([[3.0]]), 0.125, 1, 2),                    # 1 x 1
    (np.array([[0.0, 4.0], [0.0, 0.0]]), 0.125, 1, 2),   # one stored entry
    (np.array([[1.0, 2.0, 3.0]]), 0.9, 3, 10),           # the fraction holds out all
])
def test_too_few_entries_for_the_validation_split_raise_in_user_terms(
    X, fraction, n_entries, needed
):
    mma = MultiMetricAutoRec(_bases(), validation_fraction=fraction)
    with pytest.raises(ValueError, match="validation_fraction") as info:
        mma.fit(X)
    message = str(info.value)
    assert f"{n_entries} stored entr" in message and f"at least {needed} stored" in message
    assert "test_size" not in message
    assert not hasattr(mma, "weights_")  # a failed fit leaves the estimator as it was


def test_base_params_reach_every_base_at_fit(ratings):
    X_train, _ = ratings
    bases = _bases(max_epochs=(3, 3, 3, 3))
    mma = MultiMetricAutoRec(bases, base_params={"hidden_units": (5,), "max_epochs": 2},
                             random_state=0).fit(X_train)
    for base in mma.estimators_:
        assert base.hidden_units == (5,) and len(base.validation_scores_) <= 2
    assert all(base.hidden_units == (8,) for _, base in mma.estimators)  # the given bases unchanged
    assert mma.get_params()["base_params"] == {"hidden_units": (5,), "max_epochs": 2}
    assert clone(mma).get_params()["base_params"] == {"hidden_units": (5,), "max_epochs": 2}
    # with the default bases too, and without making them explicit
    default = MultiMetricAutoRec(base_params={"hidden_units": (7,)})
    assert default.set_params(delta=0.5).estimators is None


def test_base_params_unknown_to_a_base_raise_before_training(ratings):
    mma = MultiMetricAutoRec(_bases(), base_params={"hidden_unit": 5})
    with pytest.raises(ValueError, match="base_params.*'hidden_unit'.*'l1_l1'"):
        mma.fit(ratings[0])
    assert not hasattr(mma, "estimators_")
    with pytest.raises(ValueError, match="base_params"):
        MultiMetricAutoRec(_bases(), base_params=[("hidden_units", (5,))]).fit(ratings[0])


def test_grid_search_over_base_params():
    X = make_interactions(40, 20, density=0.3, random_state=0)
    X_fit, X_valid = train_test_split(X, test_size=0.2, random_state=0)
    search = GridSearchCV(
        MultiMetricAutoRec(_bases(max_epochs=(2, 2, 2, 2)), random_state=0),
        {"base_params": [{"hidden_units": (3,)}, {"hidden_units": (6,)}]},
        cv=PredefinedEntrySplit(),
        scoring=get_scorer("neg_rmse"),
    ).fit(X_fit, X_valid)
    assert len(search.cv_results_["params"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    units = search.best_params_["base_params"]["hidden_units"]
    assert {base.hidden_units for base in search.best_estimator_.estimators_} == {units}


# -- Ctrl-C before a base's first epoch (a real SIGINT, as in test_interrupt.py) -------------
def _interrupted_in_first_epoch():
    from .test_interrupt import InterruptingAdam

    class InterruptAtStep2(InterruptingAdam):  # its own ``at``: test_interrupt's is shared
        at = 2

    return InterruptAtStep2


_FAST_BASE = dict(hidden_units=(8,), batch_size=16, random_state=0)


@pytest.mark.usefixtures("python_sigint_handler")
def test_base_interrupted_before_its_first_epoch_is_left_out():
    X = make_interactions(120, 40, density=0.3, random_state=0)
    bases = [
        ("first", AutoRec(max_epochs=3, **_FAST_BASE)),
        ("second", AutoRec(max_epochs=50, optimizer=_interrupted_in_first_epoch(), **_FAST_BASE)),
    ]
    with pytest.warns(UserWarning, match="'second' stopped before completing a first epoch and "
                                         "left out; ensembling the 1 base fitted so far \\(first\\)"):
        mma = MultiMetricAutoRec(bases, random_state=0).fit(X)
    assert mma.interrupted_
    assert list(mma.named_weights_) == ["first"] and len(mma.estimators_) == 1
    np.testing.assert_allclose(mma.weights_, [1.0])
    assert mma.n_epochs_ == 3 and len(mma.history_) == 3
    assert np.isfinite(mma.predict(X)).all()


@pytest.mark.usefixtures("python_sigint_handler")
def test_interrupt_before_any_base_has_an_epoch_raises_and_changes_nothing():
    X = make_interactions(120, 40, density=0.3, random_state=0)
    interrupting = [
        ("first", AutoRec(max_epochs=50, optimizer=_interrupted_in_first_epoch(), **_FAST_BASE)),
        ("second", AutoRec(max_epochs=3, **_FAST_BASE)),
    ]
    fresh = MultiMetricAutoRec(interrupting, random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):  # the base's own warning
        with pytest.raises(KeyboardInterrupt, match="before base 'first' completed its first"):
            fresh.fit(X)
    assert not hasattr(fresh, "estimators_") and not hasattr(fresh, "interrupted_")
    fitted = MultiMetricAutoRec([("only", AutoRec(max_epochs=2, **_FAST_BASE))],
                                random_state=0).fit(X)
    expected = fitted.predict(X)
    fitted.set_params(estimators=interrupting)
    with pytest.warns(UserWarning, match="interrupted"):
        with pytest.raises(KeyboardInterrupt):
            fitted.fit(X)
    assert list(fitted.named_weights_) == ["only"]
    np.testing.assert_array_equal(fitted.predict(X), expected)
