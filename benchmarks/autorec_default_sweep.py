"""Choose the I-AutoRec defaults of ``AutoRec`` on validation data only.

Protocol, I-AutoRec (``AutoRec`` fitted on the item × user matrix) on
MovieLens-100K, for each seed ``s``:

1. ``R_train, R_test = train_test_split(R, test_size=0.1, random_state=s)``.
   ``R_test`` is discarded unread: no number below depends on it.
2. ``R_fit, R_valid = train_test_split(R_train, test_size=0.1,
   random_state=100 + s)``: a validation part of the training entries.
3. Every configuration is fitted as
   ``AutoRec(**config, random_state=s, refit=False).fit(R_fit.T,
   X_valid=R_valid.T)``, early-stopping on ``R_valid``; its minimum validation
   RMSE, best epoch and fit seconds are recorded.

The configuration with the lowest mean validation RMSE over the seeds wins.
Rows are appended to ``--output`` (CSV) as fits finish, and rows already there
are skipped, so an interrupted or extended sweep resumes where it stopped; the
table printed at the end covers every row of the file.

Run:  python benchmarks/autorec_default_sweep.py [--seeds 0 1 2]
      [--alpha 50 100 200 400] [--dropout 0 0.1 0.2 0.3] [--hidden-units 500]
      [--n-jobs 2] [--output /tmp/autorec_default_sweep.csv]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from joblib import Parallel, delayed

from _csv_rows import appending_csv
from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.datasets import load_movielens_100k
from sklearn_recae.model_selection import train_test_split

FIELDS = ["hidden_units", "alpha", "dropout", "lr", "seed",
          "valid_rmse", "best_epoch", "n_epochs", "fit_s"]
CONFIG = FIELDS[:4]


def validation_split(R: sp.csr_matrix, seed: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Return ``(R_fit, R_valid)`` of split ``seed``; the test part is dropped unread."""
    R_train, _ = train_test_split(R, test_size=0.1, random_state=seed)
    R_fit, R_valid = train_test_split(R_train, test_size=0.1, random_state=100 + seed)
    return R_fit, R_valid


def fit_one(config: dict, seed: int, R_fit: sp.csr_matrix, R_valid: sp.csr_matrix) -> dict:
    """Fit one I-AutoRec configuration on one split and return its result row.

    Parameters
    ----------
    config : dict
        ``AutoRec`` parameters (``hidden_units``, ``alpha``, ``dropout``, ``lr``).
    seed : int
        Split seed, also the model's ``random_state``.
    R_fit, R_valid : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Training and validation entries.

    Returns
    -------
    row : dict
        ``config`` plus seed, minimum validation RMSE, best and total epochs, fit seconds.
    """
    torch.set_num_threads(1)
    start = time.perf_counter()
    # the table keeps the width as an int; AutoRec takes its one-layer tuple
    model = AutoRec(**{**config, "hidden_units": (config["hidden_units"],)},
                    random_state=seed, refit=False)
    model.fit(R_fit.T.tocsr(), X_valid=R_valid.T.tocsr())
    return {**config, "seed": seed,
            "valid_rmse": float(np.nanmin(model.validation_scores_)),
            "best_epoch": model.best_epoch_, "n_epochs": model.n_epochs_,
            "fit_s": round(time.perf_counter() - start, 1)}


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std of each configuration over seeds, best mean validation RMSE first."""
    table = results.groupby(CONFIG).agg(
        rmse_mean=("valid_rmse", "mean"), rmse_std=("valid_rmse", "std"),
        best_epoch=("best_epoch", "mean"), fit_s=("fit_s", "mean"),
        n_seeds=("seed", "nunique"))
    return table.sort_values("rmse_mean").reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--alpha", type=float, nargs="+", default=[50.0, 100.0, 200.0, 400.0])
    parser.add_argument("--dropout", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3])
    parser.add_argument("--hidden-units", type=int, nargs="+", default=[500])
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-3])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="/tmp/autorec_default_sweep.csv")
    args = parser.parse_args()

    done = set()
    if os.path.exists(args.output):
        previous = pd.read_csv(args.output)
        done = set(zip(*(previous[c] for c in CONFIG), previous["seed"]))
    R = load_movielens_100k().ratings
    splits = {s: validation_split(R, s) for s in args.seeds}
    jobs = [(dict(zip(CONFIG, (h, a, d, lr))), s)
            for s, h, a, d, lr in itertools.product(
                args.seeds, args.hidden_units, args.alpha, args.dropout, args.lr)
            if (h, a, d, lr, s) not in done]
    print(f"{len(jobs)} fits to run ({len(done)} already in {args.output})", flush=True)

    with appending_csv(args.output, FIELDS) as write_row:
        rows = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
            delayed(fit_one)(config, s, *splits[s]) for config, s in jobs)
        for row in rows:
            write_row(row)
            print(row, flush=True)

    table = summarize(pd.read_csv(args.output))
    print(f"\n{'hidden':>6}{'alpha':>7}{'dropout':>8}{'lr':>8}{'valid RMSE':>19}"
          f"{'epoch':>7}{'fit s':>7}{'seeds':>6}")
    for r in table.itertuples():
        print(f"{r.hidden_units:>6d}{r.alpha:>7g}{r.dropout:>8g}{r.lr:>8g}"
              f"{r.rmse_mean:>10.4f} ± {r.rmse_std:.4f}{r.best_epoch:>7.1f}"
              f"{r.fit_s:>7.0f}{r.n_seeds:>6d}")


if __name__ == "__main__":
    main()
