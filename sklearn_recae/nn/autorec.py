"""The AutoRec network (Sedhain et al. 2015): one hidden layer, no scikit-learn.

``h(r) = f(W · g(V r + μ) + b)``: ``g`` the encoder activation (sigmoid in the
paper), ``f`` the decoder activation (identity in the paper).
"""

from __future__ import annotations

import torch
from torch import nn

from .sparse import first_linear, item_major_, mask_values

__all__ = ["ACTIVATIONS", "AutoRecModule", "make_activation"]

ACTIVATIONS = {
    "identity": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "selu": nn.SELU,
    "elu": nn.ELU,
    "swish": nn.SiLU,
}


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module by name (one of ``ACTIVATIONS``)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"Unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}.") from None


class AutoRecModule(nn.Module):
    """One-hidden-layer autoencoder over a rating vector.

    Parameters
    ----------
    n_inputs : int
        Length of a sample (number of items for U-AutoRec, users for I-AutoRec).
    hidden_units : int, default=500
        Size of the code.
    activation : str, default="sigmoid"
        Encoder activation ``g``.
    output_activation : str, default="identity"
        Decoder activation ``f``.
    output_bias : array-like of shape (n_inputs,), default=None
        Initial decoder bias ``b`` (e.g. the mean rating of each output), so
        training starts from a sensible baseline instead of zero.
    input_dropout : float, default=0.0
        Masking noise in training mode: each input entry is set to 0
        (unobserved) with this probability, without rescaling the others (a
        rating is a value, not an activation). The target is not masked, so
        the network learns to predict ratings hidden from its input.
    sparse_input : bool, default=False
        The training net feeds sparse COO batches, which the encoder
        multiplies directly (:func:`~.sparse.first_linear`; the masking noise
        acts on the stored values); its weight is stored item-major. Dense
        input is accepted either way.
    """

    def __init__(
        self,
        n_inputs: int,
        hidden_units: int = 500,
        activation: str = "sigmoid",
        output_activation: str = "identity",
        output_bias=None,
        input_dropout: float = 0.0,
        sparse_input: bool = False,
    ) -> None:
        super().__init__()
        if not 0.0 <= input_dropout < 1.0:
            raise ValueError(f"input_dropout must be in [0, 1), got {input_dropout}.")
        self.input_dropout = input_dropout
        self.encoder = nn.Linear(n_inputs, hidden_units)
        self.encoder_activation = make_activation(activation)
        self.decoder = nn.Linear(hidden_units, n_inputs)
        self.decoder_activation = make_activation(output_activation)
        self.sparse_input = sparse_input
        if sparse_input:
            item_major_(self.encoder)
        if output_bias is not None:
            with torch.no_grad():
                self.decoder.bias.copy_(torch.as_tensor(output_bias, dtype=torch.float32))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden code ``g(V r + μ)`` of a dense or sparse COO batch ``x``."""
        return self.encoder_activation(first_linear(x, self.encoder))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``h(r)`` of a dense or sparse batch ``x`` (masked in training mode)."""
        x = mask_values(x, self.input_dropout, self.training)
        return self.decoder_activation(self.decoder(self.encode(x)))

    def weight_matrices(self) -> list[torch.Tensor]:
        """The penalised weights ``V`` and ``W`` (biases are not penalised)."""
        return [self.encoder.weight, self.decoder.weight]
