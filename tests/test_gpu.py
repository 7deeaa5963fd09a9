"""CUDA: every torch estimator trains and predicts on the GPU; a CUDA model predicts on a CPU.

Marked ``gpu``: ``conftest.py`` skips them where CUDA is not available (CI);
run them on a GPU machine with ``python -m pytest -m gpu``.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone

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

pytestmark = pytest.mark.gpu

IMPLICIT = make_interactions(120, 50, density=0.1, implicit=True, random_state=0)
RATINGS = make_interactions(120, 50, density=0.1, random_state=0)
SMALL = {"max_epochs": 2, "random_state": 0}

CASES = [
    (AutoRec(hidden_units=8, **SMALL), RATINGS),
    (DeepRec(hidden_units=(8,), **SMALL), RATINGS),
    (DenoisingAutoEncoder(hidden_units=(8,), **SMALL), IMPLICIT),
    (MultDAE(hidden_units=(8,), **SMALL), IMPLICIT),
    (MultDAE(hidden_units=(8,), sparse_input=True, **SMALL), IMPLICIT),
    (MultVAE(hidden_units=(16, 8), **SMALL), IMPLICIT),
    (RecVAE(hidden_units=16, n_components=8, **SMALL), IMPLICIT),
    (CDAE(hidden_units=8, **SMALL), IMPLICIT),
]
IDS = [f"{type(e).__name__}-{getattr(e, 'sparse_input', '')}" for e, _ in CASES]


@pytest.mark.parametrize("estimator, X", CASES, ids=IDS)
def test_fits_and_predicts_on_cuda(estimator, X):
    model = clone(estimator).set_params(device="cuda").fit(X)
    assert next(model.net_.module_.parameters()).is_cuda
    scores = model.predict(X)
    assert scores.shape == X.shape and np.isfinite(scores).all()
    assert model.recommend(X, k=5).shape == (X.shape[0], 5)


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
