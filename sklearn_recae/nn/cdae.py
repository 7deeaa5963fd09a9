"""The Collaborative Denoising Auto-Encoder network (Wu et al. 2016), no scikit-learn.

``z = h(Wᵀ ỹ_u + V_u + b)`` and ``ŷ_u = f(W'z + b')``: one hidden layer of
``K`` units whose input is the corrupted row ``ỹ_u`` plus a per-user input
node ``V_u`` (an embedding of the row's user index). Corruption is dropout
with the paper's unbiased rescaling: each entry is kept with probability
``1 − q`` and scaled by ``1 / (1 − q)`` (``torch.nn.Dropout``).

A row whose user was not trained (``users=None``) is given the mean of the
fitted user vectors, ``V̄ = mean_u V_u``.
"""

from __future__ import annotations

import torch
from torch import nn

from .autorec import make_activation
from .dae import parse_activation_pair

__all__ = ["CDAEModule"]


class CDAEModule(nn.Module):
    """CDAE over a dense batch of interaction rows and the batch's user indices.

    Parameters
    ----------
    n_items : int
        Length of a row (``I``).
    n_users : int
        Number of user input nodes (``V`` has one row of ``n_hidden`` weights
        per user).
    n_hidden : int, default=50
        Hidden units ``K`` (the paper's setting).
    activation : str, default="sig-sig"
        ``"<h>-<f>"``: the hidden and output activations, as
        :func:`~sklearn_recae.nn.dae.parse_activation_pair` reads them
        (``"sig-sig"``: sigmoid hidden layer, probabilities out; ``"sig-lin"``:
        real-valued scores out).
    dropout : float, default=0.5
        Corruption level ``q``: input dropout in training mode, kept entries
        scaled by ``1 / (1 − q)``.

    Notes
    -----
    ``V`` starts at zero, so an untrained CDAE is a plain denoising
    autoencoder and every user starts from the mean vector; the linear maps
    keep torch's default initialisation.
    """

    def __init__(
        self,
        n_items: int,
        n_users: int,
        n_hidden: int = 50,
        activation: str = "sig-sig",
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        hidden, output = parse_activation_pair(activation)
        self.input_dropout = nn.Dropout(dropout)
        self.encoder = nn.Linear(n_items, n_hidden)  # Wᵀ and b
        self.user_embedding = nn.Embedding(n_users, n_hidden)  # V
        nn.init.zeros_(self.user_embedding.weight)
        self.hidden_activation = make_activation(hidden)
        self.decoder = nn.Linear(n_hidden, n_items)  # W' and b'
        self.output_activation = make_activation(output)

    def mean_user_vector(self) -> torch.Tensor:
        """``V̄``, the mean of the user vectors: the input node of a user not trained on."""
        return self.user_embedding.weight.mean(dim=0)

    def user_vectors(self, users: torch.Tensor | None, n_rows: int) -> torch.Tensor:
        """``V_u`` of each row, or ``V̄`` for every row when ``users`` is None."""
        if users is None:
            return self.mean_user_vector().expand(n_rows, -1)
        return self.user_embedding(users)

    def encode(self, x: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        """The hidden code ``z`` of a dense batch (corrupted only in training mode)."""
        pre = self.encoder(self.input_dropout(x)) + self.user_vectors(users, x.shape[0])
        return self.hidden_activation(pre)

    def forward(self, x: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of every item for each row of ``x``, whose users are ``users`` (None: new)."""
        return self.output_activation(self.decoder(self.encode(x, users)))

    def l2_penalty(self, users: torch.Tensor | None = None) -> torch.Tensor:
        """``½(‖W‖² + ‖W'‖² + ‖b‖² + ‖b'‖²) + ½ mean_{u ∈ users} ‖V_u‖²``.

        The paper's L2 regularizer as a stochastic objective over a batch of
        rows: the shared weights every batch, each user's vector in the batch
        that holds its row (none with ``users=None``). Times ``λ`` and added to
        a loss averaged over the rows, one epoch decays each ``V_u`` once, as
        the authors' per-user SGD does.
        """
        shared = sum(p.square().sum() for p in (*self.encoder.parameters(),
                                                 *self.decoder.parameters()))
        if users is None or users.numel() == 0:
            return 0.5 * shared
        return 0.5 * (shared + self.user_embedding(users).square().sum(dim=1).mean())
