"""One training epoch and top-100 for every user, per model, on MovieLens-20M-shaped data.

The data is :func:`~sklearn_recae.datasets.make_power_law_interactions` at
its defaults (138,493 users x 26,744 items, 20,000,263 binary interactions,
power-law item popularity, >= 20 per user; a few seconds, never dense), or
the first ``--fraction`` of it (that share of the users and interactions, all
the items). Each model, with its defaults otherwise, trains one epoch on CPU
(``max_epochs=1, early_stopping=False``; EASE its one closed-form fit) and
then ``recommend(X, k=100)`` ranks all items for every row, streamed in row
batches. Each model runs in a forked child process, so the peak RSS (VmHWM,
reset when the child starts; the data is already resident then, ``data``
column) is its own.

For Mult-VAE and U-AutoRec (``--ratio``) one epoch of the estimator is
compared with a minimal hand-written torch loop doing the same math on the
same CSR rows densified per batch: the package's pure ``MultVAEModule`` in a
plain loop, and ``autorec_epoch_overhead.hand_written_epochs``; the
estimator then runs its dense path too (``sparse_input=False``; the table's
s/epoch is the default ``sparse_input="auto"``, sparse on this data). Timings use
``benchmarks/_epoch_timing.compare_epochs`` (interleaved runs, first epoch of
each run dropped, so ``--ratio-epochs`` must be >= 2).

EASE solves in float32 in one ``4 x n_items**2``-byte array (2.9 GB at 26,744
items), within its default ``max_memory_gb=4``; with ``dtype=np.float64`` it
needs ``12 x n_items**2`` bytes (8.6 GB), which the default budget refuses
before allocating (``--ease-max-memory-gb 9`` lets it run where the memory is
free). ``benchmarks/ease_scale.py --ml20m`` times its fit alone.

Run (one thread, as every benchmark of this package):
    OMP_NUM_THREADS=1 python benchmarks/scale_ml20m.py --fraction 0.1 \\
        --models multvae u-autorec --ratio --output scale.json
Prints a markdown table (model, s/epoch, peak RSS, ratio, recommend s).
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _epoch_timing import compare_epochs, shuffled_batches, synchronize  # noqa: E402
from large_sparse_memory import peak_rss_mib, reset_peak  # noqa: E402

ML20M_USERS, ML20M_ITEMS, ML20M_INTERACTIONS = 138_493, 26_744, 20_000_263
ONE_EPOCH = {"max_epochs": 1, "early_stopping": False, "verbose": 0}


def _registered(name: str) -> Callable:
    def build(seed: int, args):
        from sklearn_recae.registry import get_model_spec

        return get_model_spec(name).factory(seed, 0)

    return build


def _mml(seed: int, args):
    from sklearn_recae.metric_learning import MagneticMetricLearning

    return MagneticMetricLearning(random_state=seed)


def _ease(seed: int, args):
    from sklearn_recae.linear import EASE

    return EASE(max_memory_gb=args.ease_max_memory_gb)


#: Benchmark name -> ``build(seed, args)``: the model with its defaults.
MODELS: dict[str, Callable] = {
    "multvae": _registered("multvae"),
    "mult-dae": _registered("mult-dae"),
    "recvae": _registered("recvae"),
    "mil-dae": _registered("mil-lin-sig"),
    "cdae": _registered("cdae"),
    "u-autorec": _registered("u-autorec"),
    "i-autorec": _registered("i-autorec"),
    "mml": _mml,
    "ease": _ease,
}


def ml20m_shaped(fraction: float = 1.0, seed: int = 0) -> sp.csr_matrix:
    """The ML-20M-shaped matrix, or ``fraction`` of its users and interactions (all items)."""
    from sklearn_recae.datasets import make_power_law_interactions

    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}.")
    n_users = max(1, round(ML20M_USERS * fraction))
    n_interactions = max(20 * n_users, round(ML20M_INTERACTIONS * fraction))
    return make_power_law_interactions(n_users, ML20M_ITEMS, n_interactions, random_state=seed)


def one_epoch(estimator, device: str = "cpu"):
    """``estimator`` set to train one epoch on ``device`` (and an ``ItemBased``'s inner model)."""
    inner = getattr(estimator, "estimator", estimator)
    params = inner.get_params()
    inner.set_params(**{k: v for k, v in {**ONE_EPOCH, "device": device}.items() if k in params})
    return estimator


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(name: str, X: sp.csr_matrix, k: int, seed: int, args) -> dict:
    """Fit one epoch and recommend ``k`` items to every row of ``X``; seconds and memory."""
    import torch

    torch.set_num_threads(1)
    gc.collect()
    reset_peak()
    row = {"data_mib": _status_mib("VmRSS")}
    estimator = one_epoch(MODELS[name](seed, args), args.device)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # U-AutoRec warns that binary input is not ratings
            estimator.fit(X)
    except ValueError as error:  # EASE's memory budget
        row.update(error=str(error).split(". ")[0], peak_rss_mib=peak_rss_mib())
        return row
    fit_s = time.perf_counter() - start
    inner = getattr(estimator, "estimator_", estimator)
    history = getattr(getattr(inner, "net_", None), "history", None)
    row["s_per_epoch"] = float(np.mean(history[:, "dur"])) if history else fit_s
    row["fit_s"] = fit_s
    start = time.perf_counter()
    top = estimator.recommend(X, k=k)
    row["recommend_s"] = time.perf_counter() - start
    row["recommend_shape"] = list(top.shape)
    row["peak_rss_mib"] = peak_rss_mib()
    if args.device.startswith("cuda"):
        row["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return row


def _child(queue, function, *args) -> None:
    try:
        queue.put(function(*args))
    except BaseException as error:  # report, never hang the parent
        queue.put({"error": f"{type(error).__name__}: {error}"})


def in_child(function: Callable, *args):
    """``function(*args)`` in a forked child process: its own peak RSS, the data shared
    copy-on-write, and a parent that never runs torch (forking after it did is unsafe)."""
    context = mp.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue, function, *args))
    process.start()
    result = queue.get()
    process.join()
    return result


def multvae_hand_epochs(X: sp.csr_matrix, epochs: int, seed: int,
                        device: str = "cpu") -> list[float]:
    """Seconds per epoch of a plain torch loop over the package's ``MultVAEModule``.

    The same math as ``MultVAE``'s defaults: multinomial log-likelihood of the
    batch plus β times the mean KL, β annealed linearly per step over 50
    epochs' steps up to 0.2, Adam (lr 1e-3, weight decay 4e-5), batch 500.
    """
    import torch

    from sklearn_recae.autoencoder import MultVAE
    from sklearn_recae.autoencoder._mult_vae import ANNEAL_EPOCHS
    from sklearn_recae.nn.vae import MultVAEModule

    torch.manual_seed(seed)
    defaults = MultVAE()
    module = MultVAEModule(X.shape[1], defaults.hidden_units, defaults.dropout).to(device).train()
    optimizer = torch.optim.Adam(module.parameters(), lr=defaults.lr,
                                 weight_decay=defaults.weight_decay)
    total_steps = ANNEAL_EPOCHS * -(-X.shape[0] // defaults.batch_size)
    step, times = 0, []
    for _ in range(epochs):
        start = time.perf_counter()
        for x in shuffled_batches(X, defaults.batch_size):
            x = x.to(device)
            logits, kl = module(x)
            beta = defaults.beta_max * min(1.0, step / total_steps)
            loss = -(torch.log_softmax(logits, 1) * x).sum(1).mean() + beta * kl.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def estimator_epochs(name: str, X: sp.csr_matrix, epochs: int, seed: int,
                     device: str = "cpu") -> list[float]:
    """Seconds per epoch of the registered estimator (no validation split: the same work)."""
    estimator = one_epoch(MODELS[name](seed, None), device).set_params(max_epochs=epochs)
    # the hand-written loops densify each batch: compare the estimator's dense path with them
    estimator.set_params(sparse_input=False)
    if name == "u-autorec":
        estimator.set_params(dropout=0.0)  # the hand-written loop does not mask its input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X)
    return list(estimator.history_[:, "dur"])


def hand_loop_ratio(name: str, X: sp.csr_matrix, epochs: int, repeats: int,
                    device: str = "cpu") -> float:
    """Estimator / hand-written loop seconds per epoch for ``multvae`` or ``u-autorec``."""
    import torch

    if name == "multvae":
        loop = lambda e, s: multvae_hand_epochs(X, e, s, device)  # noqa: E731
    elif name == "u-autorec":
        from autorec_epoch_overhead import hand_written_epochs

        from sklearn_recae.autoencoder import AutoRec

        alpha = AutoRec().alpha
        loop = lambda e, s: hand_written_epochs(X, e, alpha, s, device)  # noqa: E731
    else:
        raise ValueError(f"no hand-written loop for {name!r}; use multvae or u-autorec.")
    torch.set_num_threads(1)
    return compare_epochs(name, loop, lambda e, s: estimator_epochs(name, X, e, s, device),
                          epochs=epochs, repeats=repeats)


def format_table(rows: list[dict]) -> str:
    """The markdown table of the results (with the GPU's peak allocation on CUDA)."""
    gpu = any("gpu_peak_mib" in r for r in rows)
    lines = ["| model | s/epoch | peak RSS MiB (data) | " + ("GPU peak MiB | " if gpu else "")
             + "ratio to hand loop | recommend@100 all rows s |",
             "|---|---|---|" + ("---|" if gpu else "") + "---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | refused or failed: {r['error']} | | | |")
            continue
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else "-"
        gpu_peak = f"{r.get('gpu_peak_mib', float('nan')):.0f} | " if gpu else ""
        lines.append(f"| {r['model']} | {r['s_per_epoch']:.1f} | {r['peak_rss_mib']:.0f} "
                     f"({r['data_mib']:.0f}) | {gpu_peak}{ratio} | {r['recommend_s']:.1f} |")
    return "\n".join(lines)


def run(args) -> list[dict]:
    """Generate the data, measure every model of ``args.models``; the result rows."""
    start = time.perf_counter()
    X = ml20m_shaped(args.fraction, args.seed)
    print(f"data: {X.shape[0]} x {X.shape[1]}, {X.nnz} interactions, "
          f"generated in {time.perf_counter() - start:.1f} s", flush=True)
    rows = []
    for name in args.models:
        row = {"model": name, **in_child(measure, name, X, args.k, args.seed, args)}
        if args.ratio and name in ("multvae", "u-autorec") and "error" not in row:
            ratio = in_child(hand_loop_ratio, name, X, args.ratio_epochs, args.ratio_repeats,
                             args.device)
            row.update({"ratio_error": ratio["error"]} if isinstance(ratio, dict)
                       else {"ratio": ratio})
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="share of the users (and interactions) to generate; all items")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ratio", action="store_true",
                        help="also time Mult-VAE / U-AutoRec against a hand-written loop")
    parser.add_argument("--ratio-epochs", type=int, default=2)
    parser.add_argument("--ratio-repeats", type=int, default=1)
    parser.add_argument("--ease-max-memory-gb", type=float, default=4.0)
    parser.add_argument("--device", default="cpu",
                        help="torch device of every model and hand-written loop (e.g. cuda)")
    parser.add_argument("--output", type=Path, default=None, help="write the rows as JSON")
    args = parser.parse_args(argv)
    if args.ratio and args.ratio_epochs < 2:
        parser.error("--ratio-epochs must be >= 2 (the first epoch of each run is dropped)")
    return args


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: set OMP_NUM_THREADS=1 for comparable numbers", file=sys.stderr)
    rows = run(args)
    print(format_table(rows))
    if args.output is not None:
        args.output.write_text(json.dumps({"fraction": args.fraction, "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
