"""Time one AutoRec epoch through the estimator against a minimal torch loop.

Both do the same math on the same data: I-AutoRec on MovieLens-100K (rows =
items), AutoRec's default hidden size, sigmoid units, summed squared error over observed entries plus the
L2 weight penalty (its ``n_batch / n_rows`` share per minibatch), no input
masking, Adam, batch 256, one pass over the rows. The hand-written
loop keeps the whole matrix dense in memory (the cheapest possible input
path); the estimator slices CSR rows per batch and densifies each batch.

Run:  python benchmarks/autorec_epoch_overhead.py [--epochs 20] [--repeats 3]
Prints the median seconds per epoch of each and their ratio (estimator / loop).
"""

from __future__ import annotations

import argparse
import time

import torch

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.datasets import load_movielens_100k

from _epoch_timing import compare_epochs, shuffled_batches, synchronize


def hand_written_epochs(R, epochs: int, alpha: float, seed: int,
                        device: str = "cpu") -> list[float]:
    """Seconds per epoch of a minimal AutoRec loop over ``R`` (dense, or CSR densified per batch)."""
    torch.manual_seed(seed)
    (hidden,) = AutoRec().hidden_units
    encoder = torch.nn.Linear(R.shape[1], hidden).to(device)
    decoder = torch.nn.Linear(hidden, R.shape[1]).to(device)
    params = [*encoder.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for x in shuffled_batches(R, 256):
            x = x.to(device)
            err = torch.where(x != 0, decoder(torch.sigmoid(encoder(x))) - x, 0.0)
            penalty = 0.5 * alpha * (encoder.weight.square().sum() + decoder.weight.square().sum())
            penalty = penalty * len(x) / R.shape[0]
            loss = err.square().sum() + penalty
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def estimator_epochs(X, epochs: int, seed: int) -> list[float]:
    """Seconds per epoch of ``AutoRec`` (no validation split, so the same work)."""
    model = AutoRec(max_epochs=epochs, early_stopping=False, dropout=0.0, device="cpu",
                    random_state=seed)
    model.fit(X)
    return list(model.history_[:, "dur"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X = load_movielens_100k().ratings.T.tocsr()
    R = X.toarray()
    alpha = AutoRec().alpha
    compare_epochs(
        "AutoRec estimator",
        lambda epochs, seed: hand_written_epochs(R, epochs, alpha, seed),
        lambda epochs, seed: estimator_epochs(X, epochs, seed),
        epochs=args.epochs, repeats=args.repeats,
    )


if __name__ == "__main__":
    main()
