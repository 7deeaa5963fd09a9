"""skorch glue of NRP: training batches of *entries*, not rows.

NRP predicts one rating per (user, item) entry from the user's rating row and
the item's rating column, so a training sample is an entry. The package's
:class:`~sklearn_recae._skorch.CSRRows` batches rows; here instead:

- :class:`EntryDataset` holds the input matrix (CSR for user rows and its
  transpose for item columns), the target entries and the side information;
  ``__getitems__`` gathers a batch's *distinct* user rows and item columns
  once (sparse blocks), with each entry's positions among them;
- :func:`collate_entries` turns them into an :class:`EntryBatch` of sparse
  tensors, which :meth:`EntryBatch.to` moves to the device and densifies there;
- :class:`~sklearn_recae._skorch.net.NRPNet` turns skorch's row datasets
  (the package's entry-level validation splits) into entry datasets and adds
  the reconstruction loss of the autoencoder structure. No epoch builds a
  dense users × items matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch

from .data import CSRRows, csr_to_torch

__all__ = ["EntryBatch", "EntryDataset", "collate_entries", "entry_values"]


def entry_values(X: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``X[rows[k], cols[k]]`` for every k (0 where nothing is stored), as float32."""
    if rows.size == 0:
        return np.zeros(0, dtype=np.float32)
    return np.asarray(X[rows, cols], dtype=np.float32).ravel()


class EntryBatch:
    """A batch of entries: distinct user rows and item columns plus per-entry indices.

    Attributes hold torch tensors (sparse for the matrix blocks until
    :meth:`to`); ``len(batch)`` is the number of entries (skorch reads it).
    """

    _dense = ("user_rows", "item_cols", "user_side", "item_side")
    _fields = (*_dense, "user_index", "item_index", "users", "items", "values",
               "distinct_users", "distinct_items")

    def __init__(self, **fields) -> None:
        for name in self._fields:
            setattr(self, name, fields.get(name))

    def __len__(self) -> int:
        return len(self.users)

    def to(self, device) -> EntryBatch:
        """A copy on ``device`` with the matrix blocks densified there."""
        moved = {}
        for name in self._fields:
            value = getattr(self, name)
            if value is not None:
                value = value.to(device)
                if name in self._dense and value.layout != torch.strided:
                    value = value.to_dense()
            moved[name] = value
        return EntryBatch(**moved)


class EntryDataset(torch.utils.data.Dataset):
    """Entries ``(rows[k], cols[k]) -> targets[k]`` read from an input matrix.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Encoder input: user ``u``'s row and item ``i``'s column.
    rows, cols : ndarray of int
        The entries.
    targets : ndarray of float32
        Their ratings.
    user_side, item_side : scipy.sparse.csr_matrix or None
        Side information aligned to the rows / columns of ``X``.
    X_items : scipy.sparse.csr_matrix, default=None
        ``X.T`` as CSR, when already computed (it is shared between datasets).
    """

    def __init__(self, X, rows, cols, targets, user_side=None, item_side=None,
                 X_items=None) -> None:
        self.X = X
        self.X_items = X.T.tocsr() if X_items is None else X_items
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.targets = np.asarray(targets, dtype=np.float32)
        self.values = entry_values(X, self.rows, self.cols)
        self.user_side = user_side
        self.item_side = item_side

    @classmethod
    def from_rows(cls, dataset: CSRRows, user_side, item_side, X_items=None) -> EntryDataset:
        """The entries of ``dataset.y`` in ``dataset.rows``, read from ``dataset.X``."""
        target = dataset.y.tocoo()
        keep = np.isin(target.row, dataset.rows) & (target.data != 0)
        return cls(dataset.X, target.row[keep], target.col[keep], target.data[keep],
                   user_side, item_side, X_items)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int):
        return self.__getitems__([i])

    def __getitems__(self, indices: Sequence[int]):
        idx = np.asarray(indices)
        users, items = self.rows[idx], self.cols[idx]
        distinct_users, user_index = np.unique(users, return_inverse=True)
        distinct_items, item_index = np.unique(items, return_inverse=True)
        blocks = {
            "user_rows": self.X[distinct_users],
            "item_cols": self.X_items[distinct_items],
            "user_side": None if self.user_side is None else self.user_side[distinct_users],
            "item_side": None if self.item_side is None else self.item_side[distinct_items],
        }
        arrays = {
            "user_index": user_index, "item_index": item_index, "users": users,
            "items": items, "values": self.values[idx], "distinct_users": distinct_users,
            "distinct_items": distinct_items,
        }
        return blocks, arrays, self.targets[idx]


def collate_entries(batch) -> tuple[EntryBatch, torch.Tensor]:
    """Collate an :class:`EntryDataset` batch into ``(EntryBatch, targets)``."""
    blocks, arrays, targets = batch
    fields = {name: None if block is None else csr_to_torch(block)
              for name, block in blocks.items()}
    fields.update({name: torch.from_numpy(np.ascontiguousarray(value))
                   for name, value in arrays.items()})
    return EntryBatch(**fields), torch.from_numpy(targets)
