"""EASE at scale: its fit against a bare inverse of the same Gram matrix, and float32 vs float64.

Three parts, each optional:

``--timing``: on an ML-20M-shaped matrix cut to ``--items`` items (the
users and interactions of ``make_power_law_interactions``' ML-20M defaults
scaled by ``items / 26,744``), for each thread count of ``--threads`` and
``--repeats`` rounds, one after the other in this process:
``EASE(dtype=...).fit(X)`` (everything: input checks, the sparse Gram
matrix, its Cholesky inverse, ``B``), then bare inverses of the same
penalised float32 Gram matrix (built before, not timed): ``np.linalg.inv``,
``scipy.linalg.inv`` and LAPACK ``spotrf`` + ``spotri`` alone (the
triangle of the inverse that EASE's solve computes, no mirroring), and the
Gram matrix alone as EASE builds it (``gram_matrix(lower=True)``). The table gives the median seconds of
each and the ratios of EASE's fit to each bare inverse; the load average
is printed with it (the machine is shared).

``--ml20m``: one ``EASE().fit`` on the full ML-20M-shaped matrix (138,493 x
26,744, 20,000,263 interactions), 1 thread unless ``--threads`` says more:
seconds (Gram matrix and the rest) and peak RSS.

``--ranking``: binarized MovieLens-100K, the validation splits of
``ease_l2_sweep.py`` (seeds 0-2; the test parts are never read): for
float32 and float64 at the default ``l2``, the validation NDCG@100, the
largest ``|B32 - B64|`` relative to ``max |B64|``, and the mean share of the
top-100 lists the two agree on.

Run:  OMP_NUM_THREADS=1 python benchmarks/ease_scale.py --timing --ranking
      OMP_NUM_THREADS=1 python benchmarks/ease_scale.py --ml20m
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ease_l2_sweep import binarized_movielens, validation_split  # noqa: E402
from large_sparse_memory import peak_rss_mib, reset_peak  # noqa: E402
from scale_ml20m import ML20M_INTERACTIONS, ML20M_ITEMS, ML20M_USERS  # noqa: E402

from sklearn_recae.datasets import make_power_law_interactions  # noqa: E402
from sklearn_recae.linear import EASE  # noqa: E402
from sklearn_recae.linear._ease import gram_matrix  # noqa: E402
from sklearn_recae.metrics import get_scorer  # noqa: E402


def shaped_data(n_items: int, seed: int = 0):
    """The ML-20M-shaped matrix with ``n_items`` items, users and interactions scaled alike."""
    share = n_items / ML20M_ITEMS
    return make_power_law_interactions(round(ML20M_USERS * share), n_items,
                                       round(ML20M_INTERACTIONS * share), random_state=seed)


def _seconds(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def _cholesky_inverse(gram: np.ndarray) -> None:
    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (gram,))
    factor, info = potrf(gram.T, lower=False, clean=False, overwrite_a=True)
    assert info == 0
    potri(factor, lower=False, overwrite_c=True)


def timing_round(X, l2: float, dtype) -> dict[str, float]:
    """Seconds of EASE's fit and of each bare inverse of the same Gram matrix, in turn."""
    seconds = {"ease_fit": _seconds(EASE(l2=l2, dtype=dtype, max_memory_gb=None).fit, X)}
    gram = gram_matrix(X, np.float32)
    gram.flat[:: gram.shape[0] + 1] += np.float32(l2)
    seconds["np.linalg.inv"] = _seconds(np.linalg.inv, gram)
    seconds["scipy.linalg.inv"] = _seconds(scipy.linalg.inv, gram)
    seconds["potrf+potri"] = _seconds(_cholesky_inverse, gram)  # overwrites gram
    del gram
    seconds["gram_matrix"] = _seconds(partial(gram_matrix, lower=True), X, np.float32)
    return seconds


def timing(n_items: int, threads: list[int], repeats: int, dtype) -> None:
    X = shaped_data(n_items)
    print(f"\n## Timing: {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} interactions, "
          f"EASE dtype={np.dtype(dtype).name}, medians of {repeats}\n")
    print("| threads | EASE fit s | gram_matrix s | np.linalg.inv s | scipy.linalg.inv s | "
          "potrf+potri s | fit / np inv | fit / scipy inv | fit / potrf+potri | load (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n_threads in threads:
        with threadpool_limits(n_threads):
            rounds = []
            for _ in range(repeats):
                rounds.append(timing_round(X, 300.0, dtype))
                print(f"  <!-- threads={n_threads} {rounds[-1]} load={os.getloadavg()} -->",
                      flush=True)
        median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        fit = median["ease_fit"]
        print(f"| {n_threads} | {fit:.2f} | {median['gram_matrix']:.2f} | "
              f"{median['np.linalg.inv']:.2f} | {median['scipy.linalg.inv']:.2f} | "
              f"{median['potrf+potri']:.2f} | {fit / median['np.linalg.inv']:.2f} | "
              f"{fit / median['scipy.linalg.inv']:.2f} | {fit / median['potrf+potri']:.2f} | "
              f"{os.getloadavg()[0]:.2f} |", flush=True)


def ml20m(threads: int, dtype) -> None:
    X = shaped_data(ML20M_ITEMS)
    print(f"\n## ML-20M shape: {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} interactions, "
          f"{threads} thread(s), dtype={np.dtype(dtype).name}", flush=True)
    with threadpool_limits(threads):
        gram_seconds = _seconds(partial(gram_matrix, lower=True), X, dtype)
        print(f"gram_matrix alone: {gram_seconds:.1f} s (load {os.getloadavg()})", flush=True)
        reset_peak()
        fit_seconds = _seconds(EASE(dtype=dtype).fit, X)
    print(f"EASE().fit: {fit_seconds:.1f} s, peak RSS {peak_rss_mib():,.0f} MiB "
          f"(data resident before), load {os.getloadavg()}")


def ranking(seeds: list[int]) -> None:
    X = binarized_movielens()
    scorer = get_scorer("ndcg@100")
    print(f"\n## float32 vs float64, binarized MovieLens-100K validation, EASE() defaults\n")
    print("| seed | NDCG@100 float32 | NDCG@100 float64 | max abs(B32 - B64) / max abs(B64) | "
          "top-100 agreement |")
    print("|---|---|---|---|---|")
    for seed in seeds:
        X_fit, X_valid = validation_split(X, seed)
        single = EASE(dtype=np.float32).fit(X_fit)
        double = EASE(dtype=np.float64).fit(X_fit)
        error = np.abs(single.coef_ - double.coef_).max() / np.abs(double.coef_).max()
        top32, top64 = single.recommend(X_fit, k=100), double.recommend(X_fit, k=100)
        agreement = np.mean([len(np.intersect1d(a, b)) / 100 for a, b in zip(top32, top64)])
        print(f"| {seed} | {scorer(single, X_fit, X_valid):.6f} | "
              f"{scorer(double, X_fit, X_valid):.6f} | {error:.2e} | {agreement:.5f} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--ml20m", action="store_true")
    parser.add_argument("--ranking", action="store_true")
    parser.add_argument("--items", type=int, default=6000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    if args.ranking:
        ranking(args.seeds)
    if args.timing:
        timing(args.items, args.threads, args.repeats, args.dtype)
    if args.ml20m:
        ml20m(args.threads[0], args.dtype)


if __name__ == "__main__":
    main()
