"""Embedding quality: NMI of spherical k-means clusters against item labels.

The MML paper (§4.2) validates item embeddings by clustering them with
spherical k-means (K = 10 and 20) and comparing the clusters with the items'
labels by normalized mutual information, ``NMI = I(L, C) / ((H(L) + H(C)) / 2)``.

scikit-learn has no spherical k-means. Its :class:`~sklearn.cluster.KMeans`
on L2-normalised rows is the usual approximation (it clusters the directions,
but assigns each point to the nearest *unnormalised* mean). Here that
solution (k-means++, ``n_init`` restarts, the best inertia kept) is the
initialisation of the exact spherical variant: Lloyd iterations that assign
each row to the centroid of highest cosine and re-normalise each centroid to
the unit sphere (Dhillon & Modha 2001), a few lines of numpy since
scikit-learn does not provide them. ``spherical=False`` returns the plain
approximation. NMI is :func:`sklearn.metrics.normalized_mutual_info_score`
(arithmetic normalisation, the paper's eq. 17).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
from sklearn.preprocessing import normalize
from sklearn.utils import check_array, check_consistent_length, column_or_1d

from ..utils._sklearn import Interval, validate_params

__all__ = ["spherical_kmeans", "spherical_kmeans_nmi"]


@validate_params(
    {
        "embeddings": ["array-like"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "spherical": ["boolean"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def spherical_kmeans(
    embeddings, n_clusters: int = 10, *, spherical: bool = True, n_init: int = 10,
    max_iter: int = 300, random_state=None,
) -> np.ndarray:
    """Cluster the rows of ``embeddings`` by direction (spherical k-means); return the labels.

    Parameters
    ----------
    embeddings : array-like of shape (n_rows, n_components)
        Row vectors (e.g. item embeddings); their norms are ignored. Every
        row must be non-zero.
    n_clusters : int, default=10
        Number of clusters, at most the number of rows.
    spherical : bool, default=True
        Refine scikit-learn's ``KMeans`` on the L2-normalised rows with
        spherical Lloyd iterations (highest-cosine assignment, unit-norm
        centroids) until no row changes cluster or ``max_iter`` iterations.
        False returns the ``KMeans`` clusters of the normalised rows (the
        common approximation). A cluster that empties keeps its centroid.
    n_init : int, default=10
        Restarts of ``KMeans`` (k-means++ initialisation); the best is refined.
    max_iter : int, default=300
        Iteration cap of ``KMeans`` and of the spherical refinement.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation.

    Returns
    -------
    clusters : ndarray of shape (n_rows,), dtype int64
        Cluster index of each row, in ``[0, n_clusters)``.

    Raises
    ------
    ValueError
        For NaN/inf, a row of zeros (it has no direction; drop it, e.g. items
        without interactions), or ``n_clusters`` above the row count.
    """
    X = check_array(embeddings, dtype=[np.float64, np.float32], input_name="embeddings")
    zero = np.flatnonzero(~np.any(X != 0, axis=1))
    if zero.size:
        raise ValueError(
            f"embeddings has {zero.size} row(s) of zeros (first: row {zero[0]}), which have no "
            "direction to cluster; drop them (e.g. items without interactions) with their labels."
        )
    if n_clusters > X.shape[0]:
        raise ValueError(f"n_clusters={n_clusters} exceeds the {X.shape[0]} rows of embeddings.")
    X = normalize(X.astype(np.float64))
    kmeans = KMeans(n_clusters, n_init=n_init, max_iter=max_iter,
                    random_state=random_state).fit(X)
    clusters = kmeans.labels_.astype(np.int64)
    if not spherical:
        return clusters
    centroids = normalize(kmeans.cluster_centers_)
    for _ in range(max_iter):
        sums = np.zeros_like(centroids)
        np.add.at(sums, clusters, X)
        filled = np.any(sums != 0, axis=1)
        centroids[filled] = normalize(sums[filled])
        updated = np.argmax(X @ centroids.T, axis=1)
        if np.array_equal(updated, clusters):
            break
        clusters = updated
    return clusters


@validate_params(
    {
        "embeddings": ["array-like"],
        "labels": ["array-like"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "spherical": ["boolean"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def spherical_kmeans_nmi(
    embeddings, labels, *, n_clusters: int = 10, spherical: bool = True, n_init: int = 10,
    random_state=None,
) -> float:
    """NMI between the spherical k-means clusters of ``embeddings`` and the rows' ``labels``.

    The embedding-quality protocol of the MML paper (§4.2): cluster the item
    embeddings by direction into ``n_clusters`` (10 and 20 in the paper) and
    compare the clusters with the item labels by normalized mutual
    information, ``I(L, C) / ((H(L) + H(C)) / 2)``. 1 means the clusters are
    the labels; random embeddings score about 0 (slightly above: NMI is not
    adjusted for chance, and it grows with ``n_clusters``).

    Parameters
    ----------
    embeddings : array-like of shape (n_rows, n_components)
        One vector per row (item); norms are ignored. No row may be zero.
    labels : array-like of shape (n_rows,)
        One label per row (int or str). For MovieLens genres, which are
        multi-label, see :func:`sklearn_recae.datasets.genre_labels` (it
        marks rows without a label with -1: select ``labels >= 0`` from both
        arrays first).
    n_clusters : int, default=10
        K of k-means.
    spherical : bool, default=True
        Exact spherical k-means (True) or ``KMeans`` on the L2-normalised
        rows (False); see :func:`spherical_kmeans`.
    n_init : int, default=10
        ``KMeans`` restarts.
    random_state : int, RandomState instance or None, default=None
        Seed of the clustering; NMI varies with it, so average a few seeds.

    Returns
    -------
    nmi : float
        In [0, 1], higher is better.

    See Also
    --------
    spherical_kmeans : the clustering.
    sklearn.metrics.normalized_mutual_info_score : the score.

    References
    ----------
    .. [1] I. S. Dhillon and D. S. Modha, "Concept Decompositions for Large
       Sparse Text Data Using Clustering", Machine Learning 42, 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recae.metrics import spherical_kmeans_nmi
    >>> rng = np.random.RandomState(0)
    >>> directions = np.repeat(np.eye(3), 20, axis=0)  # three groups of 20 rows
    >>> embeddings = directions * rng.uniform(1, 5, (60, 1)) + 0.05 * rng.randn(60, 3)
    >>> labels = np.repeat(["a", "b", "c"], 20)
    >>> round(spherical_kmeans_nmi(embeddings, labels, n_clusters=3, random_state=0), 3)
    1.0
    """
    labels = column_or_1d(labels, warn=True)
    check_consistent_length(embeddings, labels)
    clusters = spherical_kmeans(embeddings, n_clusters, spherical=spherical, n_init=n_init,
                                random_state=random_state)
    return float(normalized_mutual_info_score(labels, clusters))
