"""Mixed precision: quality on ML-100K validation; a Mult-VAE epoch's FLOPs against the device.

**Quality** (``--models``, ``--precisions``, ``--seeds``). Binarized
MovieLens-100K, the validation protocol of ``implicit_default_sweep.py``: for
each seed ``s``, ``X_train, X_test = holdout_row_entries(X, 0.2, s)`` (``X_test``
is never read), ``X_fit, X_valid = holdout_row_entries(X_train, 0.1, 100 + s)``;
each model (registry defaults, ``device=--device``) with each ``precision``
is fitted with ``fit(X_fit, X_valid=X_valid)`` (early stopping on
``X_valid``, no refit) and reports its best epoch's validation NDCG@100, the
epochs run, and per-epoch wall and CPU seconds. The precisions of one seed
and model run one after the other (interleaved), so machine noise hits each.

**FLOPs** (``--flops``). The matmul FLOPs of one Mult-VAE training epoch
(default architecture ``[n, 600, 200, 600, n]``, batch 500) on the
ML-20M shape (138,493 users x 26,744 items, 20,000,263 interactions), counted
analytically (:func:`multvae_epoch_flops`): a dense layer ``in -> out`` costs
``2 in out`` per row forward and twice that backward (input and weight
gradients), the first layer only its weight gradient (its input is data);
a sparse first layer costs ``2 nnz out`` each way instead of ``2 rows n out``.
The softmax, tanh and the optimizer are left out (elementwise, memory-bound).
The epoch time is measured on ``--rows`` rows of the ML-20M-shaped data
(``scale_ml20m.ml20m_shaped``, same density per row; ``--rows 0``: all rows)
for each precision, the median of the epochs after the first, extrapolated
linearly to all 138,493 rows when fewer were timed. The achieved FLOP/s is
set against the device's limit: on CPU the measured float32 (and bfloat16)
throughput of a large square ``torch.mm`` (a practical peak, one thread by
default; both timed in CPU seconds, as the loaded machine's wall clock also
counts other processes); on CUDA the same measurement (wall seconds) and the
spec-sheet dense peaks of :data:`SPEC_PEAKS_TFLOPS` (labelled as such).

Run (CPU, one thread):
    OMP_NUM_THREADS=1 python benchmarks/mixed_precision.py --device cpu --flops
GPU (under 8 minutes on an H100; ``--rows 0`` times the full data):
    python benchmarks/mixed_precision.py --device cuda --precisions 32 tf32 bf16 \\
        --flops --rows 0 --output mixed_precision.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _epoch_timing import synchronize, training_epoch_seconds  # noqa: E402
from ease_l2_sweep import binarized_movielens  # noqa: E402
from scale_ml20m import ML20M_INTERACTIONS, ML20M_ITEMS, ML20M_USERS, ml20m_shaped  # noqa: E402

#: Spec-sheet dense peaks (no structured sparsity), TFLOP/s: {name fragment: {precision: peak}}.
#: NVIDIA H100 datasheet (SXM5 / PCIe); the H200 has the H100 SXM's compute.
SPEC_PEAKS_TFLOPS = {
    "H100 PCIe": {"32": 51.0, "tf32": 378.0, "bf16": 756.0},
    "H100": {"32": 67.0, "tf32": 494.7, "bf16": 989.4},
    "H200": {"32": 67.0, "tf32": 494.7, "bf16": 989.4},
}


def multvae_epoch_flops(n_rows: int, n_items: int, nnz: int, hidden_units=(600, 200), *,
                        sparse_first_layer: bool) -> dict[str, float]:
    """Matmul FLOPs of one Mult-VAE training epoch over ``n_rows`` rows, by layer.

    Returns ``{layer: flops}`` (forward + backward) and ``"total"``.
    """
    *hidden, latent = hidden_units
    encoder = [n_items, *hidden, 2 * latent]
    decoder = [latent, *hidden[::-1], n_items]
    flops = {}
    for side, sizes in (("encoder", encoder), ("decoder", decoder)):
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            name = f"{side} {n_in}->{n_out}"
            if side == "encoder" and i == 0:  # input is data: forward and weight gradient
                per_pass = 2 * nnz * n_out if sparse_first_layer else 2 * n_rows * n_in * n_out
                flops[name + (" (sparse)" if sparse_first_layer else "")] = 2.0 * per_pass
            else:  # forward, input gradient, weight gradient
                flops[name] = 3.0 * 2 * n_rows * n_in * n_out
    flops["total"] = sum(flops.values())
    return flops


def compute_clock(device: str):
    """The timer of compute seconds: CPU seconds on a CPU (a loaded machine's wall clock
    counts the other processes' time slices too; one thread assumed), wall seconds on CUDA."""
    import torch

    return time.perf_counter if torch.device(device).type == "cuda" else time.process_time


def matmul_tflops(device: str, dtype, n: int, repeats: int = 5) -> float:
    """Achieved TFLOP/s of an ``n x n`` by ``n x n`` ``torch.mm`` (median of ``repeats``)."""
    import torch

    clock = compute_clock(device)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    torch.mm(a, b)  # warm-up
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = clock()
        torch.mm(a, b)
        synchronize(device)
        times.append(clock() - start)
    return 2 * n**3 / statistics.median(times) / 1e12


def device_peaks(device: str, n: int) -> dict[str, float]:
    """Measured matmul TFLOP/s per precision on ``device`` (TF32 only on CUDA)."""
    import torch

    from sklearn_recae._skorch.precision import matmul_scope

    peaks = {}
    for precision, dtype in (("32", torch.float32), ("tf32", torch.float32),
                             ("bf16", torch.bfloat16)):
        if precision == "tf32" and torch.device(device).type != "cuda":
            continue
        with matmul_scope(precision, device):  # TF32 on for "tf32" only (default: off)
            peaks[precision] = matmul_tflops(device, dtype, n)
    return peaks


def validation_fit(X, model_name: str, precision: str, seed: int, device: str) -> dict:
    """Best-epoch validation NDCG@100, epochs and seconds per epoch of one fit on split ``seed``."""
    from sklearn_recae.metrics import get_scorer
    from sklearn_recae.model_selection import holdout_row_entries
    from sklearn_recae.registry import get_model_spec

    X_train, _ = holdout_row_entries(X, 0.2, random_state=seed)  # test part never read
    X_fit, X_valid = holdout_row_entries(X_train, 0.1, random_state=100 + seed)
    model = get_model_spec(model_name).factory(random_state=seed, verbose=0)
    model.set_params(device=device, precision=precision)
    with training_epoch_seconds(device) as epochs:
        model.fit(X_fit, X_valid=X_valid)
    return {"model": model_name, "precision": precision, "seed": seed,
            "valid_ndcg@100": get_scorer("ndcg@100")(model, X_fit, X_valid),
            "best_epoch": model.best_epoch_, "epochs": model.n_epochs_,
            "wall_s_per_epoch": statistics.median(w for w, _ in epochs[1:] or epochs),
            "cpu_s_per_epoch": statistics.median(c for _, c in epochs[1:] or epochs)}


def quality(args) -> list[dict]:
    X = binarized_movielens()
    rows = []
    for seed in args.seeds:
        for model_name in args.models:
            for precision in args.precisions:
                rows.append(validation_fit(X, model_name, precision, seed, args.device))
                print(json.dumps({k: round(v, 4) if isinstance(v, float) else v
                                  for k, v in rows[-1].items()}), flush=True)
    print("\n| model | precision | valid NDCG@100 | epochs | wall s/epoch | CPU s/epoch |")
    print("|---|---|---|---|---|---|")
    for model_name in args.models:
        for precision in args.precisions:
            runs = [r for r in rows if r["model"] == model_name and r["precision"] == precision]
            ndcg = [r["valid_ndcg@100"] for r in runs]

            def mean_std(key, digits):
                values = [r[key] for r in runs]
                return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f}"

            print(f"| {model_name} | {precision} "
                  f"| {np.mean(ndcg):.4f} ± {np.std(ndcg, ddof=1):.4f} "
                  f"| {mean_std('epochs', 1)} | {mean_std('wall_s_per_epoch', 3)} "
                  f"| {mean_std('cpu_s_per_epoch', 3)} |")
    return rows


def epoch_flops(args) -> dict:
    """Measured Mult-VAE epochs at the ML-20M shape per precision, against the FLOP count."""
    import torch

    from sklearn_recae.autoencoder import MultVAE

    n_rows = ML20M_USERS if args.rows == 0 else min(args.rows, ML20M_USERS)
    X = ml20m_shaped(n_rows / ML20M_USERS, seed=0)
    result = {"timed_rows": X.shape[0], "timed_nnz": int(X.nnz), "epochs": {}}
    for precision in args.precisions:
        model = MultVAE(max_epochs=args.epochs, early_stopping=False, device=args.device,
                        precision=precision, random_state=0)
        with training_epoch_seconds(args.device) as epochs:
            model.fit(X)
        sparse = bool(model.net_.module_.sparse_input)
        wall = statistics.median(w for w, _ in epochs[1:])
        cpu = statistics.median(c for _, c in epochs[1:])
        scale = ML20M_USERS / X.shape[0]
        flops = multvae_epoch_flops(ML20M_USERS, ML20M_ITEMS, ML20M_INTERACTIONS,
                                    sparse_first_layer=sparse)
        compute_s = (wall if compute_clock(args.device) is time.perf_counter else cpu) * scale
        result["epochs"][precision] = {
            "sparse_first_layer": sparse, "wall_s_timed": wall, "cpu_s_timed": cpu,
            "epoch_s_full": wall * scale, "cpu_s_full": cpu * scale,
            "flops": flops, "achieved_tflops": flops["total"] / compute_s / 1e12}
        del model
    result["measured_peak_tflops"] = device_peaks(args.device, args.matmul_size)
    if torch.device(args.device).type == "cuda":
        name = torch.cuda.get_device_name()
        result["device_name"] = name
        key = next((k for k in SPEC_PEAKS_TFLOPS if k in name), None)
        result["spec_peak_tflops"] = SPEC_PEAKS_TFLOPS.get(key)
    _print_flops(result, args.device)
    return result


def _print_flops(result: dict, device: str) -> None:
    print(f"\nMult-VAE epoch at the ML-20M shape ({ML20M_USERS:,} x {ML20M_ITEMS:,}, "
          f"{ML20M_INTERACTIONS:,} nnz), timed on {result['timed_rows']:,} rows, "
          f"device {result.get('device_name', device)}")
    printed = set()
    for epoch in result["epochs"].values():
        if epoch["sparse_first_layer"] not in printed:
            printed.add(epoch["sparse_first_layer"])
            for layer, flops in epoch["flops"].items():
                print(f"  {layer:<30} {flops / 1e12:8.3f} TFLOP")
    clock = "wall" if compute_clock(device) is time.perf_counter else "CPU"
    spec = result.get("spec_peak_tflops") or {}
    print("\n| precision | first layer | TFLOP/epoch | s/epoch (full, "
          + ("extrapolated" if result["timed_rows"] < ML20M_USERS else "measured")
          + f") | CPU s/epoch | achieved TFLOP/s ({clock} s) | measured mm peak | % of it"
          + (" | spec peak | % of spec" if spec else "") + " |")
    print("|---" * (8 + 2 * bool(spec)) + "|")
    measured = result["measured_peak_tflops"]
    for precision, epoch in result["epochs"].items():
        peak = measured.get(precision, measured["32"])
        line = (f"| {precision} | {'sparse' if epoch['sparse_first_layer'] else 'dense'} "
                f"| {epoch['flops']['total'] / 1e12:.2f} | {epoch['epoch_s_full']:.2f} "
                f"| {epoch['cpu_s_full']:.2f} | {epoch['achieved_tflops']:.4f} | {peak:.4f} "
                f"| {100 * epoch['achieved_tflops'] / peak:.1f}%")
        if spec:
            line += (f" | {spec[precision]:.1f} (spec sheet) "
                     f"| {100 * epoch['achieved_tflops'] / spec[precision]:.2f}%")
        print(line + " |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", nargs="*", default=["multvae", "mult-dae"])
    parser.add_argument("--precisions", nargs="+", default=["32", "bf16"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--flops", action="store_true", help="also the ML-20M-shape epoch part")
    parser.add_argument("--rows", type=int, default=5000,
                        help="rows of the ML-20M-shaped data timed (0: all)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed (first dropped)")
    parser.add_argument("--matmul-size", type=int, default=None,
                        help="side of the square mm of the measured peak "
                             "(2048 on CPU, 8192 on CUDA)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on CPU")
    parser.add_argument("--output", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    import torch

    on_cuda = torch.device(args.device).type == "cuda"
    if not on_cuda:
        torch.set_num_threads(args.threads)
    if args.matmul_size is None:
        args.matmul_size = 8192 if on_cuda else 2048
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
    results = {"args": vars(args)}
    if args.models:
        results["quality"] = quality(args)
    if args.flops:
        results["flops"] = epoch_flops(args)
    if args.output:
        Path(args.output).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
