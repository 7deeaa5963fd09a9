"""Autoencoder recommenders."""

from ._autorec import AutoRec
from ._cdae import CDAE
from ._dae import DenoisingAutoEncoder
from ._deeprec import DeepRec
from ._mult_dae import MultDAE
from ._mult_vae import MultVAE
from ._recvae import RecVAE

__all__ = ["AutoRec", "CDAE", "DeepRec", "DenoisingAutoEncoder", "MultDAE", "MultVAE", "RecVAE"]
