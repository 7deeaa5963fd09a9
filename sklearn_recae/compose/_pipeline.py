"""``RecommenderPipeline``: a scikit-learn ``Pipeline`` that recommends like a recommender.

A plain ``Pipeline`` of a transformer and a recommender (``make_pipeline(
MultDAE(), KNeighborsRecommender())``) has ``predict`` but no ``recommend``,
its kNN step needs the interactions passed by hand, and ranking its
``predict`` by hand keeps the items each row has seen. This subclass adds:

- ``recommend`` through the last step's serving loop (streamed, never a
  dense users × items mask), excluding the items of the caller's *original*
  rows (the pipeline's input), not the transformed ones;
- ``similar_items`` of the last step;
- ``fit`` that hands the pipeline's input to a last step whose ``fit`` takes
  ``interactions`` (the kNN step after a transformer), also under
  scikit-learn's metadata routing, so ``GridSearchCV`` tunes it unchanged;
- ``score``: the last step's default metric, computed on the pipeline.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
from sklearn import get_config
from sklearn.base import clone
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.metaestimators import available_if

from ..base import RecommenderMixin, if_item_representation
from ..utils._sklearn import check_is_fitted
from ..utils.validation import as_interactions, check_bool

__all__ = ["RecommenderPipeline", "make_recommender_pipeline"]


def _final_is_recommender(pipeline) -> bool:
    return isinstance(pipeline._final_estimator, RecommenderMixin)


class RecommenderPipeline(Pipeline):
    """A ``Pipeline`` ending in a recommender, with ``recommend`` and ``similar_items``.

    Everything of :class:`sklearn.pipeline.Pipeline` (``set_params`` with
    ``<step>__<param>``, ``GridSearchCV``, ``predict``), plus:

    - ``recommend(X, k, ..., filter_items, items)``: the transformers turn
      ``X`` into the last step's input and the last step's serving loop
      ranks the items, excluding each row's items **of** ``X`` (the
      caller's interactions), never recommending ``filter_items`` and
      ranking only ``items`` when given;
    - ``similar_items``: the last step's (absent where it has none);
    - ``fit(X)``: a last step whose ``fit`` takes ``interactions``
      (:class:`~sklearn_recae.neighbors.KNeighborsRecommender` after a
      transformer) gets ``X`` as its interactions, unless they are given
      (``<step>__interactions=...``, or ``interactions=...`` with metadata
      routing enabled); with routing enabled its request is set for it when
      unset;
    - ``score(X, y=None)``: the last step's default metric (NDCG@100 for the
      ranking models), under either protocol.

    The pipeline's input ``X`` is the users × items interaction matrix.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        Transformers, then a recommender of this package.
    transform_input, memory, verbose
        As in :class:`sklearn.pipeline.Pipeline`.

    See Also
    --------
    make_recommender_pipeline : build one with the steps' names made for you.

    Examples
    --------
    >>> from sklearn.decomposition import TruncatedSVD
    >>> from sklearn_recae.compose import make_recommender_pipeline
    >>> from sklearn_recae.datasets import make_interactions
    >>> from sklearn_recae.neighbors import KNeighborsRecommender
    >>> X = make_interactions(60, 30, density=0.2, implicit=True, random_state=0)
    >>> pipe = make_recommender_pipeline(TruncatedSVD(5, random_state=0),
    ...                                  KNeighborsRecommender(10)).fit(X)
    >>> top = pipe.recommend(X[:2], k=3, filter_items=[0, 1])
    >>> top.shape, pipe.similar_items(0, k=4).shape
    ((2, 3), (4,))
    """

    # ------------------------------------------------------------------ fit
    def _interactions_step(self) -> str | None:
        """The last step's name when it takes ``interactions`` after a transformer, else None."""
        name, final = self.steps[-1]
        before = [step for _, step in self.steps[:-1] if step not in (None, "passthrough")]
        if not before or final in (None, "passthrough"):
            return None
        return name if "interactions" in inspect.signature(final.fit).parameters else None

    def fit(self, X, y=None, **params):
        """Fit the steps; a last step that takes ``interactions`` gets ``X`` unless they are given.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            The interactions. Not modified.
        y : None
            Ignored by the package's recommenders (the held-out matrix of
            the entry hold-out protocol in ``GridSearchCV``).
        **params
            Fit parameters, as in :meth:`sklearn.pipeline.Pipeline.fit`.

        Returns
        -------
        self : RecommenderPipeline
        """
        name = self._interactions_step()
        if name is not None and not get_config()["enable_metadata_routing"]:
            params = {f"{name}__interactions": X, **params}
        elif name is not None and self._interactions_request() in (None, True):
            params = {"interactions": X, **params}
        return super().fit(X, y, **params)

    def _interactions_request(self):
        """The last step's own request of ``interactions`` under metadata routing (None: unset)."""
        return self.steps[-1][1].get_metadata_routing().fit.requests.get("interactions")

    def get_metadata_routing(self):
        """Pipeline's routing, with the last step requesting ``interactions`` where unset."""
        name = self._interactions_step()
        if (name is None or not get_config()["enable_metadata_routing"]
                or self._interactions_request() is not None):  # none to set, or the user's own
            return super().get_metadata_routing()
        requesting = clone(self.steps[-1][1]).set_fit_request(interactions=True)
        shadow = copy.copy(self)  # the routing of the same steps, the last one requesting
        shadow.steps = [*self.steps[:-1], (name, requesting)]
        return Pipeline.get_metadata_routing(shadow)

    # --------------------------------------------------------------- serving
    def _transform_rows(self, X):
        for _, step in self.steps[:-1]:
            if step not in (None, "passthrough"):
                X = step.transform(X)
        return X

    @available_if(_final_is_recommender)
    def recommend(
        self, X, k: int = 10, exclude_seen: bool = True, return_scores: bool = False, *,
        filter_items=None, items=None,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Return the ``k`` best items of each row, best first, excluding the items of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            The rows' interactions (the pipeline's input).
        k : int, default=10
            Length of each list.
        exclude_seen : bool, default=True
            Leave out the items each row of ``X`` has interacted with (its
            entries in ``X`` itself, whatever the transformers make of it).
        return_scores : bool, default=False
            Also return the last step's score of each recommended item.
        filter_items, items : array-like of int, default=None
            Items never recommended, and the candidate items to rank (see
            :meth:`RecommenderMixin.recommend <sklearn_recae.base.RecommenderMixin.recommend>`).

        Returns
        -------
        items : ndarray of shape (n_rows, k), dtype int64
        scores : ndarray of shape (n_rows, k), dtype float32
            Only with ``return_scores``.
        """
        exclude_seen = check_bool(exclude_seen, "exclude_seen")
        check_is_fitted(self)
        seen = as_interactions(X) if exclude_seen else None
        return self._final_estimator._recommend(
            self._transform_rows(X), k, exclude_seen, return_scores, {},
            filter_items=filter_items, items=items, seen=seen)

    def _item_similarity_unavailable(self) -> str | None:
        final = self._final_estimator
        if isinstance(final, RecommenderMixin):
            return final._item_similarity_unavailable()
        return f"The last step of this pipeline, {final!r}, is not a recommender of this package."

    @if_item_representation
    def similar_items(self, items, k: int = 10, *, return_scores: bool = False):
        """The last step's ``similar_items``: see :meth:`RecommenderMixin.similar_items`.

        Parameters
        ----------
        items : int or array-like of int of shape (n_queries,)
        k : int, default=10
        return_scores : bool, default=False

        Returns
        -------
        neighbours : ndarray of shape (n_queries, k), dtype int64
        scores : ndarray of shape (n_queries, k), dtype float32
            Only with ``return_scores``.
        """
        return self._final_estimator.similar_items(items, k, return_scores=return_scores)

    def score(self, X, y=None, **params) -> float:
        """The last step's default metric (e.g. NDCG@100) of the pipeline's recommendations.

        A last step that is not a recommender of this package is scored by
        :meth:`sklearn.pipeline.Pipeline.score`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Observed interactions the pipeline ranks from.
        y : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            Held-out entries (entry hold-out protocol); None hides a seeded
            20% of each row's entries (fold-in protocol).
        **params
            Passed to ``Pipeline.score`` for another last step; not used otherwise.

        Returns
        -------
        score : float
        """
        if not _final_is_recommender(self):
            return super().score(X, y, **params)
        check_is_fitted(self)
        n_features = np.shape(as_interactions(X))[1]
        if n_features != self.n_features_in_:  # before y's checks, as every estimator
            raise ValueError(f"X has {n_features} features, but RecommenderPipeline is "
                             f"expecting {self.n_features_in_} features as input.")
        return self._final_estimator._default_scorer()(self, X, y)


def make_recommender_pipeline(*steps, memory=None, transform_input=None,
                              verbose: bool = False) -> RecommenderPipeline:
    """Build a :class:`RecommenderPipeline`, naming the steps as ``make_pipeline`` does.

    Parameters
    ----------
    *steps : estimators
        Transformers, then a recommender of this package.
    memory, transform_input, verbose
        As in :func:`sklearn.pipeline.make_pipeline`.

    Returns
    -------
    pipeline : RecommenderPipeline

    Examples
    --------
    >>> from sklearn_recae.autoencoder import MultDAE
    >>> from sklearn_recae.compose import make_recommender_pipeline
    >>> from sklearn_recae.neighbors import KNeighborsRecommender
    >>> make_recommender_pipeline(MultDAE(), KNeighborsRecommender()).steps[1][0]
    'kneighborsrecommender'
    """
    named = make_pipeline(*steps).steps
    return RecommenderPipeline(named, memory=memory, transform_input=transform_input,
                               verbose=verbose)
