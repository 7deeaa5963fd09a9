"""Synthetic interaction matrices: low-rank preferences (:func:`make_interactions`) and
ML-20M-sized power-law matrices for speed and memory benchmarks
(:func:`make_power_law_interactions`)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ..utils._sklearn import Interval, validate_params

__all__ = ["make_interactions", "make_power_law_interactions"]

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


def _row_counts(n_users: int, n_items: int, total: int, min_per_row: int, rng,
                sigma: float = _ACTIVITY_SIGMA) -> np.ndarray:
    """Entries per row: at least ``min_per_row``, at most ``n_items``, summing to ~``total``.

    Rows get a log-normal activity; the entries above the minimum are shared
    in proportion to it, and whatever a full row cannot take is handed on to
    the rows that still have room.
    """
    activity = rng.lognormal(0.0, sigma, size=n_users)
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


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in the sorted array ``sorted_keys``."""
    if not sorted_keys.size:
        return np.zeros(keys.shape, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return sorted_keys[at] == keys


def _alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table (Vose's construction) of the distribution ``weights / sum``.

    Drawing ``j`` uniformly and keeping it with probability ``keep[j]`` (else
    taking ``alias[j]``) samples the distribution in O(1) per draw, where an
    inverse-CDF search costs a random-access binary search per draw.
    """
    n = weights.size
    scaled = weights * (n / weights.sum())
    keep, alias = np.ones(n), np.arange(n)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        keep[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return keep, alias


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting in place (numpy 2's hash-based unique is ~10× slower on 10⁷ ints)."""
    keys.sort()
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])]


#: Rounds of redrawing duplicate entries before giving up (heavy rows converge geometrically).
_MAX_ROUNDS = 500


@validate_params(
    {
        "n_users": [Interval(Integral, 1, None, closed="left")],
        "n_items": [Interval(Integral, 1, None, closed="left")],
        "n_interactions": [Interval(Integral, 1, None, closed="left")],
        "popularity_exponent": [Interval(Real, 0, None, closed="left")],
        "activity_sigma": [Interval(Real, 0, None, closed="left")],
        "min_per_row": [Interval(Integral, 1, None, closed="left")],
        "max_per_row": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_power_law_interactions(
    n_users: int = 138_493,
    n_items: int = 26_744,
    n_interactions: int = 20_000_263,
    *,
    popularity_exponent: float = 1.0,
    activity_sigma: float = 1.0,
    min_per_row: int = 20,
    max_per_row: int | None = None,
    random_state: int | np.random.RandomState | None = None,
) -> sp.csr_matrix:
    """Generate a large binary user-item matrix with power-law item popularity, in seconds.

    The defaults have the shape of MovieLens-20M (138,493 users, 26,744
    items, 20,000,263 interactions, at least 20 per user). Rows get a
    log-normal activity (``activity_sigma``) on top of ``min_per_row``
    entries; each entry is an item drawn with probability proportional to
    ``rank ** -popularity_exponent`` (ranks in random order). Drawing is
    vectorized over all entries; duplicates within a row are redrawn until
    every row has its count, so the matrix has exactly ``n_interactions``
    entries (more if ``min_per_row`` asks for more). The matrix is never
    dense: memory is a few times the CSR arrays (~0.5 GB at the defaults).

    Unlike :func:`make_interactions` there is no preference structure: this
    is data for speed and memory benchmarks, not for accuracy.

    Parameters
    ----------
    n_users : int, default=138_493
        Number of rows.
    n_items : int, default=26_744
        Number of columns.
    n_interactions : int, default=20_000_263
        Number of stored entries.
    popularity_exponent : float >= 0, default=1.0
        Zipf exponent of item popularity; 0 gives uniform popularity.
    activity_sigma : float >= 0, default=1.0
        Log-normal spread of the users' activity (0: every row alike).
    min_per_row : int, default=20
        Fewest entries of a row.
    max_per_row : int or None, default=None
        Most entries of a row; None means ``n_items // 2`` (a row asking for
        almost every item of a power-law catalogue would need very many
        redraws).
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives the same matrix.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_users, n_items), float32
        Stored entries are 1.0; indices are sorted.

    Examples
    --------
    >>> from sklearn_recae.datasets import make_power_law_interactions
    >>> X = make_power_law_interactions(1000, 500, 20_000, random_state=0)
    >>> X.shape, X.nnz, int(X.getnnz(axis=1).min())
    ((1000, 500), 20000, 20)
    """
    max_per_row = n_items // 2 if max_per_row is None else min(max_per_row, n_items)
    if min_per_row > max_per_row:
        raise ValueError(
            f"min_per_row={min_per_row} exceeds the most entries a row may have "
            f"({max_per_row}: max_per_row, or n_items // 2 with n_items={n_items})."
        )
    if n_interactions > n_users * max_per_row:
        raise ValueError(
            f"n_interactions={n_interactions} does not fit {n_users} rows of at most "
            f"{max_per_row} entries; raise max_per_row or lower n_interactions."
        )
    rng = check_random_state(random_state)
    keep, alias = _alias_table(_zipf_popularity(n_items, popularity_exponent, rng))
    counts = _row_counts(n_users, max_per_row, n_interactions, min_per_row, rng,
                         sigma=activity_sigma)
    # keys row * n_items + item: the first round's (sorted) and the few redrawn ones apart,
    # so a round costs the size of what it redraws, not of the whole matrix
    first = extra = np.empty(0, dtype=np.int64)
    missing = counts
    for _ in range(_MAX_ROUNDS):
        rows = np.repeat(np.arange(n_users, dtype=np.int64), missing)
        items = rng.randint(n_items, size=rows.size)
        items = np.where(rng.random_sample(rows.size) < keep[items], items, alias[items])
        new = _sorted_unique(rows * n_items + items)
        # a row draws as many as it misses: what is new never exceeds that
        new = new[~(_contains(first, new) | _contains(extra, new))]
        if not first.size:
            first = new
        else:  # two sorted runs: a stable (tim)sort merges them in linear time
            extra = np.sort(np.concatenate([extra, new]), kind="stable")
        missing = missing - np.bincount(new // n_items, minlength=n_users)
        if not missing.any():
            break
    else:  # pragma: no cover - needs rows of nearly n_items entries
        raise RuntimeError("could not draw distinct items for every row; lower max_per_row.")
    keys = np.sort(np.concatenate([first, extra]), kind="stable")
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = (keys % n_items).astype(np.int32)
    data = np.ones(keys.size, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(n_users, n_items))
