"""Mult-VAE and RecVAE: the KL term, the annealing schedule, the composite prior, the
alternating updates and deterministic predictions (posterior mean)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from sklearn_recae.autoencoder import MultVAE, RecVAE
from sklearn_recae._skorch import KLAnnealing, RecVAENet, VAENet
from sklearn_recae.datasets import make_interactions
from sklearn_recae.losses import MultinomialLoss
from sklearn_recae.nn.vae import (
    CompositePrior,
    MultVAEModule,
    RecVAEEncoder,
    RecVAEModule,
    gaussian_kl,
    log_normal_pdf,
)


@pytest.fixture(scope="module")
def X():
    return (make_interactions(100, 40, density=0.2, random_state=0) > 3).astype(np.float32)


def test_gaussian_kl_by_hand():
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(2.0)], [0.0, 0.0]])
    # 0.5 (-logvar + var + mu² - 1) summed: row 0 = 0.5 (1) + 0.5 (2 - log 2 - 1)
    expected = [0.5 + 0.5 * (1.0 - math.log(2.0)), 0.0]
    np.testing.assert_allclose(gaussian_kl(mu, logvar).numpy(), expected, rtol=1e-6)


def test_log_normal_pdf_matches_scipy():
    z, mu, logvar = torch.tensor([0.3, -1.2]), torch.tensor([0.0, 0.5]), torch.tensor([0.0, 1.5])
    expected = norm.logpdf(z.numpy(), loc=mu.numpy(), scale=np.exp(0.5 * logvar.numpy()))
    np.testing.assert_allclose(log_normal_pdf(z, mu, logvar).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("total_steps, expected", [
    (10, [0.0, 0.02, 0.1, 0.18, 0.2, 0.2]),
    (0, [0.2] * 6),
])
def test_annealing_schedule(total_steps, expected):
    schedule = KLAnnealing(beta_max=0.2, total_steps=total_steps)
    np.testing.assert_allclose([schedule.beta(t) for t in (0, 1, 5, 9, 10, 50)], expected)


def test_annealing_reaches_beta_max_during_fit(X):
    # 100 rows, batch 50: 2 steps an epoch; an epoch records the weight of its last step
    model = MultVAE(hidden_units=(8, 4), total_anneal_steps=5, batch_size=50, max_epochs=4,
                    early_stopping=False, random_state=0).fit(X)
    np.testing.assert_allclose(model.history_[:, "kl_weight"], [0.04, 0.12, 0.2, 0.2])


def test_default_anneal_steps_derive_from_the_gradient_steps(X):
    model = MultVAE(hidden_units=(8, 4), batch_size=30, max_epochs=1, early_stopping=False,
                    random_state=0).fit(X)
    assert model.total_anneal_steps_ == 50 * 4  # ANNEAL_EPOCHS × ceil(100 / 30)


def test_vae_loss_is_nll_plus_weighted_kl():
    net = VAENet(MultVAEModule, module__n_items=5, criterion=MultinomialLoss(), device="cpu")
    net.initialize()
    net.kl_weight_ = 0.3
    logits = torch.randn(4, 5)
    y = (torch.rand(4, 5) > 0.5).float()
    kl = torch.tensor([1.0, 2.0, 3.0, 4.0])
    expected = MultinomialLoss()(logits, y) + 0.3 * 2.5
    torch.testing.assert_close(net.get_loss((logits, kl), y, training=True), expected)
    # evaluation: the module returns logits alone and the loss is the NLL
    torch.testing.assert_close(net.get_loss(logits, y), MultinomialLoss()(logits, y))


def test_recvae_user_specific_beta():
    net = RecVAENet(RecVAEModule, module__n_items=3, beta_scale=0.005, criterion=MultinomialLoss())
    y = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    torch.testing.assert_close(net.kl_weight(y), torch.tensor([0.01, 0.015]))
    assert RecVAENet(RecVAEModule, beta_scale=None, beta=0.3,
                     criterion=MultinomialLoss()).kl_weight(y) == 0.3


def test_composite_prior_density_matches_a_direct_computation():
    torch.manual_seed(0)
    encoder = RecVAEEncoder(6, hidden_units=4, n_components=2, n_layers=2).eval()
    prior = CompositePrior(encoder, mixture_weights=(0.15, 0.75, 0.1), wide_logvar=10.0)
    x = (torch.rand(3, 6) > 0.4).float()
    z = torch.randn(3, 2)
    with torch.no_grad():
        old_mu, old_logvar = encoder(x)
        got = prior(x, z).numpy()
    z, old_mu, old_std = z.numpy(), old_mu.numpy(), np.exp(0.5 * old_logvar.numpy())
    expected = np.log(0.15 * norm.pdf(z) + 0.75 * norm.pdf(z, old_mu, old_std)
                      + 0.1 * norm.pdf(z, 0.0, np.exp(5.0)))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert not any(p.requires_grad for p in prior.parameters())


def test_recvae_encoder_is_densely_connected():
    torch.manual_seed(0)
    encoder = RecVAEEncoder(5, hidden_units=3, n_components=2, n_layers=3).eval()
    x = torch.rand(2, 5)
    swish = torch.nn.functional.silu
    h = torch.nn.functional.normalize(x, dim=1)
    h1 = encoder.norms[0](swish(encoder.layers[0](h)))
    h2 = encoder.norms[1](swish(encoder.layers[1](h1) + h1))
    h3 = encoder.norms[2](swish(encoder.layers[2](h2) + h1 + h2))
    mu, logvar = encoder(x)
    torch.testing.assert_close(mu, encoder.mu(h3))
    torch.testing.assert_close(logvar, encoder.logvar(h3))


@pytest.mark.parametrize("estimator", [
    MultVAE(hidden_units=(8, 4), max_epochs=3, random_state=0),
    RecVAE(hidden_units=(8,), n_components=4, max_epochs=2, random_state=0),
], ids=["MultVAE", "RecVAE"])
def test_prediction_uses_the_posterior_mean(estimator, X):
    model = estimator.fit(X)
    module = model.net_.module_.eval()
    x = torch.as_tensor(X[:5].toarray())
    with torch.no_grad():
        expected = module.decoder(module.encode(x)).numpy()
    np.testing.assert_allclose(model.predict(X[:5]), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X[:5]), model.predict(X[:5]))
    np.testing.assert_allclose(model.transform(X[:5]), module.encode(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_training_forward_samples_and_returns_the_kl(X):
    torch.manual_seed(0)
    module = MultVAEModule(40, hidden_units=(8, 4), dropout=0.0).train()
    x = torch.as_tensor(X[:4].toarray())
    (logits_a, kl_a), (logits_b, _) = module(x), module(x)
    assert not torch.equal(logits_a, logits_b)  # z is sampled
    mu, logvar = module.posterior(x)
    torch.testing.assert_close(kl_a, gaussian_kl(mu, logvar))


def _parameters(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _changed(before, module) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


@pytest.mark.parametrize("n_enc, n_dec", [(1, 0), (0, 2), (3, 1)])
def test_recvae_epoch_is_encoder_then_decoder_passes(X, n_enc, n_dec):
    model = RecVAE(hidden_units=(8,), n_components=4, n_enc_epochs=n_enc, n_dec_epochs=n_dec,
                   max_epochs=1, batch_size=50, early_stopping=False, random_state=0).fit(X)
    assert model.history_[-1, "train_batch_count"] == 2 * (n_enc + n_dec)  # 2 batches a pass


def test_recvae_phases_step_only_their_optimizer(X, monkeypatch):
    steps = []
    original = RecVAENet.train_step

    def recording_train_step(self, batch, **fit_params):
        encoder_before = _parameters(self.module_.encoder)
        decoder_before = _parameters(self.module_.decoder)
        step = original(self, batch, **fit_params)
        steps.append((self.phase_, _changed(encoder_before, self.module_.encoder),
                      _changed(decoder_before, self.module_.decoder)))
        return step

    monkeypatch.setattr(RecVAENet, "train_step", recording_train_step)
    model = RecVAE(hidden_units=(8,), n_components=4, n_enc_epochs=3, n_dec_epochs=1,
                   max_epochs=2, batch_size=50, early_stopping=False, random_state=0).fit(X)
    # per epoch: 3 encoder passes then 1 decoder pass, 2 batches each
    assert [phase for phase, _, _ in steps] == (["encoder"] * 6 + ["decoder"] * 2) * 2
    assert all(enc and not dec for phase, enc, dec in steps if phase == "encoder")
    assert all(dec and not enc for phase, enc, dec in steps if phase == "decoder")
    # the prior holds the encoder as it was after the last encoder phase
    module = model.net_.module_
    for old, new in zip(module.prior.encoder_old.parameters(), module.encoder.parameters()):
        torch.testing.assert_close(old, new)
    assert all(p.requires_grad for p in module.decoder.parameters())


def test_recvae_decoder_pass_has_no_input_dropout():
    torch.manual_seed(0)
    module = RecVAEModule(6, hidden_units=4, n_components=2, n_layers=1, dropout=0.99).train()
    x = torch.ones(3, 6)
    dropouts = []
    module.encoder.register_forward_hook(
        lambda m, args, kwargs, out: dropouts.append(kwargs["dropout"]), with_kwargs=True)
    module(x, phase="decoder")
    module(x, phase="encoder")
    assert dropouts == [0.0, 0.99]


def test_recvae_checks_its_mixture_weights(X):
    with pytest.raises(ValueError, match="3 positive weights summing to 1"):
        RecVAE(mixture_weights=(0.5, 0.5, 0.5), max_epochs=1).fit(X)
    with pytest.raises(ValueError, match="nothing would train"):
        RecVAE(n_enc_epochs=0, n_dec_epochs=0, max_epochs=1).fit(X)


def test_recvae_hidden_units_is_one_shared_width(X):
    with pytest.raises(ValueError, match=r"RecVAE has exactly 1 hidden width.*\(600, 600\)"):
        RecVAE(hidden_units=(600, 600), max_epochs=1).fit(X)
