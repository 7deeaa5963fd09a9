"""One label per item from multi-label flags (MovieLens genres), for embedding-quality metrics."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array

from ..utils._sklearn import StrOptions, validate_params

__all__ = ["genre_labels"]


@validate_params(
    {"genres": ["array-like"], "multi_genre": [StrOptions({"first", "single"})]},
    prefer_skip_nested_validation=True,
)
def genre_labels(genres, *, multi_genre: str = "first") -> np.ndarray:
    """Give each item one genre label from its genre flags; -1 where it gets none.

    NMI against clusters (:func:`sklearn_recae.metrics.spherical_kmeans_nmi`)
    needs one label per item, but a MovieLens movie has one to six genres
    (ML-100K: 833 of the 1682 movies have one). Two choices:

    - ``"first"`` (default): the first flagged genre in column order
      (GroupLens ``u.genre`` order: "unknown", then alphabetical), so every
      movie with a genre is labelled. The order favours genres early in the
      alphabet (an "Action|Drama" movie is Action), which is the usual
      convention and is deterministic.
    - ``"single"``: only single-genre movies are labelled; multi-genre movies
      get -1. Unambiguous labels, about half the movies.

    Select the labelled items before scoring: ``mask = labels >= 0``, then
    ``spherical_kmeans_nmi(item_embeddings[mask], labels[mask])``.

    Parameters
    ----------
    genres : array-like of shape (n_items, n_genres)
        0/1 genre flags, e.g. ``load_movielens_100k().movies.genres``
        (columns named by ``movies.genre_names``).
    multi_genre : {"first", "single"}, default="first"
        How a movie with several genres is labelled (see above).

    Returns
    -------
    labels : ndarray of shape (n_items,), dtype int64
        Genre column index of each item, or -1 for an item with no genre
        (or, with ``"single"``, several).

    Raises
    ------
    ValueError
        For flags other than 0 and 1, or input that is not 2-d.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recae.datasets import genre_labels
    >>> flags = np.array([[0, 1, 0], [1, 0, 1], [0, 0, 0]])
    >>> genre_labels(flags)
    array([ 1,  0, -1])
    >>> genre_labels(flags, multi_genre="single")
    array([ 1, -1, -1])

    MovieLens-100K:

    >>> from sklearn_recae.datasets import load_movielens_100k
    >>> labels = genre_labels(load_movielens_100k().movies.genres)  # doctest: +SKIP
    """
    flags = check_array(genres, dtype=None, input_name="genres")
    if not np.isin(flags, (0, 1)).all():
        raise ValueError("genres must hold 0/1 flags (one column per genre).")
    flags = flags.astype(bool)
    counts = flags.sum(axis=1)
    labels = np.where(counts > 0, np.argmax(flags, axis=1), -1).astype(np.int64)
    if multi_genre == "single":
        labels[counts > 1] = -1
    return labels
