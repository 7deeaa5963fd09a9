"""Input validation shared by every estimator, scorer, splitter and metric: one module.

- :func:`check_interactions` / :func:`as_interactions`: an estimator's ``X``,
  canonical CSR, with :func:`check_not_long_format` catching a long table;
- :func:`check_held_out`, :func:`check_same_shape`, :func:`check_k`,
  :func:`check_bool`, :func:`check_fraction`: the other arguments;
- :func:`check_interaction_matrix` / :func:`as_real_array`: the array
  arguments of the metrics and scorers, by argument name, so a bad input
  fails with the same ``TypeError``/``ValueError`` naming the argument
  (design §6) instead of a message from inside numpy or scipy; finiteness
  is checked *after* the float32 cast, as every estimator works in float32.
"""

from __future__ import annotations

import numbers
import sys
import warnings

import numpy as np
import scipy.sparse as sp

from ._sklearn import validate_data

__all__ = [
    "as_interactions",
    "as_numeric",
    "as_real_array",
    "check_bool",
    "check_fraction",
    "check_held_out",
    "check_hidden_units",
    "check_interaction_matrix",
    "check_interactions",
    "check_item_indices",
    "check_k",
    "check_not_long_format",
    "check_same_shape",
    "warn_if_not_ratings",
]


#: A fitted matrix this tall and narrow is more likely a long table of ratings.
_LONG_FORMAT_MAX_COLUMNS, _LONG_FORMAT_MIN_ROWS = 4, 1000


def as_interactions(X, *, dtype=np.float32, copy: bool = False, name: str = "X") -> sp.csr_matrix:
    """Return ``X`` as a canonical CSR interaction matrix.

    The result is a ``scipy.sparse.csr_matrix`` of ``dtype`` whose stored
    entries are exactly the observations: explicit zeros are removed and
    duplicates summed. The caller's object is never modified: whenever
    canonicalisation would change ``X`` a copy is made first.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_rows, n_items)
        Interactions; a zero (stored or not) means unobserved.
    dtype : numpy dtype, default=np.float32
        Dtype of the returned matrix.
    copy : bool, default=False
        Always return a new matrix, even if ``X`` is already canonical.
    name : str, default="X"
        The argument's name in error messages.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)

    Raises
    ------
    TypeError
        For complex values.
    ValueError
        For NaN or infinity, also where a finite value overflows ``dtype``
        (1e39 in float32), and for input that is not 2-d.
    """
    if not sp.issparse(X):
        X = np.asarray(X)
    if np.iscomplexobj(X):
        raise TypeError(f"{name} holds complex values; interactions must be real numbers.")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-d (n_rows, n_items) matrix, got shape {X.shape}.")
    with np.errstate(over="ignore"):
        X = sp.csr_matrix(X, dtype=dtype, copy=True) if sp.issparse(X) else sp.csr_matrix(X, dtype=dtype)
    if not np.isfinite(X.data).all():
        raise ValueError(
            f"{name} contains NaN or infinity, or a value too large for {np.dtype(dtype).name} "
            f"(|value| > {np.finfo(dtype).max:.3g})."
        )
    if not X.has_canonical_format:
        X.sum_duplicates()
    X.eliminate_zeros()
    if X.indices.dtype != np.int32 and X.nnz < np.iinfo(np.int32).max:
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
    return X


def as_numeric(X, *, name: str = "X"):
    """Convert string and object arrays to float64 as ``fit``/``predict`` do; return others as given.

    ``check_interactions`` (``fit``, ``predict``, ``recommend``) lets
    :func:`sklearn.utils.check_array` cast a string (``"4.0"``) or object array
    to float64; the scorers and ``score`` call this first so that they accept
    the same input. Numeric arrays, sparse matrices and anything else are
    returned unchanged for the caller's own checks (2-d, finite, real).

    Raises
    ------
    ValueError
        If a string does not read as a number (``fit`` raises ``ValueError`` too).
    """
    if sp.issparse(X):
        return X
    try:
        array = np.asarray(X)
    except (TypeError, ValueError):
        return X  # ragged rows: the caller's check says so in its own terms
    if array.dtype.kind not in "USO":
        return X
    if array.dtype.kind == "O" and any(
        isinstance(v, (complex, np.complexfloating)) for v in array.flat
    ):
        return X  # the caller rejects complex values by name
    try:
        return np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must hold numbers: {error}.") from None


def check_interactions(estimator, X, *, reset: bool, dtype=np.float32) -> sp.csr_matrix:
    """Validate ``X`` for ``estimator`` and return a canonical CSR copy.

    Wraps :func:`sklearn.utils.validation.validate_data` so every estimator
    raises the same errors: ``ValueError`` for NaN/inf, empty input or a
    column count other than the one seen in ``fit``; ``TypeError`` or
    ``ValueError`` for non-numeric dtypes. With ``reset=True`` (in ``fit``)
    ``n_features_in_`` is set.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator whose ``n_features_in_`` is set or checked.
    X : {array-like, sparse matrix} of shape (n_rows, n_items)
        Interactions.
    reset : bool
        True in ``fit``, False afterwards.
    dtype : numpy dtype, default=np.float32

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        A canonical copy (see :func:`as_interactions`); ``X`` itself is unchanged.
    """
    check_not_long_format(X, type(estimator).__name__)
    if sp.issparse(X) and X.format not in ("csr", "csc", "coo", "lil", "dok", "bsr", "dia"):
        raise TypeError(f"Unsupported sparse format {X.format!r}.")  # pragma: no cover
    X = validate_data(
        estimator,
        X,
        accept_sparse=["csr", "csc", "coo"],
        dtype=[np.float64, np.float32],
        ensure_all_finite=True,
        reset=reset,
        accept_large_sparse=True,
    )
    X = as_interactions(X, dtype=dtype, copy=True)
    if reset and X.nnz == 0:
        raise ValueError(
            f"X has no stored non-zero entry (shape {X.shape}): zeros are unobserved, "
            f"so there is nothing for {type(estimator).__name__} to learn from."
        )
    if reset and X.shape[1] <= _LONG_FORMAT_MAX_COLUMNS and X.shape[0] >= _LONG_FORMAT_MIN_ROWS:
        warnings.warn(
            f"X has {X.shape[0]} rows but only {X.shape[1]} columns, read as {X.shape[1]} "
            "items. If it is a long table of (user, item, rating) rows, turn it into the "
            "users x items matrix with sklearn_recae.preprocessing.InteractionEncoder.",
            UserWarning,
            stacklevel=3,
        )
    return X


def check_bool(value, name: str) -> bool:
    """Return ``value`` if it is a bool (numpy's too), else raise ``TypeError`` naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_hidden_units(estimator, n_layers: int | None = None) -> tuple[int, ...]:
    """Check ``estimator.hidden_units``: a non-empty tuple of positive ints (``n_layers`` if given).

    Returns the widths as a tuple; raises ``ValueError`` naming the estimator's
    class when a model with exactly ``n_layers`` hidden widths is given another count.
    """
    units = estimator.hidden_units
    if not isinstance(units, (tuple, list)) or not units or not all(
        isinstance(h, numbers.Integral) and not isinstance(h, (bool, np.bool_)) and h >= 1
        for h in units
    ):
        raise ValueError(f"hidden_units must be a non-empty tuple of positive ints, got {units!r}.")
    if n_layers is not None and len(units) != n_layers:
        example = tuple(units[:n_layers]) if len(units) > n_layers else (200,) * n_layers
        raise ValueError(
            f"{type(estimator).__name__} has exactly {n_layers} hidden width(s): hidden_units "
            f"must be a tuple of {n_layers} positive int(s), e.g. {example}, got {units!r}."
        )
    return tuple(int(h) for h in units)


def check_k(k, n_items: int) -> int:
    """Check that ``k`` is an integer in ``[1, n_items]`` and return it."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {type(k).__name__}.")
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, n_items={n_items}], got k={k}.")
    return int(k)


def check_item_indices(value, n_items: int, name: str = "items") -> np.ndarray:
    """Check a 1-d array-like of item indices in ``[0, n_items)`` and return it as int64.

    Raises ``TypeError`` for anything but integers (booleans included) or
    another number of dimensions, ``ValueError`` for an index out of range;
    both name the argument ``name``. An empty array is returned as it is.
    """
    indices = np.asarray(value)
    if indices.ndim != 1 or (indices.size and (indices.dtype == bool or
                                               not np.issubdtype(indices.dtype, np.integer))):
        raise TypeError(f"{name} must be a 1-d array-like of integer item indices.")
    if indices.size and (indices.min() < 0 or indices.max() >= n_items):
        raise ValueError(f"{name} must be item indices in [0, {n_items - 1}]; got values "
                         f"in [{indices.min()}, {indices.max()}].")
    return indices.astype(np.int64, copy=False)


def check_same_shape(X, y, *, names=("X", "y")) -> None:
    """Raise ``ValueError`` unless ``X`` and ``y`` have the same 2-d shape."""
    if X.shape != y.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {X.shape} and {y.shape}."
        )


def check_held_out(X_held_out, X: sp.csr_matrix, *, name: str = "X_valid") -> sp.csr_matrix:
    """Validate a held-out matrix (e.g. ``fit(X, X_valid=...)``) against the training matrix.

    Returns a canonical CSR copy (see :func:`as_interactions`); raises
    ``ValueError`` for another shape, NaN/inf values, no stored entry, or an
    entry also stored in ``X`` (held-out entries must be disjoint from the
    training entries, or the validation score measures memorisation), and
    ``TypeError`` for complex values.
    """
    X_held_out = as_interactions(X_held_out, name=name)
    if X_held_out.shape != X.shape:
        raise ValueError(
            f"{name} and X must have the same shape, got {X_held_out.shape} and {X.shape}."
        )
    if X_held_out.nnz == 0:
        raise ValueError(f"{name} has no stored entry to validate on.")
    overlap = X_held_out.multiply(X != 0).nnz
    if overlap:
        raise ValueError(
            f"{name} shares {overlap} stored entries with X; held-out entries must be "
            "disjoint from the training entries (split them with "
            "sklearn_recae.model_selection.train_test_split)."
        )
    return X_held_out


def check_fraction(holdout_fraction) -> None:
    """Raise unless ``holdout_fraction`` is a real number in (0, 1) (not a bool)."""
    if isinstance(holdout_fraction, (bool, np.bool_)) or not isinstance(
        holdout_fraction, numbers.Real
    ):
        raise TypeError(
            f"holdout_fraction must be a float, got {type(holdout_fraction).__name__}."
        )
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError(f"holdout_fraction must be in (0, 1), got {holdout_fraction}.")


def _normalise(name) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


_USER_NAMES = frozenset(map(_normalise, [
    "user", "users", "user_id", "userId", "uid", "username", "customer", "customer_id",
    "visitor_id", "reviewer_id", "member_id", "session_id",
]))
_ITEM_NAMES = frozenset(map(_normalise, [
    "item", "items", "item_id", "itemId", "iid", "movie", "movie_id", "movieId", "product",
    "product_id", "asin", "isbn", "book_id", "track_id", "song_id", "artist_id",
    "article_id", "business_id", "recipe_id", "anime_id",
]))
_RATING_NAMES = frozenset(map(_normalise, [
    "rating", "ratings", "score", "stars", "playcount", "plays", "clicks", "timestamp",
]))


def check_not_long_format(X, estimator_name: str) -> None:
    """Raise ``ValueError`` if ``X`` is a DataFrame that looks like a long table of ratings.

    An estimator's ``X`` is the users × items matrix. A long table (one row per
    user, item, rating) would otherwise be read silently as a matrix of 3
    items. ``X`` is taken as long format when it is a pandas DataFrame with
    columns named for at least two of the roles user (``user``, ``user_id``,
    ``userId``, ``uid``, ...), item (``item``, ``item_id``, ``movieId``,
    ``iid``, ...) and rating (``rating``, ``score``, ``timestamp``, ...),
    compared case-insensitively and ignoring ``_``, ``-`` and spaces.
    pandas is never imported here.

    Parameters
    ----------
    X : object
        The input given to the estimator.
    estimator_name : str
        Name used in the message, e.g. ``"AutoRec"``.

    Raises
    ------
    ValueError
        Pointing to :class:`InteractionEncoder`, with the detected column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recae.preprocessing import check_not_long_format
    >>> check_not_long_format(pd.DataFrame({"Toy Story": [5, 0], "Heat": [0, 3]}), "AutoRec")
    >>> check_not_long_format(pd.DataFrame({"userId": [1], "movieId": [2], "rating": [4]}),
    ...                       "AutoRec")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: AutoRec takes X as a users x items interaction matrix, ...
    """
    pd = sys.modules.get("pandas")  # no pandas loaded -> X cannot be a DataFrame
    if pd is None or not isinstance(X, pd.DataFrame):
        return None
    found = {}
    for col in X.columns:
        key = _normalise(col)
        for role, names in (("user", _USER_NAMES), ("item", _ITEM_NAMES),
                            ("rating", _RATING_NAMES)):
            if key in names:
                found.setdefault(role, col)
    if len(found) < 2:
        return None
    rating = f", rating_col={found['rating']!r}" if "rating" in found else ""
    raise ValueError(
        f"{estimator_name} takes X as a users x items interaction matrix, but got a DataFrame "
        f"whose columns {list(X.columns)} look like a long table (one row per user, item, "
        "rating). Encode it first:\n"
        "    from sklearn_recae.preprocessing import InteractionEncoder\n"
        f"    enc = InteractionEncoder(user_col={found.get('user', 'user')!r}, "
        f"item_col={found.get('item', 'item')!r}{rating})\n"
        "    X = enc.fit_transform(df)\n"
        "and map recommendations back with enc.recommendations_to_frame(...)."
    )


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _complex_error(name: str) -> TypeError:
    return TypeError(
        f"{name} has complex values; complex values are not supported, {name} must "
        "hold real numbers."
    )


def as_real_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a dense numpy array of real numbers (bool, int or float).

    Parameters
    ----------
    value : array-like
        Any input accepted by :func:`numpy.asarray`; not a sparse matrix.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    array : ndarray
        ``value`` as an array of kind bool, integer or float (not copied when
        it already is one); an object array of numbers is converted to float64.

    Raises
    ------
    TypeError
        For complex or non-numeric (string, object, ...) values.
    ValueError
        If ``value`` cannot be read as an array (e.g. rows of different lengths).
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} could not be read as an array: are its rows of different lengths?"
        ) from None
    kind = array.dtype.kind
    if kind == "c":
        raise _complex_error(name)
    if kind == "O":
        if any(isinstance(v, (complex, np.complexfloating)) for v in array.flat):
            raise _complex_error(name)
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must hold numbers, got non-numeric values (dtype object)."
            ) from None
    if kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}.")
    return array


def check_interaction_matrix(X, name: str, *, dtype=np.float32) -> sp.csr_matrix:
    """Validate an interaction or held-out matrix argument and return it as canonical CSR.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_rows, n_items)
        The argument; a zero (stored or not) means unobserved.
    name : str
        The argument's name (``"y_true"``, ``"X"``, ``"y"``), used in the messages.
    dtype : numpy dtype, default=np.float32
        Dtype of the returned matrix. Whatever it is, the values must be finite
        once cast to float32.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_items)
        Canonical copy (see :func:`~sklearn_recae.utils.validation.as_interactions`);
        the caller's object is unchanged.

    Raises
    ------
    TypeError
        For complex or non-numeric values.
    ValueError
        If ``X`` is not 2-d, or holds NaN, infinity or a finite value that
        overflows float32 (``|value| > 3.4e38``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recae.utils.validation import check_interaction_matrix
    >>> check_interaction_matrix([[1.0, 0.0], [0.0, 1e39]], "y")
    Traceback (most recent call last):
    ...
    ValueError: y has 1 value that overflows float32 (1e+39 at row 1, item 1; \
the largest float32 is 3.4e+38): it would become infinity after the cast to float32.
    """
    if sp.issparse(X):
        if X.dtype.kind == "c":
            raise _complex_error(name)
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}.")
    else:
        X = as_real_array(X, name)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-d matrix of shape (n_rows, n_items), got "
            f"{X.ndim}-d input of shape {X.shape}."
        )
    if X.dtype.kind == "f":  # bool and integer values are finite and fit float32
        if sp.issparse(X) and (X.format != "csr" or not X.has_canonical_format):
            # one value per entry (duplicates summed, in X's precision) in a plain array
            X = sp.csr_matrix(X, copy=True)
            X.sum_duplicates()
        _check_finite_float32(X, name)
    return as_interactions(X, dtype=dtype)


def _check_finite_float32(X, name: str) -> None:
    """Raise if the float values of ``X`` (dense or canonical CSR) are not finite in float32."""
    values = X.data if sp.issparse(X) else X
    with np.errstate(over="ignore"):
        if np.isfinite(values.astype(np.float32, copy=False)).all():
            return
    # error path only: say what is wrong and where
    for problem, mask in (("NaN", np.isnan(values)), ("infinity", np.isinf(values))):
        n = int(np.count_nonzero(mask))
        if n:
            raise ValueError(
                f"{name} contains {problem} at {n} entr{'ies' if n > 1 else 'y'} "
                f"(first at {_position(X, mask)}); every value of {name} must be finite."
            )
    with np.errstate(over="ignore"):
        mask = np.isinf(values.astype(np.float32))
    n = int(np.count_nonzero(mask))
    first = float(values[mask][0])
    raise ValueError(
        f"{name} has {n} value{'s' if n > 1 else ''} that overflow{'' if n > 1 else 's'} "
        f"float32 ({first:.3g} at {_position(X, mask)}; the largest float32 is "
        f"{_FLOAT32_MAX:.2g}): {'they' if n > 1 else 'it'} would become infinity after "
        f"the cast to float32."
    )


def _position(X, mask: np.ndarray) -> str:
    """``"row r, item i"`` of the first True of ``mask`` (over ``X`` or its ``data``)."""
    if sp.issparse(X):
        coo = X.tocoo()  # same order of ``data`` as the canonical CSR
        index = int(np.flatnonzero(mask)[0])
        row, item = coo.row[index], coo.col[index]
    else:
        row, item = np.argwhere(mask)[0]
    return f"row {int(row)}, item {int(item)}"


def warn_if_not_ratings(estimator, X: sp.csr_matrix) -> None:
    """Warn when an explicit-rating model is given single-valued (binary) input.

    A rating model fitted on entries that are all one value learns to predict
    that value everywhere, so its rankings are arbitrary.
    """
    values = np.unique(X.data[: 1_000_000])
    if values.size == 1 and np.all(X.data == values[0]):
        warnings.warn(
            f"Every stored entry of X is {values[0]:g}: this looks like implicit "
            f"(binary) feedback, but {type(estimator).__name__} predicts ratings and learns "
            f"to predict {values[0]:g} everywhere, so its rankings are arbitrary. Use an "
            "implicit-feedback model, or give ratings.",
            UserWarning,
            stacklevel=3,
        )
