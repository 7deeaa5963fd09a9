"""MML and CML seconds per epoch (wall and CPU) and the Jaccard pairs, ML-100K and ML-20M shape.

Issue #23 item 3. Two data sets:

- ``ml100k``: the training part of the held-back split of
  ``benchmarks/mml_benchmark.py`` (binarized MovieLens-100K, per-user 80/20
  hold-out seeded by ``--seed``);
- ``ml20m``: ``scale_ml20m.ml20m_shaped(--fraction)`` (138,493 x 26,744,
  20M interactions at fraction 1).

For each, ``MagneticMetricLearning()`` and ``CML()`` at their defaults
(``max_epochs=--epochs``, no early stopping, no refit, CPU, one torch thread)
run ``--repeats`` times, interleaved (MML, CML, MML, ...); each epoch's wall
(``perf_counter``) and CPU (``process_time``) seconds are recorded by the
net's epoch hooks, the first epoch of each run is dropped and the medians
are reported with their ratio MML / CML. On ``ml20m`` an epoch is bounded to
``--batches`` minibatches (a random subset of the positive pairs, the full
embedding tables): the full-epoch figure is the bounded epochs' median
times (the epoch's batch count / ``--batches``), an extrapolation, and its
keys say so. The latent loss's
Jaccard pairs are computed once per data set (timed separately, users and
items, wall and CPU) and reused by every run; ``--pairs-cache`` stores
them, so that runs of the same data can skip the search.

Run (one thread):
    OMP_NUM_THREADS=1 python benchmarks/metric_learning_speed.py --data ml100k
    OMP_NUM_THREADS=1 python benchmarks/metric_learning_speed.py --data ml20m --batches 60 \
        --repeats 2 --pairs-cache ml20m-pairs.npz   # the pairs: ~10 min CPU the first time
    OMP_NUM_THREADS=1 python benchmarks/metric_learning_speed.py --data ml20m --jaccard-only \\
        --fraction 0.1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _epoch_timing import training_epoch_seconds  # noqa: E402


def timed(function, *args, **kwargs):
    """``function(*args, **kwargs)``, its wall seconds and its CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def jaccard_seconds(X, threshold: float, users: bool = True) -> tuple[tuple, dict]:
    """The similar users and items of ``X`` at ``threshold``, and the seconds each search took.

    ``users=False`` skips the users' search and leaves them without similar
    pairs (0 seconds reported as NaN).
    """
    import scipy.sparse as sp

    from sklearn_recae.metric_learning._sampling import jaccard_similar_pairs

    if users:
        users, user_wall, user_cpu = timed(jaccard_similar_pairs, X, threshold)
    else:
        users = sp.csr_matrix((X.shape[0], X.shape[0]), dtype=bool)
        user_wall = user_cpu = float("nan")
    items, item_wall, item_cpu = timed(jaccard_similar_pairs, X.T.tocsr(), threshold)
    return (users, items), {
        "jaccard_users_wall_s": user_wall, "jaccard_users_cpu_s": user_cpu,
        "jaccard_items_wall_s": item_wall, "jaccard_items_cpu_s": item_cpu,
        "similar_user_pairs": int(users.nnz // 2), "similar_item_pairs": int(items.nnz // 2),
    }


@contextlib.contextmanager
def training_pairs(pairs: tuple, n_pairs: int | None, seed: int):
    """The triplet datasets with precomputed Jaccard pairs and at most ``n_pairs`` positives."""
    from sklearn_recae.metric_learning import _base
    from sklearn_recae.metric_learning._sampling import TripletSampler

    original = _base.triplet_dataset

    def triplet_dataset(X_fit, *, sampler_params, similarity_threshold):
        params = dict(sampler_params)
        if similarity_threshold is not None:
            params["similar_users"], params["similar_items"] = pairs
        sampler = TripletSampler(X_fit, **params)
        if n_pairs is not None and n_pairs < len(sampler):
            keep = np.sort(np.random.default_rng(seed).choice(len(sampler), n_pairs,
                                                              replace=False))
            sampler.users, sampler.items = sampler.users[keep], sampler.items[keep]
        return sampler

    _base.triplet_dataset = triplet_dataset
    try:
        yield
    finally:
        _base.triplet_dataset = original


def epoch_times(name: str, X, epochs: int, seed: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each epoch of the model's defaults on ``X``."""
    from sklearn_recae.metric_learning import CML, MagneticMetricLearning

    model = {"mml": MagneticMetricLearning, "cml": CML}[name](
        max_epochs=epochs, early_stopping=False, refit=False, device="cpu", random_state=seed)
    with training_epoch_seconds() as epochs:
        model.fit(X)
    return epochs


def compare(X, args, pairs: tuple, batch_size: int = 512) -> dict:
    """Interleaved MML and CML epochs; medians of the epochs after each run's first."""
    n_pairs = None if args.batches is None else args.batches * batch_size
    times = {"mml": [], "cml": []}
    with training_pairs(pairs, n_pairs, args.seed):
        for repeat in range(args.repeats):
            for name in times:
                run = epoch_times(name, X, args.epochs, args.seed + repeat)
                print(f"{name} repeat {repeat}: " + ", ".join(
                    f"{w:.2f}/{c:.2f}" for w, c in run) + " s (wall/CPU)", flush=True)
                times[name] += run[1:]
    row = {}
    full_batches = math.ceil(X.nnz / batch_size)
    for name, runs in times.items():
        wall, cpu = (statistics.median(t[i] for t in runs) for i in (0, 1))
        row[f"{name}_epoch_wall_s"], row[f"{name}_epoch_cpu_s"] = wall, cpu
        if n_pairs is not None and n_pairs < X.nnz:
            scale = full_batches / args.batches
            row[f"{name}_full_epoch_wall_s_extrapolated"] = wall * scale
            row[f"{name}_full_epoch_cpu_s_extrapolated"] = cpu * scale
    row["mml_cml_ratio_wall"] = row["mml_epoch_wall_s"] / row["cml_epoch_wall_s"]
    row["mml_cml_ratio_cpu"] = row["mml_epoch_cpu_s"] / row["cml_epoch_cpu_s"]
    row["timed_epochs_each"] = len(times["mml"])
    return row


def load(args):
    """The data set's training matrix."""
    if args.data == "ml100k":
        from sklearn_recae.cli import load_dataset, split_dataset

        X = load_dataset("ml-100k", args.seed, "implicit")
        return split_dataset(X, "implicit", 0.2, None, args.seed)[0]
    from scale_ml20m import ml20m_shaped

    return ml20m_shaped(args.fraction, args.seed)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["ml100k", "ml20m"], default="ml100k")
    parser.add_argument("--fraction", type=float, default=1.0, help="of the ML-20M shape's users")
    parser.add_argument("--epochs", type=int, default=3, help="per run; the first is dropped")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=None,
                        help="bound an epoch to this many minibatches (ml20m)")
    parser.add_argument("--jaccard-only", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs-cache", type=Path, default=None,
                        help="load the Jaccard pairs from this .npz if it exists (no timing), "
                        "else compute, time and save them there")
    parser.add_argument("--no-similar-users", action="store_true",
                        help="skip the users' Jaccard search: no similar users (the ML-20M "
                        "shape's have none at --fraction 0.1)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the first epoch of each run is dropped)")
    import torch

    from sklearn_recae.metric_learning import MagneticMetricLearning

    torch.set_num_threads(1)
    X = load(args)
    print(f"data {args.data} (fraction {args.fraction}): {X.shape[0]} x {X.shape[1]}, "
          f"{X.nnz} positives", flush=True)
    threshold = MagneticMetricLearning().similarity_threshold
    if args.pairs_cache is not None and args.pairs_cache.exists():
        import scipy.sparse as sp

        with np.load(args.pairs_cache) as cached:  # pairs computed (and timed) by an earlier run
            pairs = tuple(sp.csr_matrix((np.ones(cached[f"{kind}_indices"].size, dtype=bool),
                                         cached[f"{kind}_indices"], cached[f"{kind}_indptr"]),
                                        shape=(n, n))
                          for kind, n in (("users", X.shape[0]), ("items", X.shape[1])))
        row = {"pairs_from": str(args.pairs_cache)}
    else:
        pairs, row = jaccard_seconds(X, threshold, users=not args.no_similar_users)
        if args.pairs_cache is not None:
            np.savez(args.pairs_cache, **{f"{kind}_{part}": getattr(m, part)
                                          for kind, m in zip(("users", "items"), pairs)
                                          for part in ("indices", "indptr")})
    row = {"data": args.data, "fraction": args.fraction, "shape": list(X.shape), "nnz": X.nnz,
           "batches": args.batches, **row}
    print(json.dumps(row), flush=True)
    if not args.jaccard_only:
        row.update(compare(X, args, pairs))
    print(json.dumps(row, indent=2))
    if args.output is not None:
        args.output.write_text(json.dumps(row, indent=2))
    return row


if __name__ == "__main__":
    main()
