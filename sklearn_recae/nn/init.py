"""Weight initialisations of the reference implementations."""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

__all__ = ["reference_init"]


def reference_init(layers: Iterable[nn.Linear]) -> None:
    """``dawenl/vae_cf``'s initialisation: Xavier-uniform weights, biases ~ N(0, 0.001²) truncated at 2σ."""
    for layer in layers:
        nn.init.xavier_uniform_(layer.weight)
        nn.init.trunc_normal_(layer.bias, std=0.001, a=-0.002, b=0.002)
