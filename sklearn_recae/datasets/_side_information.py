"""Side information of MovieLens-100K as sparse features aligned to users and to items.

NRP's paper represents the side information as bags of words: users by age,
gender, occupation and zip code; movies by title words and genres. Here each
attribute is one *source* (a block of columns), so a model can give each its
own encoder: the matrices stack the sources, and ``user_sources`` /
``item_sources`` give their widths.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils import Bunch

from ._base import _check_bool

__all__ = ["AGE_BINS", "movielens_100k_side_information"]

#: Upper bounds (exclusive) of the age buckets (the MovieLens-1M groups: under 18,
#: 18-24, 25-34, 35-44, 45-49, 50-55, 56 and over).
AGE_BINS = (18, 25, 35, 45, 50, 56)


def _one_hot(values, prefix: str) -> tuple[sp.csr_matrix, list[str]]:
    encoder = OneHotEncoder(dtype=np.float32)
    matrix = encoder.fit_transform(np.asarray(values, dtype=object).reshape(-1, 1)).tocsr()
    return matrix, [f"{prefix}={c}" for c in encoder.categories_[0]]


def _stack(sources: list) -> tuple[sp.csr_matrix, tuple[int, ...], list[str], list[str]]:
    names, matrices, features = [], [], []
    for name, (matrix, columns) in sources:
        names.append(name)
        matrices.append(matrix)
        features.extend(columns)
    widths = tuple(m.shape[1] for m in matrices)
    return sp.hstack(matrices, format="csr", dtype=np.float32), widths, names, features


def movielens_100k_side_information(data: Bunch | None = None, *, zip_digits: int = 3,
                                    decade: bool = True) -> Bunch:
    """Build NRP's user and item side-information features of MovieLens-100K.

    Parameters
    ----------
    data : Bunch, default=None
        The output of :func:`load_movielens_100k` (loaded when None).
    zip_digits : int, default=3
        Leading characters of the zip code kept (3: the US sectional centre).
    decade : bool, default=True
        Encode the release year by decade (one-hot); False keeps one column
        per year. Movies without a year get none.

    Returns
    -------
    side : Bunch
        user_features : scipy.sparse.csr_matrix of shape (943, n_user_features)
            Row ``u`` for row ``u`` of ``data.ratings``: one-hot age bucket
            (``AGE_BINS``), gender, occupation and zip prefix.
        item_features : scipy.sparse.csr_matrix of shape (1682, n_item_features)
            Row ``i`` for column ``i``: binary title words, release decade and
            the 19 genre flags.
        user_sources, item_sources : tuple of int
            Widths of the sources stacked in each matrix, in order (NRP's
            ``user_sources`` / ``item_sources``).
        user_source_names, item_source_names : list of str
            ``["age", "gender", "occupation", "zip"]`` and
            ``["title", "year", "genres"]``.
        user_feature_names, item_feature_names : list of str
            The name of every column.

    Examples
    --------
    >>> from sklearn_recae.datasets import movielens_100k_side_information
    >>> side = movielens_100k_side_information()  # doctest: +SKIP
    >>> side.user_features.shape[0], side.item_features.shape[0]  # doctest: +SKIP
    (943, 1682)
    """
    # the arguments are checked before the (possibly downloading) load
    if isinstance(zip_digits, bool) or not isinstance(zip_digits, int) or zip_digits < 1:
        raise ValueError(f"zip_digits must be a positive int, got {zip_digits!r}.")
    decade = _check_bool(decade, "decade")
    if data is None:
        from ._movielens import load_movielens_100k

        data = load_movielens_100k()
    users, movies = data.users, data.movies
    ages = np.digitize(np.asarray(users.age), AGE_BINS)
    age_names = ["<18", *[f"{lo}-{hi - 1}" for lo, hi in zip(AGE_BINS[:-1], AGE_BINS[1:])],
                 f"{AGE_BINS[-1]}+"]
    age = sp.csr_matrix((np.ones(ages.size, np.float32), (np.arange(ages.size), ages)),
                        shape=(ages.size, len(AGE_BINS) + 1))
    user, user_sources, user_names, user_columns = _stack([
        ("age", (age, [f"age={a}" for a in age_names])),
        ("gender", _one_hot(users.gender, "gender")),
        ("occupation", _one_hot(users.occupation, "occupation")),
        ("zip", _one_hot([str(z)[:zip_digits] for z in users.zip_code], "zip")),
    ])
    words = CountVectorizer(binary=True, dtype=np.float32)
    title = words.fit_transform(movies.title).tocsr()
    years = np.asarray(movies.year, dtype=np.float64)
    known = ~np.isnan(years)
    keys = np.where(known, (years // 10 * 10) if decade else years, 0).astype(int)
    year, year_names = _one_hot(keys, "decade" if decade else "year")
    year = sp.diags(known.astype(np.float32)) @ year
    unknown = [name.endswith("=0") for name in year_names]
    year, year_names = year[:, ~np.asarray(unknown)], [n for n, u in zip(year_names, unknown)
                                                       if not u]
    genres = sp.csr_matrix(np.asarray(movies.genres, dtype=np.float32))
    item, item_sources, item_names, item_columns = _stack([
        ("title", (title, [f"title={w}" for w in words.get_feature_names_out()])),
        ("year", (sp.csr_matrix(year), year_names)),
        ("genres", (genres, [f"genre={g}" for g in movies.genre_names])),
    ])
    return Bunch(user_features=user, item_features=item, user_sources=user_sources,
                 item_sources=item_sources, user_source_names=user_names,
                 item_source_names=item_names, user_feature_names=user_columns,
                 item_feature_names=item_columns)
