"""Choose the settings of MMA's four default bases by validation RMSE.

I-AutoRec orientation on MovieLens-100K, the paper's seeded 70/10/20 entry
split. Every base configuration is fitted on the 70% part and early-stopped on
the 10% part; the table lists its validation RMSE (what the choice is made on)
and, for information only, its test RMSE. The best row of each base is what
``sklearn_recae.ensemble._mma._DEFAULT_BASES`` holds.

Run:  python benchmarks/mma_base_sweep.py [--seed 0] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import time

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.datasets import load_movielens_100k
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import train_test_split

GRID = {
    ("l1", "l1"): {"alpha": [0.1, 0.3, 1.0], "lr": [1e-3, 3e-3]},
    ("l1", "l2"): {"alpha": [50.0, 100.0, 200.0], "lr": [1e-3, 3e-3]},
    ("l2", "l1"): {"alpha": [0.3, 1.0, 3.0], "lr": [1e-3]},
    ("l2", "l2"): {"alpha": [100.0, 200.0, 400.0], "lr": [1e-3]},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dropout", type=float, nargs="+", default=[0.2])
    args = parser.parse_args()
    R = load_movielens_100k().ratings
    train, valid, test = (
        M.T.tocsr() for M in train_test_split(R, test_size=0.2, valid_size=0.1, random_state=args.seed)
    )
    neg_rmse = get_scorer("neg_rmse")
    print(f"{'base':<7}{'alpha':>7}{'lr':>8}{'dropout':>8}{'valid':>8}{'test':>8}{'epoch':>6}{'s':>5}")
    for (loss, penalty), grid in GRID.items():
        for alpha, lr, dropout in itertools.product(grid["alpha"], grid["lr"], args.dropout):
            start = time.perf_counter()
            model = AutoRec(loss=loss, penalty=penalty, alpha=alpha, lr=lr, dropout=dropout,
                            random_state=args.seed).fit(train, X_valid=valid)
            print(f"{loss}_{penalty:<4}{alpha:>7g}{lr:>8g}{dropout:>8g}"
                  f"{-neg_rmse(model, train, valid):>8.4f}{-neg_rmse(model, train, test):>8.4f}"
                  f"{model.best_epoch_:>6d}{time.perf_counter() - start:>5.0f}", flush=True)


if __name__ == "__main__":
    main()
