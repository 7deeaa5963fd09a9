import re

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_recae.autoencoder import DeepRec
from sklearn_recae.compose import ItemBased
from sklearn_recae.datasets import make_interactions
from sklearn_recae.metrics import rmse
from sklearn_recae.model_selection import train_test_split
from sklearn_recae.nn.deeprec import DeepRecModule
from sklearn_recae.registry import get_model_spec

FAST = dict(hidden_units=(16, 8), batch_size=16, random_state=0)
SELU_MIN = -1.0507009873554805 * 1.6732632423543772  # lower bound of SELU


@pytest.fixture(scope="module")
def small():
    """40 users × 20 items of synthetic ratings."""
    return make_interactions(40, 20, density=0.3, random_state=0)


class CountingSGD(torch.optim.SGD):
    """SGD that counts its steps (class-wide, reset by each test)."""

    steps = 0

    def step(self, closure=None):
        type(self).steps += 1
        return super().step(closure)


def test_module_shapes_init_and_dropout_on_code_only():
    torch.manual_seed(0)
    module = DeepRecModule(20, hidden_units=(8, 4), dropout=0.5)
    assert [tuple(w.shape) for w in module.encode_w] == [(8, 20), (4, 8)]
    assert [tuple(w.shape) for w in module.decode_w] == [(8, 4), (20, 8)]
    assert all((b == 0).all() for b in [*module.encode_b, *module.decode_b])
    for w in [*module.encode_w, *module.decode_w]:  # Xavier-uniform bound
        assert w.abs().max() <= np.sqrt(6 / sum(w.shape))
    assert [m for m in module.modules() if isinstance(m, nn.Dropout)] == [module.drop]

    x = torch.rand(64, 20) * 5
    selu = nn.functional.selu
    code = selu(selu(x @ module.encode_w[0].T) @ module.encode_w[1].T)  # biases are zero
    module.train()
    dropped = module.encode(x)
    kept = dropped != 0
    assert 0.3 < kept.float().mean() < 0.7  # dropout 0.5 on the code
    torch.testing.assert_close(dropped[kept], (code / 0.5)[kept])
    # the decoder has no dropout: the same code decodes the same in training mode
    torch.testing.assert_close(module.decode(code), module.decode(code))
    assert module(x).shape == (64, 20)
    module.eval()
    torch.testing.assert_close(module.encode(x), code)


@pytest.mark.parametrize("last", [True, False])
def test_last_layer_activation(last):
    torch.manual_seed(0)
    module = DeepRecModule(6, hidden_units=(4,), dropout=0.0, last_layer_activations=last).eval()
    z = torch.randn(50, 4) * 10
    linear = z @ module.decode_w[0].T + module.decode_b[0]
    expected = nn.functional.selu(linear) if last else linear
    torch.testing.assert_close(module.decode(z), expected)
    assert (module.decode(z).min() >= SELU_MIN) == last


def test_constrained_decoder_is_tied_to_encoder(small):
    module = DeepRecModule(20, hidden_units=(8, 4), constrained=True)
    assert len(module.decode_w) == 0
    for dec, enc in zip(module.decoder_weights(), reversed(module.encode_w)):
        assert dec.data_ptr() == enc.data_ptr() and dec.shape == enc.T.shape
    free = DeepRecModule(20, hidden_units=(8, 4))
    n_params = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n_params(free) - n_params(module) == 20 * 8 + 8 * 4

    model = DeepRec(constrained=True, max_epochs=2, early_stopping=False, **FAST).fit(small)
    fitted = model.net_.module_
    assert len(fitted.decode_w) == 0
    torch.testing.assert_close(fitted.decoder_weights()[-1], fitted.encode_w[0].T)


def test_loss_is_the_reference_masked_mse(small):
    model = DeepRec(max_epochs=1, early_stopping=False, **FAST).fit(small)
    y_true = torch.tensor([[5.0, 0.0, 3.0], [0.0, 0.0, 1.0]])
    y_pred = torch.tensor([[4.0, 2.0, 2.0], [1.0, 1.0, 1.5]])
    # (5-4)² + (3-2)² + (1-1.5)² over the 3 observed entries of the batch
    expected = (1.0 + 1.0 + 0.25) / 3
    loss = model.net_.get_loss(y_pred, y_true, training=True)
    assert loss.item() == pytest.approx(expected)
    # the reference: MSELoss(sum)(inputs * mask, targets) / num_ratings
    mask = (y_true != 0).float()
    reference = nn.MSELoss(reduction="sum")(y_pred * mask, y_true) / mask.sum()
    assert loss.item() == pytest.approx(reference.item())


@pytest.mark.parametrize("refeed_steps", [0, 1, 2])
def test_refeeding_steps_the_optimizer_again(small, refeed_steps):
    CountingSGD.steps = 0
    model = DeepRec(optimizer=CountingSGD, refeed_steps=refeed_steps, max_epochs=2,
                    early_stopping=False, **FAST).fit(small)
    n_batches = 2 * int(np.ceil(small.shape[0] / FAST["batch_size"]))
    assert CountingSGD.steps == n_batches * (1 + refeed_steps)
    batches = [b for epoch in model.history_ for b in epoch["batches"]]
    assert [b["refeed_steps"] for b in batches] == [refeed_steps] * n_batches
    assert all(("refeed_loss" in b) == (refeed_steps > 0) for b in batches)
    assert model.net_.optimizer_.param_groups[0]["momentum"] == 0.9


def test_refeeding_input_is_the_detached_dense_output(small, monkeypatch):
    calls = []
    forward = DeepRecModule.forward

    def recording_forward(self, x):
        out = forward(self, x)
        if self.training:
            calls.append((x, out))
        return out

    monkeypatch.setattr(DeepRecModule, "forward", recording_forward)
    # dropout=0: with a dropped-out code and the zero initial biases a whole output row is 0
    model = DeepRec(refeed_steps=2, dropout=0.0, max_epochs=1, early_stopping=False,
                    **{**FAST, "batch_size": 64}).fit(small)
    assert len(calls) == 3  # one batch: the sparse step and two re-fed ones
    (x0, out0), (x1, out1), (x2, _) = calls
    rows = lambda a: sorted(map(tuple, np.asarray(a)))  # noqa: E731  (batches are shuffled)
    assert rows(x0.numpy()) == rows(small.toarray())
    assert out0.requires_grad and not x1.requires_grad and not x2.requires_grad
    torch.testing.assert_close(x1, out0.detach())  # f(x), computed before the update
    torch.testing.assert_close(x2, out1.detach())  # then f(f(x))
    assert (x1 != 0).all() and (x2 != 0).all()  # dense: every entry is a target
    batch = model.history_[0, "batches"][0]
    assert batch["refeed_loss"] == pytest.approx(calls[2][1].sub(x2).square().mean().item(),
                                                 rel=1e-5)


def test_predictions_are_deterministic_and_clipped(small):
    model = DeepRec(max_epochs=3, **FAST).fit(small)
    first = model.predict(small)
    np.testing.assert_array_equal(model.predict(small), first)  # dropout off at predict
    np.testing.assert_array_equal(model.transform(small), model.transform(small))
    assert not model.net_.module_.training
    assert first.min() >= small.data.min() and first.max() <= small.data.max()
    assert model.transform(small[:3]).shape == (3, 8)
    assert list(model.get_feature_names_out()[:2]) == ["deeprec0", "deeprec1"]


def test_input_not_modified(small):
    X, X_valid = train_test_split(small, test_size=0.2, random_state=0)
    snapshots = [(M, M.data.copy(), M.indices.copy(), M.indptr.copy()) for M in (X, X_valid)]
    model = DeepRec(max_epochs=2, **FAST).fit(X, X_valid=X_valid)
    model.predict(X), model.recommend(X, k=3), model.transform(X), model.score(X, X_valid)
    for M, data, indices, indptr in snapshots:
        np.testing.assert_array_equal(M.data, data)
        np.testing.assert_array_equal(M.indices, indices)
        np.testing.assert_array_equal(M.indptr, indptr)


@pytest.mark.parametrize("bad, match", [
    ({"hidden_units": ()}, "hidden_units"),
    ({"hidden_units": (8, 0)}, "hidden_units"),
    ({"hidden_units": (8, 2.5)}, "hidden_units"),
    ({"hidden_units": "8"}, "hidden_units"),
    ({"dropout": 1.0}, "dropout"),
    ({"refeed_steps": -1}, "refeed_steps"),
    ({"activation": "nope"}, "activation"),
    ({"momentum": 1.5}, "momentum"),
    ({"weight_decay": -1.0}, "weight_decay"),
])
def test_invalid_parameters_raise(small, bad, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        DeepRec(**{**FAST, **bad}).fit(small)


def test_learns_low_rank_ratings_better_than_the_mean():
    X = make_interactions(400, 100, density=0.2, noise=0.1, random_state=0)
    X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    model = DeepRec(hidden_units=(32, 16), dropout=0.5, optimizer="adam", lr=1e-2,
                    batch_size=32, max_epochs=40, early_stopping=False,
                    random_state=0).fit(X_train)
    baseline = np.sqrt(np.mean((X_test.data - X_train.data.mean()) ** 2))
    assert rmse(X_test, model.predict(X_train)) < 0.9 * baseline


def test_registry_entry():
    model = get_model_spec("deeprec").factory(random_state=3, verbose=0)
    inner = model.estimator if isinstance(model, ItemBased) else model
    assert isinstance(inner, DeepRec) and inner.random_state == 3
