"""Choose the cosine user-kNN's defaults on validation data, then report its test scores.

Protocol (as ``implicit_default_sweep.py``), binarized MovieLens-100K
(``binarize_interactions``: ratings >= 4, users with >= 5 positives), for each
seed ``s``:

1. ``X_train, X_test = holdout_row_entries(X, 0.2, random_state=s)``.
2. ``X_fit, X_valid = holdout_row_entries(X_train, 0.1, random_state=100 + s)``.
3. ``KNeighborsRecommender`` (cosine on the raw rows) with each setting of
   the grid (``n_neighbors`` × ``exclude_self``) is fitted on ``X_fit`` and
   scored by NDCG@100 on ``X_valid`` (entry hold-out: the query rows are the
   training rows, their ``X_fit`` items excluded).
4. The setting with the best mean validation NDCG@100 is refitted on
   ``X_train`` and scored on ``X_test`` (NDCG@100, Recall@20/50, HR@10/50):
   the only numbers that read ``X_test``.

``--nmi`` adds the embedding sanity check: NMI of the spherical k-means
clusters (K = 10, 20) of item embeddings against the first-genre labels of
the rated items, for a truncated SVD of the item columns of the binarized
matrix and for random Gaussian embeddings (5 clustering seeds each).

Run:  OMP_NUM_THREADS=1 python benchmarks/knn_default_sweep.py [--nmi]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd

from sklearn_recae.cli import load_dataset
from sklearn_recae.metrics import get_scorer, spherical_kmeans_nmi
from sklearn_recae.model_selection import holdout_row_entries
from sklearn_recae.neighbors import KNeighborsRecommender

try:  # run as a script or as a module
    from implicit_default_sweep import grid_settings
except ImportError:  # pragma: no cover
    from benchmarks.implicit_default_sweep import grid_settings

DEFAULT_GRID = {"n_neighbors": [10, 20, 30, 50, 75, 100, 150, 200, 300],
                "exclude_self": [True, False]}
TEST_METRICS = ("ndcg@100", "recall@20", "recall@50", "hit_rate@10", "hit_rate@50")


def sweep(X, grid: dict, seeds) -> pd.DataFrame:
    """Validation NDCG@100 of every (setting, seed); the test parts are not read."""
    scorer = get_scorer("ndcg@100")
    rows = []
    for seed in seeds:
        X_train, _ = holdout_row_entries(X, 0.2, random_state=seed)
        X_fit, X_valid = holdout_row_entries(X_train, 0.1, random_state=100 + seed)
        for params in grid_settings(grid):
            model = KNeighborsRecommender(**params).fit(X_fit)
            rows.append({**params, "seed": seed, "valid_ndcg@100": scorer(model, X_fit, X_valid)})
    return pd.DataFrame(rows)


def test_scores(X, params: dict, seeds) -> pd.DataFrame:
    """Test metrics of ``params`` refitted on each seed's whole training part."""
    rows = []
    for seed in seeds:
        X_train, X_test = holdout_row_entries(X, 0.2, random_state=seed)
        model = KNeighborsRecommender(**params).fit(X_train)
        rows.append({"seed": seed, **{m: get_scorer(m)(model, X_train, X_test)
                                      for m in TEST_METRICS}})
    return pd.DataFrame(rows)


def nmi_sanity(X, seeds=range(5), n_components: int = 32) -> pd.DataFrame:
    """NMI@10/20 of SVD item embeddings and of random ones against first-genre labels."""
    from sklearn.decomposition import TruncatedSVD

    from sklearn_recae.datasets import genre_labels, load_movielens_100k

    labels = genre_labels(load_movielens_100k().movies.genres)
    items = np.flatnonzero((np.diff(X.tocsc().indptr) > 0) & (labels >= 0))
    item_columns = X.T.tocsr()[items]
    embeddings = {
        "svd": TruncatedSVD(n_components, random_state=0).fit_transform(item_columns),
        "random": np.random.RandomState(0).randn(items.size, n_components),
    }
    rows = [{"embedding": name, "K": K, "seed": seed,
             "nmi": spherical_kmeans_nmi(E, labels[items], n_clusters=K, random_state=seed)}
            for name, E in embeddings.items() for K in (10, 20) for seed in seeds]
    print(f"{items.size} items with a positive and a genre")
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=json.loads, default=DEFAULT_GRID)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--nmi", action="store_true", help="also the NMI sanity check")
    args = parser.parse_args(argv)
    X = load_dataset("ml-100k", 0, task="implicit")
    results = sweep(X, args.grid, args.seeds)
    table = results.groupby(list(args.grid), sort=False)["valid_ndcg@100"].agg(["mean", "std"])
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table.round(4).to_string(), end="\n\n")
    best = {key: value.item() for key, value in zip(args.grid, table["mean"].idxmax())}
    print(f"best mean validation NDCG@100: {best} ({table['mean'].max():.4f})\n")
    test = test_scores(X, best, args.seeds)
    print(test.round(4).to_string(index=False))
    summary = test.drop(columns="seed").agg(["mean", "std"])
    print("\ntest mean ± std over seeds:", ", ".join(
        f"{m} {summary.loc['mean', m]:.4f} ± {summary.loc['std', m]:.4f}" for m in TEST_METRICS))
    if args.nmi:
        nmi = nmi_sanity(X).groupby(["embedding", "K"])["nmi"].agg(["mean", "std"])
        print("\n" + nmi.round(4).to_string())


if __name__ == "__main__":
    main()
