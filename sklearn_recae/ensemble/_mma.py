"""MMA, the Multi-Metric AutoRec (Wang et al. 2022): the four-AutoRec case of ``RatingEnsemble``.

Four AutoRec bases, one per combination of an L1/L2 loss and an L1/L2 weight
penalty (Table I of the paper), are trained on the same entries and early-
stopped on the same held-out entries; their predictions are averaged with the
self-adaptive weights of eqs. 5–8 (:mod:`._weighting`). The training, the
weighting and the serving are :class:`~._stacking.RatingEnsemble`'s; this
module holds the default bases and their names as parameters.

Deviation from the paper: each base keeps the weights of its best validation
epoch (early stopping), not of its last iteration; see the class docstring for
what the accumulated losses then hold.
"""

from __future__ import annotations

from ..autoencoder import AutoRec
from ._stacking import RatingEnsemble

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


class MultiMetricAutoRec(RatingEnsemble):
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
        The bases, cloned at fit. Each must accept ``fit(X, X_valid=...)``; a
        base that records no ``validation_scores_`` and ``best_epoch_`` (as
        AutoRec does) is weighed by its final validation RMSE, held constant.
        None means :func:`default_mma_estimators`; nested parameters such as
        ``set_params(l1_l2__hidden_units=(300,))`` then first make that list
        explicit.
    weighting : {"self_adaptive", "nnls"}, default="self_adaptive"
        The paper's self-adaptive weights, or a non-negative least-squares
        blend on the validation entries (see :class:`RatingEnsemble`).
    fit_intercept : bool, default=False
        With ``weighting="nnls"``, also fit a free intercept.
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
        Final ensemble weights ``ε(N)``, summing to 1 (NNLS weights with ``"nnls"``).
    intercept_ : float
        The NNLS intercept; 0 for the self-adaptive weights.
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
    n_users_ : int
        Rows of the matrix given to ``fit``.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    interrupted_ : bool
        True when Ctrl-C stopped the fit (see ``fit``): the ensemble is over
        the bases fitted so far.
    device_ : torch.device or None
        The device the first base trained on (None if it records none).

    See Also
    --------
    RatingEnsemble : the same ensemble over any rating models (other families included).

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

    def __init__(
        self,
        estimators=None,
        *,
        weighting: str = "self_adaptive",
        fit_intercept: bool = False,
        base_params: dict | None = None,
        delta: float = 1.0,
        validation_fraction: float = 0.125,
        n_jobs: int | None = None,
        random_state=None,
        verbose: int = 0,
    ) -> None:
        super().__init__(estimators, weighting=weighting, fit_intercept=fit_intercept,
                         base_params=base_params, delta=delta,
                         validation_fraction=validation_fraction, n_jobs=n_jobs,
                         random_state=random_state, verbose=verbose)

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
