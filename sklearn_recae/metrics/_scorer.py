"""Scorers for ``GridSearchCV``/``cross_validate`` under both evaluation protocols.

scikit-learn's scorers call ``estimator.predict(X)`` once and compare with a
dense ``y``; a recommender is scored on held-out *entries* of a sparse matrix,
from a ``predict``/``recommend`` that must run in row batches to bound memory.
The scorers here implement the two protocols of the design (§4):

- **fold-in** (strong generalization, ``y is None``): a seeded fraction of each
  row's entries is hidden with :func:`~sklearn_recae.model_selection.holdout_row_entries`,
  the estimator predicts/recommends from the visible part and the hidden
  entries are scored. Works with any row splitter, e.g. ``cv=KFold(3)``.
- **entry hold-out** (weak generalization, ``y`` given): the estimator predicts
  from ``X`` and the stored entries of ``y`` are scored; recommendations
  exclude ``X``'s items. Use ``cv=PredefinedEntrySplit()`` and ``fit(X_train, X_valid)``.

Every scorer works on row batches and accumulates exact sums, so the result
does not depend on ``batch_size``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..model_selection import holdout_row_entries
from ..utils.validation import (
    as_numeric,
    check_fraction,
    check_interaction_matrix,
    check_k,
    check_same_shape,
)
from ._ranking import (
    coverage,
    hit_rate_at_k,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    novelty_weighted_map_at_k,
    popularity_tail_shares,
    precision_at_k,
    recall_at_k,
)
from ._regression import ErrorSums, error_sums, mae, rmse

__all__ = ["get_scorer", "get_scorer_names", "make_recommender_scorer"]

_PROTOCOLS = ("auto", "foldin", "holdout")


@dataclass(frozen=True)
class _Metric:
    """How a named metric is computed: its kind, function and natural direction."""

    kind: str  # "rating" (predict), "ranking" (recommend vs y) or "catalogue" (recommend)
    func: Callable
    greater_is_better: bool


def _short_tail_share(y_rec, item_popularity) -> float:
    """Share of ``y_rec``'s slots in the short tail (``popularity_tail_shares(...)["short"]``)."""
    return popularity_tail_shares(y_rec, item_popularity)["short"]


def _medium_tail_share(y_rec, item_popularity) -> float:
    """Share of ``y_rec``'s slots in the medium tail (``popularity_tail_shares(...)["medium"]``)."""
    return popularity_tail_shares(y_rec, item_popularity)["medium"]


def _long_tail_share(y_rec, item_popularity) -> float:
    """Share of ``y_rec``'s slots in the long tail (``popularity_tail_shares(...)["long"]``)."""
    return popularity_tail_shares(y_rec, item_popularity)["long"]


_METRICS = {
    "rmse": _Metric("rating", rmse, False),
    "mae": _Metric("rating", mae, False),
    "recall": _Metric("ranking", recall_at_k, True),
    "precision": _Metric("ranking", precision_at_k, True),
    "hit_rate": _Metric("ranking", hit_rate_at_k, True),
    "ndcg": _Metric("ranking", ndcg_at_k, True),
    "map": _Metric("ranking", map_at_k, True),
    "mrr": _Metric("ranking", mrr_at_k, True),
    "coverage": _Metric("catalogue", coverage, True),
    # kinds "novelty" (recommend vs y) and "tail_share" (recommend): they also need
    # the item popularity, counted in the source matrix by _PopularityScorer
    "novelty_map": _Metric("novelty", novelty_weighted_map_at_k, True),
    # descriptive shares, returned as they are (greater_is_better=False to minimise one)
    "short_tail_share": _Metric("tail_share", _short_tail_share, True),
    "medium_tail_share": _Metric("tail_share", _medium_tail_share, True),
    "long_tail_share": _Metric("tail_share", _long_tail_share, True),
}


def _metric_name(metric) -> str:
    """Resolve a metric name or one of this package's metric functions to its name."""
    by_func = {spec.func: name for name, spec in _METRICS.items()}
    if callable(metric) and metric in by_func:
        return by_func[metric]
    if isinstance(metric, str) and metric in _METRICS:
        return metric
    raise ValueError(
        f"Unknown metric {metric!r}; use one of {sorted(_METRICS)} or the matching "
        "function of sklearn_recae.metrics (e.g. recall_at_k)."
    )


def _rows_with_entries(target: sp.csr_matrix) -> np.ndarray:
    return np.flatnonzero(np.diff(target.indptr))


def _batches(rows: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    for start in range(0, rows.size, batch_size):
        yield rows[start : start + batch_size]


def _iter_entry_predictions(
    estimator, source: sp.csr_matrix, target: sp.csr_matrix, batch_size: int
) -> Iterator[tuple[sp.csr_matrix, np.ndarray]]:
    """Yield ``(held-out block, predictions of that block)`` pairs covering ``target``'s entries.

    Row batches of ``estimator.predict``; an estimator that cannot predict a
    subset of rows on its own (``ItemBased``) provides the hook
    ``_iter_entry_predictions(source, target, batch_size)`` instead.
    """
    hook = getattr(estimator, "_iter_entry_predictions", None)
    if hook is not None:
        yield from hook(source, target, batch_size)
        return
    for rows in _batches(_rows_with_entries(target), batch_size):
        yield target[rows], estimator.predict(source[rows])


def _iter_recommendations(
    estimator, source: sp.csr_matrix, rows: np.ndarray, k: int, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(row batch, top-k items of those rows)`` over ``rows``, seen items excluded.

    An estimator with the hook ``_iter_recommendations(source, rows, k,
    batch_size)`` (``ItemBased``) provides its own; one without ``recommend``
    (a ``Pipeline``) is ranked from ``predict``.
    """
    hook = getattr(estimator, "_iter_recommendations", None)
    if hook is not None:
        yield from hook(source, rows, k, batch_size)
        return
    for batch in _batches(rows, batch_size):
        if hasattr(estimator, "recommend"):
            yield batch, estimator.recommend(source[batch], k=k, exclude_seen=True)
        else:
            yield batch, _top_k_from_predict(estimator, source[batch], k)


def _top_k_from_predict(estimator, X: sp.csr_matrix, k: int) -> np.ndarray:
    """Top-k unseen items of each row of ``X`` from ``estimator.predict``, best first."""
    k = check_k(k, X.shape[1])  # the error recommend gives, not argpartition's
    scores = np.array(estimator.predict(X), dtype=np.float64)
    if scores.shape != X.shape:
        raise ValueError(
            f"{type(estimator).__name__}.predict returned shape {scores.shape} for X of shape "
            f"{X.shape}; a ranking scorer needs one score per item."
        )
    scores[np.repeat(np.arange(X.shape[0]), np.diff(X.indptr)), X.indices] = -np.inf
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


class _RecommenderScorer:
    """``scorer(estimator, X, y=None) -> float``; made by :func:`make_recommender_scorer`."""

    def __init__(self, metric, k, protocol, holdout_fraction, batch_size, random_state, sign):
        self.metric = metric
        self.k = k
        self.protocol = protocol
        self.holdout_fraction = holdout_fraction
        self.batch_size = batch_size
        self.random_state = random_state
        self.sign = sign

    def __call__(self, estimator, X, y=None) -> float:
        """Score ``estimator`` on ``X`` (fold-in) or on the entries of ``y`` (hold-out)."""
        source, target = self._protocol_data(X, y)
        kind = _METRICS[self.metric].kind
        score = {
            "rating": self._score_ratings,
            "ranking": self._score_rankings,
            "catalogue": self._score_coverage,
        }[kind](estimator, source, target)
        return float(self.sign * score)

    def _protocol_data(self, X, y) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Return ``(input rows, held-out entries)`` for the scorer's protocol.

        ``X`` and ``y`` are validated by name (2-d, real, finite after the
        float32 cast; see :func:`._validation.check_interaction_matrix`), after
        the string-to-number cast of ``fit``/``predict``
        (:func:`~sklearn_recae.utils.validation.as_numeric`): what they accept,
        the scorers accept.
        """
        X = check_interaction_matrix(as_numeric(X, name="X"), "X")
        protocol = self.protocol
        if protocol == "auto":
            protocol = "foldin" if y is None else "holdout"
        if protocol == "foldin":
            if y is not None:
                raise ValueError(
                    "protocol='foldin' hides entries of X itself and takes no y; "
                    "use protocol='holdout' (or 'auto') to score the entries of y."
                )
            return holdout_row_entries(
                X, self.holdout_fraction, random_state=self.random_state
            )
        if y is None:
            raise ValueError(
                "protocol='holdout' scores the stored entries of a held-out matrix y of "
                "X's shape, but y is None: call scorer(estimator, X, y), e.g. through "
                "GridSearchCV(..., cv=PredefinedEntrySplit()).fit(X_train, X_valid)."
            )
        y = check_interaction_matrix(as_numeric(y, name="y"), "y")
        check_same_shape(X, y, names=("X", "y"))
        if y.nnz == 0 and _METRICS[self.metric].kind != "catalogue":
            raise ValueError(
                f"y has no stored (held-out) entry: there is nothing to score {self.metric!r} "
                "on (zeros of y are unobserved)."
            )
        return X, y

    def _score_ratings(self, estimator, source, target) -> float:
        sums = ErrorSums()
        for y_block, y_pred in _iter_entry_predictions(estimator, source, target, self.batch_size):
            sums = sums + error_sums(y_block, y_pred)
        return getattr(sums, self.metric)  # ErrorSums.rmse or ErrorSums.mae

    def _score_rankings(self, estimator, source, target) -> float:
        metric = _METRICS[self.metric].func
        total, count = 0.0, 0
        rows = _rows_with_entries(target)
        for batch, y_rec in _iter_recommendations(estimator, source, rows, self.k, self.batch_size):
            values = metric(target[batch], y_rec, k=self.k, average=False)
            total += float(np.nansum(values))
            count += int(np.count_nonzero(~np.isnan(values)))
        if count == 0:
            raise ValueError("No row has a held-out entry; the ranking metric is undefined.")
        return total / count

    def _score_coverage(self, estimator, source, target) -> float:
        recommended = np.zeros(source.shape[1], dtype=bool)
        rows = np.arange(source.shape[0])
        for _, y_rec in _iter_recommendations(estimator, source, rows, self.k, self.batch_size):
            recommended[y_rec] = True
        return float(recommended.mean())

    def __repr__(self) -> str:
        k = "" if self.k is None else f", k={self.k}"
        return (
            f"make_recommender_scorer({self.metric!r}{k}, protocol={self.protocol!r}, "
            f"holdout_fraction={self.holdout_fraction}, batch_size={self.batch_size}, "
            f"random_state={self.random_state!r}, greater_is_better={self.sign > 0})"
        )


def _source_item_popularity(source: sp.csr_matrix) -> np.ndarray:
    """Item popularity of the popularity metrics: stored entries of each column of ``source``, + 1.

    ``source`` is the matrix the estimator predicts from (the visible part under
    fold-in, ``X`` under hold-out). The add-one keeps the novelty ``-ln nu(i)``
    finite for an item absent from ``source`` (e.g. rated only in hidden
    entries); it does not change the popularity ranking of the tail shares.
    """
    return np.bincount(source.indices, minlength=source.shape[1]).astype(np.float64) + 1.0


def _score_novelty_map(estimator, source, target, popularity, k, batch_size) -> float:
    """Mean novelty-weighted AP@k over the rows with a held-out entry, accumulated by batch."""
    total, count = 0.0, 0
    rows = _rows_with_entries(target)
    for batch, y_rec in _iter_recommendations(estimator, source, rows, k, batch_size):
        values = novelty_weighted_map_at_k(target[batch], y_rec, popularity, k=k, average=False)
        total += float(np.nansum(values))
        count += int(np.count_nonzero(~np.isnan(values)))
    if count == 0:
        raise ValueError("No row has a held-out entry; the ranking metric is undefined.")
    return total / count


def _score_tail_share(estimator, source, popularity, share, k, batch_size) -> float:
    """Share of the top-k slots of all rows of ``source`` in one popularity tail.

    ``share(y_rec, popularity)`` is the share of a batch's slots; it is turned
    back into a slot count so that the result does not depend on ``batch_size``.
    """
    in_tail, slots = 0, 0
    rows = np.arange(source.shape[0])
    for _, y_rec in _iter_recommendations(estimator, source, rows, k, batch_size):
        n = int(np.size(y_rec))
        in_tail += round(share(y_rec, popularity) * n)
        slots += n
    return in_tail / slots if slots else float("nan")


class _PopularityScorer(_RecommenderScorer):
    """Scorer of the metrics that need item popularity (``novelty_map``, ``*_tail_share``).

    The popularity is counted in the source matrix of each call (see
    :func:`_source_item_popularity`); protocols, batching and ``repr`` are
    those of :class:`_RecommenderScorer`.
    """

    def __call__(self, estimator, X, y=None) -> float:
        """Score ``estimator`` on ``X`` (fold-in) or on the entries of ``y`` (hold-out)."""
        source, target = self._protocol_data(X, y)
        popularity = _source_item_popularity(source)
        spec = _METRICS[self.metric]
        if spec.kind == "novelty":
            score = _score_novelty_map(
                estimator, source, target, popularity, self.k, self.batch_size
            )
        else:
            score = _score_tail_share(
                estimator, source, popularity, spec.func, self.k, self.batch_size
            )
        return float(self.sign * score)


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}.")
    return int(value)


def _check_scorer_params(name: str, k, protocol, holdout_fraction) -> None:
    if _METRICS[name].kind == "rating":
        if k is not None:
            raise ValueError(f"k is only used by ranking metrics; {name!r} takes k=None.")
    elif k is None:
        raise ValueError(f"The ranking metric {name!r} needs a cut-off k, e.g. k=20.")
    else:
        _check_positive_int(k, "k")
    if protocol not in _PROTOCOLS:
        raise ValueError(f"protocol must be one of {_PROTOCOLS}, got {protocol!r}.")
    check_fraction(holdout_fraction)


def make_recommender_scorer(
    metric: str | Callable,
    *,
    k: int | None = None,
    protocol: str = "auto",
    holdout_fraction: float = 0.2,
    batch_size: int = 1000,
    random_state: int | None = 0,
    greater_is_better: bool | None = None,
) -> Callable:
    """Make a scorer ``scorer(estimator, X, y=None) -> float`` for a recommender metric.

    Parameters
    ----------
    metric : str or callable
        ``"rmse"``, ``"mae"`` (from ``estimator.predict``), ``"recall"``,
        ``"precision"``, ``"hit_rate"``, ``"ndcg"``, ``"map"``, ``"mrr"``,
        ``"novelty_map"`` (from ``estimator.recommend`` against the held-out
        entries), ``"coverage"`` (catalogue coverage of the lists of all rows),
        ``"short_tail_share"``, ``"medium_tail_share"``, ``"long_tail_share"``
        (share of the slots of the lists of all rows that fall in a popularity
        tail), or the matching function (``rmse``, ``recall_at_k``,
        ``novelty_weighted_map_at_k``, ``coverage``, ...).
        :func:`~sklearn_recae.metrics.popularity_tail_shares` returns three
        shares: name the one to score instead.

        ``novelty_map`` (:func:`~sklearn_recae.metrics.novelty_weighted_map_at_k`)
        and the tail shares (:func:`~sklearn_recae.metrics.popularity_tail_shares`
        with its default tails: the 200 most popular items, the next 800, the
        rest) need each item's popularity. The scorer computes it at each call
        as the number of stored entries of the item in the *source* matrix the
        estimator predicts from: the visible part of ``X`` under fold-in, ``X``
        (the training entries) under hold-out; plus one, so that an item absent
        from the source keeps a finite novelty (the tail ranking is unchanged by
        the add-one). The tail shares are returned as they are (a lower short-tail
        share means less popularity bias: pass ``greater_is_better=False`` to
        select a model on it).
    k : int, default=None
        Length of the recommendation lists; required for ranking metrics,
        coverage and the tail shares, must be None for ``rmse``/``mae``.
    protocol : {"auto", "foldin", "holdout"}, default="auto"
        ``"foldin"``: hide ``holdout_fraction`` of each row's entries of ``X``
        (rows with at least 2 entries), predict from the rest and score the
        hidden ones; ``y`` must be None. ``"holdout"``: predict from ``X`` and
        score the stored entries of ``y`` (same shape as ``X``); items of ``X``
        are excluded from the lists. ``"auto"``: fold-in when ``y`` is None,
        hold-out otherwise.
    holdout_fraction : float, default=0.2
        Fraction of each row hidden by the fold-in protocol, in (0, 1).
    batch_size : int, default=1000
        Rows per ``predict``/``recommend`` call; memory is bounded by
        ``batch_size * n_items``. The score does not depend on it.
    random_state : int, RandomState instance or None, default=0
        Seed of the fold-in hidden entries. Keep an int so that every candidate
        of a search is scored on the same entries (a RandomState instance or
        None draws new entries at each call).
    greater_is_better : bool, default=None
        None uses the metric's direction: RMSE and MAE are negated (the scorer
        returns ``-rmse``), the others are returned as they are.

    Returns
    -------
    scorer : callable
        Picklable; ``scorer(estimator, X, y=None)`` returns a float, greater
        is better.

    Raises
    ------
    ValueError
        For an unknown metric or protocol, a missing or unexpected ``k``, an
        out-of-range ``holdout_fraction`` or ``batch_size``, or
        ``popularity_tail_shares`` (name one share instead).

    See Also
    --------
    get_scorer : the same scorers by name (``"neg_rmse"``, ``"recall@20"``).

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> from sklearn_recae.metrics import make_recommender_scorer
    >>> scorer = make_recommender_scorer("ndcg", k=100)
    >>> scorer
    make_recommender_scorer('ndcg', k=100, protocol='auto', holdout_fraction=0.2, \
batch_size=1000, random_state=0, greater_is_better=True)
    """
    if metric is popularity_tail_shares:
        raise ValueError(
            "popularity_tail_shares returns three shares; name the one to score: "
            "'short_tail_share', 'medium_tail_share' or 'long_tail_share'."
        )
    name = _metric_name(metric)
    _check_scorer_params(name, k, protocol, holdout_fraction)
    batch_size = _check_positive_int(batch_size, "batch_size")
    if greater_is_better is None:
        greater_is_better = _METRICS[name].greater_is_better
    sign = 1 if greater_is_better else -1
    scorer_class = (
        _PopularityScorer
        if _METRICS[name].kind in ("novelty", "tail_share")
        else _RecommenderScorer
    )
    return scorer_class(name, k, protocol, holdout_fraction, batch_size, random_state, sign)


_NEG_NAMES = ("neg_mae", "neg_rmse")
_AT_K_METRICS = tuple(sorted(name for name, spec in _METRICS.items() if spec.kind != "rating"))
#: Cut-offs listed by :func:`get_scorer_names` (any positive ``k`` is accepted):
#: common ones, covering Mult-VAE's Recall@20, Recall@50 and NDCG@100.
_LISTED_KS = (5, 10, 20, 50, 100)


def get_scorer_names() -> list[str]:
    """Names accepted by :func:`get_scorer`, with common cut-offs for the ``@k`` form.

    ``"neg_rmse"`` and ``"neg_mae"`` are complete. The ranking, catalogue and
    popularity scorers (``novelty_map``, ``short_tail_share``,
    ``medium_tail_share``, ``long_tail_share``) are ``"<metric>@<k>"`` for any
    positive integer ``k``, which
    cannot be listed exhaustively: each is listed at ``k`` in 5, 10, 20, 50
    and 100, so every listed name is valid, but ``"recall@7"`` is valid too.
    The list is sorted by metric name, then by ``k`` (numerically).

    Returns
    -------
    names : list of str

    See Also
    --------
    get_scorer : the scorer of a name.

    Examples
    --------
    >>> from sklearn_recae.metrics import get_scorer_names
    >>> names = get_scorer_names()
    >>> names[:6]
    ['coverage@5', 'coverage@10', 'coverage@20', 'coverage@50', 'coverage@100', 'hit_rate@5']
    >>> [name for name in names if not name[-1].isdigit()]
    ['neg_mae', 'neg_rmse']
    >>> len(names), "ndcg@100" in names, "novelty_map@100" in names
    (57, True, True)
    """
    names = [(name, 0) for name in _NEG_NAMES]
    names += [(name, k) for name in _AT_K_METRICS for k in _LISTED_KS]
    return [name if k == 0 else f"{name}@{k}" for name, k in sorted(names)]


def _unknown_scorer_message(scoring) -> str:
    return (
        f"Unknown scorer {scoring!r}. Valid names: 'neg_rmse', 'neg_mae', or "
        f"'<metric>@<k>' with <metric> one of {', '.join(_AT_K_METRICS)} and <k> a "
        f"positive integer (e.g. 'recall@20'); get_scorer_names() lists "
        f"{', '.join(get_scorer_names())}."
    )


def get_scorer(scoring: str | Callable, **kwargs) -> Callable:
    """Return the scorer of a name such as ``"neg_rmse"``, ``"recall@20"`` or ``"novelty_map@100"``.

    scikit-learn's ``GridSearchCV(scoring="neg_rmse")`` does not know this
    package's names and raises: pass ``scoring=get_scorer("neg_rmse")``, or a
    dict of scorers such as ``{"rmse": get_scorer("neg_rmse"), "ndcg":
    get_scorer("ndcg@10")}`` with ``refit="rmse"``.

    Parameters
    ----------
    scoring : str or callable
        ``"neg_rmse"``, ``"neg_mae"``, or ``"<metric>@<k>"`` with metric one of
        ``recall``, ``precision``, ``hit_rate``, ``ndcg``, ``map``, ``mrr``,
        ``coverage``, ``novelty_map``, ``short_tail_share``,
        ``medium_tail_share``, ``long_tail_share`` and ``k`` a positive
        integer (see :func:`get_scorer_names`; the popularity metrics count
        item popularity in the matrix the estimator predicts from, see
        :func:`make_recommender_scorer`). A callable is returned as is.
    **kwargs
        Passed to :func:`make_recommender_scorer` (``protocol``,
        ``holdout_fraction``, ``batch_size``, ``random_state``,
        ``greater_is_better``); only with a name.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, greater is better.

    Raises
    ------
    TypeError
        If ``scoring`` is neither a str nor a callable, or ``kwargs`` are given
        with a callable or hold ``metric`` or ``k`` (set by the name).
    ValueError
        For an unknown name; the message lists the valid ones.

    See Also
    --------
    get_scorer_names : the valid names.

    Examples
    --------
    >>> from sklearn_recae.metrics import get_scorer
    >>> get_scorer("recall@20")
    make_recommender_scorer('recall', k=20, protocol='auto', holdout_fraction=0.2, \
batch_size=1000, random_state=0, greater_is_better=True)
    >>> get_scorer("long_tail_share@100", protocol="holdout")
    make_recommender_scorer('long_tail_share', k=100, protocol='holdout', \
holdout_fraction=0.2, batch_size=1000, random_state=0, greater_is_better=True)
    """
    if callable(scoring):
        if kwargs:
            raise TypeError(
                f"get_scorer returns a callable scoring as is; the keyword arguments "
                f"{sorted(kwargs)} only apply to a scorer name such as 'recall@20'."
            )
        return scoring
    if not isinstance(scoring, str):
        raise TypeError(
            f"scoring must be a scorer name (str) or a callable, got {type(scoring).__name__}."
        )
    fixed = sorted({"metric", "k"} & set(kwargs))
    if fixed:
        raise TypeError(
            f"get_scorer takes the metric and k from the name (e.g. 'recall@20'), not from "
            f"the keyword arguments {fixed}."
        )
    if scoring in _NEG_NAMES:
        return make_recommender_scorer(scoring[len("neg_") :], **kwargs)
    name, at, k = scoring.partition("@")
    if at and name in _AT_K_METRICS and k.isascii() and k.isdigit() and int(k) >= 1:
        return make_recommender_scorer(name, k=int(k), **kwargs)
    raise ValueError(_unknown_scorer_message(scoring))
