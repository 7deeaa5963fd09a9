"""User-based collaborative filtering over any row representation: ``KNeighborsRecommender``.

The neighbour search is scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors`
(every metric it accepts, ``metric_params`` included); this module only turns
the neighbours into item scores: a row's score of item ``j`` is the weighted
sum, over its ``n_neighbors`` nearest training rows, of their interactions
with ``j``. The product is sparse (neighbour weights × training interactions)
and runs in row batches, so memory is bounded by ``batch_size × n_items``
besides the training interactions, which stay sparse.

The classic user-based CF of the recommender literature (e.g. the UBCF
evaluation of the MML paper, §4.2) is this estimator with the embeddings of a
representation model as ``X``; fitted on the interaction rows themselves it
is the cosine user-kNN baseline.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors

from .._blocks import iter_row_blocks
from .._similarity import ItemSimilarity
from ..base import RecommenderMixin, atomic_fit, ndcg_at_100
from ..utils._sklearn import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from ..utils.validation import as_interactions, check_bool, check_interactions

__all__ = ["KNeighborsRecommender"]

#: Metrics whose distance is ``1 - similarity``: their neighbours weigh ``1 - distance``.
_ONE_MINUS_SIMILARITY = ("cosine", "correlation")
#: An identical row's computed distance is zero up to rounding (cosine of a
#: float32 row with itself, the dot-product form of the Euclidean distance):
#: neighbours within this tolerance, relative to the row's largest neighbour
#: distance (at least 1), are compared entry by entry with the query row.
_SELF_DISTANCE_RTOL = 1e-4


def _representation_rows_equal(a, b) -> np.ndarray:
    """Whether row ``i`` of ``a`` equals row ``i`` of ``b`` exactly (dense or sparse rows)."""
    if sp.issparse(a) and sp.issparse(b):
        diff = sp.csr_matrix(a - b)
        diff.eliminate_zeros()
        return np.diff(diff.indptr) == 0
    a = a.toarray() if sp.issparse(a) else np.asarray(a)
    b = b.toarray() if sp.issparse(b) else np.asarray(b)
    return np.all(a == b, axis=1)


def _warn_if_not_interactions(X) -> None:
    """Warn when ``X``, read as interactions, looks like an embedding instead.

    A dense array with no zero entry and fractional values is what a
    transformer outputs, not a users × items matrix (in which most items are
    unobserved): in a Pipeline this is a final step fitted without its
    ``interactions``, which would recommend embedding dimensions as items.
    """
    if sp.issparse(X) or not hasattr(X, "shape") or len(np.shape(X)) != 2:
        return
    values = np.asarray(X)
    if values.size < 2 or not np.issubdtype(values.dtype, np.number):
        return
    if np.all(values != 0) and np.any(values != np.round(values)):
        warnings.warn(
            f"X of shape {values.shape} has no zero entry and fractional values: it looks "
            "like an embedding, not interactions, yet no interactions were given, so its "
            f"{values.shape[1]} columns are taken as the items to recommend. In a Pipeline, "
            "pass the pipeline's input: pipe.fit(X, kneighborsrecommender__interactions=X).",
            UserWarning,
            stacklevel=3,
        )


class KNeighborsRecommender(RecommenderMixin, BaseEstimator):
    """User-based collaborative filtering: score items by the interactions of the nearest rows.

    ``fit(X, interactions=R)`` stores the training rows' representation ``X``
    (embeddings, or the interaction rows themselves) in a
    :class:`~sklearn.neighbors.NearestNeighbors` index, and their interactions
    ``R`` (rows × items). ``predict(X_new)`` finds, for each row of
    ``X_new``, its ``n_neighbors`` nearest training rows ``N(u)`` and returns::

        score(u, j) = Σ_{v ∈ N(u)} w(u, v) · R[v, j]

    With ``interactions=None`` (the default) ``X`` *is* the interaction
    matrix: the estimator is the plain user-kNN baseline on raw rows (cosine
    by default), a recommender like any other of the package (fold-in of new
    rows, ``recommend`` excludes each row's observed items, ``score`` is
    NDCG@100).

    **In a Pipeline** after a transformer (``make_pipeline(AutoRec(),
    KNeighborsRecommender())``) the step receives embeddings, and the
    interactions reach it as a fit parameter, never through ``y`` (``y`` is
    the held-out matrix of the entry hold-out protocol)::

        pipe.fit(X, kneighborsrecommender__interactions=X)
        # or, with sklearn.set_config(enable_metadata_routing=True):
        # KNeighborsRecommender().set_fit_request(interactions=True); pipe.fit(X, interactions=X)

    ``GridSearchCV(pipe, ...).fit(X, kneighborsrecommender__interactions=X)``
    slices ``interactions`` with the rows of each fold. Score such a pipeline
    with the package's scorers (``sklearn_recae.metrics.get_scorer("ndcg@100")``
    or ``GridSearchCV(scoring=...)``): they rank from ``predict`` and exclude
    the items of the *pipeline's* input rows. A step fitted on embeddings
    does not see the query rows' interactions, so its own ``score`` raises
    and its ``recommend`` needs ``exclude_seen=False``.

    ``similar_items(j)`` is item-item cosine similarity over the columns of
    the training interactions ``interactions_`` (also in a Pipeline over
    embeddings).

    **The query row among the training rows.** Under the entry hold-out
    protocol the rows to predict for are the training rows, and each row is
    its own nearest neighbour. With ``exclude_self=True`` (the default), a
    neighbour whose representation is identical to the query row's (verified
    entry by entry) is dropped once and the next neighbour taken instead, as
    ``NearestNeighbors.kneighbors(X=None)`` leaves each training point out of
    its own neighbours; rows unseen in ``fit`` (fold-in) are unaffected. The
    self-match only adds to the row's own observed items, which the lists
    exclude, so keeping it amounts to one neighbour fewer; it does inflate
    ``predict``'s scores of the observed items. Two distinct training rows
    with identical representations are not told apart: one of them is dropped.

    Parameters
    ----------
    n_neighbors : int, default=75
        Number of neighbours of each row (all training rows when fewer were
        fitted; ``fit`` warns then). 75 had the best mean validation
        NDCG@100 of the cosine user-kNN on binarized MovieLens-100K, three
        seeds (``benchmarks/knn_default_sweep.py``; 50 to 100 are within
        0.003).
    metric : str or callable, default="cosine"
        Distance of :class:`~sklearn.neighbors.NearestNeighbors`: ``"cosine"``,
        ``"euclidean"``, ``"mahalanobis"`` (with ``metric_params={"VI": ...}``),
        any metric it accepts. Sparse input needs a metric that accepts it
        (cosine, euclidean, manhattan, ...).
    metric_params : dict, default=None
        Keyword arguments of the metric.
    weights : {"similarity", "uniform"} or callable, default="similarity"
        Weight ``w(u, v)`` of a neighbour at distance ``d``: ``"similarity"``
        is ``1 - d`` for ``"cosine"`` and ``"correlation"`` (the similarity;
        it can be negative for embeddings) and ``1 / (1 + d)`` for every other
        metric (a decreasing function of the distance, 1 at ``d = 0``);
        ``"uniform"`` weighs every neighbour 1; a callable maps the
        ``(n_rows, n_neighbors)`` distance array to weights of that shape.
    exclude_self : bool, default=True
        Drop a query row's identical neighbour (itself among the training
        rows, see above). On the MovieLens-100K validation sweep it changes
        NDCG@100 by less than 0.001 from 50 neighbours on (one neighbour
        more or less) and helps with few neighbours (+0.006 at 10); True
        makes the prediction of a training row the same as a fold-in of it.
    algorithm : {"auto", "ball_tree", "kd_tree", "brute"}, default="auto"
        Search algorithm of :class:`~sklearn.neighbors.NearestNeighbors`.
    batch_size : int, default=1024
        Rows per batch of ``predict``/``recommend``; memory is bounded by
        ``batch_size × n_items`` (and ``batch_size × n_train`` distances).
    n_jobs : int, default=None
        Parallel jobs of the neighbour search.

    Attributes
    ----------
    nn_ : sklearn.neighbors.NearestNeighbors
        The index of the training rows' representation.
    interactions_ : scipy.sparse.csr_matrix of shape (n_train, n_items), float32
        The training rows' interactions (a canonical copy).
    input_is_interactions_ : bool
        True when fitted without ``interactions`` (``X`` is the interaction matrix).
    n_items_ : int
        Number of items (columns of the interactions).
    n_features_in_ : int
        Width of the representation ``X`` (``n_items_`` without ``interactions``).

    See Also
    --------
    sklearn.neighbors.NearestNeighbors : the neighbour search.
    sklearn_recae.metrics.get_scorer : scorers that rank from ``predict`` (pipelines).

    References
    ----------
    .. [1] J. S. Breese, D. Heckerman and C. Kadie, "Empirical Analysis of
       Predictive Algorithms for Collaborative Filtering", UAI 1998.

    Examples
    --------
    >>> from sklearn_recae.datasets import make_interactions
    >>> from sklearn_recae.neighbors import KNeighborsRecommender
    >>> X = make_interactions(60, 30, density=0.2, implicit=True, random_state=0)
    >>> knn = KNeighborsRecommender(n_neighbors=10).fit(X)
    >>> knn.predict(X[:2]).shape, knn.recommend(X[:2], k=3).shape
    ((2, 30), (2, 3))

    On embeddings, with the rows' interactions given apart:

    >>> from sklearn.decomposition import TruncatedSVD
    >>> from sklearn.pipeline import make_pipeline
    >>> pipe = make_pipeline(TruncatedSVD(5, random_state=0), KNeighborsRecommender(10))
    >>> pipe.fit(X, kneighborsrecommender__interactions=X).predict(X[:2]).shape
    (2, 30)
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "metric": [str, callable],
        "metric_params": [dict, None],
        "weights": [StrOptions({"similarity", "uniform"}), callable],
        "exclude_self": ["boolean"],
        "algorithm": [StrOptions({"auto", "ball_tree", "kd_tree", "brute"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_neighbors: int = 75,
        *,
        metric="cosine",
        metric_params: dict | None = None,
        weights="similarity",
        exclude_self: bool = True,
        algorithm: str = "auto",
        batch_size: int = 1024,
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.metric_params = metric_params
        self.weights = weights
        self.exclude_self = exclude_self
        self.algorithm = algorithm
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, interactions=None):
        """Index the training rows' representation and keep their interactions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_features)
            The rows' representation (embeddings), or their interactions
            (rows × items) when ``interactions`` is None. Not modified.
        y : None
            Ignored (in the entry hold-out protocol it is the held-out
            matrix); accepted for Pipeline and GridSearchCV compatibility.
        interactions : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            The same rows' interactions, when ``X`` is another representation.
            Zeros are unobserved. Not modified.

        Returns
        -------
        self : KNeighborsRecommender

        Raises
        ------
        ValueError
            When ``interactions`` has another row count than ``X`` or no
            stored entry, besides the input errors of every estimator.
        """
        if interactions is None:
            _warn_if_not_interactions(X)
            X = check_interactions(self, X, reset=True)
            R = X
        else:
            X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                              reset=True)
            R = as_interactions(interactions, name="interactions", copy=True)
            if R.shape[0] != X.shape[0]:
                raise ValueError(
                    f"interactions has {R.shape[0]} rows but X has {X.shape[0]}: they must be "
                    "the same rows (in a Pipeline pass the pipeline's input, "
                    "pipe.fit(X, kneighborsrecommender__interactions=X))."
                )
            if R.nnz == 0:
                raise ValueError(
                    f"interactions has no stored non-zero entry (shape {R.shape}): the "
                    "neighbours would have nothing to recommend."
                )
        if self.n_neighbors > X.shape[0]:
            warnings.warn(
                f"n_neighbors={self.n_neighbors} but only {X.shape[0]} rows were fitted: "
                "every training row is a neighbour.",
                UserWarning,
                stacklevel=3,
            )
        self.nn_ = NearestNeighbors(
            algorithm=self.algorithm, metric=self.metric, metric_params=self.metric_params,
            n_jobs=self.n_jobs,
        ).fit(X)
        self._fit_X = X
        self.interactions_ = R
        self.input_is_interactions_ = interactions is None
        self.n_items_ = R.shape[1]
        return self

    # ------------------------------------------------------------ neighbours
    def _check_predict_input(self, X):
        check_is_fitted(self)
        if self.input_is_interactions_:
            return check_interactions(self, X, reset=False)
        return validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                             reset=False)

    def neighbor_weights(self, X) -> sp.csr_matrix:
        """Return each row's neighbour weights, a sparse rows × training-rows matrix.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_features_in_)
            Representation of the rows (interactions without ``interactions`` in ``fit``).

        Returns
        -------
        W : scipy.sparse.csr_matrix of shape (n_rows, n_train), float32
            ``W[u, v]`` is the weight of training row ``v`` among the
            neighbours of ``u`` (``predict(X) == W @ interactions_``); each
            row stores ``n_neighbors`` entries (one fewer where a row's
            identical neighbour is excluded and fewer than ``n_neighbors + 1``
            rows were fitted). A weight of 0 is stored as such.
        """
        X = self._check_predict_input(X)
        blocks = [self._weights_block(block) for _, block in iter_row_blocks(X, self._batch_rows())]
        return sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, self._n_train))

    @property
    def _n_train(self) -> int:
        return self.nn_.n_samples_fit_

    def _weights_block(self, block) -> sp.csr_matrix:
        """CSR neighbour weights of the rows of ``block`` (see :meth:`neighbor_weights`)."""
        n_train = self._n_train
        n_query = min(self.n_neighbors + bool(self.exclude_self), n_train)
        distances, indices = self.nn_.kneighbors(block, n_neighbors=n_query)
        keep = np.ones(distances.shape, dtype=bool)
        if self.exclude_self:
            self._drop_self(block, distances, indices, keep)
        weights = self._neighbor_weights(distances)
        counts = keep.sum(axis=1)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        return sp.csr_matrix(
            (weights[keep].astype(np.float32), indices[keep], indptr),
            shape=(distances.shape[0], n_train),
        )

    def _drop_self(self, block, distances, indices, keep) -> None:
        """Unset ``keep`` at each row's first identical neighbour, else at a surplus last one."""
        scale = np.maximum(1.0, np.abs(distances).max(axis=1, keepdims=True))
        rows, cols = np.nonzero(np.abs(distances) <= _SELF_DISTANCE_RTOL * scale)
        equal = _representation_rows_equal(block[rows], self._fit_X[indices[rows, cols]])
        rows, cols = rows[equal], cols[equal]
        first_rows, first = np.unique(rows, return_index=True)  # nonzero is row-major
        keep[first_rows, cols[first]] = False
        if distances.shape[1] > self.n_neighbors:  # queried one extra: drop it where unused
            no_self = np.ones(distances.shape[0], dtype=bool)
            no_self[first_rows] = False
            keep[no_self, -1] = False

    def _neighbor_weights(self, distances: np.ndarray) -> np.ndarray:
        if callable(self.weights):
            weights = np.asarray(self.weights(distances), dtype=np.float64)
            if weights.shape != distances.shape:
                raise ValueError(
                    f"weights={self.weights!r} must return weights of the distances' shape "
                    f"{distances.shape}, got shape {weights.shape}."
                )
            if not np.isfinite(weights).all():
                bad = weights[~np.isfinite(weights)]
                raise ValueError(
                    f"weights={self.weights!r} returned {bad.size} non-finite weight(s) "
                    f"(e.g. {bad[0]}) for finite distances; weights must be finite numbers."
                )
            return weights
        if self.weights == "uniform":
            return np.ones_like(distances)
        if self.metric in _ONE_MINUS_SIMILARITY:
            return 1.0 - distances
        return 1.0 / (1.0 + distances)

    # ----------------------------------------------------------- predictions
    def _score_block(self, block) -> torch.Tensor:
        scores = (self._weights_block(block) @ self.interactions_).toarray()
        return torch.from_numpy(np.asarray(scores, dtype=np.float32))

    @property
    def _n_items_out(self) -> int:
        return self.n_items_

    def recommend(
        self, X, k: int = 10, exclude_seen: bool = True, return_scores: bool = False, *,
        filter_items=None, items=None,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Return the ``k`` best items of each row, best first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_features_in_)
            Representation of the rows (their interactions when fitted
            without ``interactions``).
        k : int, default=10
            Length of each list, ``1 <= k <= n_items_``.
        exclude_seen : bool, default=True
            Leave out the items each row of ``X`` has interacted with; only
            when ``X`` is the interaction matrix (fitted without
            ``interactions``). A model fitted on embeddings does not know the
            rows' interactions: pass ``exclude_seen=False``, or rank through a
            Pipeline and the package's scorers, which exclude the items of
            the pipeline's input.
        return_scores : bool, default=False
            Also return the score of each recommended item.
        filter_items, items : array-like of int, default=None
            Items never recommended, and the candidate items to rank (see
            :meth:`RecommenderMixin.recommend <sklearn_recae.base.RecommenderMixin.recommend>`).

        Returns
        -------
        items : ndarray of shape (n_rows, k), dtype int64
        scores : ndarray of shape (n_rows, k), dtype float32
            Only with ``return_scores`` (``-inf`` for seen items filling a short list).

        Raises
        ------
        ValueError
            With ``exclude_seen=True`` on a model fitted with ``interactions``.
        """
        exclude_seen = check_bool(exclude_seen, "exclude_seen")
        check_is_fitted(self)
        if exclude_seen and not self.input_is_interactions_:
            raise ValueError(self._no_seen_items_message("recommend(..., exclude_seen=True)"))
        return super().recommend(X, k=k, exclude_seen=exclude_seen, return_scores=return_scores,
                                 filter_items=filter_items, items=items)

    def score(self, X, y=None) -> float:
        """NDCG@100 (all items ranked, each row's own excluded), under either protocol.

        Only for a model fitted without ``interactions``: see
        :meth:`RecommenderMixin.score <sklearn_recae.base.RecommenderMixin.score>`.
        A model fitted on embeddings raises: score its Pipeline with
        ``sklearn_recae.metrics.get_scorer("ndcg@100")(pipe, X, y)`` instead.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
        y : {array-like, sparse matrix} of shape (n_rows, n_items), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if not self.input_is_interactions_:
            raise ValueError(self._no_seen_items_message("score"))
        return super().score(X, y)

    def _no_seen_items_message(self, what: str) -> str:
        return (
            f"{type(self).__name__} was fitted on a representation with interactions given "
            f"apart, so {what} cannot tell which items each row of X has seen. Use "
            "recommend(..., exclude_seen=False), or score/rank the Pipeline that makes the "
            "representation with sklearn_recae.metrics.get_scorer('ndcg@100')(pipe, X, y) "
            "(GridSearchCV(scoring=...)): it excludes the items of the pipeline's input."
        )

    def _item_similarity(self) -> ItemSimilarity:
        """Item-item cosine similarity of the columns of ``interactions_``."""
        return ItemSimilarity(self.interactions_.T, "cosine")

    def _default_scorer(self):
        return ndcg_at_100
