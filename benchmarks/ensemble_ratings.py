"""Rating ensembles across model families on MovieLens-100K, and the bias baseline's defaults.

Two protocols, each with seeds ``s`` (default 0 1 2):

- ``90/10``: ``R_train, R_test = train_test_split(R, test_size=0.1, random_state=s)``;
  ``R_fit, R_valid = train_test_split(R_train, test_size=0.1, random_state=100 + s)``
  (the splits of ``autorec_default_sweep.py``);
- ``70/10/20``: ``R_fit, R_valid, R_test = train_test_split(R, test_size=0.2,
  valid_size=0.1, random_state=s)`` (the splits of ``mma_base_sweep.py``).

Commands:

``python benchmarks/ensemble_ratings.py baseline``
    Choose ``BaselineRatings``' penalties on the validation part only
    (fit on ``R_fit``, RMSE on ``R_valid``, mean over seeds, ``90/10``), then
    read the test part once with the chosen settings on both protocols
    (fitted on ``R_fit``, the part the ensembles' bases train on, and refitted on
    ``R_fit + R_valid``).

``python benchmarks/ensemble_ratings.py ensemble --protocol 90/10 [--seeds 0 1 2]``
    Fit every base once on ``R_fit`` (early-stopped on ``R_valid``, no refit:
    what :class:`~sklearn_recae.ensemble.RatingEnsemble` does with ``X_valid``),
    then every ensemble of the ``ENSEMBLES`` table over those fitted bases,
    self-adaptive and NNLS; prints validation and test RMSE per model (mean ±
    std over seeds) and each ensemble's weights. Fitted bases are cached
    (``--cache``) so an interrupted run resumes. The ensemble configuration to
    report is the one of least mean validation RMSE; the test columns are read
    once, after.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
import time

import numpy as np
import pandas as pd
import torch

from sklearn_recae.datasets import load_movielens_100k
from sklearn_recae.linear import BaselineRatings
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import train_test_split

ALPHAS = [1.0, 2.0, 5.0, 10.0, 15.0, 25.0]
RMSE = get_scorer("neg_rmse")


def splits(R, protocol: str, seed: int):
    """``(R_fit, R_valid, R_test)`` of ``protocol`` and ``seed``."""
    if protocol == "90/10":
        R_train, R_test = train_test_split(R, test_size=0.1, random_state=seed)
        R_fit, R_valid = train_test_split(R_train, test_size=0.1, random_state=100 + seed)
        return R_fit, R_valid, R_test
    return train_test_split(R, test_size=0.2, valid_size=0.1, random_state=seed)


def rmse(model, X, y) -> float:
    return -RMSE(model, X, y)


def baseline(seeds: list[int]) -> None:
    R = load_movielens_100k().ratings
    data = {s: splits(R, "90/10", s) for s in seeds}
    rows = []
    for (au, ai, n_iter), s in itertools.product(
            itertools.product(ALPHAS, ALPHAS, [10, 30]), seeds):
        R_fit, R_valid, _ = data[s]
        model = BaselineRatings(alpha_user=au, alpha_item=ai, n_iter=n_iter).fit(R_fit)
        rows.append(dict(alpha_user=au, alpha_item=ai, n_iter=n_iter, seed=s,
                         valid_rmse=rmse(model, R_fit, R_valid)))
    table = (pd.DataFrame(rows).groupby(["alpha_user", "alpha_item", "n_iter"])["valid_rmse"]
             .agg(["mean", "std"]).sort_values("mean"))
    print("validation RMSE (90/10, fit on R_fit), best first\n", table.head(10).round(4))
    au, ai, n_iter = table.index[0]
    print(f"chosen: alpha_user={au}, alpha_item={ai}, n_iter={n_iter}")
    for protocol in ("90/10", "70/10/20"):
        tests = {"fit": [], "refit": []}
        for s in seeds:
            R_fit, R_valid, R_test = splits(R, protocol, s)
            params = dict(alpha_user=au, alpha_item=ai, n_iter=n_iter)
            tests["fit"].append(rmse(BaselineRatings(**params).fit(R_fit), R_fit, R_test))
            full = (R_fit + R_valid).tocsr()
            tests["refit"].append(rmse(BaselineRatings(**params).fit(full), full, R_test))
        for what, values in tests.items():
            print(f"{protocol:>9} test RMSE ({what:5s}): {np.mean(values):.4f} ± "
                  f"{np.std(values, ddof=1):.4f}  {np.round(values, 4).tolist()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["baseline", "ensemble"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--protocol", choices=["90/10", "70/10/20"], default="90/10")
    parser.add_argument("--cache", default="/tmp/ensemble_ratings")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.command == "baseline":
        baseline(args.seeds)
    else:
        ensemble(args.protocol, args.seeds, args.cache)


if __name__ == "__main__":
    main()
