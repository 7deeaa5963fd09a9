"""RecVAE (Shenbin et al. 2020): Mult-VAE with a composite prior and alternating updates.

The reference implementation (``ilya-shenbin/RecVAE``, ``model.py`` and
``run.py``), matched here:

- encoder: L2-normalised input, dropout 0.5, five densely connected layers of
  600 units with swish and layer normalisation (ε = 0.1), linear heads for
  the posterior mean and log-variance (latent dimension 200); decoder: one
  linear layer; the posterior mean at prediction;
- composite prior: the mixture ``3/20 · N(0, I) + 3/4 · q_old(z|x) +
  1/10 · N(0, e^{10} I)``, ``q_old`` the encoder as it was after the last
  encoder phase; the KL term is the one-sample estimate
  ``Σ_d log q(z_d|x) − log p(z_d|x)``;
- user-specific KL weight ``β_u = γ · |x_u|`` (``beta_scale``) or a constant β;
- one epoch is ``n_enc_epochs`` (3) passes over the rows updating the encoder
  with input dropout, the prior refresh, then ``n_dec_epochs`` (1) passes
  updating the decoder without input dropout; two Adam optimizers, batch 500.

How it runs through the package's one skorch loop: :class:`RecVAENet`
overrides skorch's documented hooks only. ``initialize_optimizer`` builds the
two optimizers; ``get_iterator`` returns, for training, an iterable that
makes the encoder passes, refreshes the prior and makes the decoder passes
(setting the net's ``phase_`` before each batch); ``train_step`` steps the
phase's optimizer. Validation and early stopping run once per such epoch, as
the reference evaluates once per epoch.

Deviations, with their reasons:

- In a decoder pass the encoder runs without gradient and the KL term is not
  computed (the reference computes both and discards the encoder's gradient;
  the KL term does not depend on the decoder): the decoder's gradient is the
  same, at a fraction of the cost. A decoder pass's training loss is
  therefore the negative log-likelihood alone. In an encoder pass the
  decoder's weights are frozen for the backward pass for the same reason.
- An all-zero row is normalised to zero (the reference divides by its norm, 0).
- ``beta_scale=0.04`` (γ) and ``lr=1e-3`` instead of the reference's 0.005 and 5e-4
  (tuned on ML-20M), chosen on validation data only
  (``benchmarks/implicit_default_sweep.py --model recvae``; the measured
  values are in the documentation, ``docs/models/implicit.md``). A small
  dataset needs the stronger pull towards the prior; the cost is time (more
  epochs before early stopping).
- The reference trains a fixed number of epochs keeping the best validation
  NDCG@100; here training stops after ``n_iter_no_change`` epochs without
  improvement (then ``refit``, as every model here).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .._skorch import RecVAENet
from ..nn.vae import RecVAEModule
from ..utils._sklearn import Interval
from ._implicit_base import (
    TRAINING_CONSTRAINTS,
    _ImplicitAutoEncoder,
    store_init_params,
)

__all__ = ["RecVAE"]


class RecVAE(_ImplicitAutoEncoder):
    """RecVAE: a variational autoencoder with a composite prior and alternating updates.

    ``predict`` returns the logits of the posterior mean's decoding;
    ``transform`` returns the posterior mean of each row. See the module
    docstring for the training schedule and the reference's details.

    Parameters
    ----------
    hidden_units : tuple of one int, default=(600,)
        Width of the encoder's densely connected layers (all ``n_layers`` of
        them have this one width).
    n_components : int, default=200
        Latent dimension.
    n_layers : int, default=5
        Densely connected encoder layers.
    dropout : float, default=0.5
        Input dropout of the encoder passes.
    beta_scale : float or None, default=0.04
        The paper's γ: user-specific KL weight ``β_u = beta_scale · |x_u|``
        (the row's number of interactions); None uses the constant ``beta``.
        The reference uses 0.005 on ML-20M; 0.04 was chosen on validation
        data (module docstring).
    beta : float, default=0.2
        Constant KL weight when ``beta_scale`` is None.
    mixture_weights : tuple of 3 floats, default=(0.15, 0.75, 0.1)
        Prior weights of N(0, I), the previous posterior and the wide normal.
    wide_logvar : float, default=10.0
        Log-variance of the prior's wide normal.
    n_enc_epochs, n_dec_epochs : int, default=3, 1
        Encoder and decoder passes over the rows in one epoch.
    optimizer : str or optimizer class, default="adam"
        The class of both optimizers.
    lr : float, default=1e-3
        Of both optimizers (the reference: 5e-4; see the module docstring).
    max_epochs : int, default=200
        Epochs, each ``n_enc_epochs + n_dec_epochs`` passes.
    batch_size : int, default=500
    early_stopping, validation_fraction, n_iter_no_change, k_valid, refit, \
binarize, device, precision, random_state, verbose
        As for :class:`DenoisingAutoEncoder` (``n_iter_no_change=10``).
        There is no weight decay, gradient clipping or batch normalization.
    sparse_input : "auto" or bool, default=False
        As for :class:`DenoisingAutoEncoder`, for the first layer of both
        encoders. False by default, chosen on validation data
        (``benchmarks/implicit_default_sweep.py --model recvae --grid
        '{"sparse_input": [false, true]}'``, binarized MovieLens-100K, three
        seeded splits, test parts not read): NDCG@100 0.3155 ± 0.0037 dense
        against 0.3098 ± 0.0088 sparse (the same model, with the input
        dropout drawn per stored entry; one seed stopped early). ``"auto"``
        reads ML-20M-shaped batches sparse on CPU.

    Attributes
    ----------
    net_, history_, validation_scores_, best_epoch_, n_epochs_, interrupted_, device_,
    n_features_in_
        As for :class:`DenoisingAutoEncoder`.

    References
    ----------
    .. [1] I. Shenbin, A. Alekseev, E. Tutubalina, V. Malykh and S. I.
       Nikolenko, "RecVAE: A New Variational Autoencoder for Top-N
       Recommendations with Implicit Feedback", WSDM 2020.

    Examples
    --------
    >>> from sklearn_recae.autoencoder import RecVAE
    >>> from sklearn_recae.datasets import make_interactions
    >>> X = (make_interactions(100, 40, density=0.2, random_state=0) > 3).astype(float)
    >>> model = RecVAE(hidden_units=(16,), n_components=8, max_epochs=2, random_state=0).fit(X)
    >>> model.recommend(X[:2], k=3).shape, model.transform(X[:2]).shape
    ((2, 3), (2, 8))
    """

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "beta_scale": [Interval(Real, 0, None, closed="neither"), None],
        "beta": [Interval(Real, 0, None, closed="left")],
        "mixture_weights": [tuple, list],
        "wide_logvar": [Interval(Real, None, None, closed="neither")],
        "n_enc_epochs": [Interval(Integral, 0, None, closed="left")],
        "n_dec_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        hidden_units: tuple[int] = (600,),
        *,
        n_components: int = 200,
        n_layers: int = 5,
        dropout: float = 0.5,
        beta_scale: float | None = 0.04,
        beta: float = 0.2,
        mixture_weights: tuple[float, float, float] = (0.15, 0.75, 0.1),
        wide_logvar: float = 10.0,
        n_enc_epochs: int = 3,
        n_dec_epochs: int = 1,
        optimizer="adam",
        lr: float = 1e-3,
        max_epochs: int = 200,
        batch_size: int = 500,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        k_valid: int = 100,
        refit: bool = True,
        binarize: bool = True,
        sparse_input=False,
        device: str = "auto",
        precision: str = "32",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        store_init_params(self, locals())

    #: The encoder's layers share one width (``n_layers`` of them).
    _n_hidden_units = 1

    def _check_params(self) -> None:
        super()._check_params()
        weights = np.asarray(self.mixture_weights, dtype=float)
        if weights.shape != (3,) or np.any(weights <= 0) or not np.isclose(weights.sum(), 1.0):
            raise ValueError(
                "mixture_weights must be 3 positive weights summing to 1 (standard normal, "
                f"previous posterior, wide normal), got {self.mixture_weights!r}."
            )
        if self.n_enc_epochs + self.n_dec_epochs == 0:
            raise ValueError("n_enc_epochs and n_dec_epochs are both 0: nothing would train.")

    _module = RecVAEModule
    _net_class = RecVAENet

    def _model_params(self) -> dict:
        return {
            "module__hidden_units": self.hidden_units[0],
            "module__n_components": self.n_components,
            "module__n_layers": self.n_layers,
            "module__mixture_weights": tuple(float(w) for w in self.mixture_weights),
            "module__wide_logvar": self.wide_logvar,
            "n_enc_epochs": self.n_enc_epochs,
            "n_dec_epochs": self.n_dec_epochs,
            "beta_scale": self.beta_scale,
            "beta": self.beta,
        }

    @property
    def _code_size(self) -> int:
        return self.n_components
