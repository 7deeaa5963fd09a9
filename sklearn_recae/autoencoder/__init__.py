"""Autoencoder recommenders."""

from ._autorec import AutoRec
from ._cdae import CDAE
from ._dae import DenoisingAutoEncoder
from ._mult_dae import MultDAE

__all__ = ["AutoRec", "CDAE", "DenoisingAutoEncoder", "MultDAE"]
