"""Mult-VAE (Liang et al. 2018): the variational autoencoder with a multinomial likelihood.

The configuration of the reference implementation (``dawenl/vae_cf``):
``[n, 600, 200, 600, n]`` with tanh, L2-normalised input then dropout 0.5,
the multinomial log-likelihood, Xavier-uniform weights and biases drawn from
N(0, 0.001²), Adam (lr 1e-3, batch 500), the reparameterisation trick in
training and the posterior mean at prediction, and the negative ELBO
``−E[log p(x|z)] + β · KL(q(z|x) ‖ N(0, I))`` with β annealed linearly to
β_max = 0.2.

Deviations, with their reasons:

- The schedule is ``β_t = β_max · min(1, t / total_anneal_steps)`` at gradient
  step ``t`` (0 at the first step): β reaches β_max at ``total_anneal_steps``.
  The reference's ``min(β_max, t / total_anneal_steps)`` reaches it at
  ``β_max · total_anneal_steps`` instead (its ``total_anneal_steps`` is the
  length of a ramp to β = 1, cut at β_max), which makes the parameter's name
  misleading. Its 200,000 steps on ML-20M (233 steps an epoch) give β ≈ 0.05
  after its 200 epochs, and on a dataset of a thousand users (2 steps an
  epoch) any fixed step count of that order is never reached. The default
  (None) is derived from the data instead: the number of gradient steps of
  ``ANNEAL_EPOCHS`` epochs, ``ANNEAL_EPOCHS · ceil(n_rows / batch_size)``, so β
  reaches ``beta_max`` after that many epochs whatever the dataset's size.
  ``ANNEAL_EPOCHS = 50`` was chosen on validation data only
  (``benchmarks/implicit_default_sweep.py --model multvae``; the measured
  values are in the documentation, ``docs/models/implicit.md``).
- The reference's L2 penalty on the weights (``lam = 0.01 / batch``, gradient
  ``4e-5 · W``) is kept as Adam's coupled ``weight_decay`` (which also decays
  the biases, a negligible difference), as in :class:`MultDAE`.
- The reference trains a fixed number of epochs keeping the best validation
  NDCG@100; here training stops after ``n_iter_no_change`` epochs without
  improvement and keeps the best epoch (then ``refit``, as every model here).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import scipy.sparse as sp

from .._skorch import Callback, KLAnnealing, VAENet
from ..nn.vae import MultVAEModule
from ..utils._sklearn import Interval
from ._implicit_base import (
    TRAINING_CONSTRAINTS,
    _ImplicitAutoEncoder,
    store_init_params,
    weight_decay_params,
)

__all__ = ["ANNEAL_EPOCHS", "MultVAE"]

#: Epochs over which β rises to ``beta_max`` when ``total_anneal_steps`` is None.
ANNEAL_EPOCHS = 50


class MultVAE(_ImplicitAutoEncoder):
    """Mult-VAE: a tanh variational autoencoder trained with the multinomial likelihood.

    ``predict`` returns the logits of the posterior mean's decoding (rank by
    them); ``transform`` returns the posterior mean of each row.

    Parameters
    ----------
    hidden_units : tuple of int, default=(600, 200)
        Encoder sizes, the last one the latent dimension; the decoder mirrors them.
    beta_max : float, default=0.2
        The largest KL weight (the reference's ``anneal_cap``).
    total_anneal_steps : int or None, default=None
        Gradient steps over which β rises linearly from 0 to ``beta_max``, then
        stays there
        (0: ``beta_max`` throughout). None: the steps of ``ANNEAL_EPOCHS``
        (50) epochs, ``50 · ceil(n_rows / batch_size)``; see the module docstring.
    dropout : float, default=0.5
        Input dropout after the L2 normalisation.
    weight_decay : float, default=4e-5
        The reference code's L2 penalty as Adam weight decay.
    optimizer, lr, max_epochs, batch_size, early_stopping, validation_fraction, \
n_iter_no_change, k_valid, refit, binarize, sparse_input, device, precision, random_state, verbose
        As for :class:`MultDAE` (``lr=1e-3``, ``batch_size=500``, ``n_iter_no_change=20``).

    Attributes
    ----------
    total_anneal_steps_ : int
        The annealing length used by the last fit.
    net_, history_ (with ``kl_weight`` per epoch), validation_scores_, best_epoch_, \
n_epochs_, interrupted_, device_, n_features_in_
        As for :class:`MultDAE`.

    References
    ----------
    .. [1] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational
       Autoencoders for Collaborative Filtering", WWW 2018.

    Examples
    --------
    >>> from sklearn_recae.autoencoder import MultVAE
    >>> from sklearn_recae.datasets import make_interactions
    >>> X = (make_interactions(100, 40, density=0.2, random_state=0) > 3).astype(float)
    >>> model = MultVAE(hidden_units=(16, 8), max_epochs=3, random_state=0).fit(X)
    >>> model.recommend(X[:2], k=3).shape, model.transform(X[:2]).shape
    ((2, 3), (2, 8))
    """

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "beta_max": [Interval(Real, 0, None, closed="left")],
        "total_anneal_steps": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        hidden_units: tuple[int, ...] = (600, 200),
        *,
        beta_max: float = 0.2,
        total_anneal_steps: int | None = None,
        dropout: float = 0.5,
        weight_decay: float = 4e-5,
        optimizer="adam",
        lr: float = 1e-3,
        max_epochs: int = 200,
        batch_size: int = 500,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 20,
        k_valid: int = 100,
        refit: bool = True,
        binarize: bool = True,
        sparse_input="auto",
        device: str = "auto",
        precision: str = "32",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        store_init_params(self, locals())

    _module = MultVAEModule
    _net_class = VAENet

    def _model_params(self) -> dict:
        return {"module__hidden_units": tuple(self.hidden_units)}

    def _optimizer_params(self) -> dict:
        return weight_decay_params(self.weight_decay)

    def _training_callbacks(self, X: sp.csr_matrix) -> list[tuple[str, Callback]]:
        steps = self.total_anneal_steps
        if steps is None:
            steps = ANNEAL_EPOCHS * math.ceil(X.shape[0] / self.batch_size)
        self.total_anneal_steps_ = int(steps)
        return [("kl_annealing", KLAnnealing(self.beta_max, self.total_anneal_steps_))]
