"""Time one NRP epoch through the estimator against a minimal torch loop, and Table 2's columns.

Both do the same math on the same data: NRP (direct structure, the
estimator's default sizes, side information of MovieLens-100K) over every
rating once, batches of entries whose distinct user rows and item columns
are encoded with the entry left out, mean squared error, RMSprop. The
hand-written loop keeps the rating matrix and the side information dense in
memory and gathers rows by indexing (the cheapest input path); the estimator
slices CSR rows and CSC columns per batch and densifies each batch.

Also prints the parameter count and seconds per epoch of each NRP variant
(the paper's Table 2 columns; ``--table``).

Run:  OMP_NUM_THREADS=1 python benchmarks/nrp_epoch_overhead.py [--epochs 3] [--repeats 2] [--table]
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import numpy as np
import torch

from sklearn_recae.datasets import load_movielens_100k, movielens_100k_side_information
from sklearn_recae.hybrid import NRP
from sklearn_recae.nn.nrp import NRPModule

from _epoch_timing import compare_epochs


def hand_written_epochs(R: np.ndarray, U: np.ndarray, V: np.ndarray, epochs: int,
                        seed: int) -> list[float]:
    """Seconds per epoch of a minimal dense-input NRP loop."""
    torch.manual_seed(seed)
    defaults = NRP()
    D, Dt = torch.from_numpy(R), torch.from_numpy(np.ascontiguousarray(R.T))
    Ut, Vt = torch.from_numpy(U), torch.from_numpy(V)
    rows, cols = np.nonzero(R)
    rows, cols = torch.from_numpy(rows), torch.from_numpy(cols)
    module = NRPModule(R.shape[0], R.shape[1], [U.shape[1]], [V.shape[1]],
                       defaults.encoder_units, defaults._side_units(), defaults.predictor_units,
                       activation=defaults.activation, dropout=defaults.dropout,
                       rating_offset=float(R[R > 0].mean()))
    optimizer = torch.optim.RMSprop(module.parameters(), lr=defaults.lr)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in torch.randperm(len(rows)).split(defaults.batch_size):
            users, items = rows[batch], cols[batch]
            du, ui = torch.unique(users, return_inverse=True)
            di, ii = torch.unique(items, return_inverse=True)
            values = D[users, items]
            x = SimpleNamespace(user_rows=D[du], item_cols=Dt[di], user_side=Ut[du],
                                item_side=Vt[di], user_index=ui, item_index=ii, users=users,
                                items=items, values=values)
            loss = torch.nn.functional.mse_loss(module(x), values)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times


def estimator_epochs(X, side, epochs: int, seed: int, **params) -> list[float]:
    """Seconds per epoch of ``NRP`` (no validation split, so the same work)."""
    model = NRP(max_epochs=epochs, early_stopping=False, device="cpu", random_state=seed,
                item_features=side.item_features, **params)
    model.fit(X, user_features=side.user_features)
    return list(model.history_[:, "dur"])


def variants_table(X, side, epochs: int) -> None:
    """Parameters and median seconds per epoch of the variants (Table 2's last columns)."""
    with_side = {"item_features": side.item_features}
    variants = {
        "NRP-direct, side info": ({**with_side}, side.user_features),
        "NRP-direct, no side info": ({}, None),
        "NRP-autoencoder, side info": ({**with_side, "structure": "autoencoder",
                                        "activation": "tanh"}, side.user_features),
        "NRP-direct, side, paper sizes": ({**with_side, "encoder_units": (500, 200, 100),
                                           "side_units": (100,),
                                           "predictor_units": (500, 200, 100, 50)},
                                          side.user_features),
    }
    for name, (params, user_features) in variants.items():
        model = NRP(max_epochs=epochs, early_stopping=False, device="cpu", random_state=0,
                    **params).fit(X, user_features=user_features)
        print(f"{name:<30} params {model.n_params_ / 1e6:6.2f}M   "
              f"{np.median(model.history_[:, 'dur']):6.1f} s/epoch", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_movielens_100k()
    side = movielens_100k_side_information(data)
    X = data.ratings
    if args.table:
        variants_table(X, side, args.epochs)
        return
    R = X.toarray()
    U, V = side.user_features.toarray(), side.item_features.toarray()
    compare_epochs(
        "NRP estimator",
        lambda epochs, seed: hand_written_epochs(R, U, V, epochs, seed),
        lambda epochs, seed: estimator_epochs(X, side, epochs, seed),
        epochs=args.epochs, repeats=args.repeats,
    )


if __name__ == "__main__":
    main()
