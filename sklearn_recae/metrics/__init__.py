"""Recommender metrics on sparse held-out matrices, and scorers for model selection.

- Rating prediction: :func:`rmse`, :func:`mae`, and the additive
  :func:`error_sums` / :class:`ErrorSums` for batch-wise accumulation.
- Top-k ranking (Mult-VAE conventions): :func:`recall_at_k`,
  :func:`precision_at_k`, :func:`hit_rate_at_k`, :func:`ndcg_at_k`,
  :func:`map_at_k`, :func:`mrr_at_k`, :func:`novelty_weighted_map_at_k`; catalogue
  :func:`coverage` and :func:`popularity_tail_shares`.
- Scorers for ``GridSearchCV(scoring=...)`` under the fold-in and entry
  hold-out protocols: :func:`make_recommender_scorer`, :func:`get_scorer`
  and the names it accepts, :func:`get_scorer_names`.
- Embedding quality: :func:`spherical_kmeans_nmi` (NMI of the spherical
  k-means clusters of item embeddings against item labels) and
  :func:`spherical_kmeans`.

All ranking metrics rank the whole catalogue; sampled metrics are left out on
purpose (they can mis-rank models: Krichene & Rendle, KDD 2020; see the
``_ranking`` module).

Every array argument is validated by name: NaN, infinity, values that
overflow float32, complex values and input that is not 2-d raise a
``ValueError``/``TypeError`` saying so.
"""

from ._embedding import spherical_kmeans, spherical_kmeans_nmi
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
from ._scorer import get_scorer, get_scorer_names, make_recommender_scorer

__all__ = [
    "ErrorSums",
    "coverage",
    "error_sums",
    "get_scorer",
    "get_scorer_names",
    "hit_rate_at_k",
    "mae",
    "make_recommender_scorer",
    "map_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "novelty_weighted_map_at_k",
    "popularity_tail_shares",
    "precision_at_k",
    "recall_at_k",
    "rmse",
    "spherical_kmeans",
    "spherical_kmeans_nmi",
]
