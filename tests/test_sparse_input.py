"""The sparse first layer: the same numbers as the dense path, for every module that has it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch.testing import assert_close

from sklearn_recae._skorch import csr_to_torch
from sklearn_recae.autoencoder import AutoRec, DenoisingAutoEncoder, MultDAE, MultVAE, RecVAE
from sklearn_recae.datasets import make_interactions
from sklearn_recae.nn.autorec import AutoRecModule
from sklearn_recae.nn.dae import DenoisingAutoEncoderModule
from sklearn_recae.nn.sparse import (
    SPARSE_INPUT_MAX_DENSITY,
    SPARSE_INPUT_MAX_DENSITY_WIDE,
    WIDE_INPUT,
    dropout_values,
    mask_values,
    normalize_rows,
    resolve_sparse_input,
)
from sklearn_recae.nn.vae import MultVAEModule, RecVAEModule

N_ITEMS = 60


def _batch(with_empty_row: bool = True) -> sp.csr_matrix:
    """Ratings with an explicit stored zero and (optionally) an empty row, canonical CSR."""
    X = make_interactions(12, N_ITEMS, density=0.1, random_state=0)
    X.data[1] = 0.0  # a stored zero: unobserved, as in the dense batch
    if with_empty_row:
        X = sp.vstack([X[:3], sp.csr_matrix((1, N_ITEMS), dtype=X.dtype), X[4:]]).tocsr()
    X.sort_indices()
    return X


MODULES = {
    "multvae": lambda sparse: MultVAEModule(N_ITEMS, (16, 8), dropout=0.5, sparse_input=sparse),
    "dae": lambda sparse: DenoisingAutoEncoderModule(N_ITEMS, (16,), dropout=0.5,
                                                     sparse_input=sparse),
    "dae-batchnorm-raw": lambda sparse: DenoisingAutoEncoderModule(
        N_ITEMS, (16, 8), activation="tanh-sig", normalize=False, batch_norm=True,
        sparse_input=sparse),
    "autorec": lambda sparse: AutoRecModule(N_ITEMS, 16, input_dropout=0.3, sparse_input=sparse),
    "recvae": lambda sparse: RecVAEModule(N_ITEMS, 16, 8, n_layers=2, dropout=0.5,
                                          sparse_input=sparse),
}


def _pair(name: str):
    """A sparse-input module and a dense one with the same weights."""
    torch.manual_seed(0)
    sparse_module = MODULES[name](True)
    dense_module = MODULES[name](False)
    dense_module.load_state_dict(sparse_module.state_dict())
    return sparse_module, dense_module


@pytest.mark.parametrize("name", MODULES)
def test_eval_outputs_match_dense(name):
    sparse_module, dense_module = _pair(name)
    X = _batch()
    x_sparse, x_dense = csr_to_torch(X), csr_to_torch(X).to_dense()
    sparse_module.eval()
    dense_module.eval()
    with torch.no_grad():
        expected = dense_module(x_dense)
        assert_close(sparse_module(x_sparse), expected)
        assert_close(sparse_module(x_dense), expected)  # dense input still accepted
        assert_close(sparse_module.encode(x_sparse), dense_module.encode(x_dense))


@pytest.mark.parametrize("name", MODULES)
def test_training_step_without_noise_matches_dense(name):
    """Forward and every gradient agree when the input noise is off (dropout 0)."""
    sparse_module, dense_module = _pair(name)
    for module in (sparse_module, dense_module):
        for attr in ("dropout", "input_dropout"):
            value = getattr(module, attr, None)
            if isinstance(value, float):
                setattr(module, attr, 0.0)
            elif isinstance(value, torch.nn.Dropout):
                value.p = 0.0
        module.train()
    X = _batch(with_empty_row=False)
    outputs = []
    for module, x in ((sparse_module, csr_to_torch(X)), (dense_module, csr_to_torch(X).to_dense())):
        torch.manual_seed(1)  # the VAE's reparameterisation noise
        out = module(x)
        logits = out[0] if isinstance(out, tuple) else out
        loss = logits.square().sum() + (out[1].sum() if isinstance(out, tuple) else 0)
        loss.backward()
        outputs.append(logits.detach())
    assert_close(outputs[0], outputs[1])
    for (name_s, p_s), (name_d, p_d) in zip(sparse_module.named_parameters(),
                                            dense_module.named_parameters()):
        assert name_s == name_d
        assert_close(p_s.grad, p_d.grad, msg=f"gradient of {name_s}")


def test_first_layer_weight_is_item_major():
    module = MultVAEModule(N_ITEMS, (16, 8), sparse_input=True)
    weight = module.encoder[0].weight
    assert weight.shape == (16, N_ITEMS) and weight.t().is_contiguous()


def test_normalize_rows_sparse_matches_dense_with_zero_rows():
    x = csr_to_torch(_batch())
    assert_close(normalize_rows(x).to_dense(), normalize_rows(x.to_dense()))


def test_noise_acts_on_stored_values_only():
    X = sp.random(200, 300, density=0.05, format="csr", random_state=0, dtype=np.float32)
    X.data += 1.0  # no stored zero
    x = csr_to_torch(X)
    torch.manual_seed(0)
    dropped = dropout_values(x, 0.5, training=True)
    assert dropped._nnz() == x._nnz()  # the pattern is kept, values change
    values, original = dropped._values(), x._values()
    kept = values != 0
    assert_close(values[kept], 2.0 * original[kept])
    assert 0.45 < 1 - kept.float().mean().item() < 0.55
    masked = mask_values(x, 0.3, training=True)._values()
    survived = masked != 0
    assert_close(masked[survived], original[survived])  # no rescaling
    assert 0.25 < 1 - survived.float().mean().item() < 0.35
    assert dropout_values(x, 0.5, training=False) is x and mask_values(x, 0.3, False) is x


def test_auto_resolution_by_density():
    assert resolve_sparse_input("auto", 100, 100, int(SPARSE_INPUT_MAX_DENSITY * 10_000))
    assert not resolve_sparse_input("auto", 100, 100, int(SPARSE_INPUT_MAX_DENSITY * 10_000) + 1)
    wide = WIDE_INPUT + 1
    assert resolve_sparse_input("auto", 100, wide, int(SPARSE_INPUT_MAX_DENSITY_WIDE * 100 * wide))
    assert not resolve_sparse_input("auto", 100, wide, int(SPARSE_INPUT_MAX_DENSITY * 100 * wide))
    assert resolve_sparse_input(True, 100, 100, 10_000)
    assert not resolve_sparse_input(False, 100, 100, 1)


def test_auto_resolution_is_dense_on_cuda():
    """On CUDA the dense first layer was faster at every measured width and density."""
    sparse_on_cpu = ("auto", 100, WIDE_INPUT + 1, 100)
    assert resolve_sparse_input(*sparse_on_cpu, "cpu")
    assert not resolve_sparse_input(*sparse_on_cpu, "cuda")
    assert not resolve_sparse_input(*sparse_on_cpu, torch.device("cuda:0"))
    assert resolve_sparse_input(True, 100, 100, 10_000, "cuda")  # an explicit choice stands


IMPLICIT = make_interactions(150, 80, density=0.04, implicit=True, random_state=0)
RATINGS = make_interactions(150, 80, density=0.04, random_state=0)

ESTIMATORS = [
    (MultVAE(hidden_units=(16, 8), dropout=0.0), IMPLICIT),
    (MultDAE(hidden_units=(16,), dropout=0.0), IMPLICIT),
    (DenoisingAutoEncoder(hidden_units=(16,), dropout=0.0), IMPLICIT),
    (AutoRec(hidden_units=(16,), dropout=0.0), RATINGS),
    (RecVAE(hidden_units=(16,), n_components=8, n_layers=2, dropout=0.0), IMPLICIT),
]


@pytest.mark.parametrize("estimator, X", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_estimator_sparse_and_dense_paths_agree(estimator, X):
    """Seeded fits through either path train to the same model (no input noise)."""
    params = {"max_epochs": 3, "device": "cpu", "random_state": 0}
    sparse_fit = estimator.set_params(sparse_input=True, **params).fit(X)
    dense_fit = type(estimator)(**{**estimator.get_params(), "sparse_input": False}).fit(X)
    assert sparse_fit.net_.module_.sparse_input and not dense_fit.net_.module_.sparse_input
    np.testing.assert_allclose(sparse_fit.history_[:, "train_loss"],
                               dense_fit.history_[:, "train_loss"], rtol=1e-4)
    np.testing.assert_allclose(sparse_fit.predict(X), dense_fit.predict(X), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(sparse_fit.transform(X), dense_fit.transform(X), rtol=1e-4,
                               atol=1e-4)


def test_auto_picks_sparse_for_sparse_data_only():
    dense_data = make_interactions(60, 30, density=0.5, implicit=True, random_state=0)
    params = {"hidden_units": (8, 4), "max_epochs": 1, "device": "cpu", "random_state": 0}
    assert MultVAE(**params).fit(IMPLICIT).net_.module_.sparse_input
    assert not MultVAE(**params).fit(dense_data).net_.module_.sparse_input


_FIT_SPARSE = """
import sys
import warnings
from sklearn_recae import autoencoder
from sklearn_recae.datasets import make_interactions
for name, implicit, params in {fits!r}:
    print(name, file=sys.stderr)  # the model that fails is the last name printed
    X = make_interactions(60, 40, density=0.05, implicit=implicit, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails, torch's sparse-invariant one included
        warnings.filterwarnings("error", message=".*[Ss]parse invariant checks")
        model = getattr(autoencoder, name)(sparse_input=True, max_epochs=1, device="cpu",
                                           random_state=0, **params)
        model.fit(X)
        model.predict(X)
    assert model.net_.module_.sparse_input
"""
#: The models of test_sparse_fit_emits_no_sparse_invariant_warning, one per sparse first layer.
_SPARSE_FITS = [
    ("MultVAE", True, {"hidden_units": (8, 4)}),
    ("AutoRec", False, {"hidden_units": (8,)}),
    ("RecVAE", True, {"hidden_units": (8,), "n_components": 4, "n_layers": 1}),
]


def test_sparse_fit_emits_no_sparse_invariant_warning():
    """No "Sparse invariant checks are implicitly disabled" UserWarning from torch.

    torch emits it once per process, so the fits run in a fresh interpreter (an
    earlier test of this session would otherwise have used up the warning); one
    interpreter for the three models, since the first warning of any of them
    fails the run (each used to start its own, most of the test's time).
    """
    import subprocess
    import sys

    code = _FIT_SPARSE.format(fits=_SPARSE_FITS)
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                            text=True, timeout=300)
    assert "invariant" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stderr.split() == [name for name, _, _ in _SPARSE_FITS]  # each fitted, silently
