"""Time one Mult-DAE epoch through the estimator against a minimal torch loop.

Both do the same math on the same data: binarized MovieLens-100K (ratings >= 4,
users with >= 5 positives), ``[n, 600, 200, 600, n]`` tanh layers, input
dropout 0.5, L2-normalised input, multinomial log-likelihood, Adam (lr 1e-3,
weight decay 4e-5), batch 500, one pass over the rows, no validation. The
hand-written loop keeps the whole matrix dense in memory (the cheapest input
path); the estimator slices CSR rows per batch and densifies each batch.

Run:  python benchmarks/multdae_epoch_overhead.py [--epochs 20] [--repeats 3]
Prints the median seconds per epoch of each and their ratio (estimator / loop).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from sklearn_recae.autoencoder import MultDAE
from sklearn_recae.datasets import load_movielens_100k
from sklearn_recae.preprocessing import binarize_interactions

from _epoch_timing import compare_epochs, shuffled_batches


def hand_written_epochs(R, epochs: int, seed: int) -> list[float]:
    """Seconds per epoch of a minimal Mult-DAE loop over ``R`` (dense, or CSR densified per batch)."""
    torch.manual_seed(seed)
    defaults = MultDAE()
    sizes = [R.shape[1], *defaults.hidden_units]
    layers: list[nn.Module] = [nn.Dropout(defaults.dropout)]
    for n_in, n_out in [*zip(sizes[:-1], sizes[1:]), *zip(sizes[:0:-1], sizes[-2::-1])]:
        layers += [nn.Linear(n_in, n_out), nn.Tanh()]
    encoder_dropout, *linear_tanh = layers
    body = nn.Sequential(*linear_tanh[:-1])  # no tanh on the output logits
    optimizer = torch.optim.Adam(body.parameters(), lr=defaults.lr,
                                 weight_decay=defaults.weight_decay)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for x in shuffled_batches(R, defaults.batch_size):
            logits = body(encoder_dropout(nn.functional.normalize(x, dim=1)))  # as vae_cf
            loss = -(torch.log_softmax(logits, 1) * x).sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times


def estimator_epochs(X, epochs: int, seed: int) -> list[float]:
    """Seconds per epoch of ``MultDAE`` (no validation split, so the same work)."""
    model = MultDAE(max_epochs=epochs, early_stopping=False, device="cpu", random_state=seed)
    model.fit(X)
    return list(model.history_[:, "dur"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, _ = binarize_interactions(load_movielens_100k().ratings)
    R = X.toarray()
    compare_epochs(
        "MultDAE estimator",
        lambda epochs, seed: hand_written_epochs(R, epochs, seed),
        lambda epochs, seed: estimator_epochs(X, epochs, seed),
        epochs=args.epochs, repeats=args.repeats,
    )


if __name__ == "__main__":
    main()
