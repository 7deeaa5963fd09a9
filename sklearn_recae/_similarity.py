"""Item-item similarity: the one implementation behind every model's ``similar_items``.

A model that has an item representation says what it is with an
:class:`ItemSimilarity` (its ``_item_similarity`` hook): item vectors and how
to compare them. :func:`top_similar_items` ranks every item against blocks of
query items, an item never being its own neighbour; memory is one
``(block, n_items)`` score block at a time, never the ``n_items × n_items``
similarity matrix (EASE's, which the model holds anyway, is read by columns).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["SIMILARITY_KINDS", "ItemSimilarity", "top_similar_items"]

#: How the vectors of :class:`ItemSimilarity` are compared.
SIMILARITY_KINDS = ("cosine", "neg_squared_euclidean", "columns")


class ItemSimilarity(NamedTuple):
    """An item representation and its similarity, as a model's ``_item_similarity`` returns it.

    Attributes
    ----------
    vectors : torch.Tensor, ndarray or scipy sparse matrix of shape (n_items, n_dims)
        Row ``j`` is item ``j``'s vector; with ``kind="columns"`` an
        ``(n_items, n_items)`` matrix whose column ``q`` holds every item's
        similarity to item ``q``. Never modified.
    kind : {"cosine", "neg_squared_euclidean", "columns"}
        ``"cosine"``: cosine similarity of the rows (a zero vector is
        similar to nothing: 0); ``"neg_squared_euclidean"``: minus the
        squared Euclidean distance of the rows (dense only); ``"columns"``:
        the matrix's columns are the similarities.
    """

    vectors: torch.Tensor | np.ndarray | sp.spmatrix
    kind: str


def _prepared(similarity: ItemSimilarity):
    """The vectors in the form the blocks read: unit rows for cosine, a tensor when dense."""
    vectors, kind = similarity
    if kind not in SIMILARITY_KINDS:
        raise ValueError(f"Unknown similarity kind {kind!r}; expected one of {SIMILARITY_KINDS}.")
    if sp.issparse(vectors):
        if kind != "cosine":
            raise ValueError(f"Sparse item vectors support kind='cosine' only, not {kind!r}.")
        vectors = sp.csr_matrix(vectors, dtype=np.float32, copy=True)
        norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
        unit = (sp.diags(1.0 / np.maximum(norms, 1e-12)) @ vectors).tocsr()
        return unit, unit.T.tocsr()
    if kind == "columns":
        return vectors
    vectors = torch.as_tensor(vectors).detach().float()
    if kind == "cosine":
        vectors = vectors / torch.linalg.vector_norm(vectors, dim=1, keepdim=True).clamp(min=1e-12)
    return vectors


def _score_block(prepared, kind: str, queries: np.ndarray) -> torch.Tensor:
    """The ``(len(queries), n_items)`` similarities of ``queries`` to every item (a new tensor)."""
    if kind == "columns":
        return torch.from_numpy(np.array(prepared[:, queries].T, dtype=np.float32))
    if isinstance(prepared, tuple):  # sparse unit rows and their transpose
        unit, unit_t = prepared
        block = (unit[queries] @ unit_t).toarray()
        return torch.from_numpy(np.asarray(block, dtype=np.float32))
    index = torch.as_tensor(queries, device=prepared.device)
    if kind == "cosine":
        return prepared[index] @ prepared.T
    return torch.cdist(prepared[index], prepared).square_().neg_()


def top_similar_items(
    similarity: ItemSimilarity, queries: np.ndarray, k: int, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar items of each query item, most similar first.

    Parameters
    ----------
    similarity : ItemSimilarity
        The model's item vectors and their similarity.
    queries : ndarray of int64 of shape (n_queries,)
        Checked item indices.
    k : int
        Checked: ``1 <= k <= n_items - 1``.
    batch_size : int
        Query items per block; a block's scores are ``batch_size × n_items``.

    Returns
    -------
    items : ndarray of shape (n_queries, k), dtype int64
        Never the query item itself.
    scores : ndarray of shape (n_queries, k), dtype float32
        The similarity of each returned item to its query item.
    """
    prepared = _prepared(similarity)
    out_items = np.empty((queries.size, k), dtype=np.int64)
    out_scores = np.empty((queries.size, k), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, queries.size, batch_size):
            block = queries[start : start + batch_size]
            scores = _score_block(prepared, similarity.kind, block)
            rows = torch.arange(block.size, device=scores.device)
            scores[rows, torch.as_tensor(block, device=scores.device)] = -torch.inf
            top = torch.topk(scores, k, dim=1)
            out_items[start : start + block.size] = top.indices.cpu().numpy()
            out_scores[start : start + block.size] = top.values.cpu().numpy()
    return out_items, out_scores
