"""Row-block helpers of the serving loop and the training glue: slicing, densifying, masking.

Work is done in row blocks so that memory is bounded by ``batch_size ×
n_items``: :func:`iter_row_blocks` slices a CSR matrix, :func:`csr_to_torch`
and :func:`dense_rows` turn a block into a tensor (one reused buffer inside
:func:`reused_row_buffer`), :func:`mask_seen_` masks each row's observed items.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch

__all__ = [
    "csr_to_torch",
    "dense_rows",
    "iter_row_blocks",
    "mask_seen_",
    "reused_row_buffer",
]


def csr_to_torch(X: sp.csr_matrix) -> torch.Tensor:
    """Convert a canonical CSR block to a coalesced sparse COO tensor (CPU, float32)."""
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
    indices = torch.from_numpy(np.vstack([rows, X.indices.astype(np.int64, copy=False)]))
    values = torch.from_numpy(np.asarray(X.data, dtype=np.float32))
    return torch.sparse_coo_tensor(
        indices, values, X.shape, is_coalesced=True, check_invariants=False
    )


def iter_row_blocks(X: sp.csr_matrix, batch_size: int) -> Iterator[tuple[slice, sp.csr_matrix]]:
    """Yield ``(rows, X[rows])`` for consecutive slices of at most ``batch_size`` rows."""
    for start in range(0, X.shape[0], batch_size):
        rows = slice(start, min(start + batch_size, X.shape[0]))
        yield rows, X[rows]


_ROW_BUFFER = threading.local()


@contextlib.contextmanager
def reused_row_buffer() -> Iterator[None]:
    """Within the block, :func:`dense_rows` densifies every row block into one reused tensor.

    ``predict`` and ``recommend`` enter it: a fresh ``batch × n_items`` tensor
    per batch (50 MB at 500 × 26,744) is mapped by the allocator and
    page-faulted in anew each time; one buffer, allocated for the first
    (largest) block, is faulted in once. Thread-local, so concurrent calls
    never share a buffer.
    """
    previous = getattr(_ROW_BUFFER, "slot", None)
    _ROW_BUFFER.slot = {}
    try:
        yield
    finally:
        _ROW_BUFFER.slot = previous


def dense_rows(block: sp.csr_matrix, device) -> torch.Tensor:
    """The rows of a canonical CSR block as a dense float32 tensor on ``device``.

    Inside :func:`reused_row_buffer` the result is a view of the one reused
    buffer, valid until the next call: the caller must not keep it, nor
    return it as scores. Elsewhere it is a new tensor.
    """
    slot = getattr(_ROW_BUFFER, "slot", None)
    if slot is None:
        return csr_to_torch(block).to(device).to_dense()
    n_rows, n_cols = block.shape
    buffer = slot.get("buffer")
    if (buffer is None or buffer.shape[0] < n_rows or buffer.shape[1] != n_cols
            or buffer.device != torch.device(device)):
        buffer = slot["buffer"] = torch.empty((n_rows, n_cols), dtype=torch.float32,
                                              device=device)
    out = buffer[:n_rows].zero_()
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(block.indptr))
    index = (torch.from_numpy(rows).to(device),
             torch.from_numpy(block.indices.astype(np.int64, copy=False)).to(device))
    out.index_put_(index, torch.from_numpy(np.asarray(block.data, dtype=np.float32)).to(device))
    return out


def mask_seen_(scores: torch.Tensor, block: sp.csr_matrix, *, item_major: bool = False) -> torch.Tensor:
    """Set the scores of each row's observed items (the stored entries of ``block``) to ``-inf``.

    In place; ``scores`` may be a view. ``block`` holds the observations of
    the scored rows and items (``scores``' shape), or with ``item_major``
    their transpose (items × rows, as ``ItemBased`` scores them).
    """
    major = np.repeat(np.arange(block.shape[0], dtype=np.int64), np.diff(block.indptr))
    minor = block.indices.astype(np.int64, copy=False)
    rows, columns = (minor, major) if item_major else (major, minor)
    device = scores.device
    scores[torch.from_numpy(rows).to(device), torch.from_numpy(columns).to(device)] = -torch.inf
    return scores
