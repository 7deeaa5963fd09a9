"""Choose Mult-DAE's early-stopping patience on validation data.

Binarized MovieLens-100K (ratings >= 4, users with >= 5 positives); for seeds
0, 1, 2 a per-user 20% test part is held out and never read; ``MultDAE``
holds out 10% of each user's remaining entries and records their NDCG@100 per
epoch. The table gives the best validation NDCG@100 per patience (mean ± std
over the seeds) and the epoch it was reached.

Run:  python benchmarks/multdae_patience_sweep.py [--patience 10 20 40]
"""

from __future__ import annotations

import argparse

import numpy as np
from joblib import Parallel, delayed

from sklearn_recae.autoencoder import MultDAE
from sklearn_recae.datasets import load_movielens_100k
from sklearn_recae.model_selection import holdout_row_entries
from sklearn_recae.preprocessing import binarize_interactions


def best_validation(X, patience: int, seed: int) -> tuple[float, int]:
    """``(best validation NDCG@100, its epoch)`` of one fit on the training part of a split."""
    import torch

    torch.set_num_threads(1)
    X_train, _ = holdout_row_entries(X, 0.2, random_state=seed)  # the test part is never read
    model = MultDAE(n_iter_no_change=patience, refit=False, device="cpu", random_state=seed)
    model.fit(X_train)
    return float(np.nanmax(model.validation_scores_)), model.best_epoch_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patience", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    X, _ = binarize_interactions(load_movielens_100k().ratings)
    runs = Parallel(n_jobs=2)(delayed(best_validation)(X, p, s)
                              for p in args.patience for s in args.seeds)
    for i, patience in enumerate(args.patience):
        scores, epochs = zip(*runs[i * len(args.seeds):(i + 1) * len(args.seeds)])
        print(f"patience {patience:3d}: validation NDCG@100 {np.mean(scores):.4f} ± "
              f"{np.std(scores, ddof=1):.4f}  per seed {np.round(scores, 4)}  best epochs {epochs}")


if __name__ == "__main__":
    main()
