"""Where each model's CUDA training loop waits on the GPU: synchronising calls by source line.

For each registered model, ``fit`` runs twice on CUDA (2 and 4 epochs, no
early stopping) on a small ML-20M-shaped matrix under
``torch.cuda.set_sync_debug_mode("warn")``; every synchronising CUDA call
(a device-to-host read such as ``.item()``, boolean indexing or a Python
branch on a tensor, and also a blocking host-to-device copy of an input
batch) raises a warning attributed to the Python line that made it. The
table lists, per model, the lines whose count grows with the epochs (so
they sit in the training loop), with their extra calls per added epoch and
the training batches per epoch: a line with about one call per batch is in
every step.

``tests/test_gpu.py::test_training_loop_reads_back_only_what_it_logs``
asserts the property this locates (device-to-host copies <= logged values).

Run on a CUDA machine:
    python benchmarks/gpu_host_transfers.py --models multvae mml --output sync.json
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections import Counter
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_ml20m import MODELS, ml20m_shaped, one_epoch  # noqa: E402


def sync_sites(name: str, X, max_epochs: int) -> tuple[Counter, int]:
    """``(Counter of "file:line" -> synchronising calls, training batches)`` of one CUDA fit."""
    estimator = one_epoch(MODELS[name](0, argparse.Namespace(ease_max_memory_gb=4.0)), "cuda")
    inner = getattr(estimator, "estimator", estimator)
    inner.set_params(max_epochs=max_epochs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            estimator.fit(X)
            torch.cuda.synchronize()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    sites = Counter(f"{Path(w.filename).name}:{w.lineno}" for w in caught
                    if "synchronizing CUDA operation" in str(w.message))
    history = getattr(estimator, "estimator_", estimator).net_.history
    batches = sum(1 for epoch in history for batch in epoch["batches"] if "train_loss" in batch)
    return sites, batches


def loop_sites(name: str, X) -> dict:
    """The lines whose synchronising calls grow between a 2- and a 4-epoch fit, per epoch."""
    short, short_batches = sync_sites(name, X, 2)
    long, long_batches = sync_sites(name, X, 4)
    grown = {site: (long[site] - short[site]) / 2 for site in long if long[site] > short[site]}
    return {"model": name, "batches_per_epoch": (long_batches - short_batches) / 2,
            "loop_sites_per_epoch": dict(sorted(grown.items(), key=lambda kv: -kv[1])),
            "all_sites_4_epochs": dict(long.most_common())}


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    torch_models = [name for name in MODELS if name != "ease"]
    parser.add_argument("--models", nargs="+", default=torch_models, choices=torch_models)
    parser.add_argument("--fraction", type=float, default=0.01,
                        help="share of the ML-20M-shaped users (0.01: 1,385 x 26,744)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        parser.error("needs CUDA")
    X = ml20m_shaped(args.fraction)
    rows = []
    for name in args.models:
        try:
            row = loop_sites(name, X)
        except Exception as error:  # report and go on to the next model
            row = {"model": name, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(row), flush=True)
        rows.append(row)
    print("| model | batches/epoch | synchronising lines in the loop (calls per epoch) |")
    print("|---|---|---|")
    for row in rows:
        sites = ", ".join(f"{k} ×{v:g}" for k, v in row.get("loop_sites_per_epoch", {}).items())
        print(f"| {row['model']} | {row.get('batches_per_epoch', '-')} | "
              f"{row.get('error', sites)} |")
    if args.output is not None:
        args.output.write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
