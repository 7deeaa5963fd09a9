"""Data sets: the MovieLens-100K loader and synthetic interaction generators."""

from ._base import ChecksumError, get_data_home
from ._movielens import GENRES, load_movielens_100k
from ._synthetic import make_interactions

__all__ = [
    "GENRES",
    "ChecksumError",
    "get_data_home",
    "load_movielens_100k",
    "make_interactions",
]
