"""Triplet sampling for the metric-learning recommenders, vectorized with numpy.

- :func:`jaccard_similar_pairs`: the "similar" user (or item) pairs of MML's
  latent loss (eq. 10), from a blocked sparse co-occurrence product, never a
  dense ``n × n`` matrix;
- :class:`StoredEntries`: constant-time-per-query membership of ``(row, col)``
  pairs in a sparse matrix (binary search over sorted linear keys);
- :class:`TripletSampler`: a torch ``Dataset`` of the positive pairs of a
  matrix whose batches (``__getitems__``) carry freshly sampled negative and
  latent candidates, one numpy call per array, no per-triplet Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["StoredEntries", "TripletSampler", "collate_triplets", "jaccard_similar_pairs"]

#: Stored entries of one block of the co-occurrence product (bounds its memory).
_BLOCK_ENTRIES = 1 << 24
#: Up to this many stored entries, StoredEntries searches all of them at once (cache-resident).
_GLOBAL_SEARCH_ENTRIES = 1 << 20
#: Chunks of rows whose transposes the Jaccard search makes once (a block meets the later ones).
_CHUNKS = 16


def jaccard_similar_pairs(
    X: sp.csr_matrix, threshold: float, *, block_entries: int = _BLOCK_ENTRIES
) -> sp.csr_matrix:
    """Pairs of rows whose item sets have a Jaccard similarity above ``threshold``.

    ``J(a, b) = |list(a) ∩ list(b)| / |list(a) ∪ list(b)|`` over the stored
    entries of the rows (MML's eq. 10). Only pairs that share an item can
    pass (``threshold >= 0``), so the intersections come from the sparse
    product ``B[rows] B[rows']ᵀ`` of the binary matrix ``B``, computed for
    blocks of rows whose product has at most about ``block_entries`` entries
    and only against the rows ``rows' >= rows`` (each pair once: the rows
    are cut into chunks whose transposes are made once, and a block meets
    its own chunk and the later ones); each block is thresholded before the
    next is made, and the pairs are mirrored at the end.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_cols)
        Interactions (stored entries are the lists). Rows for users, or
        ``X.T.tocsr()`` for items.
    threshold : float
        ``θ`` in [0, 1): pairs with ``J > θ`` are similar.
    block_entries : int, default=2**24
        Bound on the entries of one block's product.

    Returns
    -------
    similar : scipy.sparse.csr_matrix of shape (n_rows, n_rows), dtype bool
        Symmetric, sorted indices, no diagonal.
    """
    n_rows = X.shape[0]
    binary = sp.csr_matrix((np.ones(X.nnz, dtype=np.float32), X.indices, X.indptr),
                           shape=X.shape)
    counts = np.diff(binary.indptr)
    block_rows = max(1, block_entries // max(1, n_rows))
    chunk_rows = max(block_rows, -(-n_rows // _CHUNKS))  # whole blocks per chunk
    chunk_rows = -(-chunk_rows // block_rows) * block_rows
    chunks = [(start, binary[start : start + chunk_rows].T.tocsr())
              for start in range(0, n_rows, chunk_rows)]
    rows_out, cols_out = [], []
    for start in range(0, n_rows, block_rows):
        block = binary[start : start + block_rows]
        for chunk_start, chunk_t in chunks:
            if chunk_start + chunk_t.shape[1] <= start:  # rows before the block: met already
                continue
            product = (block @ chunk_t).tocoo()
            rows, cols = product.row + start, product.col + chunk_start
            union = counts[rows] + counts[cols] - product.data
            keep = (product.data > threshold * union) & (rows < cols)
            rows_out.append(rows[keep])
            cols_out.append(cols[keep])
    rows = np.concatenate(rows_out) if rows_out else np.empty(0, dtype=np.int64)
    cols = np.concatenate(cols_out) if cols_out else np.empty(0, dtype=np.int64)
    similar = sp.csr_matrix((np.ones(2 * rows.size, dtype=bool),
                             (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
                            shape=(n_rows, n_rows))
    similar.sort_indices()
    return similar


class StoredEntries:
    """Which ``(row, col)`` pairs are stored entries of a sparse matrix.

    Up to ``_GLOBAL_SEARCH_ENTRIES`` stored entries, one ``searchsorted``
    over the sorted linear keys ``row * n_cols + col`` (they fit in the
    cache); beyond, a query is a binary search within its row of the CSR
    structure (all the queries at once, one vectorized step per halving):
    ``log2`` of the longest row's length steps over the row's few entries,
    where a search of every stored entry misses the cache at every step
    (2.1 against 1.0 ms per 5,120 queries at 20M entries).

    Parameters
    ----------
    X : scipy.sparse.csr_matrix
        Canonical CSR (sorted indices, no duplicates).
    """

    def __init__(self, X: sp.csr_matrix) -> None:
        self.indptr = X.indptr.astype(np.int64)
        self.indices = X.indices.astype(np.int64)
        lengths = np.diff(self.indptr)
        self.steps = int(lengths.max()).bit_length() if lengths.size else 0
        self.n_cols, self.keys = X.shape[1], None
        if X.nnz <= _GLOBAL_SEARCH_ENTRIES:
            rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), lengths)
            self.keys = rows * self.n_cols + self.indices

    def contains(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Boolean array (broadcast shape of ``rows`` and ``cols``): stored or not."""
        rows, cols = np.broadcast_arrays(np.asarray(rows, dtype=np.int64),
                                         np.asarray(cols, dtype=np.int64))
        if self.indices.size == 0:
            return np.zeros(rows.shape, dtype=bool)
        if self.keys is not None:
            query = rows * self.n_cols + cols
            position = np.searchsorted(self.keys, query).clip(max=self.keys.size - 1)
            return self.keys[position] == query
        low, end = self.indptr[rows], self.indptr[rows + 1]
        high = end.copy()
        last = self.indices.size - 1
        for _ in range(self.steps):  # lower bound of cols in indices[low:high]
            middle = (low + high) >> 1
            right = (low < high) & (self.indices[np.minimum(middle, last)] < cols)
            low = np.where(right, middle + 1, low)
            high = np.where(right, high, np.minimum(high, middle))
        return (low < end) & (self.indices[np.minimum(low, last)] == cols)


def _sample_neighbour(similar: sp.csr_matrix, anchors: np.ndarray, rng) -> tuple:
    """One uniformly drawn similar entity per anchor, and whether the anchor has any."""
    degree = np.diff(similar.indptr)[anchors]
    has = degree > 0
    offset = (rng.random(anchors.size) * degree).astype(np.int64)
    position = np.where(has, similar.indptr[anchors] + offset, 0)
    neighbours = similar.indices[position] if similar.nnz else np.zeros(anchors.size, np.int64)
    return np.where(has, neighbours, 0).astype(np.int64), has


class TripletSampler(torch.utils.data.Dataset):
    """The positive pairs of a matrix, with sampled candidates for the triplet losses.

    Item ``i`` of the dataset is the ``i``-th stored positive entry ``(a, c)``
    (``X[a, c] > 0``); a batch (``__getitems__``) adds ``n_candidates``
    uniformly drawn users ``b`` and items ``d`` per pair, flagged valid when
    ``X[b, c]`` and ``X[a, d]`` are not stored (``r = 0``), and, when
    similar-pair matrices are given, one similar user of ``a`` and one
    similar item of ``c`` with ``n_candidates`` candidates each for the
    dissimilar one (valid: not similar, not the anchor itself).

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Training interactions.
    n_candidates : int
        Candidates drawn for each negative (the hardest valid one is used).
    similar_users, similar_items : scipy.sparse.csr_matrix or None
        From :func:`jaccard_similar_pairs`; None leaves the latent keys out, and a
        batch leaves out a kind's keys when none of its anchors has a similar one
        (decided on the host, so the loss never reads a device flag back).
    random_state : int
        Seed of the sampling.
    """

    def __init__(
        self,
        X: sp.csr_matrix,
        n_candidates: int,
        *,
        similar_users: sp.csr_matrix | None = None,
        similar_items: sp.csr_matrix | None = None,
        random_state: int = 0,
    ) -> None:
        positive = X.data > 0
        rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
        self.users, self.items = rows[positive], X.indices[positive].astype(np.int64)
        self.n_users, self.n_items = X.shape
        self.n_candidates = n_candidates
        self.stored = StoredEntries(X)
        self.latent = None
        if similar_users is not None and similar_items is not None:
            self.latent = {"user": (similar_users, StoredEntries(similar_users), self.n_users),
                           "item": (similar_items, StoredEntries(similar_items), self.n_items)}
        self.rng = np.random.default_rng(random_state)

    def __len__(self) -> int:
        return self.users.size

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        return self.__getitems__([i])

    def __getitems__(self, indices: Sequence[int]) -> dict[str, np.ndarray]:
        indices = np.asarray(indices)
        users, items = self.users[indices], self.items[indices]
        shape = (indices.size, self.n_candidates)
        neg_users = self.rng.integers(0, self.n_users, shape)
        neg_items = self.rng.integers(0, self.n_items, shape)
        batch = {
            "users": users, "items": items,
            "neg_users": neg_users,
            "neg_users_valid": ~self.stored.contains(neg_users, items[:, None]),
            "neg_items": neg_items,
            "neg_items_valid": ~self.stored.contains(users[:, None], neg_items),
        }
        if self.latent is not None:
            for kind, anchors in (("user", users), ("item", items)):
                similar, stored, n = self.latent[kind]
                neighbours, has_similar = _sample_neighbour(similar, anchors, self.rng)
                candidates = self.rng.integers(0, n, shape)  # drawn either way: one rng stream
                if not has_similar.any():  # decided here, on the host: no device sync per step
                    continue
                batch[f"similar_{kind}s"], batch[f"has_similar_{kind}"] = neighbours, has_similar
                batch[f"dissimilar_{kind}s"] = candidates
                batch[f"dissimilar_{kind}s_valid"] = (
                    ~stored.contains(anchors[:, None], candidates) & (candidates != anchors[:, None])
                )
        return batch


def collate_triplets(batch: dict[str, np.ndarray]) -> tuple[dict[str, torch.Tensor], None]:
    """A :class:`TripletSampler` batch as skorch's ``(X, y)``: a dict of tensors and no target."""
    return {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in batch.items()}, None
