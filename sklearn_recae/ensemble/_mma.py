"""MMA, the Multi-Metric AutoRec (Wang et al. 2022), as a stacking meta-estimator.

Four AutoRec bases, one per combination of an L1/L2 loss and an L1/L2 weight
penalty (Table I of the paper), are trained on the same entries and early-
stopped on the same held-out entries; their predictions are averaged with the
self-adaptive weights of eqs. 5–8 (:mod:`._weighting`).

The bases never interact while training: a base's weights depend on every
base's validation losses, but no base's training depends on the weights. So
the bases are trained one after the other (or in parallel with ``n_jobs``),
each with skorch's own loop, and ``Sl_t(n)`` is read from each base's
per-epoch validation record afterwards. This gives exactly the weights of
lockstep training without a second training loop.

Deviation from the paper: each base keeps the weights of its best validation
epoch (early stopping), not of its last iteration; see the class docstring for
what the accumulated losses then hold.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from sklearn.utils import Bunch, check_random_state

from ..autoencoder import AutoRec
from ..base import RecommenderMixin, atomic_fit, warn_interrupted
from ..metrics import get_scorer
from ..model_selection import train_test_split
from ..utils._sklearn import BaseComposition, Interval, _fit_context
from ..utils.validation import check_held_out, check_interactions
from ._weighting import accumulated_losses, self_adaptive_weights

__all__ = ["MultiMetricAutoRec", "default_mma_estimators"]

#: Per-base settings of the default bases: I-AutoRec on MovieLens-100K, chosen
#: by benchmarks/mma_base_sweep.py on validation RMSE only (70/10/20 entry
#: splits, seeds 0-2, test part never read): each base's alpha by its mean
#: validation RMSE, the network by the mean validation RMSE of MMA itself.
_BASE_NETWORK = dict(hidden_units=(200,), dropout=0.3, lr=1e-3)  # what the sweep trained
_DEFAULT_BASES = {
    "l1_l1": dict(loss="l1", penalty="l1", alpha=1.0, **_BASE_NETWORK),
    "l1_l2": dict(loss="l1", penalty="l2", alpha=50.0, **_BASE_NETWORK),
    "l2_l1": dict(loss="l2", penalty="l1", alpha=3.0, **_BASE_NETWORK),
    "l2_l2": dict(loss="l2", penalty="l2", alpha=100.0, **_BASE_NETWORK),
}


def default_mma_estimators() -> list[tuple[str, AutoRec]]:
    """The paper's four bases (Table I): ``"<loss>_<penalty>"`` AutoRecs.

    Returns
    -------
    estimators : list of (str, AutoRec)
        ``l1_l1`` (MMA-1), ``l1_l2`` (MMA-2), ``l2_l1`` (MMA-3), ``l2_l2`` (MMA-4),
        each with the settings that validated best on MovieLens-100K.
    """
    return [(name, AutoRec(**params)) for name, params in _DEFAULT_BASES.items()]


def _fit_base(estimator, X: sp.csr_matrix, X_valid: sp.csr_matrix):
    return estimator.fit(X, X_valid=X_valid)


def _check_fitted_base(name: str, estimator) -> None:
    for attribute in ("validation_scores_", "best_epoch_"):
        if not hasattr(estimator, attribute):
            raise TypeError(
                f"Base {name!r} ({type(estimator).__name__}) records no {attribute} after "
                "fit(X, X_valid=...); MMA weighs its bases by their per-epoch validation RMSE."
            )


def _drop_bases_without_an_epoch(names: list[str], bases: list) -> tuple[list, list, list]:
    """Leave out the bases that Ctrl-C stopped before their first epoch (they have no ``Sl_t(n)``).

    Only the last base of a sequential fit can be interrupted. Returns the
    kept names and bases and the names left out. When no base is left,
    raises ``KeyboardInterrupt`` (``fit`` then leaves the estimator as it
    was): Ctrl-C is never swallowed.
    """
    def unfinished(base) -> bool:
        return getattr(base, "interrupted_", False) and not (
            len(base.validation_scores_) > 0 and base.best_epoch_ >= 1)

    dropped = [name for name, base in zip(names, bases) if unfinished(base)]
    if len(dropped) == len(bases):
        raise KeyboardInterrupt(
            f"MultiMetricAutoRec.fit was interrupted before base {dropped[-1]!r} completed its "
            "first epoch; no base has a validation record to weigh, so there is no ensemble."
        )
    kept = [(name, base) for name, base in zip(names, bases) if not unfinished(base)]
    return [name for name, _ in kept], [base for _, base in kept], dropped


def _loss_trajectory(estimator, n_iterations: int) -> np.ndarray:
    """``Sl_t(n)`` of one fitted base, held at its kept epoch's loss after it stopped."""
    scores = np.asarray(estimator.validation_scores_, dtype=np.float64)
    kept = scores[estimator.best_epoch_ - 1]
    return np.concatenate([scores, np.full(n_iterations - scores.size, kept)])


class MultiMetricAutoRec(RecommenderMixin, BaseComposition):
    """MMA: AutoRecs under different Lp metrics, ensembled with self-adaptive weights.

    Each base is fitted on the same training entries and early-stopped on the
    same held-out entries. After training iteration (epoch) ``n`` base ``t``
    has validation RMSE ``Sl_t(n)`` (eq. 5); its accumulated loss is
    ``Al_t(n) = Σ_{h≤n} Sl_t(h)`` (eq. 6), its weight
    ``ε_t(n) = softmax_t(−delta · Al_t(n))`` (eq. 7) and the prediction
    ``Σ_t ε_t(N) x̂_t`` (eq. 8), ``N`` the last iteration.

    **Bases that stop at different epochs.** A base stops after its own early
    stopping patience and keeps the weights of its best validation epoch
    ``b_t``. Training of the ensemble lasts ``N = max_t N_t`` iterations,
    ``N_t`` the epochs base ``t`` ran. For ``n <= N_t``, ``Sl_t(n)`` is the
    base's recorded validation RMSE of epoch ``n``; for ``N_t < n <= N``, the
    base no longer changes and ``Sl_t(n) = Sl_t(b_t)``, the validation RMSE of
    the weights it contributes. The final weights ``weights_`` are ``ε(N)``.

    Item-based MMA (the paper's setting, I-AutoRec bases) is
    ``ItemBased(MultiMetricAutoRec())`` (:class:`~sklearn_recae.compose.ItemBased`).

    Parameters
    ----------
    estimators : list of (str, estimator) or None, default=None
        The bases, cloned at fit. Each must accept ``fit(X, X_valid=...)`` and
        record ``validation_scores_`` and ``best_epoch_`` (as AutoRec does).
        None means :func:`default_mma_estimators`; nested parameters such as
        ``set_params(l1_l2__hidden_units=(300,))`` then first make that list
        explicit.
    base_params : dict or None, default=None
        Parameters set on every base at fit (on the clones, so ``estimators``
        is not modified), over the bases' own settings: ``{"hidden_units": (300,)}``
        gives every base 300 hidden units. Every base must accept each key.
        Being a parameter, it is tuned like one, for all bases at once:
        ``GridSearchCV(mma, {"base_params": [{"hidden_units": (300,)},
        {"hidden_units": (500,)}]})``. To set one base, use ``<name>__<param>``.
    delta : float, default=1.0
        Balance factor δ of eq. 7: 0 weights the bases uniformly, a large value
        gives all the weight to the base of least accumulated loss.
    validation_fraction : float, default=0.125
        Fraction of the training entries held out (the same for every base) to
        early-stop the bases and weigh them; 0.125 of an 80% part is the
        paper's 10% validation part. Not used when ``fit`` gets ``X_valid``.
    n_jobs : int, default=None
        Bases trained in parallel (joblib); None means 1.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and every base whose ``random_state`` is None
        (after ``base_params``).
    verbose : int, default=0
        0 silent; 1 names each base as it starts, shows its training progress
        (the base's own ``verbose`` output, see
        :class:`~sklearn_recae.autoencoder.AutoRec`) and prints the final
        weights; 2 also the bases' epoch tables. It is given to every base
        whose ``verbose`` is 0 (after ``base_params``), and to joblib with
        ``n_jobs > 1``.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted bases, in ``estimators`` order.
    named_estimators_ : Bunch
        The fitted bases by name.
    weights_ : ndarray of shape (n_bases,)
        Final ensemble weights ``ε(N)``, summing to 1.
    named_weights_ : Bunch
        The final weights by base name: ``named_weights_["l2_l2"]`` is the
        weight of the base ``estimators_`` names ``"l2_l2"``.
    history_ : list of dict
        One record per iteration ``n`` (``pandas.DataFrame(history_)`` for
        plots): ``epoch``, and for each base name ``<name>_valid_rmse``
        (``Sl``), ``<name>_accumulated_loss`` (``Al``) and ``<name>_weight`` (``ε``).
    validation_score_ : float
        RMSE of the final ensemble on the validation entries.
    n_epochs_ : int
        Training iterations ``N`` (the most epochs any base ran).
    n_features_in_ : int
        Number of columns seen in ``fit``.
    interrupted_ : bool
        True when Ctrl-C stopped the fit (see ``fit``): the ensemble is over
        the bases fitted so far.
    device_ : torch.device or None
        The device the first base trained on (None if it records none).

    References
    ----------
    .. [1] Wang, Wu, Chen et al., "Multi-Metric AutoRec for High Dimensional and
       Sparse User Behavior Data Prediction", arXiv:2212.13879, 2022.

    Examples
    --------
    >>> from sklearn_recae.autoencoder import AutoRec
    >>> from sklearn_recae.datasets import make_interactions
    >>> from sklearn_recae.ensemble import MultiMetricAutoRec
    >>> X = make_interactions(60, 30, density=0.3, random_state=0)
    >>> bases = [(f"{l}_{p}", AutoRec((8,), loss=l, penalty=p, max_epochs=3))
    ...          for l in ("l1", "l2") for p in ("l1", "l2")]
    >>> mma = MultiMetricAutoRec(bases, random_state=0).fit(X)
    >>> mma.weights_.shape, mma.predict(X[:2]).shape
    ((4,), (2, 30))

    ``base_params`` sets a parameter on every base, here the four defaults:

    >>> mma = MultiMetricAutoRec(base_params={"hidden_units": (8,), "max_epochs": 2},
    ...                          random_state=0).fit(X)
    >>> {base.hidden_units for base in mma.estimators_}
    {(8,)}
    >>> sorted(mma.named_weights_)
    ['l1_l1', 'l1_l2', 'l2_l1', 'l2_l2']
    """

    _parameter_constraints: dict = {
        "estimators": [list, None],
        "base_params": [dict, None],
        "delta": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimators=None,
        *,
        base_params: dict | None = None,
        delta: float = 1.0,
        validation_fraction: float = 0.125,
        n_jobs: int | None = None,
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.estimators = estimators
        self.base_params = base_params
        self.delta = delta
        self.validation_fraction = validation_fraction
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _estimator_list(self) -> list:
        return default_mma_estimators() if self.estimators is None else self.estimators

    def get_params(self, deep: bool = True) -> dict:
        """Parameters of the ensemble and, with ``deep``, of every base as ``<name>__<param>``."""
        params = self._get_params("estimators", deep=deep)
        if deep and self.estimators is None:
            for name, estimator in default_mma_estimators():
                params[name] = estimator
                params.update({f"{name}__{k}": v for k, v in estimator.get_params().items()})
        return params

    def set_params(self, **params):
        """Set parameters; ``<name>__<param>`` reaches a base (the defaults are made explicit)."""
        if self.estimators is None and "estimators" not in params and any(
            key.split("__")[0] in _DEFAULT_BASES for key in params
        ):
            self.estimators = default_mma_estimators()
        return self._set_params("estimators", **params)

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
            if self.random_state is not None and base.get_params().get("random_state", 0) is None:
                base.set_params(random_state=seed)
            if self.verbose and base.get_params().get("verbose", None) == 0:
                base.set_params(verbose=self.verbose)
            clones.append(base)
        return clones

    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, *, X_valid=None):
        """Fit every base and compute the self-adaptive weights.

        **Ctrl-C** while the bases train one after the other stops the base
        being trained (it keeps its best weights so far), starts no further
        base, and ensembles the bases fitted so far; ``interrupted_`` is then
        True and a ``UserWarning`` names the bases kept. A base stopped before
        it completed its first epoch has no validation RMSE to be weighed by:
        it is left out (the warning names it), and when no base is left
        ``fit`` raises ``KeyboardInterrupt``, leaving the estimator as it
        was. With ``n_jobs > 1`` the interrupt reaches joblib and ``fit``
        raises ``KeyboardInterrupt``, leaving the estimator as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)
            Ratings; zeros (stored or not) are unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_rows, n_items), default=None
            Held-out ratings to early-stop and weigh the bases on (the paper's
            validation part); every entry of ``X`` is then trained on. By
            default a ``validation_fraction`` of ``X``'s entries is held out.

        Returns
        -------
        self : MultiMetricAutoRec
        """
        X = check_interactions(self, X, reset=True)
        estimators = self._check_estimators()
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
        bases = self._fit_bases(clones, X, X_valid, [name for name, _ in estimators])
        names = [name for name, _ in estimators][: len(bases)]
        for name, base in zip(names, bases):
            _check_fitted_base(name, base)
        names, bases, dropped = _drop_bases_without_an_epoch(names, bases)
        self.interrupted_ = False
        if dropped or any(getattr(base, "interrupted_", False) for base in bases):
            what = (f"base{'s' if len(dropped) != 1 else ''} {', '.join(map(repr, dropped))} "
                    "stopped before completing a first epoch and left out; " if dropped else "")
            stopped = "" if dropped else ", the last one stopped early"
            warn_interrupted(self, f"{what}ensembling the {len(bases)} "
                                   f"base{'s' if len(bases) != 1 else ''} fitted so far "
                                   f"({', '.join(names)}){stopped}")
        self.estimators_ = bases
        self.named_estimators_ = Bunch(**dict(zip(names, bases)))
        self.device_ = getattr(bases[0], "device_", None)
        self._record_weights(names, bases)
        self.validation_score_ = -get_scorer("neg_rmse")(self, X, X_valid)
        if self.verbose:
            weights = ", ".join(f"{n}={w:.3f}" for n, w in zip(names, self.weights_))
            print(f"MultiMetricAutoRec: {self.n_epochs_} iterations, weights {weights}; "
                  f"validation RMSE {self.validation_score_:.4f}")
        return self

    def _fit_bases(
        self, clones: list, X: sp.csr_matrix, X_valid: sp.csr_matrix, names: list[str]
    ) -> list:
        """Fit the bases; one after the other, none after a base whose fit was interrupted."""
        if effective_n_jobs(self.n_jobs) > 1:
            return Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
                delayed(_fit_base)(base, X, X_valid) for base in clones
            )
        bases = []
        for position, (name, base) in enumerate(zip(names, clones), start=1):
            if self.verbose:
                print(f"MultiMetricAutoRec: base {name!r} ({position} of {len(clones)}, "
                      f"{type(base).__name__})", flush=True)
            bases.append(_fit_base(base, X, X_valid))
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
            f"MultiMetricAutoRec needs at least one entry in each part: at least {needed} "
            "stored entries with this validation_fraction (or pass X_valid to fit)."
        )

    def _record_weights(self, names: list[str], bases: list) -> None:
        n_iterations = max(len(base.validation_scores_) for base in bases)
        losses = np.column_stack([_loss_trajectory(base, n_iterations) for base in bases])
        weights = self_adaptive_weights(losses, self.delta)
        accumulated = accumulated_losses(losses)
        self.weights_ = weights[-1]
        self.named_weights_ = Bunch(**{name: float(w) for name, w in zip(names, self.weights_)})
        self.n_epochs_ = n_iterations
        self.history_ = [
            {"epoch": n + 1}
            | {f"{name}_valid_rmse": losses[n, t] for t, name in enumerate(names)}
            | {f"{name}_accumulated_loss": accumulated[n, t] for t, name in enumerate(names)}
            | {f"{name}_weight": weights[n, t] for t, name in enumerate(names)}
            for n in range(n_iterations)
        ]

    def _score_block(self, block: sp.csr_matrix) -> torch.Tensor:
        total = None
        for weight, base in zip(self.weights_, self.estimators_):
            scores = base._score_block(block)  # a new tensor: scaled and summed in place
            if total is None:
                total = scores.mul_(float(weight))
            else:
                total.add_(scores.to(total.device), alpha=float(weight))
        return total
