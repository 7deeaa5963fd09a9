"""Peak memory of ``predict``/``recommend`` on a 200,000 x 50,000 sparse matrix.

The matrix holds ~1M entries; densified whole it would take 40 GB (float32),
more than this machine has. One AutoRec is fitted on a slice of the rows (the
point here is inference memory, not training quality), then:
- ``predict`` on a few rows,
- ``recommend(k=10)`` on a few rows and on all 200,000 rows,
each in a fresh child process. The table gives the resident memory once the
model and the data are loaded, and the peak above it during the call
(VmHWM, reset just before the call).

Run:  python benchmarks/large_sparse_memory.py [--rows 200000] [--items 50000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status (Linux only)")


def reset_peak() -> None:
    """Reset this process's peak resident memory (VmHWM) to its current RSS (Linux)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss_mib() -> float:
    """Peak resident memory (VmHWM) since the last :func:`reset_peak`.

    Not ``getrusage``'s ``ru_maxrss``: Linux keeps that across ``execve``, so a
    spawned child would report its parent's peak.
    """
    return _status_mib("VmHWM")


def make_matrix(n_rows: int, n_items: int, nnz: int, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_rows, nnz)
    cols = (rng.pareto(1.2, nnz) * 50).astype(np.int64) % n_items  # popular items
    vals = rng.integers(1, 6, nnz).astype(np.float32)
    X = sp.csr_matrix((vals, (rows, cols)), shape=(n_rows, n_items))
    X.data[:] = np.minimum(X.data, 5)
    return X


def _phase(args):
    model_path, data_path, what, n_rows, queue = args
    import torch

    torch.set_num_threads(2)
    model = pickle.loads(Path(model_path).read_bytes())
    X = sp.load_npz(data_path)[:n_rows]
    loaded = _status_mib("VmRSS")
    reset_peak()
    start = time.perf_counter()
    out = model.predict(X) if what == "predict" else model.recommend(X, k=10)
    seconds = time.perf_counter() - start
    queue.put((what, n_rows, out.shape, loaded, peak_rss_mib() - loaded, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--nnz", type=int, default=1_000_000)
    parser.add_argument("--hidden-units", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    from sklearn_recae.autoencoder import AutoRec

    X = make_matrix(args.rows, args.items, args.nnz)
    print(f"X: {X.shape}, {X.nnz:,} entries, {X.data.nbytes + X.indices.nbytes + X.indptr.nbytes >> 20} MiB as CSR;"
          f" dense would be {X.shape[0] * X.shape[1] * 4 / 2**30:.1f} GiB")
    model = AutoRec(hidden_units=(args.hidden_units,), batch_size=args.batch_size, max_epochs=1,
                    early_stopping=False, device="cpu", random_state=0).fit(X[:5000])
    with tempfile.TemporaryDirectory() as tmp:
        model_path, data_path = Path(tmp) / "model.pkl", Path(tmp) / "X.npz"
        model_path.write_bytes(pickle.dumps(model))
        sp.save_npz(data_path, X)
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        print(f"batch_size={args.batch_size}: one dense batch is "
              f"{args.batch_size * args.items * 4 / 2**20:.0f} MiB")
        print(f"{'method':<10}{'rows':>8}  {'output':<14}{'RSS loaded':>11}{'peak above':>12}{'seconds':>9}")
        for what, n in [("predict", 10), ("recommend", 10), ("recommend", args.rows)]:
            proc = ctx.Process(target=_phase, args=((model_path, data_path, what, n, queue),))
            proc.start()
            name, rows, shape, loaded, extra, secs = queue.get()
            proc.join()
            print(f"{name:<10}{rows:>8}  {str(shape):<14}{loaded:>9.0f}Mi{extra:>10.0f}Mi{secs:>9.1f}")


if __name__ == "__main__":
    main()
