"""From long-format interactions (one row per user, item, rating) to the CSR matrix and back.

Every estimator of the package takes ``X`` as the users × items interaction
matrix (DESIGN §1). Ratings usually come as a long table instead;
:class:`InteractionEncoder` maps one to the other and maps ``recommend``'s item
indices back to item ids. :func:`check_not_long_format` catches the common
mistake of passing the long table itself as ``X``.

pandas is an optional dependency: it is imported only when a frame is encoded
or decoded. This module imports nothing from ``sklearn_recae.utils.validation``
so that module can import :func:`check_not_long_format` without a cycle.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from ..utils._sklearn import StrOptions, _fit_context, check_is_fitted

__all__ = ["InteractionEncoder"]

_INSTALL_PANDAS = (
    "InteractionEncoder needs pandas, an optional dependency of sklearn-recae: "
    "pip install pandas (or pip install 'sklearn-recae[notebooks]')."
)


def _import_pandas():
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is a test dependency
        raise ImportError(_INSTALL_PANDAS) from exc
    return pd


def _sorted_unique(values: np.ndarray, what: str) -> np.ndarray:
    try:
        return np.unique(values)
    except TypeError as exc:
        raise TypeError(
            f"{what} ids must be of one sortable type (e.g. all int or all str), "
            f"got {sorted({type(v).__name__ for v in values})}."
        ) from exc


class InteractionEncoder(TransformerMixin, BaseEstimator):
    """Encode a long table of (user, item, rating) rows as a users × items CSR matrix.

    ``fit`` learns the sorted unique user and item ids: row ``i`` of the matrix
    is user ``user_ids_[i]`` and column ``j`` is item ``item_ids_[j]``.
    ``transform`` builds the matrix, ``inverse_transform`` turns a matrix back
    into a long table, and :meth:`recommendations_to_frame` maps the item
    indices returned by an estimator's ``recommend`` to item ids (and
    titles). :meth:`transform_new_users` turns users not seen in ``fit``
    into rows of the fitted item space, so a new user's top-k is::

        X_new, users = enc.transform_new_users(liked)   # (user, item[, rating]) rows
        top = model.recommend(X_new, k=10)
        enc.recommendations_to_frame(top, users=users, titles=titles)

    and :meth:`item_indices` maps item ids to columns (``similar_items``,
    ``filter_items``, ``items``).

    Parameters
    ----------
    user_col : hashable, default="user"
        Column of the user ids (any sortable type: int, str, ...).
    item_col : hashable, default="item"
        Column of the item ids.
    rating_col : hashable or None, default=None
        Column of the ratings (explicit feedback). ``None`` means implicit
        feedback: each row counts as an interaction of weight 1.0.
    duplicates : {"raise", "sum", "last"}, default="raise"
        What to do when a (user, item) pair occurs in several rows:
        ``"raise"`` a ``ValueError``, ``"sum"`` the ratings (with
        ``rating_col=None`` this counts the interactions), or keep the
        ``"last"`` row in the frame's order (e.g. the latest re-rating of a
        frame sorted by time).
    handle_unknown : {"error", "warn", "ignore"}, default="error"
        What ``transform`` does with user or item ids not seen in ``fit``
        (and :meth:`transform_new_users` with unknown item ids): raise a
        ``ValueError``; drop those rows with a ``UserWarning`` naming how many
        ids and which; or drop them silently. New users are rows of
        :meth:`transform_new_users`, not unknown ids.
    dtype : numpy floating dtype, default=np.float32
        Dtype of the matrix. Ratings must be finite and non-zero after the cast
        (0 means "unobserved" in the matrix).

    Attributes
    ----------
    user_ids_ : ndarray of shape (n_users,)
        Sorted unique user ids seen in ``fit``; the matrix's row labels.
    item_ids_ : ndarray of shape (n_items,)
        Sorted unique item ids seen in ``fit``; the matrix's column labels.

    See Also
    --------
    check_not_long_format : the check that points here when a long table is
        passed to an estimator as ``X``.

    Notes
    -----
    Only pandas DataFrames are accepted (columns are found by name). The
    matrix always has one row per fitted user, in ``user_ids_`` order, even
    when the frame given to ``transform`` covers only some users. A rating of
    0 (or ratings summing to 0 with ``duplicates="sum"``) raises a
    ``ValueError``: it would be read as "unobserved" and silently lost.
    ``inverse_transform`` restores the id columns' dtypes; the rating column
    has the matrix's dtype.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recae.preprocessing import InteractionEncoder
    >>> df = pd.DataFrame({"user": ["bob", "ann", "bob"],
    ...                    "item": [20, 10, 10],
    ...                    "rating": [4.0, 5.0, 3.0]})
    >>> enc = InteractionEncoder(rating_col="rating")
    >>> X = enc.fit_transform(df)
    >>> X.toarray()
    array([[5., 0.],
           [3., 4.]], dtype=float32)
    >>> enc.user_ids_.tolist(), enc.item_ids_.tolist()
    (['ann', 'bob'], [10, 20])
    >>> enc.inverse_transform(X)
      user  item  rating
    0  ann    10     5.0
    1  bob    10     3.0
    2  bob    20     4.0
    >>> enc.recommendations_to_frame([[1], [0]], scores=[[0.9], [0.7]])
      user  rank  item  score
    0  ann     1    20    0.9
    1  bob     1    10    0.7
    """

    _parameter_constraints: dict = {
        "user_col": [Hashable],
        "item_col": [Hashable],
        "rating_col": [Hashable, None],
        "duplicates": [StrOptions({"raise", "sum", "last"})],
        "handle_unknown": [StrOptions({"error", "warn", "ignore"})],
        "dtype": "no_validation",  # checked in fit: a numpy floating dtype
    }

    def __init__(
        self,
        user_col: Hashable = "user",
        item_col: Hashable = "item",
        rating_col: Hashable | None = None,
        *,
        duplicates: str = "raise",
        handle_unknown: str = "error",
        dtype=np.float32,
    ):
        self.user_col = user_col
        self.item_col = item_col
        self.rating_col = rating_col
        self.duplicates = duplicates
        self.handle_unknown = handle_unknown
        self.dtype = dtype

    # ------------------------------------------------------------------ fit/transform
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, df, y=None):
        """Learn the sorted unique user and item ids of ``df``.

        Parameters
        ----------
        df : pandas.DataFrame
            Long table with the columns ``user_col``, ``item_col`` and, if set,
            ``rating_col``; other columns are ignored. Not modified.
        y : None
            Ignored; accepted so the encoder works in a ``Pipeline``.

        Returns
        -------
        self : InteractionEncoder
        """
        self._check_dtype()
        users, items, _ = self._read_columns(df)
        if len(users) == 0:
            raise ValueError("InteractionEncoder.fit got an empty DataFrame (no interaction).")
        pd = _import_pandas()
        self.user_ids_ = _sorted_unique(users, "user")
        self.item_ids_ = _sorted_unique(items, "item")
        self._id_dtypes = (df[self.user_col].dtype, df[self.item_col].dtype)
        self._indexes = (pd.Index(self.user_ids_), pd.Index(self.item_ids_))
        return self

    def transform(self, df) -> sp.csr_matrix:
        """Build the (n_users, n_items) interaction matrix of ``df``.

        Parameters
        ----------
        df : pandas.DataFrame
            Long table with the fitted encoder's columns. Not modified.

        Returns
        -------
        X : scipy.sparse.csr_matrix of shape (n_users, n_items)
            ``X[i, j]`` is the rating of user ``user_ids_[i]`` for item
            ``item_ids_[j]``; unobserved pairs are not stored.
        """
        check_is_fitted(self)
        users, items, ratings = self._read_columns(df)
        rows = self._positions(users, 0, "user")
        cols = self._positions(items, 1, "item")
        return self._matrix(rows, cols, ratings, self.user_ids_)

    def transform_new_users(self, df) -> tuple[sp.csr_matrix, np.ndarray]:
        """Build the rows of users not seen in ``fit`` (e.g. a new user's liked items).

        Every user id of ``df`` gets a row over the fitted items, whether it
        was seen in ``fit`` or not; the rows are what an estimator's
        ``recommend`` folds in. Item ids not seen in ``fit`` follow
        ``handle_unknown`` (an error, or dropped with or without a warning);
        a user left with no known item still gets its (empty) row.

        Parameters
        ----------
        df : pandas.DataFrame
            Long table with the fitted encoder's columns (``rating_col``
            too, when set). Not modified.

        Returns
        -------
        X : scipy.sparse.csr_matrix of shape (n_new_users, n_items)
            Row ``i`` holds the interactions of user ``users[i]`` with the
            items ``item_ids_``.
        users : ndarray of shape (n_new_users,)
            The sorted unique user ids of ``df``, in row order (pass them as
            ``recommendations_to_frame(..., users=users)``).

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn_recae.preprocessing import InteractionEncoder
        >>> enc = InteractionEncoder().fit(pd.DataFrame({"user": [1, 2], "item": ["a", "b"]}))
        >>> X_new, users = enc.transform_new_users(pd.DataFrame({"user": [7], "item": ["b"]}))
        >>> X_new.toarray(), users
        (array([[0., 1.]], dtype=float32), array([7]))
        """
        check_is_fitted(self)
        users, items, ratings = self._read_columns(df)
        new_users = _sorted_unique(users, "user")
        rows = np.searchsorted(new_users, users)
        cols = self._positions(items, 1, "item")
        return self._matrix(rows, cols, ratings, new_users), new_users

    def item_indices(self, ids) -> np.ndarray:
        """Return the column of each item id (e.g. for ``similar_items`` or ``filter_items``).

        Parameters
        ----------
        ids : array-like of shape (n_ids,)
            Item ids seen in ``fit``.

        Returns
        -------
        indices : ndarray of shape (n_ids,), dtype int64
            ``item_ids_[indices]`` are ``ids``.

        Raises
        ------
        ValueError
            For an id not seen in ``fit`` (whatever ``handle_unknown``).
        """
        check_is_fitted(self)
        ids = np.asarray(ids)
        positions = self._indexes[1].get_indexer(ids.reshape(-1))
        if np.any(positions < 0):
            unknown = list(dict.fromkeys(ids.reshape(-1)[positions < 0].tolist()))
            raise ValueError(f"{len(unknown)} item id(s) not seen in fit, e.g. {unknown[:5]}.")
        return positions.astype(np.int64)

    def _matrix(self, rows, cols, ratings, user_ids: np.ndarray) -> sp.csr_matrix:
        """The CSR matrix of the known (row, col) pairs, duplicates resolved, zeros refused."""
        known = (rows >= 0) & (cols >= 0)  # all True with handle_unknown="error"
        rows, cols, ratings = rows[known], cols[known], ratings[known]
        rows, cols, ratings = self._resolve_duplicates(rows, cols, ratings, user_ids)
        if np.any(ratings == 0):
            raise ValueError(
                f"{int(np.sum(ratings == 0))} (user, item) pair(s) have rating 0, which the "
                "interaction matrix reads as 'unobserved'; drop those rows or shift the ratings."
            )
        shape = (len(user_ids), len(self.item_ids_))
        X = sp.csr_matrix((ratings, (rows, cols)), shape=shape, dtype=self.dtype)
        X.sort_indices()
        return X

    def inverse_transform(self, X):
        """Turn an interaction matrix back into a long table of its stored entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            A matrix whose rows and columns follow ``user_ids_`` and
            ``item_ids_`` (e.g. the output of :meth:`transform` or an
            estimator's ``predict``). Zeros are "unobserved" and omitted.

        Returns
        -------
        df : pandas.DataFrame
            Columns ``user_col``, ``item_col`` and ``rating_col`` (``"rating"``
            when ``rating_col`` is None), one row per non-zero entry, sorted by
            user then item. The id columns have the dtypes seen in ``fit``.
        """
        check_is_fitted(self)
        pd = _import_pandas()
        X = self._as_csr(X)
        coo = X.tocoo()
        users = pd.Series(self.user_ids_[coo.row]).astype(self._id_dtypes[0])
        items = pd.Series(self.item_ids_[coo.col]).astype(self._id_dtypes[1])
        rating_col = "rating" if self.rating_col is None else self.rating_col
        return pd.DataFrame(
            {self.user_col: users, self.item_col: items, rating_col: coo.data}
        )

    def recommendations_to_frame(self, items, scores=None, users=None, *, titles=None):
        """Map the item indices returned by ``recommend`` to item ids, as a long table.

        Parameters
        ----------
        items : array-like of int of shape (n_rows, k)
            Column indices of the recommended items, best first (the output of
            an estimator's ``recommend``).
        scores : array-like of shape (n_rows, k), default=None
            Scores of those items, added as a ``"score"`` column.
        users : array-like of shape (n_rows,), default=None
            User id of each row of ``items``. ``None`` means the rows are all
            the fitted users in order (``recommend`` called on the whole
            matrix); pass e.g. ``user_ids_[:3]`` for ``recommend(X[:3])``, or
            the ``users`` returned by :meth:`transform_new_users`.
        titles : mapping or array-like, default=None
            Title (or any label) of each item, added as a ``"title"`` column:
            a dict or pandas Series looked up by item id (NaN where an id is
            missing), or an array of length ``n_items`` in ``item_ids_`` order.

        Returns
        -------
        df : pandas.DataFrame
            Columns ``user_col``, ``"rank"`` (1 = best), ``item_col`` and, with
            ``scores``, ``"score"``, with ``titles``, ``"title"``; one row per
            recommendation.
        """
        check_is_fitted(self)
        pd = _import_pandas()
        items = np.asarray(items)
        if items.ndim != 2 or (items.size and items.dtype.kind not in "iu"):
            raise ValueError(
                f"items must be a 2-d array of integer item indices, got shape {items.shape} "
                f"and dtype {items.dtype}."
            )
        n_rows, k = items.shape
        n_items = len(self.item_ids_)
        if items.size and (items.min() < 0 or items.max() >= n_items):
            raise ValueError(f"items holds indices outside [0, n_items={n_items}).")
        if users is None:
            if n_rows != len(self.user_ids_):
                raise ValueError(
                    f"items has {n_rows} rows but the encoder was fitted on "
                    f"{len(self.user_ids_)} users; pass users=<the user id of each row>."
                )
            users = self.user_ids_
        users = np.asarray(users)
        if users.shape != (n_rows,):
            raise ValueError(f"users must have shape ({n_rows},), got {users.shape}.")
        user_column = pd.Series(np.repeat(users, k))
        if users.dtype.kind == self.user_ids_.dtype.kind:  # new users' ids may be of another type
            user_column = user_column.astype(self._id_dtypes[0])
        frame = {
            self.user_col: user_column,
            "rank": np.tile(np.arange(1, k + 1), n_rows),
            self.item_col: pd.Series(self.item_ids_[items.ravel()]).astype(self._id_dtypes[1]),
        }
        if scores is not None:
            scores = np.asarray(scores)
            if scores.shape != items.shape:
                raise ValueError(
                    f"scores must have the shape of items {items.shape}, got {scores.shape}."
                )
            frame["score"] = scores.ravel()
        if titles is not None:
            frame["title"] = self._titles(titles, items.ravel())
        return pd.DataFrame(frame)

    def _titles(self, titles, items: np.ndarray) -> np.ndarray:
        """The title of each item index: ``titles`` looked up by id, or by position."""
        pd = _import_pandas()
        if isinstance(titles, (Mapping, pd.Series)):
            return pd.Series(titles).reindex(self.item_ids_[items]).to_numpy()
        titles = np.asarray(titles)
        if titles.shape != self.item_ids_.shape:
            raise ValueError(
                f"titles must be a mapping from item id to title, or an array of one title "
                f"per item in item_ids_ order (shape {self.item_ids_.shape}); got shape "
                f"{titles.shape}."
            )
        return titles[items]

    # ------------------------------------------------------------------ helpers
    def _check_dtype(self) -> None:
        try:
            kind = np.dtype(self.dtype).kind
        except TypeError:
            kind = None
        if kind != "f":
            raise ValueError(f"dtype must be a numpy floating dtype, got {self.dtype!r}.")

    def _read_columns(self, df) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Check ``df`` and return new arrays of its users, items and ratings."""
        pd = _import_pandas()
        if not isinstance(df, pd.DataFrame):
            raise TypeError(
                "InteractionEncoder takes a pandas DataFrame with one row per interaction, "
                f"got {type(df).__name__}; wrap an array with "
                f"pd.DataFrame(arr, columns=[{self.user_col!r}, {self.item_col!r}, ...])."
            )
        wanted = [self.user_col, self.item_col] + (
            [] if self.rating_col is None else [self.rating_col]
        )
        missing = [c for c in wanted if c not in df.columns]
        if missing:
            raise ValueError(
                f"DataFrame has no column(s) {missing}; its columns are {list(df.columns)}. "
                "Set user_col, item_col and rating_col to the right names."
            )
        for col in wanted:
            n_missing = int(df[col].isna().sum())
            if n_missing:
                raise ValueError(f"Column {col!r} has {n_missing} missing (NaN/None) value(s).")
        users = df[self.user_col].to_numpy(copy=True)
        items = df[self.item_col].to_numpy(copy=True)
        if self.rating_col is None:
            return users, items, np.ones(len(df), dtype=self.dtype)
        column = df[self.rating_col]
        if getattr(column.dtype, "kind", None) == "c" or (
            column.dtype == object
            and any(isinstance(v, (complex, np.complexfloating)) for v in column)
        ):
            # the cast to a float dtype would drop the imaginary part with a mere warning
            raise TypeError(
                f"Column {self.rating_col!r} holds complex values; ratings must be real numbers."
            )
        try:
            with np.errstate(over="ignore"):  # overflow to inf is reported just below
                ratings = column.to_numpy(dtype=self.dtype, copy=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Column {self.rating_col!r} must hold numeric ratings.") from exc
        if not np.all(np.isfinite(ratings)):
            raise ValueError(
                f"Column {self.rating_col!r} has value(s) that are infinite as {np.dtype(self.dtype)}."
            )
        return users, items, ratings

    def _positions(self, ids: np.ndarray, axis: int, what: str) -> np.ndarray:
        """Row (axis 0) or column (axis 1) of each id; -1 for unknown ids when dropped."""
        positions = self._indexes[axis].get_indexer(ids)
        unknown = positions < 0
        if not unknown.any() or self.handle_unknown == "ignore":
            return positions
        examples = list(dict.fromkeys(ids[unknown].tolist()))
        found = f"{len(examples)} {what} id(s) not seen in fit, e.g. {examples[:5]}"
        if self.handle_unknown == "error":
            raise ValueError(
                f"{found}. Fit the encoder on all the frames, or set handle_unknown='warn' "
                "(or 'ignore') to drop those rows."
            )
        warnings.warn(f"{found}: their {int(unknown.sum())} row(s) are dropped "
                      "(handle_unknown='warn').", UserWarning, stacklevel=3)
        return positions

    def _resolve_duplicates(self, rows, cols, ratings, user_ids):
        """Apply ``duplicates`` to repeated (row, col) pairs; keeps first-seen order otherwise."""
        keys = rows.astype(np.int64) * len(self.item_ids_) + cols
        # Unique keys, at the position of their last occurrence in the frame's order.
        _, last_from_end = np.unique(keys[::-1], return_index=True)
        if len(last_from_end) == len(keys):
            return rows, cols, ratings
        if self.duplicates == "raise":
            n_dup = len(keys) - len(last_from_end)
            order = np.argsort(keys, kind="stable")
            first = order[np.flatnonzero(keys[order][1:] == keys[order][:-1])[0]]
            pair = (user_ids[rows[[first]]].tolist()[0],
                    self.item_ids_[cols[[first]]].tolist()[0])
            raise ValueError(
                f"{n_dup} row(s) repeat a (user, item) pair already in the frame, e.g. "
                f"{pair}. Set duplicates='sum' or 'last', or deduplicate the frame."
            )
        if self.duplicates == "last":
            keep = len(keys) - 1 - last_from_end
            return rows[keep], cols[keep], ratings[keep]
        # "sum": add in float64, then cast, so the sum does not depend on the order.
        unique_keys, inverse = np.unique(keys, return_inverse=True)
        sums = np.bincount(inverse, weights=ratings.astype(np.float64))
        n_items = len(self.item_ids_)
        return unique_keys // n_items, unique_keys % n_items, sums.astype(self.dtype)

    def _as_csr(self, X) -> sp.csr_matrix:
        """A canonical CSR copy of ``X`` checked against the fitted shape."""
        if sp.issparse(X):
            X = sp.csr_matrix(X, copy=True)
        else:
            X = sp.csr_matrix(np.asarray(X))
        shape = (len(self.user_ids_), len(self.item_ids_))
        if X.shape != shape:
            raise ValueError(
                f"X must have shape (n_users, n_items) = {shape} as seen in fit, got {X.shape}."
            )
        if X.dtype.kind not in "fiub":
            raise ValueError(f"X must be numeric, got dtype {X.dtype}.")
        if X.dtype.kind != "f":
            X = X.astype(self.dtype)
        X.sum_duplicates()
        X.eliminate_zeros()
        if not np.all(np.isfinite(X.data)):
            raise ValueError("X contains NaN or infinity.")
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # a DataFrame with named columns, not an array
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags


# ---------------------------------------------------------------------- long-format check
