"""Shared by the epoch-overhead benchmarks: interleaved timing of an estimator and a torch loop."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp
import torch


def compare_epochs(
    name: str, loop: Callable[[int, int], list[float]], estimator: Callable[[int, int], list[float]],
    *, epochs: int, repeats: int,
) -> float:
    """Print and return the ratio of median seconds per epoch, estimator / hand-written loop.

    ``loop(epochs, seed)`` and ``estimator(epochs, seed)`` return seconds per
    epoch; they run interleaved (so machine noise hits both) and the first
    (warm-up) epoch of each run is dropped.
    """
    loop_times, est_times = [], []
    for repeat in range(repeats):
        loop_times += loop(epochs, repeat)[1:]
        est_times += estimator(epochs, repeat)[1:]
    loop_s, est_s = statistics.median(loop_times), statistics.median(est_times)
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"hand-written loop : {loop_s * 1e3:8.1f} ms/epoch (median of {len(loop_times)})")
    print(f"{name:<18}: {est_s * 1e3:8.1f} ms/epoch (median of {len(est_times)})")
    print(f"ratio estimator / loop: {est_s / loop_s:.2f}")
    return est_s / loop_s


def synchronize(device: str) -> None:
    """Wait for the device's queued work (a no-op on CPU), so a timer reads finished work."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def training_epoch_seconds(device: str = "cpu"):
    """Record (wall s, CPU s) of every training epoch the package's nets run in the block."""
    from sklearn_recae._skorch import RecommenderNet

    run = RecommenderNet.run_single_epoch
    epochs: list[tuple[float, float]] = []

    def timed(self, iterator, training, *args, **kwargs):
        if not training:
            return run(self, iterator, training, *args, **kwargs)
        synchronize(device)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return run(self, iterator, training, *args, **kwargs)
        finally:
            synchronize(device)
            epochs.append((time.perf_counter() - wall, time.process_time() - cpu))

    RecommenderNet.run_single_epoch = timed
    try:
        yield epochs
    finally:
        RecommenderNet.run_single_epoch = run


def shuffled_batches(R: np.ndarray | sp.csr_matrix, batch_size: int) -> Iterator[torch.Tensor]:
    """Dense float32 row batches of ``R`` in a ``torch.randperm`` order (one epoch).

    A dense ``R`` is indexed (the cheapest input path, for data that fits in
    memory densified); a CSR ``R`` is sliced and each batch densified, as
    large data must be.
    """
    order = torch.randperm(R.shape[0])
    if sp.issparse(R):
        for batch in order.split(batch_size):
            yield torch.from_numpy(R[batch.numpy()].toarray())
        return
    D = torch.from_numpy(R)
    for batch in order.split(batch_size):
        yield D[batch]
