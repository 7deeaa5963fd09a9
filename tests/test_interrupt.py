"""Ctrl-C during fit: a real SIGINT, sent from inside training by an optimizer."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.datasets import make_interactions
from sklearn_recae.ensemble import MultiMetricAutoRec

pytestmark = pytest.mark.usefixtures("python_sigint_handler")


class InterruptingAdam(torch.optim.Adam):
    """Adam that sends SIGINT to its own process at its ``at``-th step (as Ctrl-C does)."""

    at = 10

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        if self.steps == self.at:
            os.kill(os.getpid(), signal.SIGINT)
        return super().step(closure)


@pytest.fixture(scope="module")
def X():
    return make_interactions(120, 40, density=0.3, random_state=0)


FAST = dict(hidden_units=(8,), batch_size=16, random_state=0)


def test_autorec_keeps_best_weights_and_skips_the_refit(X):
    model = AutoRec(max_epochs=1000, n_iter_no_change=1000, optimizer=InterruptingAdam, **FAST)
    InterruptingAdam.at = 5 * 8 + 3  # 120 rows in batches of 16: during epoch 6
    with pytest.warns(UserWarning, match="interrupted .*epoch \\d of 5 completed and skipped"):
        model.fit(X)
    assert model.interrupted_
    assert model.n_epochs_ == 5 and model.best_epoch_ <= 5  # no refit epochs were added
    assert model.validation_scores_.shape == (5,) and np.isfinite(model.validation_scores_).all()
    assert np.isfinite(model.predict(X)).all()


def test_autorec_interrupted_in_the_first_epoch_keeps_the_current_weights(X):
    InterruptingAdam.at = 2
    with pytest.warns(UserWarning, match="interrupted"):
        model = AutoRec(max_epochs=50, optimizer=InterruptingAdam, **FAST).fit(X)
    assert model.interrupted_ and model.best_epoch_ == 0
    assert np.isfinite(model.predict(X)).all()


def test_early_stopping_is_not_an_interrupt(X):
    model = AutoRec(max_epochs=500, n_iter_no_change=2, lr=0.05, **FAST).fit(X)
    assert not model.interrupted_
    assert model.n_epochs_ < 500 + model.best_epoch_


def test_mma_starts_no_base_after_an_interrupted_one(X):
    InterruptingAdam.at = 20
    bases = [
        ("first", AutoRec(max_epochs=3, **FAST)),
        ("second", AutoRec(max_epochs=1000, n_iter_no_change=1000, optimizer=InterruptingAdam,
                           **FAST)),
        ("third", AutoRec(max_epochs=3, **FAST)),
    ]
    with pytest.warns(UserWarning, match="the 2 bases fitted so far \\(first, second\\)"):
        mma = MultiMetricAutoRec(bases, random_state=0).fit(X)
    assert mma.interrupted_ and mma.estimators_[1].interrupted_
    assert list(mma.named_weights_) == ["first", "second"]
    assert mma.weights_.sum() == pytest.approx(1.0)
    assert np.isfinite(mma.predict(X)).all()


def test_an_interrupted_refit_keeps_the_early_stopped_weights(X):
    class InterruptTheRefit(InterruptingAdam):
        fits = 0

        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            type(self).fits += 1
            self.steps = -10**9 if type(self).fits == 1 else 0  # only the refit's optimizer

    InterruptingAdam.at = 3
    model = AutoRec(max_epochs=4, optimizer=InterruptTheRefit, **FAST)
    with pytest.warns(UserWarning, match="refit on all entries was stopped"):
        model.fit(X)
    assert model.interrupted_ and model.n_epochs_ == 4
    reference = AutoRec(max_epochs=4, refit=False, **FAST).fit(X)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-6)
