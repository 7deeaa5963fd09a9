"""Time the entry splitters on a matrix of one million stored entries.

Run:  python benchmarks/splitter_speed.py [--repeats 5] [--ml20m]
Prints the median seconds of ``train_test_split`` (80/10/10) on a
100,000 x 2,000 matrix and of ``holdout_row_entries`` (20%) on a
200,000 x 2,000 one, each with 1,000,000 random entries; then of
``temporal_split`` (global 10%, and each user's latest 20%) and
``leave_one_out_split`` (by time, and random) on the 200,000 x 2,000 one
with random integer timestamps. ``--ml20m`` times the temporal splits on a
matrix of ML-20M's shape instead (138,493 x 26,744, 20,000,263 entries;
about 3 GB of memory).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp

from sklearn_recae.model_selection import (
    holdout_row_entries,
    leave_one_out_split,
    temporal_split,
    train_test_split,
)


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


def time_temporal_splits(X: sp.csr_matrix, repeats: int) -> None:
    """Print the median seconds of the temporal and leave-one-out splits of ``X``."""
    T = X.copy().astype(np.int64)
    T.data = np.random.RandomState(1).randint(8.8e8, 1.4e9, size=X.nnz)  # Unix seconds
    runs = {
        "temporal_split global 10%": lambda: temporal_split(X, T, test_size=0.1),
        "temporal_split per user 20%": lambda: temporal_split(X, T, test_size=0.2, per_user=True),
        "leave_one_out_split by time": lambda: leave_one_out_split(X, T, return_valid=True),
        "leave_one_out_split random": lambda: leave_one_out_split(X, random_state=0),
    }
    for name, run in runs.items():
        seconds = median_seconds(run, repeats)
        print(f"{name:<28} {X.shape}, {X.nnz:,} entries: {seconds:.3f} s (median)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ml20m", action="store_true", help="temporal splits at ML-20M's shape")
    args = parser.parse_args()
    if args.ml20m:
        time_temporal_splits(random_matrix(138_493, 26_744, 20_000_263), args.repeats)
        return
    X = random_matrix(100_000, 2_000, 1_000_000)
    seconds = median_seconds(
        lambda: train_test_split(X, test_size=0.1, valid_size=0.1, random_state=0), args.repeats
    )
    print(f"train_test_split    {X.shape}, {X.nnz:,} entries: {seconds:.3f} s (median)")
    X = random_matrix(200_000, 2_000, 1_000_000)
    seconds = median_seconds(lambda: holdout_row_entries(X, 0.2, random_state=0), args.repeats)
    print(f"holdout_row_entries {X.shape}, {X.nnz:,} entries: {seconds:.3f} s (median)")
    time_temporal_splits(X, args.repeats)


if __name__ == "__main__":
    main()
