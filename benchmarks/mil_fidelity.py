"""MIL as published (issue #21 item 1): defaults on validation, one test read, tail shares.

Protocol of ``implicit_default_sweep.py`` (binarized MovieLens-100K: ratings
>= 4, users with >= 5 positives; per-user 80/20 hold-out ``X_train, X_test``
with ``random_state=seed``; ``X_fit, X_valid`` = 90/10 of ``X_train`` with
``random_state=100 + seed``), seeds 0, 1, 2.

``--sweep`` (validation only; the test part is never read): each
``DenoisingAutoEncoder(loss="mil")`` configuration of ``CONFIGS`` (batch-norm
placement x initialisation, lin-sig and sig-sig) early-stops on ``X_valid``;
the table gives the best epoch's validation NDCG@100, mean ± std over seeds.

``--test`` (read once, after the defaults were chosen): every model of
``MODELS`` with the package defaults, fitted on ``X_train`` (holding out 10%
of each row itself for early stopping, then refitting), scored on ``X_test``:
NDCG@100, Recall@20, Recall@50 (all items ranked, training items excluded)
and the short/medium/long-tail shares of the top-200 lists (the MIL paper's
§4.3: the 200 most popular training items, popularity ranks (200, 1000], the
rest) with :func:`~sklearn_recae.metrics.popularity_tail_shares`.

Run:  python benchmarks/mil_fidelity.py --sweep [--seeds 0 1 2] [--n-jobs 2]
      python benchmarks/mil_fidelity.py --test  [--models mil-lin-sig ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from sklearn_recae.metrics import get_scorer, popularity_tail_shares
from sklearn_recae.model_selection import holdout_row_entries
from sklearn_recae.registry import get_model_spec

try:  # run as a script or as a module
    from ease_l2_sweep import binarized_movielens
    from implicit_default_sweep import validation_score
except ImportError:  # pragma: no cover
    from benchmarks.ease_l2_sweep import binarized_movielens
    from benchmarks.implicit_default_sweep import validation_score

#: (registered model, parameters) of the validation sweep: the old default
#: (batch norm before the activation, torch init), the paper's init, no batch
#: norm, and batch norm after the activation (differs from "hidden" for sig).
CONFIGS = [
    (model, {"batch_norm": batch_norm, "init": init})
    for model in ("mil-lin-sig", "mil-sig-sig")
    for batch_norm, init in [("hidden", "torch"), ("hidden", "paper"), ("none", "torch"),
                             ("none", "paper"), ("post_activation", "paper")]
    if not (model == "mil-lin-sig" and batch_norm == "post_activation")  # = "hidden" for lin
]

#: The models of the test table: MIL (lin-sig and sig-sig), point-wise and
#: pair-wise CE (lin-sig, the paper's better CE activation) and the multinomial DAE.
MODELS = {
    "MIL lin-sig": ("mil-lin-sig", {}),
    "MIL sig-sig": ("mil-sig-sig", {}),
    "CEPoint lin-sig": ("ce", {}),
    "CEPair lin-sig": ("ce-pair", {}),
    "MULTI tanh-lin": ("mult-dae", {}),
}

TAIL_TOP_N = 200


def run_all(tasks, n_jobs: int) -> pd.DataFrame:
    """Run the delayed ``tasks``, printing each result row as it arrives."""
    rows = []
    for row in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks):
        rows.append(row)
        print({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()},
              flush=True)
    return pd.DataFrame(rows)


def sweep(seeds, n_jobs: int) -> pd.DataFrame:
    """Validation NDCG@100 of every configuration and seed."""
    X = binarized_movielens()
    return run_all((delayed(_named_validation_score)(X, model, params, seed)
                    for model, params in CONFIGS for seed in seeds), n_jobs)


def _named_validation_score(X, model: str, params: dict, seed: int) -> dict:
    return {"model": model, **validation_score(X, model, params, seed)}


def test_scores(X, label: str, seed: int) -> dict:
    """Test metrics and top-200 tail shares of one model of :data:`MODELS` on split ``seed``."""
    import torch

    torch.set_num_threads(1)
    name, params = MODELS[label]
    X_train, X_test = holdout_row_entries(X, 0.2, random_state=seed)
    model = get_model_spec(name).factory(random_state=seed, verbose=0)
    model.set_params(device="cpu", **params)
    start = time.perf_counter()
    model.fit(X_train)
    fit_s = time.perf_counter() - start
    row = {"model": label, "seed": seed, "fit_s": fit_s,
           "epochs": getattr(model, "best_epoch_", np.nan)}
    for metric in ("ndcg@100", "recall@20", "recall@50"):
        row[metric] = get_scorer(metric)(model, X_train, X_test)
    popularity = np.asarray(X_train.sum(axis=0)).ravel()
    shares = popularity_tail_shares(model.recommend(X_train, k=TAIL_TOP_N), popularity)
    row.update({f"{tail}_tail": share for tail, share in shares.items()})
    return row


def mean_std(results: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """``mean ± std`` over seeds of ``columns``, one row per ``keys``."""
    grouped = results.groupby(keys, sort=False)[columns]
    mean, std = grouped.mean(), grouped.std()
    return mean.combine(std, lambda m, s: m.map("{:.4f}".format) + " ± " + s.map("{:.4f}".format))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--sweep", action="store_true", help="validation sweep of CONFIGS")
    mode.add_argument("--test", action="store_true", help="the one test read of MODELS")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if args.sweep:
        results = sweep(args.seeds, args.n_jobs)
        keys = ["model", "batch_norm", "init"]
        columns = ["valid_ndcg@100", "best_epoch", "fit_s"]
    else:
        X = binarized_movielens()
        results = run_all((delayed(test_scores)(X, label, seed)
                           for label in args.models for seed in args.seeds), args.n_jobs)
        keys = ["model"]
        columns = ["ndcg@100", "recall@20", "recall@50", "short_tail", "medium_tail",
                   "long_tail", "epochs", "fit_s"]
    with pd.option_context("display.width", 250, "display.max_rows", 500):
        print(results.round(4).to_string(index=False), end="\n\n")
        print(mean_std(results, keys, columns).to_string())


if __name__ == "__main__":
    main()
