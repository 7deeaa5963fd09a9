"""Autoencoder recommenders."""

from ._autorec import AutoRec
from ._dae import DenoisingAutoEncoder
from ._mult_dae import MultDAE

__all__ = ["AutoRec", "DenoisingAutoEncoder", "MultDAE"]
