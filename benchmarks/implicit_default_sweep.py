"""Choose an implicit-feedback model's defaults on validation data only.

Protocol (as ``ease_l2_sweep.py``), binarized MovieLens-100K, for each seed ``s``:

1. ``X_train, X_test = holdout_row_entries(X, 0.2, random_state=s)``; ``X_test``
   is discarded unread.
2. ``X_fit, X_valid = holdout_row_entries(X_train, 0.1, random_state=100 + s)``.
3. The registered model (``--model``, the benchmark's defaults) with each
   setting of the grid is fitted with ``fit(X_fit, X_valid=X_valid)``: it
   early-stops on ``X_valid`` and keeps its best epoch, whose validation
   NDCG@100 (all items ranked, ``X_fit`` items excluded) is reported with the
   epoch count and the fit seconds.

Fits run two at a time, one torch thread each, so the seconds are comparable
within one run only.

Run:  python benchmarks/implicit_default_sweep.py --model mult-dae \
          --grid '{"lr": [0.001, 0.003], "batch_size": [100, 500]}'
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import pandas as pd
from joblib import Parallel, delayed

from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import holdout_row_entries
from sklearn_recae.registry import get_model_spec

try:  # run as a script or as a module
    from ease_l2_sweep import binarized_movielens
except ImportError:  # pragma: no cover
    from benchmarks.ease_l2_sweep import binarized_movielens


def validation_score(X, model_name: str, params: dict, seed: int) -> dict:
    """Best-epoch validation NDCG@100, epochs and fit seconds of one setting on split ``seed``."""
    import torch

    torch.set_num_threads(1)
    X_train, _ = holdout_row_entries(X, 0.2, random_state=seed)  # test part never read
    X_fit, X_valid = holdout_row_entries(X_train, 0.1, random_state=100 + seed)
    model = get_model_spec(model_name).factory(random_state=seed, verbose=0)
    model.set_params(device="cpu", **params)
    start = time.perf_counter()
    model.fit(X_fit, X_valid=X_valid)
    fit_s = time.perf_counter() - start
    return {**{k: str(v) for k, v in params.items()}, "seed": seed,
            "valid_ndcg@100": get_scorer("ndcg@100")(model, X_fit, X_valid),
            "best_epoch": getattr(model, "best_epoch_", 1),
            "epochs": getattr(model, "n_epochs_", 1), "fit_s": fit_s}


def grid_settings(grid: dict) -> list[dict]:
    """Every combination of the grid's values."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*grid.values())]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="registered implicit model name")
    parser.add_argument("--grid", type=json.loads, default={},
                        help='JSON {param: [values]}; lists become tuples')
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    grid = {k: [tuple(v) if isinstance(v, list) else v for v in values]
            for k, values in args.grid.items()}
    X = binarized_movielens()
    runs = Parallel(n_jobs=args.n_jobs, verbose=0)(
        delayed(validation_score)(X, args.model, params, seed)
        for params in grid_settings(grid) for seed in args.seeds)
    results = pd.DataFrame(runs)
    keys = list(grid) or ["seed"]
    table = results.groupby(keys, sort=False).agg(
        valid_mean=("valid_ndcg@100", "mean"), valid_std=("valid_ndcg@100", "std"),
        best_epoch=("best_epoch", "mean"), epochs=("epochs", "mean"), fit_s=("fit_s", "mean"))
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(results.round(4).to_string(index=False), end="\n\n")
        print(table.sort_values("valid_mean", ascending=False).round(4).to_string())
    print(f"\nbest mean: {table['valid_mean'].idxmax()} ({table['valid_mean'].max():.4f})")


if __name__ == "__main__":
    main()
