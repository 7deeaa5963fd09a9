"""I-AutoRec as ``ItemBased(AutoRec())``: a user's top-10 and the memory of recommending to all.

1. MovieLens-100K, seeded 90/10 entry split: fit ``ItemBased(AutoRec())`` with its
   defaults, print the top-10 unseen movies (titles) of one user.
2. Peak resident memory above the loaded model (VmHWM, reset before each call) of
   ``recommend(k=10)`` over all users, beside ``predict`` (the dense users x items
   matrix) — on MovieLens-100K, and with ``--users``/``--items`` on a larger
   synthetic matrix where the dense matrix would not fit (a one-epoch model: the
   point is inference memory).

Run:  python benchmarks/item_based_recommend.py [--user 196] [--users 200000 --items 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from large_sparse_memory import make_matrix, peak_rss_mib, reset_peak, _status_mib


def measure(call) -> tuple[float, float]:
    """``(peak MiB above the RSS before the call, seconds)`` of ``call()``."""
    before = _status_mib("VmRSS")
    reset_peak()
    start = time.perf_counter()
    out = call()
    seconds = time.perf_counter() - start
    del out
    return peak_rss_mib() - before, seconds


def movielens(user_id: int) -> None:
    from sklearn_recae.autoencoder import AutoRec
    from sklearn_recae.compose import ItemBased
    from sklearn_recae.datasets import load_movielens_100k
    from sklearn_recae.metrics import get_scorer
    from sklearn_recae.model_selection import train_test_split

    data = load_movielens_100k()
    R_train, R_test = train_test_split(data.ratings, test_size=0.1, random_state=0)
    model = ItemBased(AutoRec(random_state=0, device="cpu")).fit(R_train)
    print(f"MovieLens-100K I-AutoRec: test RMSE {-get_scorer('neg_rmse')(model, R_train, R_test):.4f}, "
          f"NDCG@10 {get_scorer('ndcg@10')(model, R_train, R_test):.4f} "
          f"(popularity: {popularity_ndcg(R_train, R_test, 10):.4f})")
    row = int(np.flatnonzero(data.user_ids == user_id)[0])
    items, scores = model.recommend(R_train, k=10, return_scores=True)
    print(f"top-10 unseen movies of user {user_id} (row {row}, {R_train[row].nnz} training ratings):")
    for rank, (item, score) in enumerate(zip(items[row], scores[row]), 1):
        print(f"  {rank:2d}. {data.movies.title[item]} ({score:.2f})")
    report(model, R_train)


def popularity_ndcg(R_train: sp.csr_matrix, R_test: sp.csr_matrix, k: int) -> float:
    """NDCG@k of recommending each user the most rated unseen items (the ranking floor)."""
    from sklearn_recae.metrics import ndcg_at_k

    counts = np.bincount(R_train.indices, minlength=R_train.shape[1]).astype(np.float64)
    scores = np.tile(counts, (R_train.shape[0], 1))
    scores[R_train.toarray() != 0] = -np.inf
    return ndcg_at_k(R_test, np.argsort(-scores, axis=1, kind="stable")[:, :k], k=k)


def report(model, X: sp.csr_matrix) -> None:
    dense_mib = X.shape[0] * X.shape[1] * 4 / 2**20
    print(f"{X.shape[0]} users x {X.shape[1]} items (dense float32: {dense_mib:.0f} MiB), "
          f"item block {model.batch_size}")
    for name, call in [("recommend(k=10)", lambda: model.recommend(X, k=10)),
                       ("predict", lambda: model.predict(X))]:
        extra, seconds = measure(call)
        print(f"  {name:<16} peak above loaded {extra:8.0f} MiB  {seconds:6.1f} s")


def synthetic(n_users: int, n_items: int, nnz: int) -> None:
    from sklearn_recae.autoencoder import AutoRec
    from sklearn_recae.compose import ItemBased

    X = make_matrix(n_users, n_items, nnz)
    model = ItemBased(AutoRec(hidden_units=(64,), max_epochs=1, early_stopping=False,
                              device="cpu", random_state=0)).fit(X)
    dense_mib = n_users * n_items * 4 / 2**20
    print(f"synthetic {n_users} x {n_items}, {X.nnz:,} entries (dense float32 {dense_mib:.0f} MiB):")
    extra, seconds = measure(lambda: model.recommend(X, k=10))
    block_mib = n_users * model.batch_size * 4 / 2**20
    print(f"  recommend(k=10) peak above loaded {extra:8.0f} MiB  {seconds:6.1f} s "
          f"(one item block of scores: {block_mib:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", type=int, default=196, help="MovieLens user id")
    parser.add_argument("--users", type=int, default=0, help="synthetic users (0: skip)")
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--nnz", type=int, default=2_000_000)
    args = parser.parse_args()
    movielens(args.user)
    if args.users:
        synthetic(args.users, args.items, args.nnz)


if __name__ == "__main__":
    main()
