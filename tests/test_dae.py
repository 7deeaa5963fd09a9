"""The implicit-feedback denoising autoencoder and its ranking validation."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from sklearn_recae.autoencoder import DenoisingAutoEncoder, MultDAE, MultVAE, RecVAE
from sklearn_recae.metrics import ndcg_at_k
from sklearn_recae.model_selection import holdout_row_entries
from sklearn_recae.nn.dae import DenoisingAutoEncoderModule, parse_activation_pair
from sklearn_recae.nn.ranking import ndcg_sums

from .recommender_checks import make_checkerboard

FAST = dict(hidden_units=(16,), batch_size=16, lr=1e-2, random_state=0)


def test_ndcg_sums_equal_the_package_metric():
    rng = np.random.RandomState(0)
    seen = (rng.rand(30, 20) < 0.3).astype(np.float32)
    held_out = ((rng.rand(30, 20) < 0.2) & (seen == 0)).astype(np.float32)
    scores = rng.randn(30, 20).astype(np.float32)
    sums = ndcg_sums(torch.from_numpy(scores), torch.from_numpy(held_out),
                     torch.from_numpy(seen), k=5)
    masked = np.where(seen != 0, -np.inf, scores)
    top = np.argsort(-masked, axis=1, kind="stable")[:, :5]
    expected = ndcg_at_k(held_out, top, k=5, average=False)
    assert int(sums["ndcg_count"]) == np.count_nonzero(~np.isnan(expected))
    assert float(sums["ndcg_sum"]) == pytest.approx(np.nansum(expected), rel=1e-5)


@pytest.mark.parametrize("pair,expected", [("lin-sig", ("identity", "sigmoid")),
                                           ("tanh-lin", ("tanh", "identity"))])
def test_activation_pairs(pair, expected):
    assert parse_activation_pair(pair) == expected
    with pytest.raises(ValueError, match="activation must be"):
        parse_activation_pair("sigmoid")


def test_module_layers_mirror_the_encoder():
    module = DenoisingAutoEncoderModule(50, hidden_units=(30, 10), activation="tanh-lin",
                                        batch_norm=False).eval()
    shapes = [tuple(layer.weight.shape) for layer in module.linear_layers()]
    assert shapes == [(30, 50), (10, 30), (30, 10), (50, 30)]
    x = torch.rand(4, 50)
    assert module(x).shape == (4, 50) and module.encode(x).shape == (4, 10)


@pytest.mark.parametrize("batch_norm,expected", [
    ("none", ["Linear", "Identity"]),
    ("hidden", ["Linear", "BatchNorm1d", "Identity"]),
    ("post_activation", ["Linear", "Identity", "BatchNorm1d"]),
    (True, ["Linear", "BatchNorm1d", "Identity"]),
])
def test_batch_norm_placement_sets_the_hidden_layers(batch_norm, expected):
    module = DenoisingAutoEncoderModule(50, hidden_units=(30, 10), batch_norm=batch_norm)
    assert [type(m).__name__ for m in module.encoder] == expected * 2
    # the decoder's hidden layer has the same placement; its output layer none
    assert [type(m).__name__ for m in module.decoder] == [*expected, "Linear"]


def test_batch_norm_placement_reaches_the_module():
    X, _ = make_checkerboard(explicit=False)
    for placement, n_bn in [("none", 0), ("hidden", 1), ("post_activation", 1)]:
        model = DenoisingAutoEncoder(batch_norm=placement, activation="sig-sig", max_epochs=1,
                                     early_stopping=False, **FAST).fit(X)
        layers = [*model.net_.module_.encoder, *model.net_.module_.decoder]
        assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in layers) == n_bn
    with pytest.raises(ValueError, match="batch_norm"):
        DenoisingAutoEncoderModule(5, batch_norm="input")
    # "auto": batch norm for the pair-wise loss only
    for loss, n_bn in [("mil", 0), ("ce", 0), ("ce_pair", 1)]:
        module = DenoisingAutoEncoder(loss, max_epochs=1, early_stopping=False,
                                      **FAST).fit(X).net_.module_
        assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in module.encoder) == n_bn


def test_paper_init_has_glorot_weights_and_small_biases():
    X, _ = make_checkerboard(explicit=False)
    params = dict(max_epochs=1, early_stopping=False, **{**FAST, "lr": 1e-12})
    paper = DenoisingAutoEncoder(init="paper", **params).fit(X).net_.module_
    default = DenoisingAutoEncoder(init="torch", **params).fit(X).net_.module_
    for layer, torch_layer in zip(paper.linear_layers(), default.linear_layers()):
        fan_out, fan_in = layer.weight.shape
        glorot = np.sqrt(6 / (fan_in + fan_out))
        assert layer.weight.abs().max() <= glorot + 1e-6
        assert layer.weight.abs().max() >= 0.9 * glorot   # uniform over the whole range
        assert layer.bias.abs().max() <= 0.002 + 1e-6     # truncated N(0, 1e-3²) at 2σ
        assert torch_layer.bias.abs().max() > 0.01        # torch's: U(±1/sqrt(fan_in))


def test_cross_entropy_uses_every_unobserved_item_by_default():
    y_true = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    y_pred = torch.tensor([[0.5, 0.5, 0.9, 0.2]])
    terms = [-np.log(0.5), -np.log(0.1), -np.log(0.8)]   # -ln(1 - p) of each negative
    X, _ = make_checkerboard(explicit=False)
    model = DenoisingAutoEncoder("ce", max_epochs=1, early_stopping=False, **FAST).fit(X)
    criterion = model.net_.criterion_
    assert criterion(y_pred, y_true).item() == pytest.approx(-np.log(0.5) + sum(terms), rel=1e-5)
    sampled = model.set_params(neg_ratio=1.0).fit(X).net_.criterion_   # one per positive
    torch.manual_seed(0)
    values = {round(sampled(y_pred, y_true).item(), 5) for _ in range(40)}
    assert values == {round(-np.log(0.5) + t, 5) for t in terms}
    # pair-wise: every (seen, unseen) pair by default, -ln σ(p_i − p_j) each
    pair = DenoisingAutoEncoder("ce_pair", max_epochs=1, early_stopping=False,
                                **FAST).fit(X).net_.criterion_
    expected = sum(np.log1p(np.exp(p - 0.5)) for p in (0.5, 0.9, 0.2))
    assert pair(y_pred, y_true).item() == pytest.approx(expected, rel=1e-5)


def test_early_stopping_records_validation_ndcg():
    X, _ = make_checkerboard(explicit=False)
    model = DenoisingAutoEncoder(max_epochs=40, n_iter_no_change=3, refit=False, **FAST).fit(X)
    scores = model.validation_scores_
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()
    assert model.best_epoch_ == int(np.argmax(scores)) + 1
    # the kept weights score the held-out entries as recorded
    X_fit, X_valid = holdout_row_entries(X, 0.1, random_state=model._seed())
    ranked = model.recommend(X_fit, k=min(100, X.shape[1]))
    assert ndcg_at_k(X_valid, ranked) == pytest.approx(scores[model.best_epoch_ - 1], abs=1e-4)


@pytest.mark.parametrize("loss,activation", [("mil", "lin-sig"), ("mil", "sig-sig"),
                                             ("ce", "lin-sig"), ("ce_pair", "lin-sig"),
                                             ("multinomial", "tanh-lin"), ("mse", "lin-sig")])
def test_every_loss_learns_the_checkerboard(loss, activation):
    X, withheld = make_checkerboard(explicit=False)
    model = DenoisingAutoEncoder(loss, activation=activation, max_epochs=60,
                                 early_stopping=False, **FAST).fit(X)
    k = int(np.diff(withheld.indptr).max())
    ranked = model.recommend(X, k=k)
    hits = [len(set(ranked[u][: withheld[u].nnz]) & set(withheld[u].indices))
            for u in range(X.shape[0])]
    assert sum(hits) / withheld.nnz >= 0.8


def test_probability_losses_need_a_sigmoid_output():
    X, _ = make_checkerboard(explicit=False)
    with pytest.raises(ValueError, match="needs a sigmoid output"):
        DenoisingAutoEncoder("mil", activation="tanh-lin").fit(X)


def test_max_norm_bounds_every_item(monkeypatch):
    X, _ = make_checkerboard(explicit=False)
    model = DenoisingAutoEncoder(max_norm_encoder=0.05, max_norm_decoder=0.05, max_epochs=3,
                                 early_stopping=False, **FAST).fit(X)
    first, *_, last = model.net_.module_.linear_layers()
    bound = 0.05 * np.sqrt(16) + 1e-5
    assert (first.weight.norm(dim=0) <= bound).all()   # each item's encoder column
    assert (last.weight.norm(dim=1) <= bound).all()    # each item's decoder row


def test_binarize_reads_values_as_signs():
    X, _ = make_checkerboard(explicit=True)   # ratings 5 and 1
    a = DenoisingAutoEncoder(max_epochs=2, early_stopping=False, **FAST).fit(X)
    b = DenoisingAutoEncoder(max_epochs=2, early_stopping=False, **FAST).fit((X > 0) * 1.0)
    np.testing.assert_array_equal(a.predict(X), b.predict((X > 0) * 1.0))


SIBLINGS = [DenoisingAutoEncoder, MultDAE, MultVAE, RecVAE]


@pytest.mark.parametrize("estimator_class", SIBLINGS, ids=lambda cls: cls.__name__)
def test_implicit_autoencoders_are_siblings_with_only_their_own_parameters(estimator_class):
    own = [name for name in inspect.signature(estimator_class.__init__).parameters
           if name != "self"]
    assert sorted(estimator_class().get_params()) == sorted(own)
    assert set(estimator_class._parameter_constraints) == set(own)
    for other in SIBLINGS:
        assert other is estimator_class or not issubclass(estimator_class, other)
    # no class attribute stands for a parameter the class does not have
    for name in set().union(*(inspect.signature(cls.__init__).parameters for cls in SIBLINGS)):
        assert name in own or not hasattr(estimator_class, name), name
