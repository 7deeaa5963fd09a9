"""The behaviour suite every recommender runs (imported by test_common.py).

Modelled on implicit's ``tests/recommender_base_test.py``: a block-structured
(checkerboard) interaction matrix whose withheld in-block entries each model
must rank at the top, plus contract checks on shapes, dtypes, seen-item
exclusion, fold-in, explicit stored zeros, errors and input immutability.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def make_checkerboard(
    n_blocks: int = 4,
    rows_per_block: int = 30,
    items_per_block: int = 10,
    *,
    observed: float = 0.7,
    explicit: bool = True,
    off_block: float = 0.1,
    random_state: int = 0,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Return ``(X_train, X_withheld)`` of a block-diagonal preference matrix.

    Row ``u`` of block ``b`` likes exactly the items of block ``b``. A fraction
    ``observed`` of those entries is in ``X_train``, the rest in ``X_withheld``.
    With ``explicit=True`` liked entries are rated 5 and a fraction ``off_block``
    of the other entries is observed with rating 1 (an explicit model needs
    low ratings to learn contrast); implicit data holds ones only.
    """
    rng = np.random.RandomState(random_state)
    n_rows, n_items = n_blocks * rows_per_block, n_blocks * items_per_block
    row_block = np.arange(n_rows) // rows_per_block
    item_block = np.arange(n_items) // items_per_block
    liked = row_block[:, None] == item_block[None, :]
    keep = rng.rand(n_rows, n_items) < observed
    keep[np.arange(n_rows), item_block.searchsorted(row_block)] = True  # >= 1 seen per row
    train = np.where(liked & keep, 5.0 if explicit else 1.0, 0.0)
    if explicit:
        train[~liked & (rng.rand(n_rows, n_items) < off_block)] = 1.0
    withheld = np.where(liked & ~keep, 1.0, 0.0)
    return sp.csr_matrix(train, dtype=np.float32), sp.csr_matrix(withheld, dtype=np.float32)


def precision_of_withheld(recommended: np.ndarray, withheld: sp.csr_matrix) -> float:
    """Fraction of recommended items (over rows with withheld items) that are withheld ones."""
    hits, total = 0, 0
    for row, items in enumerate(recommended):
        truth = set(withheld.indices[withheld.indptr[row] : withheld.indptr[row + 1]])
        if truth:
            k = min(len(truth), len(items))
            hits += len(truth.intersection(items[:k]))
            total += k
    return hits / total
