"""The ``precision`` parameter: float32 unchanged, bf16 autocast that still learns, TF32 restored."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from sklearn_recae._skorch import RecommenderNet
from sklearn_recae._skorch.precision import (
    PRECISIONS,
    as_float32,
    check_precision,
    _set_tf32_state,
    matmul_scope,
    precision_scope,
    tf32_state,
)
from sklearn_recae.autoencoder import MultDAE, MultVAE
from sklearn_recae.datasets import make_interactions
from sklearn_recae.nn.metric import MetricEmbeddingModule

from .recommender_checks import make_checkerboard, precision_of_withheld, recommend, set_everywhere
from .test_common import RECOMMENDERS

IMPLICIT = make_interactions(120, 50, density=0.1, implicit=True, random_state=0)


def _with_precision(spec, precision: str, **params):
    model = spec.factory()
    assert set_everywhere(model, precision=precision, **params)
    return model


TORCH_RECOMMENDERS = [param for param in RECOMMENDERS
                      if set_everywhere(param.values[0].factory(), precision="32")]


def test_every_torch_recommender_has_the_parameter():
    ids = {param.id for param in TORCH_RECOMMENDERS}
    assert {"AutoRec", "DeepRec", "DenoisingAutoEncoder", "MultDAE", "MultVAE", "RecVAE", "CDAE",
            "NRP", "CML", "MagneticMetricLearning", "MultiMetricAutoRec"} <= ids
    for param in TORCH_RECOMMENDERS:
        params = param.values[0].factory().get_params()
        assert all(value == "32" for key, value in params.items()
                   if key.rsplit("__", 1)[-1] == "precision")


@pytest.fixture
def forward_autocast_states(monkeypatch):
    """``torch.is_autocast_enabled("cpu")`` of the network's passes in the nets' epoch loops.

    Recorded for every call of a net's module (``net.module_``'s forward, or
    the metric models' training loss ``MetricEmbeddingModule.loss``) inside
    skorch's ``run_single_epoch`` (training and validation batches). The
    losses and penalties outside the module run in float32 on purpose, and so
    do the serving paths that NRP and the metric models run after training.
    """
    states: set[bool] = set()
    in_epoch = []  # the module of the net whose epoch runs

    def record(module, args, output):
        if in_epoch and module is in_epoch[-1]:
            states.add(torch.is_autocast_enabled("cpu"))

    def run_single_epoch(self, *args, **kwargs):
        in_epoch.append(self.module_)
        try:
            return epoch_loop(self, *args, **kwargs)
        finally:
            in_epoch.pop()

    def metric_loss(self, *args, **kwargs):
        record(self, args, None)
        return loss(self, *args, **kwargs)

    epoch_loop, loss = RecommenderNet.run_single_epoch, MetricEmbeddingModule.loss
    monkeypatch.setattr(RecommenderNet, "run_single_epoch", run_single_epoch)
    monkeypatch.setattr(MetricEmbeddingModule, "loss", metric_loss)
    handle = torch.nn.modules.module.register_module_forward_hook(record)
    yield states
    handle.remove()


@pytest.mark.parametrize("spec", TORCH_RECOMMENDERS)
def test_bf16_autocasts_every_training_forward_and_still_learns(spec, forward_autocast_states):
    """Each torch family trains under bfloat16 autocast and recommends the checkerboard back."""
    X, withheld = make_checkerboard(explicit=spec.explicit)
    model = spec.fit(_with_precision(spec, "bf16"), X)
    assert forward_autocast_states == {True}  # every forward of the epochs
    scores = model.predict(X)
    assert scores.shape == X.shape and scores.dtype == np.float32 and np.isfinite(scores).all()
    k = int(np.diff(withheld.indptr).max())
    assert precision_of_withheld(recommend(model, X, k=k), withheld) >= 0.9
    if hasattr(model, "transform"):
        codes = model.transform(X)
        assert codes.dtype == np.float32 and np.isfinite(codes).all()


def test_float32_forwards_are_not_autocast(forward_autocast_states):
    MultVAE(hidden_units=(8, 4), max_epochs=2, random_state=0).fit(IMPLICIT).predict(IMPLICIT)
    assert forward_autocast_states == {False}


@pytest.mark.parametrize("precision", ["tf32", "bf16"])
def test_default_is_float32_and_tf32_is_float32_on_cpu(precision):
    params = {"hidden_units": (8, 4), "max_epochs": 2, "random_state": 0}
    default = MultDAE(**params).fit(IMPLICIT).predict(IMPLICIT)
    assert MultDAE().precision == "32"
    explicit = MultDAE(precision="32", **params).fit(IMPLICIT).predict(IMPLICIT)
    np.testing.assert_array_equal(default, explicit)
    other = MultDAE(precision=precision, **params).fit(IMPLICIT).predict(IMPLICIT)
    if precision == "tf32":  # TF32 is a CUDA matmul mode: on CPU nothing changes
        np.testing.assert_array_equal(other, default)
    else:  # bfloat16 forwards: close, not equal
        assert not np.array_equal(other, default)
        np.testing.assert_allclose(other, default, atol=0.05)


@pytest.mark.parametrize("sparse_input", [True, False])
def test_bf16_sparse_and_dense_first_layer(sparse_input):
    model = MultVAE(hidden_units=(16, 8), sparse_input=sparse_input, precision="bf16",
                    max_epochs=2, random_state=0).fit(IMPLICIT)
    assert model.net_.module_.sparse_input is sparse_input
    assert next(model.net_.module_.parameters()).dtype == torch.float32  # weights stay float32
    assert np.isfinite(model.predict(IMPLICIT)).all()


@pytest.mark.parametrize("bad", ["fp16", "16", "bfloat16", 32, None])
def test_bad_precision_raises(bad):
    with pytest.raises(ValueError, match="precision"):
        MultVAE(precision=bad, max_epochs=1).fit(IMPLICIT)
    with pytest.raises(ValueError, match="precision"):
        check_precision(bad, "cpu")


def test_clone_and_set_params_keep_precision():
    model = MultVAE(precision="bf16")
    assert clone(model).get_params()["precision"] == "bf16"
    assert model.set_params(precision="tf32").precision == "tf32"


@pytest.fixture
def tf32_off():
    """The global TF32 settings turned off (IEEE float32) for the test, restored after it."""
    saved = tf32_state()
    api = saved[0]
    off = ("ieee", "ieee") if api == "fp32_precision" else (False, False)
    _set_tf32_state((api, *off))
    yield (api, *off)
    _set_tf32_state(saved)


def test_matmul_scope_sets_tf32_on_cuda_only_and_restores_it(tf32_off):
    api = tf32_off[0]
    with matmul_scope("tf32", "cuda"):
        inside = tf32_state()
    assert inside == (api, *(("tf32", "tf32") if api == "fp32_precision" else (True, True)))
    assert tf32_state() == tf32_off
    with pytest.raises(RuntimeError, match="inside"), matmul_scope("tf32", "cuda:0"):
        raise RuntimeError("inside")
    assert tf32_state() == tf32_off
    for precision, device in (("tf32", "cpu"), ("32", "cuda"), ("bf16", "cuda")):
        with matmul_scope(precision, device):
            assert tf32_state() == tf32_off


def test_fit_leaves_the_global_settings_as_they_were(tf32_off):
    MultVAE(hidden_units=(8, 4), precision="tf32", max_epochs=2).fit(IMPLICIT).predict(IMPLICIT)
    assert tf32_state() == tf32_off
    assert not torch.is_autocast_enabled("cpu")


def test_precision_scope_and_float32_outputs():
    layer = torch.nn.Linear(4, 3)
    x = torch.ones(2, 4)
    with precision_scope("bf16", "cpu"):
        out = layer(x)
    assert out.dtype == torch.bfloat16
    logits, kl = as_float32((out, torch.ones(2, dtype=torch.float64)))
    assert logits.dtype == torch.float32 and kl.dtype == torch.float64  # float64 kept
    with precision_scope("32", "cpu"):
        assert layer(x).dtype == torch.float32
    assert set(PRECISIONS) == {"32", "tf32", "bf16"}
