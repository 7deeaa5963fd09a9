"""``similar_items`` over a large catalogue: time and peak memory of the blocked top-k.

Every item's 10 nearest items among ``n_items`` random item vectors (cosine,
as the autoencoders; minus the squared Euclidean distance, as the metric
models), computed in blocks of ``batch_size`` query items. The dense
``n_items × n_items`` similarity matrix is never built: the peak is one
``batch_size × n_items`` block (plus the normalised vectors).

Run by hand (one thread, a few tens of seconds)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/similar_items_scale.py --n-items 30000
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from sklearn_recae._similarity import ItemSimilarity, top_similar_items


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-items", type=int, default=30000)
    parser.add_argument("--n-dims", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=1024)
    args = parser.parse_args()
    torch.set_num_threads(1)
    vectors = np.random.default_rng(0).standard_normal((args.n_items, args.n_dims),
                                                        dtype=np.float32)
    dense_gib = 4 * args.n_items**2 / 2**30
    print(f"{args.n_items} items x {args.n_dims} dims; the dense similarity matrix would be "
          f"{dense_gib:.2f} GiB; block {args.batch_size} x {args.n_items}")
    print(f"peak RSS before (torch, numpy, the vectors): {_peak_rss_mib():.0f} MiB")
    print(f"{'kind':<24}{'seconds':>9}{'peak RSS MiB':>14}")
    for kind in ("cosine", "neg_squared_euclidean"):
        start = time.perf_counter()
        items, _ = top_similar_items(ItemSimilarity(vectors, kind), np.arange(args.n_items),
                                     10, args.batch_size)
        elapsed = time.perf_counter() - start
        assert not (items == np.arange(args.n_items)[:, None]).any()
        print(f"{kind:<24}{elapsed:>9.1f}{_peak_rss_mib():>14.0f}")


if __name__ == "__main__":
    main()
