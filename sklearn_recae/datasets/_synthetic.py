"""Synthetic interaction matrices with a known low-rank preference structure."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ..utils._sklearn import Interval, validate_params

__all__ = ["make_interactions"]

#: Share of each rating 1..5 among the observed entries (those of ML-100K).
_RATING_SHARES = np.array([6110, 11370, 27145, 34174, 21201]) / 100_000
#: Implicit data: selection weight of an item grows as exp(score / temperature).
_IMPLICIT_TEMPERATURE = 0.5
#: Spread (log-normal sigma) of how many entries users have.
_ACTIVITY_SIGMA = 0.5


def _zipf_popularity(n_items: int, exponent: float, rng) -> np.ndarray:
    """Item weights ``rank ** -exponent`` with ranks in a random order."""
    ranks = rng.permutation(n_items) + 1
    return ranks.astype(np.float64) ** -exponent


def _row_counts(n_users: int, n_items: int, total: int, min_per_row: int, rng) -> np.ndarray:
    """Entries per row: at least ``min_per_row``, at most ``n_items``, summing to ~``total``.

    Rows get a log-normal activity; the entries above the minimum are shared
    in proportion to it, and whatever a full row cannot take is handed on to
    the rows that still have room.
    """
    activity = rng.lognormal(0.0, _ACTIVITY_SIGMA, size=n_users)
    counts = np.full(n_users, min_per_row, dtype=np.int64)
    left = max(total - counts.sum(), 0)
    while left > 0 and (room := counts < n_items).any():
        weights = activity * room
        counts += rng.multinomial(left, weights / weights.sum())
        np.minimum(counts, n_items, out=counts)
        left = max(total - counts.sum(), 0)
    return counts


def _ratings_from_scores(scores: np.ndarray) -> np.ndarray:
    """Integers 1..5 by quantiles of ``scores``, in the proportions of ML-100K."""
    cuts = np.quantile(scores, np.cumsum(_RATING_SHARES)[:-1])
    return (1 + np.searchsorted(cuts, scores, side="right")).astype(np.float32)


def _sample_row(scores: np.ndarray, popularity: np.ndarray, count: int, implicit: bool, rng):
    """Observed columns of one row: by popularity, and by preference if implicit."""
    weights = popularity
    if implicit:
        weights = popularity * np.exp((scores - scores.max()) / _IMPLICIT_TEMPERATURE)
    return np.sort(rng.choice(len(scores), size=count, replace=False, p=weights / weights.sum()))


@validate_params(
    {
        "n_users": [Interval(Integral, 1, None, closed="left")],
        "n_items": [Interval(Integral, 1, None, closed="left")],
        "density": [Interval(Real, 0, 1, closed="right")],
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "implicit": ["boolean"],
        "popularity_exponent": [Interval(Real, 0, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "min_per_row": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "return_factors": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_interactions(
    n_users: int = 200,
    n_items: int = 100,
    density: float = 0.1,
    *,
    n_factors: int = 5,
    implicit: bool = False,
    popularity_exponent: float = 1.0,
    noise: float = 0.5,
    min_per_row: int = 2,
    random_state: int | np.random.RandomState | None = None,
    return_factors: bool = False,
) -> sp.csr_matrix | tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Generate a sparse user-item matrix with low-rank preferences and popular items.

    User and item factors ``P`` (n_users, n_factors) and ``Q`` (n_items,
    n_factors) are standard normal; the preference of user ``u`` for item
    ``i`` is ``s_ui = P_u . Q_i / sqrt(n_factors)`` (unit variance) plus
    Gaussian noise of standard deviation ``noise``. Items have Zipf-like
    popularity ``rank ** -popularity_exponent`` (ranks in random order) and
    users a log-normal activity.

    - Explicit (default): each row samples its items by popularity alone;
      the noisy preferences of the sampled entries are cut at quantiles into
      ratings 1..5 with the shares of MovieLens-100K (6, 11, 27, 34, 21 %).
      A model that learns the low-rank structure predicts held-out ratings
      better than the global mean.
    - Implicit: each row samples items with weights ``popularity *
      exp(2 * noisy preference)``, so observed items are both popular and
      preferred; values are 1.0.

    Parameters
    ----------
    n_users : int, default=200
        Number of rows.
    n_items : int, default=100
        Number of columns.
    density : float in (0, 1], default=0.1
        Target share of observed entries: the matrix has about
        ``round(density * n_users * n_items)`` entries (more if
        ``min_per_row`` asks for more).
    n_factors : int, default=5
        Rank of the preference structure.
    implicit : bool, default=False
        Return binary implicit feedback instead of ratings.
    popularity_exponent : float >= 0, default=1.0
        Zipf exponent of item popularity; 0 gives uniform popularity.
    noise : float >= 0, default=0.5
        Standard deviation of the noise added to the unit-variance
        preferences before they become ratings or selection weights.
    min_per_row : int, default=2
        Every row has at least this many entries (2 lets a per-row hold-out
        keep one entry to predict from). Must not exceed ``n_items``.
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives the same matrix.
    return_factors : bool, default=False
        Also return the latent factors.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_users, n_items), float32
        Stored entries are the observations (values 1..5, or 1.0 if
        ``implicit``); indices are sorted.
    user_factors : ndarray of shape (n_users, n_factors)
        Only if ``return_factors``.
    item_factors : ndarray of shape (n_items, n_factors)
        Only if ``return_factors``.

    Examples
    --------
    >>> from sklearn_recae.datasets import make_interactions
    >>> X = make_interactions(50, 40, density=0.2, random_state=0)
    >>> X.shape, X.nnz
    ((50, 40), 400)
    """
    if min_per_row > n_items:
        raise ValueError(f"min_per_row={min_per_row} exceeds n_items={n_items}")
    rng = check_random_state(random_state)
    user_factors = rng.standard_normal((n_users, n_factors))
    item_factors = rng.standard_normal((n_items, n_factors))
    popularity = _zipf_popularity(n_items, popularity_exponent, rng)
    counts = _row_counts(n_users, n_items, round(density * n_users * n_items), min_per_row, rng)
    columns, values = [], []
    for user in range(n_users):
        scores = item_factors @ user_factors[user] / np.sqrt(n_factors)
        scores += noise * rng.standard_normal(n_items)
        cols = _sample_row(scores, popularity, counts[user], implicit, rng)
        columns.append(cols)
        values.append(scores[cols])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    values = np.concatenate(values)
    data = np.ones_like(values, dtype=np.float32) if implicit else _ratings_from_scores(values)
    X = sp.csr_matrix((data, np.concatenate(columns), indptr), shape=(n_users, n_items))
    if return_factors:
        return X, user_factors, item_factors
    return X
