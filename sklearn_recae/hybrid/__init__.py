"""Hybrid recommenders: ratings and side information (NRP)."""

from ._nrp import NRP

__all__ = ["NRP"]
