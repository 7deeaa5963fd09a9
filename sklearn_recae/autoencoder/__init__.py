"""Autoencoder recommenders."""

from ._autorec import AutoRec

__all__ = ["AutoRec"]
