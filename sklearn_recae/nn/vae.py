"""Variational autoencoders over implicit-feedback rows: Mult-VAE and RecVAE, no scikit-learn.

Both modules return the logits of a multinomial over the items. In training
mode ``forward`` returns ``(logits, kl)``: ``kl`` is each row's KL term (a
tensor of shape ``(n_rows,)``) that the caller weights by β; in evaluation
mode it returns the logits of the posterior mean (no sampling), so
predictions are deterministic.

- :class:`MultVAEModule` (Liang et al. 2018, ``dawenl/vae_cf``): tanh MLPs,
  a Gaussian posterior, the analytic KL to a standard normal prior.
- :class:`RecVAEModule` (Shenbin et al. 2020, ``ilya-shenbin/RecVAE``): a
  densely connected swish / layer-norm encoder, a linear decoder and the
  composite prior (:class:`CompositePrior`), whose KL term is the one-sample
  Monte-Carlo estimate ``log q(z|x) − log p(z|x)`` of the reference code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .init import reference_init
from .sparse import dropout_values, first_linear, item_major_, normalize_rows

__all__ = [
    "CompositePrior",
    "MultVAEModule",
    "RecVAEEncoder",
    "RecVAEModule",
    "gaussian_kl",
    "log_normal_pdf",
]


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, exp(logvar)) ‖ N(0, I))`` of each row, summed over the latent dimensions."""
    return 0.5 * (-logvar + logvar.exp() + mu.square() - 1.0).sum(dim=1)


def log_normal_pdf(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Element-wise log-density of ``N(mu, exp(logvar))`` at ``z``."""
    return -0.5 * (logvar + math.log(2.0 * math.pi) + (z - mu).square() / logvar.exp())


def _tanh_mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers of ``sizes`` with tanh between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(nn.Tanh())
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def _normalize_and_drop(x: torch.Tensor, dropout: float, training: bool) -> torch.Tensor:
    """L2-normalise each row, then input dropout (the order of both reference codes).

    ``x`` dense, or sparse COO (then on its stored values; see :mod:`.sparse`).
    """
    return dropout_values(normalize_rows(x), dropout, training)


class MultVAEModule(nn.Module):
    """Mult-VAE: ``x → normalise → dropout → q(z|x) → z → p(x|z)`` logits.

    Parameters
    ----------
    n_items : int
        Length of a row.
    hidden_units : tuple of int, default=(600, 200)
        Encoder sizes, the last one the latent dimension; the decoder mirrors
        them (``[n, 600, 200, 600, n]``).
    dropout : float, default=0.5
        Input dropout in training mode, after the L2 normalisation.
    sparse_input : bool, default=False
        The training net feeds sparse COO batches, which the first layer
        multiplies directly (:func:`~.sparse.first_linear`); its weight is
        stored item-major for that. Dense input is accepted either way.
    """

    def __init__(self, n_items: int, hidden_units: tuple[int, ...] = (600, 200),
                 dropout: float = 0.5, sparse_input: bool = False) -> None:
        super().__init__()
        *hidden, latent = hidden_units
        self.n_components = latent
        self.dropout = dropout
        self.sparse_input = sparse_input
        # the last encoder layer outputs the mean and the log-variance side by side
        self.encoder = _tanh_mlp([n_items, *hidden, 2 * latent])
        self.decoder = _tanh_mlp([latent, *hidden[::-1], n_items])
        reference_init(self.linear_layers())
        if sparse_input:
            item_major_(self.encoder[0])

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of q(z|x) for a dense or sparse batch (dropout only in training)."""
        x = _normalize_and_drop(x, self.dropout, self.training)
        h = self.encoder[1:](first_linear(x, self.encoder[0]))
        return h[:, : self.n_components], h[:, self.n_components:]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean of a dense batch."""
        return self.posterior(x)[0]

    def forward(self, x: torch.Tensor):
        """Logits (evaluation mode) or ``(logits, kl)`` (training mode, ``z`` sampled)."""
        mu, logvar = self.posterior(x)
        if not self.training:
            return self.decoder(mu)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), gaussian_kl(mu, logvar)

    def linear_layers(self) -> list[nn.Linear]:
        """Every linear map, encoder first."""
        return [m for m in (*self.encoder, *self.decoder) if isinstance(m, nn.Linear)]


def _swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


class RecVAEEncoder(nn.Module):
    """RecVAE's densely connected encoder: each layer sees the sum of all earlier ones.

    ``h_1 = LN(swish(W_1 x))``, ``h_i = LN(swish(W_i h_{i-1} + h_1 + … + h_{i-1}))``,
    then two linear heads give the posterior mean and log-variance.

    Parameters
    ----------
    n_items : int
    hidden_units : int, default=600
    n_components : int, default=200
        Latent dimension.
    n_layers : int, default=5
        Densely connected layers (the reference has 5).
    layer_norm_eps : float, default=0.1
        The reference's layer-norm epsilon.
    sparse_input : bool, default=False
        The first layer multiplies sparse COO batches directly
        (:func:`~.sparse.first_linear`); its weight is stored item-major.
        Dense input is accepted either way.
    """

    def __init__(self, n_items: int, hidden_units: int = 600, n_components: int = 200,
                 n_layers: int = 5, layer_norm_eps: float = 0.1,
                 sparse_input: bool = False) -> None:
        super().__init__()
        sizes = [n_items] + [hidden_units] * n_layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_units, eps=layer_norm_eps)
                                   for _ in range(n_layers))
        self.mu = nn.Linear(hidden_units, n_components)
        self.logvar = nn.Linear(hidden_units, n_components)
        if sparse_input:
            item_major_(self.layers[0])

    def forward(self, x: torch.Tensor, dropout: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of a dense or sparse batch; ``dropout`` on the normalised input
        in training mode."""
        h = _normalize_and_drop(x, dropout, self.training)
        skip = None  # the sum of the earlier layers' outputs
        for layer, norm in zip(self.layers, self.norms):
            pre = first_linear(h, layer) if skip is None else layer(h) + skip
            h = norm(_swish(pre))
            skip = h if skip is None else skip + h
        return self.mu(h), self.logvar(h)


class CompositePrior(nn.Module):
    """RecVAE's prior: a mixture of N(0, I), the previous posterior q_old(z|x) and N(0, e^{10} I).

    ``log p(z|x) = logsumexp_j (log w_j + log N_j(z))`` per latent dimension,
    as in the reference code. ``encoder_old`` is a frozen copy of the
    encoder, refreshed by :meth:`RecVAEModule.update_prior`.

    Parameters
    ----------
    encoder_old : RecVAEEncoder
        The encoder whose posterior is the middle component (not trained).
    mixture_weights : sequence of 3 floats, default=(3/20, 3/4, 1/10)
        Weights of the standard normal, the previous posterior and the wide normal.
    wide_logvar : float, default=10.0
        Log-variance of the wide normal.
    """

    def __init__(self, encoder_old: RecVAEEncoder,
                 mixture_weights: Sequence[float] = (3 / 20, 3 / 4, 1 / 10),
                 wide_logvar: float = 10.0) -> None:
        super().__init__()
        self.encoder_old = encoder_old.requires_grad_(False)
        self.register_buffer("log_weights", torch.log(torch.as_tensor(mixture_weights,
                                                                      dtype=torch.float32)))
        self.wide_logvar = wide_logvar

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Element-wise log-density of the prior at ``z`` given the rows ``x``."""
        old_mu, old_logvar = self.encoder_old(x, dropout=0.0)
        zeros = torch.zeros_like(z)
        components = torch.stack([
            log_normal_pdf(z, zeros, zeros),
            log_normal_pdf(z, old_mu, old_logvar),
            log_normal_pdf(z, zeros, torch.full_like(z, self.wide_logvar)),
        ], dim=-1)
        return torch.logsumexp(components + self.log_weights, dim=-1)


class RecVAEModule(nn.Module):
    """RecVAE: densely connected encoder, linear decoder, composite prior.

    Parameters
    ----------
    n_items : int
    hidden_units : int, default=600
    n_components : int, default=200
    n_layers : int, default=5
    dropout : float, default=0.5
        Input dropout of the encoder passes (``forward(x, phase="encoder")``).
    mixture_weights : sequence of 3 floats, default=(3/20, 3/4, 1/10)
    wide_logvar : float, default=10.0
    sparse_input : bool, default=False
        The training net feeds sparse COO batches, which both encoders'
        first layers multiply directly (normalisation and dropout act on the
        stored values). Dense input is accepted either way.
    """

    def __init__(self, n_items: int, hidden_units: int = 600, n_components: int = 200,
                 n_layers: int = 5, dropout: float = 0.5,
                 mixture_weights: Sequence[float] = (3 / 20, 3 / 4, 1 / 10),
                 wide_logvar: float = 10.0, sparse_input: bool = False) -> None:
        super().__init__()
        self.dropout = dropout
        self.sparse_input = sparse_input
        encoder_sizes = (n_items, hidden_units, n_components, n_layers)
        self.encoder = RecVAEEncoder(*encoder_sizes, sparse_input=sparse_input)
        self.prior = CompositePrior(
            RecVAEEncoder(*encoder_sizes, sparse_input=sparse_input),
            mixture_weights, wide_logvar,
        )
        self.decoder = nn.Linear(n_components, n_items)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean of a dense batch."""
        return self.encoder(x, dropout=0.0)[0]

    def forward(self, x: torch.Tensor, phase: str = "encoder"):
        """Logits (evaluation mode) or ``(logits, kl)`` (training mode, ``z`` sampled).

        ``phase="encoder"``: input dropout and ``kl = Σ_d log q(z_d|x) − log p(z_d|x)``
        at the sample. ``phase="decoder"`` (the reference's decoder passes): no
        input dropout, the encoder runs without gradient and ``kl`` is zero (it
        does not depend on the decoder).
        """
        if not self.training:
            return self.decoder(self.encode(x))
        if phase == "decoder":
            with torch.no_grad():
                mu, logvar = self.encoder(x, dropout=0.0)
                z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            return self.decoder(z), torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
        mu, logvar = self.encoder(x, dropout=self.dropout)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        kl = (log_normal_pdf(z, mu, logvar) - self.prior(x, z)).sum(dim=1)
        return self.decoder(z), kl

    @torch.no_grad()
    def update_prior(self) -> None:
        """Copy the encoder's current weights into the prior's previous-posterior encoder."""
        self.prior.encoder_old.load_state_dict(self.encoder.state_dict())
