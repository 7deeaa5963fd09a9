"""The machinery every ensemble of the package shares: fit the bases alike, weigh, serve.

The bases are trained on the same entries and early-stopped on the same
held-out entries. They never interact while training: a base's weight depends
on every base's validation losses, but no base's training depends on the
weights. So the bases are trained one after the other (or in parallel with
``n_jobs``), each with its own loop, and ``Sl_t(n)`` is read from each base's
per-epoch validation record afterwards. This gives exactly the weights of
lockstep training (MMA's eqs. 5–8) without a second training loop.

**No refit after validation.** As in MMA, every base is trained on the
training part only and keeps the weights of its best validation epoch; the
validation entries are never trained on, so the weights are fitted on honest
held-out predictions.

**Serving.** When every base scores a block of rows from those rows alone
(user-based models, ``BaselineRatings``, EASE, MMA), blocks of rows are scored
by every base, normalised (``_normalise_``) and summed: memory ``batch_size ×
n_items``, and rows unseen in fit are folded in. An item-based base
(``ItemBased``) or one fitted with side information needs the users seen in
fit: the ensemble then serves those users, like ``ItemBased`` (the entry
hold-out protocol), summing each base's ``predict`` into one dense users ×
items array.
"""

from __future__ import annotations

import inspect
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from sklearn.utils import Bunch, check_random_state

from .._blocks import iter_row_blocks
from ..base import RecommenderMixin, ScoreBlock, atomic_fit, warn_interrupted
from ..model_selection import train_test_split
from ..utils._sklearn import BaseComposition, Interval, _fit_context
from ..utils.validation import check_held_out, check_interactions
from ._weighting import accumulated_losses

#: Side information that ``fit`` passes on to the bases whose ``fit`` takes it.
_SIDE_INFORMATION = ("user_features", "item_features")


def _accepts(method, name: str) -> bool:
    return name in inspect.signature(method).parameters


def _fit_base(estimator, X: sp.csr_matrix, X_valid: sp.csr_matrix, fit_params: dict):
    return estimator.fit(X, X_valid=X_valid, **fit_params)


def _has_trajectory(estimator) -> bool:
    scores = getattr(estimator, "validation_scores_", None)
    return scores is not None and len(scores) > 0 and hasattr(estimator, "best_epoch_")


def _serves_row_blocks(estimator) -> bool:
    """Whether ``estimator`` scores a block of rows from the block alone (``_score_block``)."""
    rows_alone = getattr(estimator, "_row_blocks", None)
    if rows_alone is not None:
        return bool(rows_alone)
    return (type(estimator)._iter_scores is RecommenderMixin._iter_scores
            and hasattr(estimator, "_score_block"))


def _unseeded(params: dict) -> list[str]:
    """The ``random_state`` keys left None, except below a meta-estimator seeded itself.

    ``ItemBased(AutoRec())`` gives ``estimator__random_state``; in
    ``ItemBased(MultiMetricAutoRec(random_state=0))`` the MMA seeds its own
    bases, so their ``estimator__<name>__random_state`` are left to it.
    """
    keys = []
    for key, value in params.items():
        path = key.split("__")
        if path[-1] != "random_state" or value is not None:
            continue
        owners = ("__".join([*path[:depth], "random_state"]) for depth in range(len(path) - 1))
        if all(params.get(owner) is None for owner in owners):
            keys.append(key)
    return keys


def _loss_trajectory(estimator, n_iterations: int) -> np.ndarray:
    """``Sl_t(n)`` of one fitted base, held at its kept epoch's loss after it stopped."""
    scores = np.asarray(estimator.validation_scores_, dtype=np.float64)
    kept = scores[estimator.best_epoch_ - 1]
    return np.concatenate([scores, np.full(n_iterations - scores.size, kept)])


def _drop_bases_without_an_epoch(owner: str, names: list[str], bases: list):
    """Leave out the bases that Ctrl-C stopped before their first epoch (they have no ``Sl_t(n)``).

    Only the last base of a sequential fit can be interrupted. Returns the
    kept names and bases and the names left out. When no base is left,
    raises ``KeyboardInterrupt`` (``fit`` then leaves the estimator as it
    was): Ctrl-C is never swallowed.
    """
    def unfinished(base) -> bool:
        return getattr(base, "interrupted_", False) and not (
            _has_trajectory(base) and base.best_epoch_ >= 1)

    dropped = [name for name, base in zip(names, bases) if unfinished(base)]
    if len(dropped) == len(bases):
        raise KeyboardInterrupt(
            f"{owner}.fit was interrupted before base {dropped[-1]!r} completed its "
            "first epoch; no base has a validation record to weigh, so there is no ensemble."
        )
    kept = [(name, base) for name, base in zip(names, bases) if not unfinished(base)]
    return [name for name, _ in kept], [base for _, base in kept], dropped



class BaseEnsemble(RecommenderMixin, BaseComposition):
    """Fit bases on the same entries, weigh them on the same held-out entries, serve their blend.

    A subclass adds its own parameters (its ``__init__`` lists them all and
    passes the shared ones on), and implements ``_record_weights(names,
    bases, X, X_valid)`` (through ``_loss_matrix`` and ``_set_weights``),
    ``_validation_score`` and, where scores are blended after a per-row
    normalisation, ``_normalise_``.
    """

    #: The constraints of the parameters every ensemble has (a subclass adds its own).
    _parameter_constraints: dict = {
        "estimators": [list, None],
        "base_params": [dict, None],
        "delta": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, estimators, *, base_params: dict | None = None, delta: float = 1.0,
                 validation_fraction: float = 0.125, n_jobs: int | None = None,
                 random_state=None, verbose: int = 0) -> None:
        self.estimators = estimators
        self.base_params = base_params
        self.delta = delta
        self.validation_fraction = validation_fraction
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _estimator_list(self) -> list:
        return self.estimators or []

    def get_params(self, deep: bool = True) -> dict:
        """Parameters of the ensemble and, with ``deep``, of every base as ``<name>__<param>``."""
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters; ``<name>__<param>`` reaches a base."""
        return self._set_params("estimators", **params)

    # ------------------------------------------------------------------ fit
    def _check_estimators(self) -> list[tuple[str, object]]:
        estimators = self._estimator_list()
        if not estimators:
            raise ValueError("estimators must be a non-empty list of (name, estimator) pairs.")
        try:
            names, bases = zip(*estimators)
        except (TypeError, ValueError):
            raise TypeError("estimators must be a list of (name, estimator) pairs.") from None
        self._validate_names(names)
        self._check_estimators_are_instances(bases)
        for name, base in estimators:
            if not _accepts(base.fit, "X_valid"):
                raise TypeError(
                    f"Base {name!r} ({type(base).__name__}) has no fit(X, X_valid=...): the "
                    "bases are early-stopped and weighed on the same held-out entries."
                )
        return list(zip(names, bases))

    def _seeded_clones(self, estimators, rng: np.random.RandomState) -> list:
        clones = []
        for name, estimator in estimators:
            base = clone(estimator)
            if self.base_params:
                valid = base.get_params(deep=True)
                unknown = sorted(str(key) for key in self.base_params if key not in valid)
                if unknown:
                    raise ValueError(
                        f"base_params sets {', '.join(map(repr, unknown))}, which base "
                        f"{name!r} ({type(base).__name__}) has no parameter of that name; "
                        "base_params must hold parameters that every base accepts."
                    )
                # each base gets its own copy of a value (no shared mutable state)
                base.set_params(**{k: clone(v, safe=False) for k, v in self.base_params.items()})
            seed = rng.randint(np.iinfo(np.int32).max)
            if self.random_state is not None:
                base.set_params(**{key: seed for key in _unseeded(base.get_params(deep=True))})
            if self.verbose and base.get_params().get("verbose", None) == 0:
                base.set_params(verbose=self.verbose)
            clones.append(base)
        return clones

    def _route_side_information(self, estimators, side: dict) -> list[dict]:
        """The side information each base's ``fit`` takes; refuse what no base takes."""
        routes = [{key: value for key, value in side.items()
                   if value is not None and _accepts(base.fit, key)} for _, base in estimators]
        for key, value in side.items():
            if value is not None and not any(key in route for route in routes):
                raise ValueError(f"{key} was given, but no base's fit takes it.")
        return routes

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, *, X_valid=None, user_features=None, item_features=None):
        """Fit every base on the same entries and weigh them on the same held-out entries.

        **Ctrl-C** while the bases train one after the other stops the base
        being trained (it keeps its best weights so far), starts no further
        base, and ensembles the bases fitted so far; ``interrupted_`` is then
        True and a ``UserWarning`` names the bases kept. A base stopped before
        its first epoch is left out, and when no base is left ``fit`` raises
        ``KeyboardInterrupt``, leaving the estimator as it was. With
        ``n_jobs > 1`` the interrupt reaches joblib and ``fit`` raises.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Ratings; zeros (stored or not) are unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            Held-out ratings to early-stop and weigh the bases on; every entry
            of ``X`` is then trained on. By default a ``validation_fraction``
            of ``X``'s entries is held out.
        user_features : {array-like, sparse matrix} of shape (n_rows, n_user_features), \
default=None
            User side information, passed to the bases whose ``fit`` takes it
            (NRP); they then serve the users seen in fit (see ``predict``).
        item_features : {array-like, sparse matrix} of shape (n_items, n_item_features), \
default=None
            Item side information, passed to the bases whose ``fit`` takes it.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        X = check_interactions(self, X, reset=True)
        estimators = self._check_estimators()
        routes = self._route_side_information(
            estimators, {"user_features": user_features, "item_features": item_features})
        rng = check_random_state(self.random_state)
        split_seed = rng.randint(np.iinfo(np.int32).max)
        clones = self._seeded_clones(estimators, rng)
        if X_valid is None:
            self._check_validation_split(X.nnz)
            X, X_valid = train_test_split(
                X, test_size=self.validation_fraction, random_state=split_seed
            )
        else:
            X_valid = check_held_out(X_valid, X)
        names = [name for name, _ in estimators]
        bases = self._fit_bases(clones, X, X_valid, routes, names)
        names = names[: len(bases)]
        names, bases, dropped = _drop_bases_without_an_epoch(type(self).__name__, names, bases)
        self._warn_if_interrupted(names, bases, dropped)
        self.estimators_ = bases
        self.named_estimators_ = Bunch(**dict(zip(names, bases)))
        self.n_users_ = X.shape[0]
        self.device_ = next((base.device_ for base in bases if hasattr(base, "device_")), None)
        self._user_features = user_features
        self._row_blocks = user_features is None and all(_serves_row_blocks(b) for b in bases)
        self._record_weights(names, bases, X, X_valid)
        self.validation_score_ = self._validation_score(X, X_valid)
        if self.verbose:
            weights = ", ".join(f"{n}={w:.3f}" for n, w in zip(names, self.weights_))
            print(f"{type(self).__name__}: {self.n_epochs_} iterations, weights {weights}; "
                  f"validation score {self.validation_score_:.4f}")
        return self

    def _warn_if_interrupted(self, names: list[str], bases: list, dropped: list[str]) -> None:
        self.interrupted_ = False
        if dropped or any(getattr(base, "interrupted_", False) for base in bases):
            what = (f"base{'s' if len(dropped) != 1 else ''} {', '.join(map(repr, dropped))} "
                    "stopped before completing a first epoch and left out; " if dropped else "")
            stopped = "" if dropped else ", the last one stopped early"
            warn_interrupted(self, f"{what}ensembling the {len(bases)} "
                                   f"base{'s' if len(bases) != 1 else ''} fitted so far "
                                   f"({', '.join(names)}){stopped}")

    def _fit_bases(self, clones: list, X: sp.csr_matrix, X_valid: sp.csr_matrix,
                   routes: list[dict], names: list[str]) -> list:
        """Fit the bases; one after the other, none after a base whose fit was interrupted."""
        if effective_n_jobs(self.n_jobs) > 1:
            return Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
                delayed(_fit_base)(base, X, X_valid, route) for base, route in zip(clones, routes)
            )
        bases = []
        for position, (name, base, route) in enumerate(zip(names, clones, routes), start=1):
            if self.verbose:
                print(f"{type(self).__name__}: base {name!r} ({position} of {len(clones)}, "
                      f"{type(base).__name__})", flush=True)
            bases.append(_fit_base(base, X, X_valid, route))
            if getattr(bases[-1], "interrupted_", False):
                break
        return bases

    def _check_validation_split(self, n_entries: int) -> None:
        """Raise unless ``validation_fraction`` leaves >= 1 entry in each part of the split."""
        fraction = self.validation_fraction
        n_valid = int(np.ceil(fraction * n_entries))  # as train_test_split rounds
        if 1 <= n_valid < n_entries:
            return
        # the least n with ceil(fraction * n) < n: about 1 / (1 - fraction), up from below
        needed = max(2, int(1.0 / (1.0 - fraction)) - 1)
        while int(np.ceil(fraction * needed)) >= needed:
            needed += 1
        raise ValueError(
            f"X has {n_entries} stored entr{'y' if n_entries == 1 else 'ies'}; "
            f"validation_fraction={fraction} holds out {n_valid} of them for validation, "
            f"leaving {n_entries - n_valid} to train on. "
            f"{type(self).__name__} needs at least one entry in each part: at least {needed} "
            "stored entries with this validation_fraction (or pass X_valid to fit)."
        )

    def _loss_matrix(self, bases: list, final_losses) -> np.ndarray:
        """``Sl`` of every base over ``N`` iterations: its record, else its constant final loss.

        ``final_losses(t)`` gives the validation loss of base ``t`` without a record.
        """
        n_iterations = max([len(b.validation_scores_) for b in bases if _has_trajectory(b)]
                           or [1])
        return np.column_stack([
            self._trajectory(base, n_iterations) if _has_trajectory(base)
            else np.full(n_iterations, final_losses(t))
            for t, base in enumerate(bases)
        ])

    @staticmethod
    def _trajectory(base, n_iterations: int) -> np.ndarray:
        return _loss_trajectory(base, n_iterations)

    def _set_weights(self, names: list[str], losses: np.ndarray, weights: np.ndarray,
                     intercept: float, per_iteration: np.ndarray | None, metric: str) -> None:
        """Set ``weights_``, ``intercept_``, ``named_weights_``, ``n_epochs_`` and ``history_``."""
        accumulated = accumulated_losses(losses)
        self.history_ = [
            {"epoch": n + 1}
            | {f"{name}_{metric}": losses[n, t] for t, name in enumerate(names)}
            | {f"{name}_accumulated_loss": accumulated[n, t] for t, name in enumerate(names)}
            | ({} if per_iteration is None else
               {f"{name}_weight": per_iteration[n, t] for t, name in enumerate(names)})
            for n in range(losses.shape[0])
        ]
        self.weights_, self.intercept_ = weights, intercept
        self.named_weights_ = Bunch(**{name: float(w) for name, w in zip(names, weights)})
        self.n_epochs_ = losses.shape[0]

    @staticmethod
    def _normalise_(scores: torch.Tensor) -> torch.Tensor:
        """Each base's scores of a block, before they are weighed (in place; none by default)."""
        return scores

    def _base_predict(self, base, X: sp.csr_matrix, user_features) -> np.ndarray:
        """A base's dense predictions of ``X``'s rows, with the side information it takes.

        Without ``user_features``, a matrix of fit's row count is read as the
        users seen in fit, who get fit's features (the entry hold-out
        protocol, as NRP and ``ItemBased`` do).
        """
        if user_features is None and X.shape[0] == self.n_users_:
            user_features = self._user_features
        takes = user_features is not None and _accepts(base.predict, "user_features")
        return base.predict(X, **({"user_features": user_features} if takes else {}))

    def _check_context(self, X: sp.csr_matrix, user_features=None) -> dict:
        return {"user_features": user_features}

    def _score_block(self, block: sp.csr_matrix) -> torch.Tensor:
        total = None
        for weight, base in zip(self.weights_, self.estimators_):
            scores = self._normalise_(base._score_block(block))  # new: scaled, summed in place
            if total is None:
                total = scores.mul_(float(weight))
            else:
                total.add_(scores.to(total.device), alpha=float(weight))
        return total.add_(self.intercept_) if self.intercept_ else total

    def _iter_scores(self, X: sp.csr_matrix, user_features=None):
        """Row blocks of the weighted sum: of ``_score_block`` s, or of the bases' ``predict``."""
        if self._row_blocks and user_features is None:
            yield from super()._iter_scores(X)
            return
        total = np.full((X.shape[0], self.n_features_in_), self.intercept_, dtype=np.float32)
        for weight, base in zip(self.weights_, self.estimators_):
            scores = self._normalise_(torch.from_numpy(self._base_predict(base, X, user_features)))
            total += np.float32(weight) * scores.numpy()
        items = slice(0, self.n_features_in_)
        for rows, block in iter_row_blocks(X, self._batch_rows()):
            yield ScoreBlock(rows, items, torch.from_numpy(total[rows]), block)

    def predict(self, X, *, user_features=None) -> np.ndarray:
        """Predict every item's rating: the weighted sum of the bases' predictions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Observed ratings of the rows to predict for. With an item-based
            base or one fitted with side information, the users seen in fit,
            in order (the entry hold-out protocol).
        user_features : {array-like, sparse matrix} of shape (n_rows, n_user_features), \
default=None
            Side information of the rows, for the bases that take it; None
            with fit's row count means fit's features.

        Returns
        -------
        ratings : ndarray of shape (n_rows, n_items), dtype float32
        """
        return self._predict(X, {"user_features": user_features})

    def recommend(self, X, k: int = 10, exclude_seen: bool = True, return_scores: bool = False,
                  *, user_features=None, filter_items=None, items=None):
        """Return the ``k`` items of highest predicted rating of each row, best first.

        Parameters
        ----------
        X, k, exclude_seen, return_scores, filter_items, items
            As for :meth:`RecommenderMixin.recommend <sklearn_recae.base.RecommenderMixin.recommend>`.
        user_features : {array-like, sparse matrix} of shape (n_rows, n_user_features), \
default=None
            As for :meth:`predict`.

        Returns
        -------
        items : ndarray of shape (n_rows, k), dtype int64
        scores : ndarray of shape (n_rows, k), dtype float32
            Only with ``return_scores``.
        """
        return self._recommend(X, k, exclude_seen, return_scores,
                               {"user_features": user_features},
                               filter_items=filter_items, items=items)

    # Hooks of sklearn_recae.metrics' scorers: row batches when the bases score rows
    # alone; otherwise one pass over all rows (the users seen in fit), as ItemBased does.
    def _iter_entry_predictions(self, X, y: sp.csr_matrix, batch_size: int):
        """Yield ``(held-out block, predictions)`` covering ``y``'s entries."""
        with_entries = np.flatnonzero(np.diff(y.indptr))
        predicted = None if self._row_blocks else self.predict(X)
        for start in range(0, with_entries.size, batch_size):
            rows = with_entries[start:start + batch_size]
            yield y[rows], predicted[rows] if predicted is not None else self.predict(X[rows])

    def _iter_recommendations(self, X, rows: np.ndarray, k: int, batch_size: int):
        """Yield ``(rows, top-k of those rows)``."""
        recommended = None if self._row_blocks else self.recommend(X, k=k, exclude_seen=True)
        for start in range(0, rows.size, batch_size):
            batch = rows[start:start + batch_size]
            yield batch, (recommended[batch] if recommended is not None
                          else self.recommend(X[batch], k=k, exclude_seen=True))
