"""The behaviour suite every recommender runs (imported by test_common.py).

Modelled on implicit's ``tests/recommender_base_test.py``: a block-structured
(checkerboard) interaction matrix whose withheld in-block entries each model
must rank at the top, plus contract checks on shapes, dtypes, seen-item
exclusion, fold-in, explicit stored zeros, errors and input immutability.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from sklearn_recae.base import ndcg_at_100
from sklearn_recae.utils.validation import check_bool
from sklearn_recae.metrics._scorer import _top_k_from_predict
from sklearn_recae.utils.validation import as_interactions, check_k


@dataclass(frozen=True)
class Recommender:
    """A configuration of the behaviour suite.

    Attributes
    ----------
    factory : callable
        Builds a fresh estimator that learns the checkerboard.
    explicit : bool
        An explicit-rating model (trained on ratings, warns on binary input).
    folds_in : bool
        Serves rows unseen in fit (user-based); an ``ItemBased`` model does not.
    fit_params : callable, default=None
        ``fit_params(X) -> dict``: fit arguments the model needs from its
        training rows (a Pipeline's ``kneighborsrecommender__interactions=X``).
    bounded : bool, default=False
        Every parameter is projected onto a bounded set after each step (CML:
        points in the unit ball, fixed margin; MML with ``metric_scale="trace"``
        and fixed margins), so no learning rate diverges.
    personalised : bool, default=True
        Ranks by the row's own items, so the checkerboard's withheld items come
        first; False for a bias-only model (``BaselineRatings``), which faces
        every other check of the suite (bad inputs included).
    """

    factory: Callable[[], BaseEstimator]
    explicit: bool = True
    folds_in: bool = True
    bounded: bool = False
    personalised: bool = True
    fit_params: Callable[[sp.csr_matrix], dict] | None = None

    def fit(self, model: BaseEstimator, X, y=None) -> BaseEstimator:
        """``model.fit(X, y)`` with the configuration's ``fit_params(X)``."""
        return model.fit(X, y, **(self.fit_params(X) if self.fit_params else {}))


def recommend(model, X, k=10, exclude_seen=True, return_scores=False):
    """``model.recommend``; a Pipeline (no ``recommend``) is ranked from ``predict``.

    With ``exclude_seen`` the fallback is the package scorers' own
    (``_top_k_from_predict``), so the suite checks what scoring a Pipeline
    relies on.
    """
    if hasattr(model, "recommend"):
        return model.recommend(X, k=k, exclude_seen=exclude_seen, return_scores=return_scores)
    exclude_seen = check_bool(exclude_seen, "exclude_seen")
    return_scores = check_bool(return_scores, "return_scores")
    X = as_interactions(X)
    if exclude_seen:
        items = _top_k_from_predict(model, X, k)
    else:
        k = check_k(k, X.shape[1])
        items = np.argsort(-model.predict(X), axis=1, kind="stable")[:, :k]
    if not return_scores:
        return items
    scores = np.array(model.predict(X), dtype=np.float32)
    if exclude_seen:
        scores[X.nonzero()] = -np.inf
    return items, np.take_along_axis(scores, items, axis=1)


def score(model, X, y=None) -> float:
    """``model.score``; a Pipeline is scored by NDCG@100, the package scorer of its protocol."""
    if hasattr(model, "recommend"):
        return model.score(X, y)
    return ndcg_at_100(model, X, y)


def make_checkerboard(
    n_blocks: int = 4,
    rows_per_block: int = 30,
    items_per_block: int = 10,
    *,
    observed: float = 0.7,
    explicit: bool = True,
    off_block: float = 0.1,
    random_state: int = 0,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Return ``(X_train, X_withheld)`` of a block-diagonal preference matrix.

    Row ``u`` of block ``b`` likes exactly the items of block ``b``. A fraction
    ``observed`` of those entries is in ``X_train``, the rest in ``X_withheld``.
    With ``explicit=True`` liked entries are rated 5 and a fraction ``off_block``
    of the other entries is observed with rating 1 (an explicit model needs
    low ratings to learn contrast); implicit data holds ones only.
    """
    rng = np.random.RandomState(random_state)
    n_rows, n_items = n_blocks * rows_per_block, n_blocks * items_per_block
    row_block = np.arange(n_rows) // rows_per_block
    item_block = np.arange(n_items) // items_per_block
    liked = row_block[:, None] == item_block[None, :]
    keep = rng.rand(n_rows, n_items) < observed
    keep[np.arange(n_rows), item_block.searchsorted(row_block)] = True  # >= 1 seen per row
    train = np.where(liked & keep, 5.0 if explicit else 1.0, 0.0)
    if explicit:
        train[~liked & (rng.rand(n_rows, n_items) < off_block)] = 1.0
    withheld = np.where(liked & ~keep, 1.0, 0.0)
    return sp.csr_matrix(train, dtype=np.float32), sp.csr_matrix(withheld, dtype=np.float32)


def precision_of_withheld(recommended: np.ndarray, withheld: sp.csr_matrix) -> float:
    """Fraction of recommended items (over rows with withheld items) that are withheld ones."""
    hits, total = 0, 0
    for row, items in enumerate(recommended):
        truth = set(withheld.indices[withheld.indptr[row] : withheld.indptr[row + 1]])
        if truth:
            k = min(len(truth), len(items))
            hits += len(truth.intersection(items[:k]))
            total += k
    return hits / total


@contextlib.contextmanager
def torch_threads(n_threads: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n_threads)``, the previous count restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def set_everywhere(model: BaseEstimator, **params) -> bool:
    """Set each parameter on the model and every nested estimator that has it.

    Returns False (nothing set) when no estimator in ``model`` has one of them.
    """
    names = model.get_params(deep=True)
    found = {
        name: value for key, value in params.items()
        for name in names if name == key or name.endswith(f"__{key}")
    }
    if {key for key in params} != {name.rsplit("__", 1)[-1] for name in found}:
        return False
    model.set_params(**found)
    return True


def _with_entry(X: sp.csr_matrix, value, dtype=np.float64) -> sp.csr_matrix:
    bad = X.astype(dtype)
    bad.data[0] = value
    return bad


def _long_table(X: sp.csr_matrix):
    import pandas as pd

    coo = X.tocoo()
    return pd.DataFrame({"user": coo.row, "item": coo.col, "rating": coo.data})


def _overlapping(X: sp.csr_matrix) -> sp.csr_matrix:
    X_valid = X.copy()
    X_valid.data[:] = 3.0
    return X_valid


@dataclass(frozen=True)
class BadInput:
    """One bad input of the table every estimator faces.

    ``stage`` is ``"fit"`` (``call`` fits: run on a fresh and on a fitted
    estimator, which must both be left as they were), ``"fitted"`` (a method
    of a fitted estimator) or ``"unfitted"``. ``params`` are set wherever the
    estimator or a nested one has them (the case is skipped where none has);
    ``explicit_only`` cases apply to explicit-rating models.
    """

    name: str
    stage: str
    call: Callable
    error: type
    match: str
    params: dict = field(default_factory=dict)
    explicit_only: bool = False
    needs_no_cuda: bool = False


def _fit(X_of: Callable, **kwargs) -> Callable:
    return lambda model, X, held_out: model.fit(X_of(X), **kwargs)


_same = lambda X: X  # noqa: E731

BAD_INPUTS = [
    BadInput("X NaN", "fit", _fit(lambda X: _with_entry(X, np.nan)), ValueError, "NaN"),
    BadInput("X inf", "fit", _fit(lambda X: _with_entry(X, np.inf)), ValueError, "infinity"),
    BadInput("X 1e39 (float32 overflow)", "fit", _fit(lambda X: _with_entry(X, 1e39)),
             ValueError, "float32"),
    BadInput("X complex", "fit", _fit(lambda X: X.toarray() + 1j), (TypeError, ValueError),
             "[Cc]omplex"),
    BadInput("X 3-d", "fit", _fit(lambda X: X.toarray()[:, :, None]), ValueError, "dim 3|2-d"),
    BadInput("X no rows", "fit", _fit(lambda X: X[:0]), ValueError, "0 sample"),
    BadInput("X all zeros", "fit", _fit(lambda X: sp.csr_matrix(X.shape)), ValueError,
             "no stored non-zero"),
    BadInput("X strings", "fit", _fit(lambda X: np.full((3, 2), "a", dtype=object)), ValueError,
             ""),
    BadInput("X long-format DataFrame", "fit", _fit(_long_table), ValueError, "long table"),
    BadInput("X binary for a rating model", "fit", _fit(lambda X: (X > 0).astype(np.float32)),
             UserWarning, "implicit", explicit_only=True),
    BadInput("X_valid overlaps X", "fit",
             lambda model, X, held_out: model.fit(X, X_valid=_overlapping(X)), ValueError,
             "shares"),
    BadInput("X_valid other shape", "fit",
             lambda model, X, held_out: model.fit(X, X_valid=held_out[:, :-1]), ValueError,
             "same shape"),
    BadInput("X_valid NaN", "fit",
             lambda model, X, held_out: model.fit(X, X_valid=_with_entry(held_out, np.nan)),
             ValueError, "NaN"),
    BadInput("X_valid complex", "fit",
             lambda model, X, held_out: model.fit(X, X_valid=held_out.toarray() * 1j),
             TypeError, "complex"),
    BadInput("lr=1e6 diverges", "fit", _fit(_same), FloatingPointError, "diverged|became",
             params={"lr": 1e6}),
    BadInput("device='cuda' without CUDA", "fit", _fit(_same), ValueError,
             "CUDA is not available", params={"device": "cuda"}, needs_no_cuda=True),
    BadInput("device not a device", "fit", _fit(_same), ValueError, "not a torch device",
             params={"device": "gpu0"}),
    BadInput("optimizer=dict", "fit", _fit(_same), TypeError, "optimizer",
             params={"optimizer": dict}),
    BadInput("validation_fraction=0.999999", "fit", _fit(_same), ValueError,
             "validation_fraction",
             params={"validation_fraction": 0.999999, "early_stopping": True}),
    BadInput("predict NaN", "fitted", lambda m, X, h: m.predict(_with_entry(X, np.nan)),
             ValueError, "NaN"),
    BadInput("predict 1e39", "fitted", lambda m, X, h: m.predict(_with_entry(X, 1e39)),
             ValueError, "float32"),
    BadInput("predict other columns", "fitted", lambda m, X, h: m.predict(X[:, :-1]),
             ValueError, "features"),
    BadInput("recommend NaN", "fitted", lambda m, X, h: recommend(m, _with_entry(X, np.nan)),
             ValueError, "NaN"),
    BadInput("recommend k=0", "fitted", lambda m, X, h: recommend(m, X, k=0), ValueError,
             "k must be in"),
    BadInput("recommend k=1.5", "fitted", lambda m, X, h: recommend(m, X, k=1.5), TypeError,
             "k must be an integer"),
    BadInput("recommend exclude_seen='no'", "fitted",
             lambda m, X, h: recommend(m, X, exclude_seen="no"), TypeError, "exclude_seen"),
    BadInput("recommend return_scores='yes'", "fitted",
             lambda m, X, h: recommend(m, X, return_scores="yes"), TypeError, "return_scores"),
    BadInput("score y NaN", "fitted", lambda m, X, h: score(m, X, _with_entry(h, np.nan)),
             ValueError, "NaN"),
    BadInput("score y inf", "fitted", lambda m, X, h: score(m, X, _with_entry(h, np.inf)),
             ValueError, "infinity"),
    BadInput("score y complex", "fitted", lambda m, X, h: score(m, X, h.toarray() * 1j),
             (TypeError, ValueError), "[Cc]omplex"),
    BadInput("score y 3-d", "fitted", lambda m, X, h: score(m, X, h.toarray()[:, :, None]),
             ValueError, "2-d"),
    BadInput("score y other shape", "fitted", lambda m, X, h: score(m, X, h[:, :-1]),
             ValueError, "shape"),
    BadInput("transform NaN", "fitted", lambda m, X, h: m.transform(_with_entry(X, np.nan)),
             ValueError, "NaN"),
    *[
        BadInput(f"unfitted {method}", "unfitted", call, NotFittedError, "")
        for method, call in [
            ("predict", lambda m, X, h: m.predict(X)),
            ("recommend", lambda m, X, h: recommend(m, X)),
            ("score", lambda m, X, h: score(m, X, h)),
            ("transform", lambda m, X, h: m.transform(X)),
            ("get_feature_names_out", lambda m, X, h: m.get_feature_names_out()),
        ]
    ],
]


def bad_input_applies(case: BadInput, spec: Recommender, model: BaseEstimator) -> str | None:
    """Why ``case`` does not apply to ``model`` (a reason to skip), or None when it does."""
    if case.explicit_only and not spec.explicit:
        return "an implicit-feedback model takes binary input"
    if case.name == "lr=1e6 diverges" and spec.bounded:
        return "its parameters are projected onto a bounded set: no step size diverges"
    if case.needs_no_cuda and torch.cuda.is_available():
        return "CUDA is available here"
    if case.params and not set_everywhere(model, **case.params):
        return f"no estimator in it has {sorted(case.params)}"
    if case.name.startswith("X_valid") and "X_valid" not in inspect.signature(model.fit).parameters:
        return "its fit takes no X_valid (a Pipeline passes fit parameters to a step by name)"
    method = case.name.split()[0] if case.stage != "unfitted" else case.name.split()[1]
    if method in ("transform", "get_feature_names_out") and not hasattr(model, method):
        return f"it has no {method}"
    return None
