"""Time the entry splitters on a matrix of one million stored entries.

Run:  python benchmarks/splitter_speed.py [--repeats 5]
Prints the median seconds of ``train_test_split`` (80/10/10) on a
100,000 x 2,000 matrix and of ``holdout_row_entries`` (20%) on a
200,000 x 2,000 one, each with 1,000,000 random entries.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp

from sklearn_recae.model_selection import holdout_row_entries, train_test_split


def random_matrix(n_rows: int, n_items: int, n_entries: int, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.RandomState(seed)
    rows, cols = rng.randint(n_rows, size=n_entries), rng.randint(n_items, size=n_entries)
    return sp.csr_matrix((np.ones(n_entries), (rows, cols)), shape=(n_rows, n_items))


def median_seconds(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    X = random_matrix(100_000, 2_000, 1_000_000)
    seconds = median_seconds(
        lambda: train_test_split(X, test_size=0.1, valid_size=0.1, random_state=0), args.repeats
    )
    print(f"train_test_split    {X.shape}, {X.nnz:,} entries: {seconds:.3f} s (median)")
    X = random_matrix(200_000, 2_000, 1_000_000)
    seconds = median_seconds(lambda: holdout_row_entries(X, 0.2, random_state=0), args.repeats)
    print(f"holdout_row_entries {X.shape}, {X.nnz:,} entries: {seconds:.3f} s (median)")


if __name__ == "__main__":
    main()
