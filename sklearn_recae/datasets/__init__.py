"""Data sets: the MovieLens-100K loader, item genre labels and synthetic interaction generators."""

from ._base import ChecksumError, get_data_home
from ._labels import genre_labels
from ._movielens import GENRES, load_movielens_100k
from ._side_information import AGE_BINS, movielens_100k_side_information
from ._synthetic import make_interactions, make_power_law_interactions

__all__ = [
    "AGE_BINS",
    "GENRES",
    "ChecksumError",
    "genre_labels",
    "get_data_home",
    "load_movielens_100k",
    "make_interactions",
    "make_power_law_interactions",
    "movielens_100k_side_information",
]
