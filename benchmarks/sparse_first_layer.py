"""Dense vs sparse first layer: where reading the CSR batch directly pays off.

Two measurements, one thread:

1. The first layer alone (600 units, batch 500, forward + backward, building
   the batch from CSR included): densify + ``x @ W.T`` against
   ``torch.sparse.mm`` over the stored entries, over item counts and
   densities (rows of exactly ``density × n_items`` entries). This gives the
   crossover ``sparse_input="auto"`` uses.
2. Whole Mult-VAE (and, with ``--recvae``, RecVAE) epochs (the estimator,
   defaults, no validation) with
   ``sparse_input=False`` and ``True`` on binarized MovieLens-100K and on
   the ML-20M-shaped data (``--fraction`` of its users, all 26,744 items):
   median seconds per epoch over ``--epochs`` epochs after the first.

With ``--device cuda`` both run on the GPU (the batch is built from CSR on
the host and copied, as in training; each timing synchronises).

Run:  OMP_NUM_THREADS=1 python benchmarks/sparse_first_layer.py [--fraction 0.02] [--epochs 3]
      [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _epoch_timing import synchronize  # noqa: E402
from scale_ml20m import ml20m_shaped  # noqa: E402

from sklearn_recae._skorch import csr_to_torch  # noqa: E402
from sklearn_recae.autoencoder import MultVAE, RecVAE  # noqa: E402
from sklearn_recae.datasets import make_power_law_interactions  # noqa: E402


def _best_ms(step, repeats: int = 5, device: str = "cpu") -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def first_layer_sweep(item_counts=(500, 1682, 5000, 26744),
                      densities=(0.005, 0.01, 0.05, 0.1, 0.2), batch: int = 500,
                      units: int = 600, device: str = "cpu") -> list[dict]:
    """Milliseconds of one first-layer forward + backward, dense and sparse."""
    rows = []
    for n_items in item_counts:
        # item-major, as the modules
        weight = torch.randn(n_items, units, device=device).t().requires_grad_()
        grad = torch.randn(batch, units, device=device)
        for density in densities:
            per_row = max(1, round(density * n_items))
            X = make_power_law_interactions(batch, n_items, batch * per_row, min_per_row=per_row,
                                            activity_sigma=0.0, max_per_row=n_items,
                                            random_state=0)
            dense = _best_ms(lambda: (csr_to_torch(X).to(device).to_dense() @ weight.t())
                             .backward(grad), device=device)
            sparse = _best_ms(lambda: torch.sparse.mm(csr_to_torch(X).to(device), weight.t())
                              .backward(grad), device=device)
            rows.append({"n_items": n_items, "density": density, "dense_ms": dense,
                         "sparse_ms": sparse})
            print(f"| {n_items} | {density:g} | {dense:.1f} | {sparse:.1f} | "
                  f"{dense / sparse:.2f} |", flush=True)
    return rows


def epoch_s(model_class, X, sparse_input: bool, epochs: int, device: str = "cpu") -> float:
    """Median seconds of epochs 2.. of ``model_class`` (defaults, no validation split)."""
    model = model_class(max_epochs=epochs, early_stopping=False, device=device, random_state=0,
                    sparse_input=sparse_input)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return statistics.median(model.history_[1:, "dur"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.02)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--recvae", action="store_true", help="also time RecVAE epochs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.skip_sweep:
        print("| n_items | density | dense ms | sparse ms | dense / sparse |\n|---|---|---|---|---|")
        first_layer_sweep(device=args.device)
    from sklearn_recae.datasets import load_movielens_100k
    from sklearn_recae.preprocessing import binarize_interactions

    data = {"ML-100K binarized": binarize_interactions(load_movielens_100k().ratings)[0],
            f"ML-20M-shaped x{args.fraction:g}": ml20m_shaped(args.fraction)}
    print("| model | data | shape | density | dense s/epoch | sparse s/epoch | dense / sparse |\n"
          "|---|---|---|---|---|---|---|")
    for model_class in (MultVAE, RecVAE) if args.recvae else (MultVAE,):
        for name, X in data.items():
            dense = epoch_s(model_class, X, False, args.epochs, args.device)
            sparse = epoch_s(model_class, X, True, args.epochs, args.device)
            density = X.nnz / (X.shape[0] * X.shape[1])
            print(f"| {model_class.__name__} | {name} | {X.shape[0]} x {X.shape[1]} | "
                  f"{density:.4f} | {dense:.2f} | {sparse:.2f} | {dense / sparse:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
