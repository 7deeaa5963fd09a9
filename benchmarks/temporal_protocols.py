"""EASE and popularity on MovieLens-100K under five entry-split protocols.

Data: MovieLens-100K positives (rating >= 4 -> 1.0), the timestamps of all
ratings (``temporal_split`` reads them at the positives). Protocols, each
giving ``X_train, X_valid, X_test`` of one shape:

- ``random``: ``train_test_split`` 80/10/10 of the entries (seeded);
- ``global``: ``temporal_split(test_size=0.1, valid_size=0.1)``, the latest
  10% of all entries for test, the 10% before them for validation;
- ``per-user``: ``temporal_split(test_size=0.1, valid_size=0.1, per_user=True)``;
- ``loo-time``: ``leave_one_out_split(X, timestamps, return_valid=True)``;
- ``loo-random``: ``leave_one_out_split(X, return_valid=True)`` (seeded).

EASE's ``l2`` is chosen per protocol and seed on the validation part
(NDCG@10 of ``EASE(l2).fit(X_train)`` on ``X_valid``, grid 10..3000), and
so is that of ``ColdStartFallback(EASE(l2))`` (the most popular items for
rows with no training entry, ``cold_test_rows`` of them); each chosen
model is refitted on ``X_train + X_valid`` and the test part is read once:
NDCG@10, Recall@20, MRR@10 over the full catalogue (items of the refit
matrix excluded). Mean ± std over the seeds; the temporal protocols
and ``loo-time`` are deterministic (std 0).

Run:  python benchmarks/temporal_protocols.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from sklearn_recae.compose import ColdStartFallback
from sklearn_recae.datasets import load_movielens_100k
from sklearn_recae.linear import EASE, PopularityRecommender
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import leave_one_out_split, temporal_split, train_test_split

GRID = [10, 30, 100, 300, 1000, 3000]
METRICS = ["ndcg@10", "recall@20", "mrr@10"]


def splits(X, T, protocol: str, seed: int):
    """``[X_train, X_valid, X_test]`` of one protocol."""
    if protocol == "random":
        return train_test_split(X, test_size=0.1, valid_size=0.1, random_state=seed)
    if protocol == "global":
        return temporal_split(X, T, test_size=0.1, valid_size=0.1)
    if protocol == "per-user":
        return temporal_split(X, T, test_size=0.1, valid_size=0.1, per_user=True)
    if protocol == "loo-time":
        return leave_one_out_split(X, T, return_valid=True)
    return leave_one_out_split(X, return_valid=True, random_state=seed)


#: The personalised models, each with its l2 chosen on the validation part.
TUNED = {
    "EASE": lambda l2: EASE(l2=l2),
    "EASE + popularity for empty rows": lambda l2: ColdStartFallback(EASE(l2=l2)),
}


def evaluate(X, T, protocol: str, seed: int) -> list[dict]:
    X_train, X_valid, X_test = splits(X, T, protocol, seed)
    valid_ndcg = get_scorer("ndcg@10")
    X_refit = X_train + X_valid
    models = {}
    for name, make in TUNED.items():
        scores = [valid_ndcg(make(l2).fit(X_train), X_train, X_valid) for l2 in GRID]
        best_l2 = GRID[int(np.argmax(scores))]
        models[name] = (make(best_l2), best_l2)
    models["popularity"] = (PopularityRecommender(), np.nan)
    rows = []
    for name, (model, l2) in models.items():
        model.fit(X_refit)
        row = {"protocol": protocol, "model": name, "seed": seed, "l2": l2,
               "test_rows": np.diff(X_test.indptr).astype(bool).sum(),
               "cold_test_rows": (np.diff(X_test.indptr).astype(bool)
                                  & ~np.diff(X_refit.indptr).astype(bool)).sum()}
        row |= {m: get_scorer(m)(model, X_refit, X_test) for m in METRICS}
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    data = load_movielens_100k()
    X = (data.ratings >= 4).astype(np.float32).tocsr()
    X.eliminate_zeros()
    rows = []
    for protocol in ("random", "global", "per-user", "loo-time", "loo-random"):
        for seed in args.seeds:
            rows += evaluate(X, data.timestamps, protocol, seed)
    frame = pd.DataFrame(rows)
    table = frame.groupby(["protocol", "model"], sort=False).agg(
        **{f"{m}": (m, lambda v: f"{v.mean():.4f} ± {v.std(ddof=0):.4f}") for m in METRICS},
        l2=("l2", lambda v: "/".join(str(int(x)) for x in v.dropna()) or "-"),
        test_rows=("test_rows", "first"),
        cold_test_rows=("cold_test_rows", "first"),
    )
    print(f"MovieLens-100K positives: {X.shape}, {X.nnz} entries; seeds {args.seeds}")
    print(table.to_string())


if __name__ == "__main__":
    main()
