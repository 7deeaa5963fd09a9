"""Validation of NRP's side information, and its routing through the package's scorers.

Side information reaches :class:`~sklearn_recae.hybrid.NRP` by its alignment:

- **item-aligned** data (``item_features``) describes the columns, which
  ``fit`` fixes like ``n_features_in_``: it is a constructor parameter (as
  ``OneHotEncoder(categories=...)`` holds per-feature data), so ``clone``
  copies it and ``GridSearchCV`` never slices it with the rows;
- **user-aligned** data (``user_features``) travels with the rows: an
  argument of ``fit``, ``predict``, ``predict_pairs``, ``recommend`` and
  ``score``, sliced with the rows by ``GridSearchCV`` through scikit-learn's
  metadata routing (``set_fit_request(user_features=True)``,
  ``set_score_request(user_features=True)``).

The package scorers call ``predict``/``recommend`` on row subsets; NRP
implements their hooks, and :class:`RowsWithUserFeatures` binds a user
feature matrix to the rows of the matrix being scored so that each subset
gets its own rows' features.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import scipy.sparse as sp

from ..utils.validation import as_interactions

__all__ = ["RowsWithUserFeatures", "check_side", "check_sources", "entry_predictions"]


def check_side(features, n_rows: int, name: str, aligned: str) -> sp.csr_matrix:
    """``features`` as a float32 CSR copy of ``n_rows`` rows, finite; a clear error otherwise."""
    if isinstance(features, (list, tuple)):
        raise TypeError(
            f"{name} must be one matrix of shape (n_{aligned}, n_features); stack the sources "
            f"(scipy.sparse.hstack) and give their widths in the *_sources parameter."
        )
    checked = as_interactions(features, name=name)
    if checked.shape[0] != n_rows:
        raise ValueError(
            f"{name} has {checked.shape[0]} rows but there are {n_rows} {aligned}: it must "
            f"have one row per {aligned[:-1]}, in the order of the rating matrix's "
            f"{'rows' if aligned == 'users' else 'columns'}."
        )
    return checked


def check_sources(sources: Sequence[int] | None, width: int, name: str) -> list[int]:
    """The widths of the side-information sources (one source of ``width`` when None)."""
    if width == 0:
        return []
    if sources is None:
        return [width]
    widths = [int(w) for w in sources]
    if any(w < 1 for w in widths) or sum(widths) != width:
        raise ValueError(
            f"{name}={tuple(sources)} must be positive widths summing to the {width} columns "
            "of the side information."
        )
    return widths


def _pairs(target: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    block = target[rows].tocoo()
    return rows[block.row], block.col, block.data


def entry_predictions(estimator, source: sp.csr_matrix, target: sp.csr_matrix,
                      batch_size: int, user_features) -> Iterator[tuple]:
    """The scorers' ``_iter_entry_predictions`` through ``predict_pairs``: no dense block.

    Each held-out entry becomes one column of a ``(1, n_entries)`` block, so
    the scorers' sums over ``(y_block, y_pred)`` are those of the entries.
    """
    target = sp.csr_matrix(target)
    target.eliminate_zeros()
    with_entries = np.flatnonzero(np.diff(target.indptr))
    for start in range(0, with_entries.size, batch_size):
        rows, cols, values = _pairs(target, with_entries[start:start + batch_size])
        predicted = estimator.predict_pairs(source, rows, cols, user_features=user_features)
        y_block = sp.csr_matrix((values, np.arange(values.size), [0, values.size]),
                                shape=(1, values.size))
        yield y_block, predicted[None, :]


class RowsWithUserFeatures:
    """An NRP whose user features are bound to the rows of the matrix being scored.

    ``score(X, y, user_features=U)`` hands this to the package scorers, which
    only call the hooks below: every row subset they score gets its rows of ``U``.
    """

    def __init__(self, estimator, user_features) -> None:
        self.estimator = estimator
        self.user_features = user_features

    def _iter_entry_predictions(self, source, target, batch_size):
        yield from entry_predictions(self.estimator, source, target, batch_size,
                                     self.user_features)

    def _iter_recommendations(self, source, rows, k, batch_size):
        features = self.user_features
        for start in range(0, rows.size, batch_size):
            batch = rows[start:start + batch_size]
            subset = None if features is None else features[batch]
            yield batch, self.estimator.recommend(source[batch], k=k, user_features=subset)
