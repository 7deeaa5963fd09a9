"""CUDA: every torch estimator trains and predicts on the GPU; a CUDA model predicts on a CPU.

Every configuration of the behaviour suite (``test_common.RECOMMENDERS``) that
has a ``device`` learns the checkerboard on CUDA, and its training loop reads
nothing back from the GPU but the values it logs. Marked ``gpu``:
``conftest.py`` skips them where CUDA is not available (CI); run them on a GPU
machine with ``python -m pytest -m gpu``.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import re

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch.history import History

from sklearn_recae._skorch.precision import tf32_state
from sklearn_recae.autoencoder import (
    CDAE,
    AutoRec,
    DeepRec,
    DenoisingAutoEncoder,
    MultDAE,
    MultVAE,
    RecVAE,
)
from sklearn_recae.datasets import make_interactions

from .recommender_checks import make_checkerboard, precision_of_withheld, recommend, set_everywhere
from .test_common import RECOMMENDERS

pytestmark = pytest.mark.gpu

IMPLICIT = make_interactions(120, 50, density=0.1, implicit=True, random_state=0)
RATINGS = make_interactions(120, 50, density=0.1, random_state=0)
SMALL = {"max_epochs": 2, "random_state": 0}

CASES = [
    (AutoRec(hidden_units=(8,), **SMALL), RATINGS),
    (DeepRec(hidden_units=(8,), **SMALL), RATINGS),
    (DenoisingAutoEncoder(hidden_units=(8,), **SMALL), IMPLICIT),
    (MultDAE(hidden_units=(8,), **SMALL), IMPLICIT),
    (MultDAE(hidden_units=(8,), sparse_input=True, **SMALL), IMPLICIT),
    (MultVAE(hidden_units=(16, 8), **SMALL), IMPLICIT),
    (RecVAE(hidden_units=(16,), n_components=8, **SMALL), IMPLICIT),
    (CDAE(hidden_units=(8,), **SMALL), IMPLICIT),
]
IDS = [f"{type(e).__name__}-{getattr(e, 'sparse_input', '')}" for e, _ in CASES]


@pytest.mark.parametrize("estimator, X", CASES, ids=IDS)
def test_fits_and_predicts_on_cuda(estimator, X):
    model = clone(estimator).set_params(device="cuda").fit(X)
    assert next(model.net_.module_.parameters()).is_cuda
    scores = model.predict(X)
    assert scores.shape == X.shape and np.isfinite(scores).all()
    assert model.recommend(X, k=5).shape == (X.shape[0], 5)
    neighbours = model.similar_items(np.arange(X.shape[1]), k=3)  # the item vectors on CUDA
    assert neighbours.shape == (X.shape[1], 3) and neighbours.dtype == np.int64
    assert not (neighbours == np.arange(X.shape[1])[:, None]).any()


_PREDICT_ON_CPU = """
import pickle, sys, numpy as np, torch
assert not torch.cuda.is_available()
model, X = pickle.load(open(sys.argv[1], "rb"))
np.save(sys.argv[2], model.predict(X))
"""


@pytest.mark.parametrize("estimator, X", CASES[:1] + CASES[5:6], ids=["AutoRec", "MultVAE"])
def test_cuda_model_pickles_and_predicts_on_cpu(estimator, X, tmp_path):
    model = clone(estimator).set_params(device="cuda").fit(X)
    expected = model.predict(X)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps((model, X)))
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", _PREDICT_ON_CPU, str(path), str(tmp_path / "p.npy")],
                   check=True, env=env, timeout=300)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-4, atol=1e-4)


def test_cuda_sparse_and_dense_first_layer_agree():
    params = {"hidden_units": (16, 8), "dropout": 0.0, "device": "cuda", **SMALL}
    sparse = MultVAE(sparse_input=True, **params).fit(IMPLICIT)
    dense = MultVAE(sparse_input=False, **params).fit(IMPLICIT)
    np.testing.assert_allclose(sparse.predict(IMPLICIT), dense.predict(IMPLICIT),
                               rtol=1e-3, atol=1e-3)
    assert torch.cuda.is_available()


def _on_cuda(spec) -> bool:
    return set_everywhere(spec.factory(), device="cuda")


CUDA_RECOMMENDERS = [param for param in RECOMMENDERS if _on_cuda(param.values[0])]


def _cuda_model(spec, **params):
    model = spec.factory()
    assert set_everywhere(model, device="cuda", **params)
    return model


@pytest.mark.parametrize("spec", CUDA_RECOMMENDERS)
def test_every_torch_recommender_learns_the_checkerboard_on_cuda(spec):
    X, withheld = make_checkerboard(explicit=spec.explicit)
    model = spec.fit(_cuda_model(spec), X)
    k = int(np.diff(withheld.indptr).max())
    recommended = recommend(model, X, k=k)
    assert recommended.shape == (X.shape[0], k)
    assert precision_of_withheld(recommended, withheld) >= 0.9
    scores = model.predict(X)
    assert isinstance(scores, np.ndarray) and np.isfinite(scores).all()


#: The profiler's name of a device-to-host copy ("Memcpy DtoH (Device -> Pageable)").
_DEVICE_TO_HOST = re.compile(r"dtoh|device -> (pageable|pinned)", re.IGNORECASE)


#: Epoch values skorch computes on the host (a timer; the means of the batch losses).
_HOST_COMPUTED = {"dur", "train_loss", "valid_loss"}


def _copies_and_logged_values(spec, X, monkeypatch, max_epochs: int) -> tuple[int, int, set]:
    """Device-to-host copies, and floats logged to a skorch history, while fitting on CUDA.

    Logged floats are those of ``record_batch`` (each batch's loss...) and of
    ``record`` (epoch values) but the ones skorch computes on the host.
    """
    logged = 0

    def counting(record, skipped=frozenset()):
        def wrapper(self, attr, value):
            nonlocal logged
            logged += isinstance(value, (float, np.floating)) and attr not in skipped
            return record(self, attr, value)
        return wrapper

    model = _cuda_model(spec, max_epochs=max_epochs, early_stopping=False)
    activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    with monkeypatch.context() as patch:
        patch.setattr(History, "record", counting(History.record, _HOST_COMPUTED))
        patch.setattr(History, "record_batch", counting(History.record_batch))
        with torch.profiler.profile(activities=activities) as profile:
            spec.fit(model, X)
            torch.cuda.synchronize()
    names = [event.name for event in profile.events()]
    copies = sum(bool(_DEVICE_TO_HOST.search(name)) for name in names)
    return copies, logged, {name for name in names if "memcpy" in name.lower()}


@pytest.mark.parametrize("spec", CUDA_RECOMMENDERS)
def test_training_loop_reads_back_only_what_it_logs(spec, monkeypatch):
    """Two more epochs add no more device-to-host copies than values logged.

    The difference of a 4-epoch and a 2-epoch fit is the work of two epochs of
    the training loop alone (set-up and attribute extraction cancel): each
    logged float read from the device (the batch losses skorch records, the
    epoch's weight norm) may cost one copy; any other read-back (a
    ``.item()``, boolean indexing, a Python branch on a tensor) in a training
    step would add one copy per batch on top.
    """
    X, _ = make_checkerboard(explicit=spec.explicit)
    short = _copies_and_logged_values(spec, X, monkeypatch, max_epochs=2)
    long = _copies_and_logged_values(spec, X, monkeypatch, max_epochs=4)
    copies, logged = long[0] - short[0], long[1] - short[1]
    assert copies > 0, f"the profiler saw no device-to-host copy; its copies: {long[2]}"
    assert copies <= logged, (
        f"two epochs copied {copies} times from the device but logged {logged} values")


@pytest.mark.parametrize("precision", ["bf16", "tf32"])
@pytest.mark.parametrize("estimator, X", CASES, ids=IDS)
def test_mixed_precision_on_cuda(estimator, X, precision):
    """bf16 autocast / TF32 matmuls on CUDA: float32 outputs, the global TF32 settings restored."""
    saved = tf32_state()
    tf32 = ("tf32", "tf32") if saved[0] == "fp32_precision" else (True, True)
    seen = set()

    def record(module, args, output):
        if type(module).__module__.startswith("sklearn_recae.nn"):  # the package's networks
            seen.add((torch.is_autocast_enabled("cuda"), tf32_state()[1:] == tf32))

    model = clone(estimator).set_params(device="cuda", precision=precision)
    handle = torch.nn.modules.module.register_module_forward_hook(record)
    try:
        model.fit(X)
    finally:
        handle.remove()
    assert seen == ({(True, saved[1:] == tf32)} if precision == "bf16" else {(False, True)})
    assert tf32_state() == saved
    scores = model.predict(X)
    assert scores.dtype == np.float32 and np.isfinite(scores).all()
    assert next(model.net_.module_.parameters()).dtype == torch.float32
