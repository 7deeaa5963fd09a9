"""Mult-DAE (Liang et al. 2018): the denoising autoencoder with a multinomial likelihood.

The configuration of the reference implementation (``dawenl/vae_cf``):
``[n, 600, 200, 600, n]``, tanh hidden layers and a linear output (logits),
L2-normalised input then dropout 0.5, Xavier-uniform weights and biases from
a truncated N(0, 0.001²), multinomial log-likelihood, Adam
(lr 1e-3, batch 500) and an L2 penalty ``lam = 0.01 / batch_size`` added as
``2 · lam · Σ ‖W‖²/2``; its gradient ``4e-5 · W`` is Adam's coupled
``weight_decay=4e-5`` here (which also decays the biases, a negligible
deviation). The reference trains 200 epochs and keeps the best validation
NDCG@100; here training stops after ``n_iter_no_change`` epochs without
improvement and keeps the best epoch. The learning rate (1e-3) and the
patience (``n_iter_no_change=20``) were chosen on validation data only
(``benchmarks/implicit_default_sweep.py --model mult-dae``; the measured
values are in the documentation, ``docs/models/implicit.md``).
"""

from __future__ import annotations

from numbers import Real

from ..nn.dae import DenoisingAutoEncoderModule
from ..utils._sklearn import Interval
from ._implicit_base import (
    TRAINING_CONSTRAINTS,
    _ImplicitAutoEncoder,
    store_init_params,
    weight_decay_params,
)

__all__ = ["MultDAE"]


class MultDAE(_ImplicitAutoEncoder):
    """Mult-DAE: a tanh autoencoder trained with the multinomial log-likelihood.

    ``predict`` returns logits (rank by them; ``scipy.special.softmax`` over a
    row gives the multinomial probabilities). The loss, the activations and
    the normalisation are fixed to Liang et al.'s; for another combination use
    :class:`DenoisingAutoEncoder`.

    Parameters
    ----------
    hidden_units : tuple of int, default=(600, 200)
        Encoder sizes; the decoder mirrors them.
    dropout : float, default=0.5
        Input dropout.
    weight_decay : float, default=4e-5
        The reference code's L2 penalty as Adam weight decay (see the module docstring).
    optimizer, lr, max_epochs, batch_size, early_stopping, validation_fraction, \
n_iter_no_change, k_valid, refit, binarize, sparse_input, device, precision, random_state, verbose
        As for :class:`DenoisingAutoEncoder` (``lr=1e-3``, ``batch_size=500``,
        ``n_iter_no_change=20``).

    Attributes
    ----------
    net_, history_, validation_scores_, best_epoch_, n_epochs_, interrupted_, device_,
    n_features_in_
        As for :class:`DenoisingAutoEncoder`.

    References
    ----------
    .. [1] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational
       Autoencoders for Collaborative Filtering", WWW 2018.

    Examples
    --------
    >>> from sklearn_recae.autoencoder import MultDAE
    >>> from sklearn_recae.datasets import make_interactions
    >>> X = (make_interactions(100, 40, density=0.2, random_state=0) > 3).astype(float)
    >>> MultDAE(hidden_units=(16, 8), max_epochs=3, random_state=0).fit(X).recommend(X[:2], k=3).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "weight_decay": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        hidden_units: tuple[int, ...] = (600, 200),
        *,
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

    _module = DenoisingAutoEncoderModule

    def _model_params(self) -> dict:
        # the reference configuration (module docstring)
        return {
            "module__hidden_units": tuple(self.hidden_units),
            "module__activation": "tanh-lin",
            "module__normalize": True,
            "module__batch_norm": False,
            "module__xavier_init": True,
        }

    def _optimizer_params(self) -> dict:
        return weight_decay_params(self.weight_decay)
