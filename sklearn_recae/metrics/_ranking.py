"""Top-k ranking metrics against a sparse held-out matrix.

scikit-learn's ranking metrics (``ndcg_score``, ``top_k_accuracy_score``)
take dense score matrices and dense relevance; a recommender is evaluated on
lists of ``k`` item indices against the held-out entries of a sparse
``(n_rows, n_items)`` matrix, with the Mult-VAE normalisations (recall over
``min(k, |held-out|)``). No maintained library computes these on CSR input,
so they are written here, vectorised over rows.

Conventions shared by every function:

- ``y_true``: the held-out matrix; its stored non-zero entries are the
  relevant items (binary relevance: values are not used as grades).
- ``y_rec``: ``(n_rows, k')`` integer item indices, best first, without
  duplicates within a row (``estimator.recommend`` output).
- ``k``: cut-off; ``None`` means ``y_rec.shape[1]``; ``k > y_rec.shape[1]``
  is an error.
- Rows of ``y_true`` with no stored entry have no relevant item and are
  skipped: their per-row value is NaN and the mean is over the other rows.
  If no row has a held-out entry the mean raises ``ValueError``.
- ``average=True`` returns the mean over rows (a float); ``average=False``
  returns the per-row values, so a caller can accumulate exactly over row
  batches (``np.nansum`` and the count of non-NaN values).

Every metric ranks the whole catalogue: there are no *sampled* metrics
(ranking the held-out items among, say, 100 random unobserved ones), on
purpose. Krichene and Rendle (KDD 2020, "On Sampled Metrics for Item
Recommendation") show that sampled Recall/NDCG/MRR are inconsistent with
their exact values: they can order two models differently from the full
ranking, and the error depends on the sample size rather than on the models.
A model selected on a sampled metric may be the worse one, so none is offered.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ..utils.validation import as_real_array, check_interaction_matrix

__all__ = [
    "coverage",
    "hit_rate_at_k",
    "map_at_k",
    "ndcg_at_k",
    "novelty_weighted_map_at_k",
    "popularity_tail_shares",
    "precision_at_k",
    "recall_at_k",
]


def _check_recommendations(y_rec, n_items: int, k=None) -> np.ndarray:
    """Validate ``y_rec`` and return its first ``k`` columns as int64."""
    if sp.issparse(y_rec):
        raise TypeError("y_rec must be a dense array of item indices, not a sparse matrix.")
    y_rec = as_real_array(y_rec, "y_rec")
    if y_rec.ndim != 2:
        raise ValueError(f"y_rec must be a 2-d array of item indices, got shape {y_rec.shape}.")
    if y_rec.dtype.kind not in "iu":
        raise TypeError(f"y_rec must hold integer item indices, got dtype {y_rec.dtype}.")
    if k is None:
        k = y_rec.shape[1]
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer or None, got {type(k).__name__}.")
    if not 1 <= k <= y_rec.shape[1]:
        raise ValueError(
            f"k must be in [1, y_rec.shape[1]={y_rec.shape[1]}] (the length of the "
            f"recommendation lists), got k={k}."
        )
    y_rec = y_rec[:, :k].astype(np.int64)
    if y_rec.size and (y_rec.min() < 0 or y_rec.max() >= n_items):
        raise ValueError(f"y_rec holds item indices outside [0, n_items={n_items}).")
    ranked = np.sort(y_rec, axis=1)
    if np.any(ranked[:, 1:] == ranked[:, :-1]):
        raise ValueError("y_rec holds the same item twice in a row's top-k list.")
    return y_rec


def _hit_matrix(y_true, y_rec, k) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``y_true`` and return ``(hits, n_relevant)`` (see :func:`_hits`)."""
    return _hits(check_interaction_matrix(y_true, "y_true"), y_rec, k)


def _hits(y_true: sp.csr_matrix, y_rec, k) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(hits, n_relevant)`` for a validated canonical ``y_true``.

    ``hits[u, j]`` is True when the ``j``-th recommended item of row ``u`` is a
    stored entry of ``y_true``; ``n_relevant[u]`` counts the row's stored entries.
    """
    y_rec = _check_recommendations(y_rec, y_true.shape[1], k)
    if y_rec.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_true has {y_true.shape[0]} rows but y_rec has {y_rec.shape[0]} rows."
        )
    n_rows, n_items = y_true.shape
    n_relevant = np.diff(y_true.indptr)
    # canonical CSR: (row, item) keys of the stored entries are sorted
    true_keys = np.repeat(np.arange(n_rows, dtype=np.int64), n_relevant) * n_items + y_true.indices
    rec_keys = np.arange(n_rows, dtype=np.int64)[:, None] * n_items + y_rec
    if true_keys.size == 0:
        return np.zeros(y_rec.shape, dtype=bool), n_relevant
    pos = np.minimum(np.searchsorted(true_keys, rec_keys), true_keys.size - 1)
    return true_keys[pos] == rec_keys, n_relevant


def _ideal_hits(n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``min(k, |held-out|)``, at least 1 so skipped rows do not divide by zero."""
    return np.maximum(np.minimum(n_relevant, k), 1)


def _average(values: np.ndarray, n_relevant: np.ndarray, average: bool):
    """Set skipped rows (no held-out entry) to NaN; return the mean or the per-row array."""
    if not isinstance(average, (bool, np.bool_)):
        raise TypeError(f"average must be True or False, got {average!r}.")
    values = np.asarray(values, dtype=np.float64).copy()
    values[n_relevant == 0] = np.nan
    if not average:
        return values
    if np.all(np.isnan(values)):
        raise ValueError("No row of y_true has a held-out entry; the metric is undefined.")
    return float(np.nanmean(values))


def _average_precision(hits: np.ndarray, n_relevant: np.ndarray, weights=1.0) -> np.ndarray:
    """Per-row AP@k: sum over hits of precision@rank (times ``weights``) / min(k, |held-out|)."""
    k = hits.shape[1]
    precision = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return (precision * hits * weights).sum(axis=1) / _ideal_hits(n_relevant, k)


def recall_at_k(
    y_true: ArrayLike | sp.spmatrix,
    y_rec: ArrayLike,
    *,
    k: int | None = None,
    average: bool = True,
) -> float | np.ndarray:
    """Recall@k as in Mult-VAE: hits in the top k / ``min(k, |held-out|)``.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_rows, n_items)
        Held-out matrix; its stored entries are the relevant items.
    y_rec : array-like of int, shape (n_rows, n_recommended)
        Recommended item indices, best first, no duplicates within a row.
    k : int, default=None
        Cut-off, at most ``n_recommended``; None means ``n_recommended``.
    average : bool, default=True
        Return the mean over rows with a held-out entry; False returns the
        per-row values (NaN for rows without held-out entries).

    Returns
    -------
    score : float or ndarray of shape (n_rows,)

    Raises
    ------
    TypeError
        If ``y_true`` holds complex or non-numeric values, ``y_rec`` does not
        hold integers, or ``k``/``average`` has the wrong type.
    ValueError
        If ``y_true`` is not 2-d or holds NaN, infinity or a value that
        overflows float32; if ``y_rec`` is not 2-d, has another row count,
        an index outside ``[0, n_items)`` or a duplicate within a row's top
        ``k``; if ``k`` is out of range; or (``average=True``) if no row has
        a held-out entry.

    References
    ----------
    Liang, Krishnan, Hoffman, Jebara. Variational Autoencoders for
    Collaborative Filtering. WWW 2018 (eq. for Recall@R).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sklearn_recae.metrics import recall_at_k
    >>> y_true = sp.csr_matrix([[1, 0, 1, 0], [0, 0, 0, 1]])
    >>> recall_at_k(y_true, [[0, 1], [2, 3]])  # (1/2 + 1/1) / 2
    0.75
    """
    hits, n_relevant = _hit_matrix(y_true, y_rec, k)
    return _average(hits.sum(axis=1) / _ideal_hits(n_relevant, hits.shape[1]), n_relevant, average)


def precision_at_k(
    y_true: ArrayLike | sp.spmatrix,
    y_rec: ArrayLike,
    *,
    k: int | None = None,
    average: bool = True,
) -> float | np.ndarray:
    """Precision@k: hits in the top k / k.

    Parameters, returns and errors are those of :func:`recall_at_k`.
    """
    hits, n_relevant = _hit_matrix(y_true, y_rec, k)
    return _average(hits.sum(axis=1) / hits.shape[1], n_relevant, average)


def hit_rate_at_k(
    y_true: ArrayLike | sp.spmatrix,
    y_rec: ArrayLike,
    *,
    k: int | None = None,
    average: bool = True,
) -> float | np.ndarray:
    """HitRate@k: 1 if at least one held-out item is in the top k, else 0.

    Parameters, returns and errors are those of :func:`recall_at_k`.
    """
    hits, n_relevant = _hit_matrix(y_true, y_rec, k)
    return _average(hits.any(axis=1), n_relevant, average)


def ndcg_at_k(
    y_true: ArrayLike | sp.spmatrix,
    y_rec: ArrayLike,
    *,
    k: int | None = None,
    average: bool = True,
) -> float | np.ndarray:
    """NDCG@k with binary relevance.

    ``DCG = sum over hits at 0-based rank r of 1 / log2(r + 2)``, divided by
    the ideal DCG of ``min(k, |held-out|)`` hits at the top, read from one
    cumulative sum of the discounts (as RecBole's evaluator does).

    Parameters, returns and errors are those of :func:`recall_at_k`.
    """
    hits, n_relevant = _hit_matrix(y_true, y_rec, k)
    k = hits.shape[1]
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    ideal = np.cumsum(discounts)[_ideal_hits(n_relevant, k) - 1]
    return _average(hits @ discounts / ideal, n_relevant, average)


def map_at_k(
    y_true: ArrayLike | sp.spmatrix,
    y_rec: ArrayLike,
    *,
    k: int | None = None,
    average: bool = True,
) -> float | np.ndarray:
    """MAP@k: mean over rows of ``AP@k = sum_{s hit} precision@s / min(k, |held-out|)``.

    This is eq. 16 of the MIL paper (Sánchez Sánchez et al.).

    Parameters, returns and errors are those of :func:`recall_at_k`.
    """
    hits, n_relevant = _hit_matrix(y_true, y_rec, k)
    return _average(_average_precision(hits, n_relevant), n_relevant, average)


def mrr_at_k(
    y_true: ArrayLike | sp.spmatrix,
    y_rec: ArrayLike,
    *,
    k: int | None = None,
    average: bool = True,
) -> float | np.ndarray:
    """MRR@k: reciprocal rank of the first held-out item in the top k, 0 if none.

    ``1 / r`` for the 1-based rank ``r`` of the row's first hit within the
    first ``k`` recommendations; the mean over rows is the mean reciprocal
    rank. Under leave-one-out (one held-out item per row) it is the
    reciprocal rank of that item, cut at ``k``.

    Parameters, returns and errors are those of :func:`recall_at_k`.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sklearn_recae.metrics import mrr_at_k
    >>> y_true = sp.csr_matrix([[1, 0, 1, 0], [0, 0, 0, 1]])
    >>> mrr_at_k(y_true, [[1, 2, 0], [0, 1, 2]])  # (1/2 + 0) / 2
    0.25
    """
    hits, n_relevant = _hit_matrix(y_true, y_rec, k)
    first = np.argmax(hits, axis=1)  # 0 when there is no hit: masked below
    reciprocal = np.where(hits.any(axis=1), 1.0 / (first + 1.0), 0.0)
    return _average(reciprocal, n_relevant, average)


def _check_popularity(item_popularity, n_items: int) -> np.ndarray:
    if sp.issparse(item_popularity):
        raise TypeError("item_popularity must be a dense 1-d array, not a sparse matrix.")
    popularity = as_real_array(item_popularity, "item_popularity").astype(np.float64)
    if popularity.shape != (n_items,):
        raise ValueError(
            f"item_popularity must have shape ({n_items},), got {popularity.shape}."
        )
    for problem, bad in (("NaN", np.isnan(popularity)), ("infinity", np.isinf(popularity))):
        if bad.any():
            raise ValueError(
                f"item_popularity contains {problem} (first at item "
                f"{np.flatnonzero(bad)[0]}); popularities must be finite."
            )
    if np.any(popularity < 0):
        raise ValueError("item_popularity must be non-negative.")
    if popularity.sum() == 0:
        raise ValueError("item_popularity sums to 0.")
    return popularity


def novelty_weighted_map_at_k(
    y_true: ArrayLike | sp.spmatrix,
    y_rec: ArrayLike,
    item_popularity: ArrayLike,
    *,
    k: int | None = None,
    average: bool = True,
) -> float | np.ndarray:
    """Novelty-weighted MAP@k, eq. 17 of the MIL paper (not normalised).

    Each hit's precision term of AP@k is weighted by ``-ln nu(i)``, where
    ``nu(i) = item_popularity[i] / item_popularity.sum()`` is the item's
    share of the training interactions: hits on rare items count more.

    Parameters
    ----------
    y_true, y_rec, k, average
        As in :func:`recall_at_k`.
    item_popularity : array-like of shape (n_items,)
        Non-negative interaction counts of each item in the training data.

    Returns
    -------
    score : float or ndarray of shape (n_rows,)

    Raises
    ------
    ValueError
        If a hit falls on an item of zero popularity (its novelty ``-ln 0`` is
        infinite); smooth the counts (e.g. ``counts + 1``) if this can occur.

    References
    ----------
    Sánchez Sánchez, Fernández-Tobías, Cantador, Vallet. "Missing Information
    Loss" DAE recommender, eq. 17; novelty after Vargas & Castells (2011).
    """
    y_true = check_interaction_matrix(y_true, "y_true")
    popularity = _check_popularity(item_popularity, y_true.shape[1])
    hits, n_relevant = _hits(y_true, y_rec, k)
    share = (popularity / popularity.sum())[np.asarray(y_rec)[:, : hits.shape[1]]]
    if np.any(share[hits] == 0):
        raise ValueError("A hit falls on an item with zero popularity: its novelty is infinite.")
    with np.errstate(divide="ignore"):
        novelty = np.where(hits, -np.log(share), 0.0)
    return _average(_average_precision(hits, n_relevant, novelty), n_relevant, average)


def coverage(y_rec: ArrayLike, n_items: int) -> float:
    """Catalogue coverage: fraction of the ``n_items`` items recommended at least once.

    Parameters
    ----------
    y_rec : array-like of int, shape (n_rows, k)
        Recommended item indices (all columns are used).
    n_items : int
        Size of the catalogue.

    Returns
    -------
    coverage : float in [0, 1]

    Examples
    --------
    >>> from sklearn_recae.metrics import coverage
    >>> coverage([[0, 1], [1, 2]], n_items=8)  # {0, 1, 2}: 3 of 8
    0.375
    """
    if isinstance(n_items, (bool, np.bool_)) or not isinstance(n_items, numbers.Integral):
        raise TypeError(f"n_items must be an int, got {type(n_items).__name__}.")
    if n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {n_items}.")
    y_rec = _check_recommendations(y_rec, n_items)
    return float(np.unique(y_rec).size / n_items)


def popularity_tail_shares(
    y_rec: ArrayLike, item_popularity: ArrayLike, *, short: int = 200, medium: int = 1000
) -> dict[str, float]:
    """Share of recommendations falling in the short, medium and long popularity tail.

    Items are ranked by decreasing ``item_popularity`` (ties by item index);
    the ``short`` most popular form the short tail, ranks ``short`` to
    ``medium - 1`` (0-based) the medium tail, the rest the long tail. This is
    the analysis of the MIL paper's top-200 lists (200 / 1000).

    Parameters
    ----------
    y_rec : array-like of int, shape (n_rows, k)
        Recommended item indices (all columns are used).
    item_popularity : array-like of shape (n_items,)
        Non-negative popularity (e.g. training interaction counts) of each item.
    short : int, default=200
        Number of items in the short tail.
    medium : int, default=1000
        Popularity rank where the long tail starts, ``medium >= short``.

    Returns
    -------
    shares : dict
        ``{"short": s, "medium": m, "long": l}``, fractions of all recommended
        slots, summing to 1.
    """
    for name, value in (("short", short), ("medium", medium)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
    if not 0 <= short <= medium:
        raise ValueError(f"Need 0 <= short <= medium, got short={short}, medium={medium}.")
    if sp.issparse(item_popularity):
        raise TypeError("item_popularity must be a dense 1-d array, not a sparse matrix.")
    popularity = _check_popularity(item_popularity, np.size(item_popularity))
    y_rec = _check_recommendations(y_rec, popularity.size)
    rank = np.empty(popularity.size, dtype=np.int64)
    rank[np.argsort(-popularity, kind="stable")] = np.arange(popularity.size)
    tail = np.searchsorted([short, medium], rank[y_rec].ravel(), side="right")
    counts = np.bincount(tail, minlength=3) / max(y_rec.size, 1)
    return {"short": float(counts[0]), "medium": float(counts[1]), "long": float(counts[2])}
