"""Choose the settings of MMA's four default bases on validation data only.

Protocol, I-AutoRec bases (fitted on the item × user matrix) on MovieLens-100K
with the MMA paper's 70/10/20 entry split, for each seed ``s`` (default 0 1 2):

1. ``train, valid, test = train_test_split(R, test_size=0.2, valid_size=0.1,
   random_state=s)``, each transposed to items × users. ``test`` is discarded
   unread: no number this script writes or prints depends on it.
2. Base sweep: for each network ``(hidden_units, dropout)`` in ``NETWORKS`` and
   each base ``<loss>_<penalty>`` and alpha in ``ALPHAS``,
   ``AutoRec(loss, penalty, hidden_units, dropout, alpha, lr=1e-3,
   random_state=s).fit(train, X_valid=valid)`` (early-stopped on ``valid``);
   its best validation RMSE ``min(validation_scores_)``, best epoch and fit
   seconds are recorded. A single default ``AutoRec(random_state=s)`` is fitted
   the same way, as the reference.
3. For each network, each base gets the alpha of least mean validation RMSE
   over the seeds.
4. For each network, ``MultiMetricAutoRec(estimators=<those four bases>,
   random_state=s).fit(train, X_valid=valid)`` is fitted and its
   ``validation_score_`` (the ensemble's RMSE on ``valid``) recorded. The
   network whose MMA has the least mean validation RMSE over the seeds gives
   ``_BASE_NETWORK`` and ``_DEFAULT_BASES`` in ``sklearn_recae/ensemble/_mma.py``.

Rows are appended to ``--output`` (CSV) as fits finish, and rows already there
are skipped, so an interrupted sweep resumes where it stopped; the tables
printed at the end cover every row of the file (for the seeds asked for).

Run:  python benchmarks/mma_base_sweep.py [--seeds 0 1 2] [--n-jobs 2]
      [--output /tmp/mma_base_sweep.csv]
"""

from __future__ import annotations

import argparse
import itertools
import json
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
from sklearn_recae.ensemble import MultiMetricAutoRec
from sklearn_recae.model_selection import train_test_split

NETWORKS = [(200, 0.3), (500, 0.2)]  # (hidden_units, dropout)
ALPHAS = {
    "l1_l1": [0.3, 1.0, 3.0],
    "l1_l2": [25.0, 50.0, 100.0],
    "l2_l1": [0.3, 1.0, 3.0],
    "l2_l2": [50.0, 100.0, 200.0],
}
LR = 1e-3
FIELDS = ["stage", "hidden_units", "dropout", "base", "alpha", "seed",
          "valid_rmse", "best_epoch", "n_epochs", "fit_s", "detail"]
KEY = ["stage", "hidden_units", "dropout", "base", "alpha", "seed"]


def validation_split(R: sp.csr_matrix, seed: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Return items × users ``(train, valid)`` of split ``seed``; the test part is dropped unread."""
    train, valid, _ = train_test_split(R, test_size=0.2, valid_size=0.1, random_state=seed)
    return train.T.tocsr(), valid.T.tocsr()


def _base_params(base: str, alpha: float, hidden_units: int, dropout: float) -> dict:
    loss, penalty = base.split("_")
    return dict(loss=loss, penalty=penalty, hidden_units=(hidden_units,), dropout=dropout,
                alpha=alpha, lr=LR)


def fit_base(key: dict, train: sp.csr_matrix, valid: sp.csr_matrix) -> dict:
    """Fit one base configuration (or, for stage ``autorec``, the default AutoRec) on one split."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    if key["stage"] == "autorec":
        model = AutoRec(random_state=key["seed"])
    else:
        model = AutoRec(**_base_params(key["base"], key["alpha"], key["hidden_units"],
                                       key["dropout"]), random_state=key["seed"])
    model.fit(train, X_valid=valid)
    return {**key, "valid_rmse": float(np.nanmin(model.validation_scores_)),
            "best_epoch": model.best_epoch_, "n_epochs": model.n_epochs_,
            "fit_s": round(time.perf_counter() - start, 1), "detail": ""}


def fit_mma(key: dict, alphas: dict, train: sp.csr_matrix, valid: sp.csr_matrix) -> dict:
    """Fit MMA over the four bases with the chosen ``alphas`` of one network on one split."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    estimators = [(base, AutoRec(**_base_params(base, alphas[base], key["hidden_units"],
                                                key["dropout"])))
                  for base in ALPHAS]
    mma = MultiMetricAutoRec(estimators=estimators, random_state=key["seed"])
    mma.fit(train, X_valid=valid)
    detail = {"alpha": alphas,
              "weight": {k: round(float(w), 4) for k, w in mma.named_weights_.items()},
              "base_rmse": {k: round(float(np.nanmin(b.validation_scores_)), 4)
                            for k, b in mma.named_estimators_.items()}}
    return {**key, "valid_rmse": float(mma.validation_score_), "best_epoch": "",
            "n_epochs": mma.n_epochs_, "fit_s": round(time.perf_counter() - start, 1),
            "detail": json.dumps(detail)}


def _key_tuple(row) -> tuple:
    return tuple("" if pd.isna(row[k]) else str(row[k]) if k == "base" or k == "stage"
                 else float(row[k]) for k in KEY)


class _Writer:
    """Append rows to the output CSV as they come, skipping keys already there."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.done = set()
        if os.path.exists(path):
            self.done = {_key_tuple(r) for r in pd.read_csv(path).to_dict("records")}

    def run(self, jobs: list, n_jobs: int) -> None:
        jobs = [(func, key, args) for func, key, args in jobs if _key_tuple(key) not in self.done]
        print(f"{len(jobs)} fits to run", flush=True)
        if not jobs:
            return
        with appending_csv(self.path, FIELDS) as write_row:
            rows = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                delayed(func)(key, *args) for func, key, args in jobs)
            for row in rows:
                write_row(row)
                self.done.add(_key_tuple(row))
                print({k: v for k, v in row.items() if k != "detail"}, flush=True)


def _key(stage, hidden_units, dropout, base, alpha, seed) -> dict:
    return dict(stage=stage, hidden_units=hidden_units, dropout=dropout, base=base,
                alpha=alpha, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="/tmp/mma_base_sweep.csv")
    args = parser.parse_args()

    R = load_movielens_100k().ratings
    splits = {s: validation_split(R, s) for s in args.seeds}
    out = _Writer(args.output)

    # 1. bases and the single default AutoRec; the larger network first (longer fits)
    jobs = [(fit_base, _key("autorec", 0, 0.0, "default", 0.0, s), splits[s])
            for s in args.seeds]
    for (h, d), s in itertools.product(sorted(NETWORKS, reverse=True), args.seeds):
        jobs += [(fit_base, _key("base", h, d, base, a, s), splits[s])
                 for base, alphas in ALPHAS.items() for a in alphas]
    out.run(jobs, args.n_jobs)

    results = pd.read_csv(args.output)
    results = results[results["seed"].isin(args.seeds)]
    bases = results[results["stage"] == "base"]
    table = (bases.groupby(["hidden_units", "dropout", "base", "alpha"])["valid_rmse"]
             .agg(["mean", "std", "count"]).reset_index())
    epochs = bases.groupby(["hidden_units", "dropout", "base", "alpha"])[["best_epoch", "fit_s"]].mean()
    table = table.join(epochs, on=["hidden_units", "dropout", "base", "alpha"])
    print(f"\n{'network':>10} {'base':<6}{'alpha':>7}{'valid RMSE':>19}{'epoch':>7}{'fit s':>7}{'n':>3}")
    chosen = {}
    for (h, d, base), group in table.groupby(["hidden_units", "dropout", "base"], sort=False):
        best = group["mean"].idxmin()
        chosen.setdefault((h, d), {})[base] = float(group.loc[best, "alpha"])
        for i, r in group.iterrows():
            print(f"{f'{h}/{d:g}':>10} {base:<6}{r.alpha:>7g}{r['mean']:>10.4f} ± {r['std']:.4f}"
                  f"{r.best_epoch:>7.1f}{r.fit_s:>7.0f}{r['count']:>3d}{'  *' if i == best else ''}")

    # 2. MMA over each network's chosen bases
    jobs = [(fit_mma, _key("mma", h, d, "mma", 0.0, s), (chosen[(h, d)], *splits[s]))
            for (h, d), s in itertools.product(NETWORKS, args.seeds)]
    out.run(jobs, args.n_jobs)

    results = pd.read_csv(args.output)
    results = results[results["seed"].isin(args.seeds)]
    single = results[results["stage"] == "autorec"].set_index("seed")["valid_rmse"]
    mma = results[results["stage"] == "mma"]
    print(f"\n{'model':<28}" + "".join(f"{f'seed {s}':>9}" for s in args.seeds)
          + f"{'mean ± std':>19}")
    print(f"{'AutoRec() default':<28}" + "".join(f"{single[s]:>9.4f}" for s in args.seeds)
          + f"{single.mean():>10.4f} ± {single.std():.4f}")
    for (h, d), group in mma.groupby(["hidden_units", "dropout"]):
        v = group.set_index("seed")["valid_rmse"]
        alphas = ", ".join(f"{b}={a:g}" for b, a in chosen[(h, d)].items())
        print(f"{f'MMA {h}/{d:g}':<28}" + "".join(f"{v[s]:>9.4f}" for s in args.seeds)
              + f"{v.mean():>10.4f} ± {v.std():.4f}   ({alphas})")
        for r in group.itertuples():
            print(f"    seed {r.seed}: {r.detail}")


if __name__ == "__main__":
    main()
