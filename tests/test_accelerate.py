"""Data-parallel training through Hugging Face Accelerate: the recipe, smoke-tested on CPU.

One process with ``Accelerator(cpu=True)``: the nets must train through the
accelerator (it prepares the module, optimizer and iterators), give what the
plain fit gives, and leave a plain fitted estimator that pickles and predicts.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_recae.autoencoder import AutoRec, MultDAE, MultVAE, RecVAE
from sklearn_recae.datasets import make_interactions
from sklearn_recae.linear import EASE

accelerate = pytest.importorskip("accelerate", reason="needs the [accelerate] extra")
from sklearn_recae.accelerate import (  # noqa: E402  (after the importorskip)
    AcceleratedNetMixin,
    accelerated_net,
    use_accelerator,
)


class RecordingAccelerator(accelerate.Accelerator):
    """An ``Accelerator`` that records the types of what it prepared."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.prepared = []

    def prepare(self, *args, **kwargs):
        self.prepared.extend(type(a).__name__ for a in args)
        return super().prepare(*args, **kwargs)


@pytest.fixture(scope="module")
def accelerator():
    return RecordingAccelerator(cpu=True)


IMPLICIT = make_interactions(80, 30, density=0.2, implicit=True, random_state=0)
RATINGS = make_interactions(80, 30, density=0.2, random_state=0)

CASES = [
    (MultVAE(hidden_units=(16, 8), max_epochs=2, batch_size=32), IMPLICIT),
    (MultDAE(hidden_units=(8,), max_epochs=2, batch_size=32), IMPLICIT),
    (RecVAE(hidden_units=(16,), n_components=8, max_epochs=2, batch_size=32), IMPLICIT),
    (AutoRec(hidden_units=(8,), max_epochs=2), RATINGS),
]


@pytest.mark.parametrize("estimator, X", CASES, ids=lambda c: type(c).__name__)
def test_accelerated_fit_matches_plain_fit(accelerator, estimator, X):
    estimator = clone(estimator).set_params(device="cpu", random_state=0)
    plain = clone(estimator).fit(X)
    accelerator.prepared.clear()
    with use_accelerator(estimator, accelerator):
        estimator.fit(X)

    assert "DataLoader" in accelerator.prepared and "Adam" in accelerator.prepared
    assert not isinstance(estimator.net_, AcceleratedNetMixin)
    assert "_build_net" not in vars(estimator)
    assert estimator.n_epochs_ == plain.n_epochs_
    np.testing.assert_allclose(
        estimator.history_[:, "train_loss"], plain.history_[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(estimator.predict(X), plain.predict(X), rtol=1e-5, atol=1e-6)

    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(restored.recommend(X, k=5), plain.recommend(X, k=5))


def test_accelerated_net_keeps_parameters(accelerator):
    model = MultVAE(hidden_units=(16, 8), device="cpu", max_epochs=1)
    X = model._prepare(IMPLICIT.copy())
    net = model._build_net(X, "cpu", train_split=None, max_epochs=1)
    fast = accelerated_net(net, accelerator)
    assert type(fast).__name__ == "AcceleratedVAENet" and isinstance(fast, type(net))
    assert fast.device is None and fast.accelerator is accelerator
    assert fast.module__n_items == 30 and fast.max_epochs == 1
    with pytest.raises(TypeError, match="already accelerated"):
        accelerated_net(fast, accelerator)


def test_use_accelerator_refuses_non_torch_estimators(accelerator):
    with pytest.raises(TypeError, match="does not train a torch network"):
        with use_accelerator(EASE(), accelerator):
            pass


def test_failed_fit_leaves_estimator_unpatched(accelerator):
    model = MultVAE(hidden_units=(16, 8), device="cpu", max_epochs=1)
    with pytest.raises(ValueError):
        with use_accelerator(model, accelerator):
            model.fit(np.full((5, 4), np.nan))
    assert "_build_net" not in vars(model) and not hasattr(model, "net_")
