"""Data glue for skorch: CSR row batches, their collate functions and entry-level splits.

skorch's own sparse path densifies one row at a time on the CPU and builds COO
tensors from ``X.nonzero()``, which disagrees with ``X.data`` when a CSR
matrix stores explicit zeros. Here instead:

- :class:`CSRRows` yields whole batches (``__getitems__``): the CSR rows of a
  batch, sliced once; :class:`UserCSRRows` adds each batch's row indices
  (the users of CDAE's user node and of the metric models);
- :func:`collate_csr` / :func:`collate_user_csr` turn the blocks into sparse
  COO tensors, which skorch moves to the device, where the nets densify them;
- :class:`EntryHoldoutSplit` is the entry-level validation split (a fraction
  of the training *entries*, not rows) used for early stopping, and
  :class:`FixedEntrySplit` scores a given held-out matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch

from .._blocks import csr_to_torch

__all__ = [
    "CSRRows",
    "EntryHoldoutSplit",
    "FixedEntrySplit",
    "UserCSRRows",
    "collate_csr",
    "collate_user_csr",
    "csr_to_torch",
    "densify",
]


def densify(x: torch.Tensor) -> torch.Tensor:
    """Return ``x`` dense (on its own device); dense tensors pass through."""
    return x.to_dense() if x.layout != torch.strided else x


class CSRRows(torch.utils.data.Dataset):
    """Rows of an input CSR matrix with the matching rows of a target CSR matrix.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        Model input.
    y : scipy.sparse.csr_matrix of shape (n_rows, n_items), default=None
        Reconstruction target; ``X`` itself when None (plain autoencoders).
    rows : array-like of int, default=None
        The rows this dataset exposes; all rows when None.
    """

    def __init__(self, X: sp.csr_matrix, y: sp.csr_matrix | None = None, rows=None) -> None:
        self.X = X
        self.y = X if y is None else y
        self.rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int):
        return self.__getitems__([i])

    def __getitems__(self, indices: Sequence[int]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        rows = self.rows[np.asarray(indices)]
        X_block = self.X[rows]
        y_block = X_block if self.y is self.X else self.y[rows]
        return X_block, y_block


def collate_csr(batch: tuple[sp.csr_matrix, sp.csr_matrix]) -> tuple[torch.Tensor, torch.Tensor]:
    """Collate a ``CSRRows`` batch into a pair of sparse tensors."""
    X_block, y_block = batch
    X_t = csr_to_torch(X_block)
    return X_t, (X_t if y_block is X_block else csr_to_torch(y_block))



class UserCSRRows(CSRRows):
    """:class:`CSRRows` that also yields each batch's row indices.

    The row index of the matrix is the user index of CDAE's input node.
    Parameters as for :class:`CSRRows`.
    """

    @classmethod
    def from_rows(cls, dataset: CSRRows | None) -> UserCSRRows | None:
        """The same rows of the same matrices, with their indices (None passes through)."""
        if dataset is None or isinstance(dataset, cls):
            return dataset
        return cls(dataset.X, None if dataset.y is dataset.X else dataset.y, rows=dataset.rows)

    def __getitems__(
        self, indices: Sequence[int]
    ) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        rows = self.rows[np.asarray(indices)]
        X_block, y_block = super().__getitems__(indices)
        return X_block, y_block, rows


def collate_user_csr(batch) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Collate a :class:`UserCSRRows` batch into ``((x, users), y)``, ``x`` and ``y`` sparse."""
    X_block, y_block, rows = batch
    x = csr_to_torch(X_block)
    y = x if y_block is X_block else csr_to_torch(y_block)
    return (x, torch.from_numpy(np.asarray(rows, dtype=np.int64))), y


class FixedEntrySplit:
    """skorch ``train_split`` that scores a fixed held-out matrix.

    The training dataset is the one skorch is given (input = target = ``X``);
    the validation dataset feeds the same ``X`` as input and scores the stored
    entries of ``X_valid`` (rows with no held-out entry are left out of it).

    Parameters
    ----------
    X_valid : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        Held-out entries, disjoint from the training entries, of the training
        matrix's shape (the estimators check it at ``fit`` with
        :func:`~sklearn_recae.utils.validation.check_held_out`).
    """

    def __init__(self, X_valid: sp.csr_matrix) -> None:
        self.X_valid = X_valid

    def __call__(self, dataset: CSRRows, y=None, **fit_params) -> tuple[CSRRows, CSRRows]:
        valid_rows = np.flatnonzero(np.diff(self.X_valid.indptr))
        return CSRRows(dataset.X), CSRRows(dataset.X, self.X_valid, rows=valid_rows)


class EntryHoldoutSplit:
    """skorch ``train_split`` holding out a fraction of the training *entries*.

    The training dataset keeps the remaining entries as input and target; the
    validation dataset feeds the same remaining entries as input and scores the
    held-out ones, as :class:`FixedEntrySplit` does.

    Parameters
    ----------
    fraction : float
        Fraction of stored entries held out, in (0, 1).
    random_state : int
        Seed of the split.
    per_row : bool, default=False
        False: a uniform split of all entries (``train_test_split``, the
        explicit-rating protocol). True: ``fraction`` of each row's entries
        (``holdout_row_entries``, the implicit-feedback protocol).
    """

    def __init__(self, fraction: float, random_state: int, per_row: bool = False) -> None:
        self.fraction = fraction
        self.random_state = random_state
        self.per_row = per_row

    def __call__(self, dataset: CSRRows, y=None, **fit_params) -> tuple[CSRRows, CSRRows]:
        from ..model_selection import holdout_row_entries, train_test_split

        if self.per_row:
            X_fit, X_valid = holdout_row_entries(
                dataset.X, self.fraction, random_state=self.random_state
            )
        else:
            X_fit, X_valid = train_test_split(
                dataset.X, test_size=self.fraction, random_state=self.random_state
            )
        return FixedEntrySplit(X_valid)(CSRRows(X_fit))
