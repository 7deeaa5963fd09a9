"""Choose the default ``l2`` of ``EASE`` on validation data only.

Protocol, binarized MovieLens-100K (a rating >= 4 is a positive, 1.0; users
with at least 5 positives are kept), for each seed ``s``:

1. ``X_train, X_test = holdout_row_entries(X, 0.2, random_state=s)``: 20% of
   each user's positives. ``X_test`` is discarded unread: no number below
   depends on it.
2. ``X_fit, X_valid = holdout_row_entries(X_train, 0.1, random_state=100 + s)``:
   10% of each user's remaining positives for validation.
3. ``EASE(l2=l2).fit(X_fit)`` for every ``l2`` of the grid, scored by
   ``get_scorer("ndcg@100")(model, X_fit, X_valid)`` (all items ranked, the
   user's ``X_fit`` items excluded).

The ``l2`` with the highest mean validation NDCG@100 over the seeds wins.

Run:  python benchmarks/ease_l2_sweep.py [--seeds 0 1 2]
      [--l2 10 30 50 100 150 200 300 500 1000 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sklearn_recae.datasets import load_movielens_100k
from sklearn_recae.linear import EASE
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import holdout_row_entries

DEFAULT_GRID = [10, 30, 50, 100, 150, 200, 300, 500, 1000, 2000]


def binarized_movielens(min_positives: int = 5) -> sp.csr_matrix:
    """MovieLens-100K positives (rating >= 4) of the users with ``min_positives`` or more."""
    ratings = load_movielens_100k().ratings.tocsr()
    positives = (ratings >= 4).astype(np.float32).tocsr()
    positives.eliminate_zeros()
    keep = np.diff(positives.indptr) >= min_positives
    return positives[keep]


def validation_split(X: sp.csr_matrix, seed: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Return ``(X_fit, X_valid)`` of split ``seed``; the test part is dropped unread."""
    X_train, _ = holdout_row_entries(X, 0.2, random_state=seed)
    return holdout_row_entries(X_train, 0.1, random_state=100 + seed)


def sweep(X: sp.csr_matrix, seeds, grid) -> pd.DataFrame:
    """Validation NDCG@100 and fit seconds of every (seed, l2)."""
    scorer = get_scorer("ndcg@100")
    rows = []
    for seed in seeds:
        X_fit, X_valid = validation_split(X, seed)
        for l2 in grid:
            start = time.perf_counter()
            model = EASE(l2=float(l2)).fit(X_fit)
            fit_s = time.perf_counter() - start
            rows.append({"seed": seed, "l2": l2, "valid_ndcg@100": scorer(model, X_fit, X_valid),
                         "fit_s": fit_s})
            print(f"seed={seed} l2={l2:g}: NDCG@100={rows[-1]['valid_ndcg@100']:.4f} "
                  f"({fit_s:.2f} s)", flush=True)
    return pd.DataFrame(rows)


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std (over seeds) of the validation NDCG@100 of each l2, best first."""
    table = results.groupby("l2")["valid_ndcg@100"].agg(["mean", "std", "count"])
    return table.sort_values("mean", ascending=False)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--l2", type=float, nargs="+", default=DEFAULT_GRID)
    args = parser.parse_args(argv)
    X = binarized_movielens()
    print(f"binarized MovieLens-100K: {X.shape[0]} users x {X.shape[1]} items, "
          f"{X.nnz} positives")
    table = summary(sweep(X, args.seeds, args.l2))
    print("\n  l2      validation NDCG@100 (mean ± std over seeds)")
    for l2, row in table.sort_index().iterrows():
        print(f"{l2:6g}    {row['mean']:.4f} ± {row['std']:.4f}   (n={int(row['count'])})")
    print(f"\nbest mean: l2={table.index[0]:g} ({table['mean'].iloc[0]:.4f})")


if __name__ == "__main__":
    main()
