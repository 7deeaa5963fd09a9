"""Denoising autoencoders over implicit-feedback rows (MIL paper; Mult-DAE), no scikit-learn.

``x → (L2-normalise) → dropout → encoder layers → decoder layers → scores``:
the hidden layers mirror each other (``hidden_units=(600, 200)`` gives
``[n, 600, 200, 600, n]``, Liang et al. 2018); the MIL paper's model is one
hidden layer of 200 units ("batch normalization at every training step",
§3.3, placed by ``batch_norm``).
"""

from __future__ import annotations

import torch
from torch import nn

from .autorec import make_activation
from .init import reference_init
from .sparse import dropout_values, first_linear, item_major_, normalize_rows

__all__ = [
    "ACTIVATION_PAIRS",
    "BATCH_NORM_PLACEMENTS",
    "DenoisingAutoEncoderModule",
    "parse_activation_pair",
]

_SHORT = {"lin": "identity", "sig": "sigmoid", "tanh": "tanh", "relu": "relu", "selu": "selu",
          "elu": "elu", "swish": "swish"}
#: Names of the hidden ("encoder") and output ("decoder") activations of a pair.
ACTIVATION_PAIRS = sorted(f"{h}-{o}" for h in _SHORT for o in _SHORT)
#: Where batch normalisation goes in every hidden layer: nowhere, between the
#: linear map and the activation (Ioffe & Szegedy's placement), or after the activation.
BATCH_NORM_PLACEMENTS = ("none", "hidden", "post_activation")


def parse_activation_pair(pair: str) -> tuple[str, str]:
    """``"lin-sig"`` → ``("identity", "sigmoid")``: the hidden and the output activation."""
    hidden, _, output = pair.partition("-")
    if hidden not in _SHORT or output not in _SHORT:
        raise ValueError(
            f"activation must be '<hidden>-<output>' with each one of {sorted(_SHORT)}, "
            f"e.g. 'lin-sig', got {pair!r}."
        )
    return _SHORT[hidden], _SHORT[output]


def _batch_norm_placement(batch_norm: str | bool) -> str:
    """``batch_norm`` as one of :data:`BATCH_NORM_PLACEMENTS` (``True`` → ``"hidden"``)."""
    if isinstance(batch_norm, bool):
        return "hidden" if batch_norm else "none"
    if batch_norm not in BATCH_NORM_PLACEMENTS:
        raise ValueError(
            f"batch_norm must be one of {BATCH_NORM_PLACEMENTS} or a bool, got {batch_norm!r}."
        )
    return batch_norm


class DenoisingAutoEncoderModule(nn.Module):
    """A symmetric denoising autoencoder over a dense batch of interaction rows.

    Parameters
    ----------
    n_items : int
        Length of a row.
    hidden_units : tuple of int, default=(200,)
        Encoder layer sizes; the decoder mirrors them.
    activation : str, default="lin-sig"
        ``"<hidden>-<output>"``: the activation of every hidden layer and of
        the output (see :data:`ACTIVATION_PAIRS`).
    dropout : float, default=0.5
        Input dropout in training mode (scaled by ``1 / (1 - dropout)``, as
        ``torch.nn.Dropout`` and the reference implementations do).
    normalize : bool, default=True
        L2-normalise each input row, before the dropout (the order of
        ``dawenl/vae_cf``; validation NDCG@100 of Mult-DAE on MovieLens-100K
        0.3025 against 0.2924 with the other order, 3 seeds).
    batch_norm : {"none", "hidden", "post_activation"} or bool, default="none"
        Batch normalisation in every hidden layer (encoder and decoder), none
        on the output: ``"hidden"`` between the linear map and the
        activation, ``"post_activation"`` after the activation. ``True`` means
        ``"hidden"``, ``False`` ``"none"``.
    xavier_init : bool, default=False
        Glorot-uniform (Xavier) weights and biases from a truncated
        N(0, 0.001²) (:func:`~.init.reference_init`: ``dawenl/vae_cf``'s and
        the MIL paper's §3.3 initialisation) instead of torch's default.
    sparse_input : bool, default=False
        The training net feeds sparse COO batches, which the first layer
        multiplies directly (:func:`~.sparse.first_linear`; normalisation and
        dropout act on the stored values); its weight is stored item-major.
        Dense input is accepted either way.
    """

    def __init__(
        self,
        n_items: int,
        hidden_units: tuple[int, ...] = (200,),
        activation: str = "lin-sig",
        dropout: float = 0.5,
        normalize: bool = True,
        batch_norm: str | bool = "none",
        xavier_init: bool = False,
        sparse_input: bool = False,
    ) -> None:
        super().__init__()
        hidden, output = parse_activation_pair(activation)
        batch_norm = _batch_norm_placement(batch_norm)
        self.input_dropout = nn.Dropout(dropout)
        self.normalize = normalize
        sizes = [n_items, *hidden_units]
        self.encoder = self._stack(sizes, hidden, batch_norm, last_activation=hidden)
        self.decoder = self._stack(sizes[::-1], hidden, batch_norm, last_activation=None)
        self.output_activation = make_activation(output)
        if xavier_init:
            reference_init(self.linear_layers())
        self.sparse_input = sparse_input
        if sparse_input:
            item_major_(self.encoder[0])

    @staticmethod
    def _stack(sizes, activation: str, batch_norm: str, last_activation) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2 or last_activation is not None:
                if batch_norm == "hidden":
                    layers.append(nn.BatchNorm1d(n_out))
                layers.append(make_activation(activation))
                if batch_norm == "post_activation":
                    layers.append(nn.BatchNorm1d(n_out))
        return nn.Sequential(*layers)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of a dense or sparse COO batch (dropout only in training mode)."""
        if self.normalize:
            x = normalize_rows(x)
        x = dropout_values(x, self.input_dropout.p, self.training)
        return self.encoder[1:](first_linear(x, self.encoder[0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores of every item: the output activation of the decoded code."""
        return self.output_activation(self.decoder(self.encode(x)))

    def linear_layers(self) -> list[nn.Linear]:
        """Every linear map, encoder first (for max-norm clipping and penalties)."""
        return [m for m in (*self.encoder, *self.decoder) if isinstance(m, nn.Linear)]


