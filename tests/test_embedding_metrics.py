"""Embedding quality: spherical k-means NMI and the genre labels of MovieLens items."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score
from sklearn.preprocessing import normalize

from sklearn_recae.datasets import genre_labels, load_movielens_100k
from sklearn_recae.metrics import spherical_kmeans, spherical_kmeans_nmi


def _directions(n_groups=4, per_group=25, dim=6, noise=0.1, seed=0):
    """Rows around ``n_groups`` random directions, with norms from 0.1 to 10."""
    rng = np.random.RandomState(seed)
    centers = normalize(rng.randn(n_groups, dim))
    labels = np.repeat(np.arange(n_groups), per_group)
    rows = normalize(centers[labels] + noise * rng.randn(labels.size, dim))
    return rows * rng.uniform(0.1, 10, (labels.size, 1)), labels


def test_recovers_directions_whatever_the_norms():
    E, labels = _directions()
    assert spherical_kmeans_nmi(E, labels, n_clusters=4, random_state=0) == pytest.approx(1.0)
    # the same directions, other norms: the same clusters
    scaled = E * np.random.RandomState(1).uniform(0.01, 100, (E.shape[0], 1))
    np.testing.assert_array_equal(spherical_kmeans(scaled, 4, random_state=0),
                                  spherical_kmeans(E, 4, random_state=0))


@pytest.mark.parametrize("spherical", [True, False])
def test_nmi_is_sklearn_nmi_of_the_clusters(spherical):
    E, labels = _directions(noise=0.8)
    clusters = spherical_kmeans(E, 6, spherical=spherical, random_state=3)
    assert clusters.shape == labels.shape and set(clusters) <= set(range(6))
    expected = normalized_mutual_info_score(labels, clusters, average_method="arithmetic")
    assert spherical_kmeans_nmi(E, labels, n_clusters=6, spherical=spherical,
                                random_state=3) == pytest.approx(expected)


def test_spherical_clusters_are_a_fixed_point():
    """Each row is in the cluster whose normalised mean has its highest cosine."""
    E, _ = _directions(noise=1.0, seed=2)
    clusters = spherical_kmeans(E, 5, random_state=0)
    X = normalize(E)
    centroids = normalize(np.vstack([X[clusters == c].sum(axis=0) for c in range(5)]))
    np.testing.assert_array_equal(np.argmax(X @ centroids.T, axis=1), clusters)


def test_random_embeddings_score_near_zero():
    rng = np.random.RandomState(0)
    E, labels = rng.randn(1000, 16), rng.randint(0, 8, 1000)
    assert spherical_kmeans_nmi(E, labels, n_clusters=10, random_state=0) < 0.03


def test_string_labels_and_input_unchanged():
    E, labels = _directions()
    E_copy = E.copy()
    names = np.array(["a", "b", "c", "d"])[labels]
    assert spherical_kmeans_nmi(E, names, n_clusters=4, random_state=0) == pytest.approx(
        spherical_kmeans_nmi(E, labels, n_clusters=4, random_state=0))
    np.testing.assert_array_equal(E, E_copy)


def test_errors():
    E, labels = _directions()
    with pytest.raises(ValueError, match="row\\(s\\) of zeros \\(first: row 3\\)"):
        spherical_kmeans_nmi(np.where(np.arange(len(E))[:, None] == 3, 0, E), labels)
    with pytest.raises(ValueError, match="n_clusters=101 exceeds the 100 rows"):
        spherical_kmeans_nmi(E, labels, n_clusters=101)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        spherical_kmeans_nmi(E, labels[:-1])
    with pytest.raises(ValueError, match="NaN"):
        spherical_kmeans_nmi(np.full((4, 2), np.nan), [0, 0, 1, 1], n_clusters=2)
    with pytest.raises(ValueError, match="n_clusters"):
        spherical_kmeans_nmi(E, labels, n_clusters=0)


def test_genre_labels_first_and_single():
    flags = np.array([[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]], dtype=np.uint8)
    np.testing.assert_array_equal(genre_labels(flags), [1, 0, -1, 2])
    np.testing.assert_array_equal(genre_labels(flags, multi_genre="single"), [-1, 0, -1, 2])
    with pytest.raises(ValueError, match="0/1 flags"):
        genre_labels(flags * 2)
    with pytest.raises(ValueError, match="multi_genre"):
        genre_labels(flags, multi_genre="rarest")


def test_movielens_genre_labels():
    movies = load_movielens_100k(download_if_missing=False).movies
    first = genre_labels(movies.genres)
    single = genre_labels(movies.genres, multi_genre="single")
    assert first.shape == (1682,) and (first >= 0).all()  # every movie has a genre flag
    assert (single >= 0).sum() == 833
    np.testing.assert_array_equal(single[single >= 0], first[single >= 0])
    assert movies.genre_names[first[0]] == "Animation"  # Toy Story: Animation|Children's|Comedy
