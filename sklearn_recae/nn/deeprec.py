"""The DeepRec network (Kuchaiev & Ginsburg 2017): a deep autoencoder, no scikit-learn.

Follows ``reco_encoder/model/model.py`` of NVIDIA/DeepRecommender:
``layer_sizes = [n, *hidden_units]`` gives encoder layers
``f(W_i x + b_i)``, dropout on the code (the output of the last encoder
layer) only, and a decoder that mirrors the encoder, its weights the
transposed encoder weights when ``constrained`` (then only the decoder biases
are its own). Every layer applies the activation, the decoder's last one too
unless ``last_layer_activations=False`` (the reference's
``--skip_last_layer_nl``). Weights are Xavier-uniform, biases zero, as there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .autorec import make_activation

__all__ = ["DeepRecModule"]


class DeepRecModule(nn.Module):
    """A deep (optionally weight-tied) autoencoder over a dense batch of rating vectors.

    Parameters
    ----------
    n_inputs : int
        Length of a sample (items for a user-based model, users for an item-based one).
    hidden_units : tuple of int, default=(512, 512, 1024)
        Encoder layer sizes; the last is the code. The decoder mirrors them
        (``(512, 512, 1024)`` gives ``n, 512, 512, 1024, 512, 512, n``).
    activation : str, default="selu"
        Activation of every layer (one of
        :data:`~sklearn_recae.nn.autorec.ACTIVATIONS`).
    dropout : float, default=0.8
        Dropout probability on the code, in training mode only (scaled by
        ``1 / (1 - dropout)``, as ``torch.nn.Dropout``).
    last_layer_activations : bool, default=True
        Apply the activation to the decoder's output too; False keeps the
        output linear.
    constrained : bool, default=False
        Tie the decoder weights to the transposed encoder weights.
    """

    def __init__(
        self,
        n_inputs: int,
        hidden_units: tuple[int, ...] = (512, 512, 1024),
        activation: str = "selu",
        dropout: float = 0.8,
        last_layer_activations: bool = True,
        constrained: bool = False,
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        sizes = [int(n_inputs), *(int(h) for h in hidden_units)]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(
                f"hidden_units must be a non-empty tuple of positive ints, got {hidden_units!r}."
            )
        self.constrained = constrained
        self.last_layer_activations = last_layer_activations
        self.activation = make_activation(activation)
        self.drop = nn.Dropout(dropout)
        reversed_sizes = sizes[::-1]
        self.encode_w = nn.ParameterList(
            [nn.Parameter(torch.empty(sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
        )
        self.encode_b = nn.ParameterList(
            [nn.Parameter(torch.zeros(size)) for size in sizes[1:]]
        )
        self.decode_w = nn.ParameterList(
            [] if constrained else [
                nn.Parameter(torch.empty(reversed_sizes[i + 1], reversed_sizes[i]))
                for i in range(len(sizes) - 1)
            ]
        )
        self.decode_b = nn.ParameterList(
            [nn.Parameter(torch.zeros(size)) for size in reversed_sizes[1:]]
        )
        for w in [*self.encode_w, *self.decode_w]:
            nn.init.xavier_uniform_(w)

    def decoder_weights(self) -> list[torch.Tensor]:
        """The decoder's weight matrices, output layer last (tied ones are encoder transposes)."""
        if self.constrained:
            return [w.t() for w in reversed(self.encode_w)]
        return list(self.decode_w)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of a dense batch ``x`` (dropout applied in training mode only)."""
        for w, b in zip(self.encode_w, self.encode_b):
            x = self.activation(F.linear(x, w, b))
        return self.drop(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The reconstruction of a batch of codes ``z``."""
        weights = self.decoder_weights()
        last = len(weights) - 1
        for i, (w, b) in enumerate(zip(weights, self.decode_b)):
            z = F.linear(z, w, b)
            if i != last or self.last_layer_activations:
                z = self.activation(z)
        return z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``f(x)`` of a dense batch ``x``."""
        return self.decode(self.encode(x))

    def weight_matrices(self) -> list[torch.Tensor]:
        """The weight matrices (biases excluded); tied decoder weights are not repeated."""
        return [*self.encode_w, *self.decode_w]
