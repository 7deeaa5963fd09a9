"""Magnetic Metric Learning (Zhang et al.) and Collaborative Metric Learning (Hsieh et al. 2017).

Both embed users and items as points of one space inside the unit ball and
rank items by their learned distance to the user; both are transformers
(``transform`` gives user points, e.g. for a
:class:`~sklearn_recae.neighbors.KNeighborsRecommender` in a pipeline).
The network, the losses and the sampling are in
:mod:`sklearn_recae.nn.metric` and :mod:`._sampling`; fit, fold-in and
scoring in :mod:`._base`.
"""

from __future__ import annotations

from numbers import Real

from ..nn.metric import MARGIN_REWARDS, METRIC_SCALES, METRICS, PAPER_MARGIN_BOUNDS
from ..utils._sklearn import Interval, StrOptions
from ._base import _COMMON_CONSTRAINTS, MetricEmbeddingRecommender

__all__ = ["CML", "MML_PAPER_PARAMS", "MagneticMetricLearning"]

#: The parameters that give :class:`MagneticMetricLearning` the paper's
#: configuration (§4.1.3: adaptive margins started at 0.02 in ``(0, 1]``, the
#: paper's reward, unbounded metrics), where its defaults differ: its
#: defaults before issue #21, which the README's ``mml`` rows measured. The
#: dual triplets stay ``"split"``: the printed ``"joint"`` form does not train
#: (see Notes); ``triplet_form="joint"`` on top is eqs. 7–8 to the letter.
MML_PAPER_PARAMS: dict = {"margin": 0.02, "adaptive_margin": True,
                          "margin_bounds": PAPER_MARGIN_BOUNDS, "margin_reward": "mean",
                          "metric_scale": "free", "triplet_form": "split",
                          "output_space": "metric"}


class MagneticMetricLearning(MetricEmbeddingRecommender):
    """Magnetic Metric Learning: users and items embedded under three learned metrics.

    Users ``a, b`` and items ``c, d`` are points ``e`` in the unit ball of
    ``R^k``. Distances are ``F(x, y) = (e_x − e_y)ᵀ W (e_x − e_y)`` with
    ``W = L Lᵀ`` positive semi-definite by construction: ``W_U`` between
    users, ``W_I`` between items, ``W_UI`` between a user and an item.
    Training minimises (the paper's eq. 16)

    ``α (λ L1 + (1 − λ) L2) + (1 − α) L_LA + ω_P L_P + ω_R L_R``

    - ``L1 = t · [m_a + F_UI(a, c) − F_U(a, b) − F_UI(b, c)]₊`` and
      ``L2 = t · [m_c + F_UI(a, c) − F_I(c, d) − F_UI(a, d)]₊`` over dual
      triplets with ``r_ac ≠ 0``, ``r_bc = 0``, ``r_ad = 0`` (eqs. 7–9);
    - ``L_LA = t · [m_l + F(a, f) − F(a, g)]₊`` over users (and items)
      ``f`` similar to ``a`` (Jaccard similarity of their item (user) lists
      above ``similarity_threshold``) and ``g`` not (eqs. 10–11);
    - ``L_P`` the covariance penalty of the batch's points (eqs. 13–14),
      ``L_R = −(mean m_u + mean m_i + mean m_l)`` the reward of the adaptive
      margins (eq. 15), margins kept in ``(0, 1]``.

    ``t`` is CML's rank weight ``log(1 + J · impostors / candidates)``: of
    ``n_candidates`` sampled negatives the hardest valid one (the largest
    hinge) is used, as the paper's training keeps one negative per pair.
    Every hinge term is averaged over the batch's positive pairs.
    ``predict`` returns ``−F_UI`` (higher is closer); ``recommend`` the
    closest unseen items.

    The paper's configuration is ``set_params(**MML_PAPER_PARAMS)``; its
    Table 8 ablations are one more setting on top: ``metric="euclidean"``
    (EUC-MML), ``metric="shared"`` (W-MML), ``adaptive_margin=False``
    (M-MML), ``omega_p=0`` (NP-MML), ``omega_r=0`` (NR-MML). The defaults
    differ from the paper where validation said so (issue #21, see Notes).
    :class:`CML` is the user–item part alone.

    Parameters
    ----------
    n_components : int, default=32
        Dimension ``k`` (the paper's 32).
    metric : {"learned", "shared", "euclidean"}, default="learned"
        Three learned metrics; one learned metric shared by the three
        relations; or ``W = I`` (squared Euclidean distances).
    margin : float, default=1.0
        The fixed margin (``adaptive_margin=False``; at most 4, the largest
        squared distance of the unit ball under ``W = I``), or the initial
        value of the adaptive margins, within ``margin_bounds`` (the paper's
        0.02).
    adaptive_margin : bool, default=False
        Learn one margin per user, per item and per latent anchor (the
        paper's True; they collapse to their floor, see Notes).
    margin_bounds : tuple of float, default=(1e-4, 1.0)
        ``(low, high)`` with ``0 < low <= high <= 4``: the learned margins are
        clipped to it after every step (the paper's ``(0, 1]``). The paper's
        margins collapse to ``low`` (see Notes); a higher ``low`` keeps them
        where validation wants them.
    margin_reward : {"mean", "batch"}, default="mean"
        ``"mean"``: the paper's reward ``L_R = −(mean m_u + mean m_i +
        mean m_l)`` over every margin, whose gradient on one margin
        (``ω_R / n_users``) is far below that of its hinges; ``"batch"``: the
        means over the margins of the batch's pairs, so that with a large
        enough ``omega_r`` each margin settles where its hinges' pull balances
        the reward.
    metric_scale : {"free", "trace"}, default="trace"
        ``"free"``: the learned metrics' scale is unbounded (the paper), and
        the hinges can be met by growing the metrics instead of moving
        points; ``"trace"`` (not in the paper): each metric is rescaled after
        every step to ``tr W = k`` (the identity's trace), so only its shape
        is learned.
    alpha : float, default=0.7
        ``α``: weight of the explicit loss against the latent one.
    balance : float, default=0.5
        ``λ``: weight of the user triplets (L1) against the item triplets (L2).
    similarity_threshold : float, default=0.3
        ``θ``: users (items) whose item (user) lists have a Jaccard
        similarity above it are similar pairs of the latent loss.
    omega_p : float, default=0.03
        ``ω_P``, weight of the covariance penalty.
    omega_r : float, default=0.03
        ``ω_R``, weight of the margin reward (0 with fixed margins).
    n_candidates : int, default=10
        Negative (and dissimilar) candidates drawn per positive pair; the
        hardest valid one enters the hinge, and the share of impostors
        among them sets the rank weight.
    triplet_form : {"split", "joint", "cross"}, default="cross"
        How a dual triplet's two pushed distances enter the hinge:
        ``"joint"`` is eqs. 7–8 as printed, one hinge on their sum
        (``[m + F_UI(a, c) − F_U(a, b) − F_UI(b, c)]₊``); ``"split"`` gives
        each its own hinge against the pulled distance; ``"cross"`` keeps the
        user–item pushes only (``[m + F_UI(a, c) − F_UI(b, c)]₊`` and
        ``[m + F_UI(a, c) − F_UI(a, d)]₊``, CML's triplet from both sides),
        so users (items) are not pushed from each other and ``W_U`` (``W_I``)
        is learned by the latent loss alone. See Notes.
    init : {"uniform", "normal"}, default="uniform"
        The paper's initialisation (uniform, mean 0.2, variance 0.04), or
        CML's (normal, standard deviation ``1/√k``); then projected into the
        unit ball. Metric factors start at the identity.
    optimizer : str or optimizer class, default="adagrad"
        The paper's AdaGrad.
    lr : float, default=0.05
        Learning rate (the paper tunes it in {0.01, 0.02, 0.05}).
    max_epochs : int, default=100
        Passes over the positive pairs.
    batch_size : int, default=512
        Positive pairs per minibatch (the paper's 512); also the row batch of
        ``predict`` and ``transform``.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of each row's entries, record their
        NDCG@``k_valid`` under the learned distances each epoch, stop after
        ``n_iter_no_change`` epochs without improvement and keep the best
        epoch.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    k_valid : int, default=100
    refit : bool, default=True
        Retrain on all entries for ``best_epoch_`` epochs after early stopping.
    fold_in_steps : int, default=50
        Gradient steps that place a row not seen in ``fit`` (see
        :class:`~sklearn_recae.metric_learning._base.MetricEmbeddingRecommender`).
    output_space : {"metric", "raw"}, default="raw"
        What ``transform`` returns: points mapped by ``L_U`` (Euclidean
        distances between outputs are the learned ``F_U``) or the points.
    binarize : bool, default=True
        Read positive values as 1 and negative values as −1 (not positives).
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the validation split and the triplet sampling.
    precision : {"32", "tf32", "bf16"}, default="32"
        As for :class:`~sklearn_recae.autoencoder.AutoRec`, for the training
        loss and the validation scores; ``predict``, ``transform`` and the
        fold-in of new rows compute in float32.
    verbose : int, default=0
        As for :class:`~sklearn_recae.autoencoder.AutoRec`.

    Attributes
    ----------
    user_embeddings_ : ndarray of shape (n_users, n_components)
        The fitted users' points (rows of the matrix given to ``fit``).
    item_embeddings_ : ndarray of shape (n_items, n_components)
    metrics_ : dict of str to ndarray of shape (n_components, n_components)
        ``"user"``, ``"item"``, ``"user_item"``: ``W_U``, ``W_I``, ``W_UI``
        (positive semi-definite; the identity for ``metric="euclidean"``).
    margins_ : dict of str to ndarray
        ``"user"`` (n_users,), ``"item"`` (n_items,), ``"latent"``
        (n_users + n_items,): the learned (or fixed) margins.
    n_users_ : int
    net_, history_, validation_scores_, best_epoch_, n_epochs_, interrupted_, device_, \
n_features_in_
        As for the package's other torch models.

    Notes
    -----
    Measured on binarized MovieLens-100K, validation parts only
    (``benchmarks/implicit_default_sweep.py --model mml``, three seeded
    per-user splits): the printed ``"joint"`` form does not train (validation
    NDCG@100 0.02–0.03, random ranking: spreading items or users apart
    satisfies the hinge without moving a user towards its items), hence the
    ``"split"`` default. The paper's small adaptive margins shrink towards
    their floor under the hinge gradients; fixed margins of 1.0
    (``margin=1.0, adaptive_margin=False``) validate best, 0.257 ± 0.007
    against 0.183 ± 0.002 for adaptive margins started at 0.5.

    Issue #21 chose the defaults ``metric_scale="trace"``, ``margin=1.0``,
    ``adaptive_margin=False``, ``triplet_form="cross"`` and
    ``output_space="raw"`` on the paper's protocol
    (``benchmarks/mml_paper_protocol.py --data dense``: ratings >= 3 positive,
    < 3 negative, uniform 60/20/20 splits, seeds 0–2, validation parts only;
    Recall@50 of MML's own ranking / UBCF / IBCF over its embeddings):
    the paper's configuration (:data:`MML_PAPER_PARAMS`) 0.355 / 0.262 /
    0.167, its margins at the floor (median 1e-4) and the latent ones at the
    ceiling; fixed margins of 1.0 0.454 / 0.348 / 0.217; with the trace
    bound 0.505 / 0.322 / 0.157; adaptive margins kept in [0.5, 2] sit at
    0.5 (0.479 own), and a per-batch reward (``margin_reward="batch"``,
    ``omega_r=1``) does not hold them either (0.418 own). The user–user and
    item–item pushes of the dual triplets spread users (items) apart, so
    kNN over the points is weak; ``"cross"`` drops them: 0.477 own, and
    UBCF / IBCF over the points (``output_space="raw"``) 0.466 / 0.462,
    against CML's own 0.471 and kNN on the raw rows 0.457 / 0.436. The
    learned ``W_U`` (then trained by the latent loss alone) hurts the kNN
    (0.387 UBCF with ``output_space="metric"``). ``"split"`` keeps the best
    own ranking (0.505) for a weaker kNN step.
    ``set_params(**MML_PAPER_PARAMS)`` restores the paper's configuration.

    See Also
    --------
    CML : the user–item triplets alone, Euclidean, fixed margin.
    sklearn_recae.neighbors.KNeighborsRecommender : user-based CF over ``transform``'s output.

    References
    ----------
    .. [1] Magnetic Metric Learning for matrix embedding (the package's
       ``papers/mml-magnetic-metric-learning.txt``).

    Examples
    --------
    >>> from sklearn_recae.datasets import make_interactions
    >>> from sklearn_recae.metric_learning import MagneticMetricLearning
    >>> X = (make_interactions(100, 40, density=0.2, random_state=0) > 3).astype(float)
    >>> model = MagneticMetricLearning(n_components=8, max_epochs=3, random_state=0).fit(X)
    >>> model.transform(X[:2]).shape
    (2, 8)
    >>> model.recommend(X[:2], k=3).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "metric": [StrOptions(set(METRICS))],
        "margin": [Interval(Real, 0, 4, closed="right")],
        "adaptive_margin": ["boolean"],
        "margin_bounds": [tuple, list],
        "margin_reward": [StrOptions(set(MARGIN_REWARDS))],
        "metric_scale": [StrOptions(set(METRIC_SCALES))],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "balance": [Interval(Real, 0, 1, closed="both")],
        "similarity_threshold": [Interval(Real, 0, 1, closed="left")],
        "omega_r": [Interval(Real, 0, None, closed="left")],
        "triplet_form": [StrOptions({"joint", "split", "cross"})],
    }

    def __init__(
        self,
        n_components: int = 32,
        *,
        metric: str = "learned",
        margin: float = 1.0,
        adaptive_margin: bool = False,
        margin_bounds: tuple[float, float] = PAPER_MARGIN_BOUNDS,
        margin_reward: str = "mean",
        metric_scale: str = "trace",
        alpha: float = 0.7,
        balance: float = 0.5,
        similarity_threshold: float = 0.3,
        omega_p: float = 0.03,
        omega_r: float = 0.03,
        n_candidates: int = 10,
        triplet_form: str = "cross",
        init: str = "uniform",
        optimizer="adagrad",
        lr: float = 0.05,
        max_epochs: int = 100,
        batch_size: int = 512,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        k_valid: int = 100,
        refit: bool = True,
        fold_in_steps: int = 50,
        output_space: str = "raw",
        binarize: bool = True,
        device: str = "auto",
        precision: str = "32",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.n_components = n_components
        self.metric = metric
        self.margin = margin
        self.adaptive_margin = adaptive_margin
        self.margin_bounds = margin_bounds
        self.margin_reward = margin_reward
        self.metric_scale = metric_scale
        self.alpha = alpha
        self.balance = balance
        self.similarity_threshold = similarity_threshold
        self.omega_p = omega_p
        self.omega_r = omega_r
        self.n_candidates = n_candidates
        self.triplet_form = triplet_form
        self.init = init
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.k_valid = k_valid
        self.refit = refit
        self.fold_in_steps = fold_in_steps
        self.output_space = output_space
        self.binarize = binarize
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    @property
    def _latent(self) -> bool:  # the Jaccard pairs are only needed with a latent loss
        return self.alpha < 1

    def _module_params(self) -> dict:
        return {"metric": self.metric, "margin": self.margin,
                "adaptive_margin": self.adaptive_margin, "metric_scale": self.metric_scale,
                "margin_bounds": self._checked_margin_bounds()}

    def _checked_margin_bounds(self) -> tuple[float, float]:
        """``margin_bounds`` as two floats, ``0 < low <= high <= 4``, with ``margin`` inside."""
        bounds = self.margin_bounds
        if (len(bounds) != 2 or not all(isinstance(b, Real) for b in bounds)
                or not 0 < bounds[0] <= bounds[1] <= 4):
            raise ValueError(
                f"margin_bounds must be two numbers (low, high) with 0 < low <= high <= 4, "
                f"got {bounds!r}."
            )
        if self.adaptive_margin and not bounds[0] <= self.margin <= bounds[1]:
            raise ValueError(
                f"margin={self.margin} is outside margin_bounds={bounds!r}: the adaptive "
                "margins start at margin and live in the bounds (widen margin_bounds, e.g. "
                f"({min(bounds[0], self.margin)}, {max(bounds[1], self.margin)}))."
            )
        return float(bounds[0]), float(bounds[1])

    def _loss_params(self) -> dict:
        return {"alpha": self.alpha, "balance": self.balance, "omega_p": self.omega_p,
                "omega_r": self.omega_r if self.adaptive_margin else 0.0,
                "push_same_kind": self.triplet_form != "cross",
                "triplet_form": "split" if self.triplet_form == "cross" else self.triplet_form,
                "margin_reward": self.margin_reward}


class CML(MetricEmbeddingRecommender):
    """Collaborative Metric Learning: users and items in one Euclidean space.

    Hsieh et al.'s model: each positive pair ``(u, i)`` is pulled together
    and the hardest of ``n_candidates`` sampled unobserved items ``j`` is
    pushed away, ``t · [m + ‖e_u − e_i‖² − ‖e_u − e_j‖²]₊`` with the rank
    weight ``t = log(1 + n_items · impostors / candidates)``; points stay in
    the unit ball. It is MML's user–item part with the Euclidean metric and a
    fixed margin (the same network, :class:`MagneticMetricLearning`'s
    module), with the reference implementation's (``changun/CollMetric``)
    defaults: normal initialisation, AdaGrad step 0.1, 20 negatives, the
    optional covariance penalty off.

    Parameters
    ----------
    n_components : int, default=32
        Dimension of the space (32 like :class:`MagneticMetricLearning`,
        for comparable embeddings; the reference code uses 100).
    margin : float, default=1.9
        The fixed margin ``m`` of squared distances (at most 4 apart in the
        unit ball): the reference code's 1.9, which also validated best
        (see Notes).
    n_candidates : int, default=20
        Negative items sampled per positive pair (the reference's 20).
    omega_p : float, default=0.0
        Weight of the covariance penalty (the reference's ``use_cov_loss``,
        off in its example).
    init : {"normal", "uniform"}, default="normal"
    optimizer : str or optimizer class, default="adagrad"
    lr : float, default=0.1
    max_epochs, batch_size, early_stopping, validation_fraction, n_iter_no_change, \
k_valid, refit, fold_in_steps, output_space, binarize, device, precision, random_state, verbose
        As for :class:`MagneticMetricLearning` (``output_space`` makes no
        difference: the metric is the identity).

    Attributes
    ----------
    user_embeddings_, item_embeddings_, metrics_, margins_, n_users_, net_, history_, \
validation_scores_, best_epoch_, n_epochs_, interrupted_, device_, n_features_in_
        As for :class:`MagneticMetricLearning`.

    Notes
    -----
    The margin was checked on validation data only
    (``benchmarks/implicit_default_sweep.py --model cml --grid
    '{"margin": [0.5, 1.0, 1.5, 1.9]}'``: binarized MovieLens-100K, three
    seeded per-user splits, test parts never read; best validation NDCG@100):
    0.2583 ± 0.0070, 0.2778 ± 0.0039, 0.2826 ± 0.0049 and 0.2862 ± 0.0046.

    References
    ----------
    .. [1] C.-K. Hsieh, L. Yang, Y. Cui, T.-Y. Lin, S. Belongie and D. Estrin,
       "Collaborative Metric Learning", WWW 2017.

    Examples
    --------
    >>> from sklearn_recae.datasets import make_interactions
    >>> from sklearn_recae.metric_learning import CML
    >>> X = (make_interactions(100, 40, density=0.2, random_state=0) > 3).astype(float)
    >>> CML(n_components=8, max_epochs=3, random_state=0).fit(X).recommend(X[:2], k=3).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "margin": [Interval(Real, 0, None, closed="neither")],  # squared distances reach 4
    }

    def __init__(
        self,
        n_components: int = 32,
        *,
        margin: float = 1.9,
        n_candidates: int = 20,
        omega_p: float = 0.0,
        init: str = "normal",
        optimizer="adagrad",
        lr: float = 0.1,
        max_epochs: int = 100,
        batch_size: int = 512,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        k_valid: int = 100,
        refit: bool = True,
        fold_in_steps: int = 50,
        output_space: str = "metric",
        binarize: bool = True,
        device: str = "auto",
        precision: str = "32",
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.n_components = n_components
        self.margin = margin
        self.n_candidates = n_candidates
        self.omega_p = omega_p
        self.init = init
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.k_valid = k_valid
        self.refit = refit
        self.fold_in_steps = fold_in_steps
        self.output_space = output_space
        self.binarize = binarize
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    def _module_params(self) -> dict:
        return {"metric": "euclidean", "margin": self.margin, "adaptive_margin": False}

    def _loss_params(self) -> dict:
        return {"alpha": 1.0, "balance": 0.0, "omega_p": self.omega_p, "omega_r": 0.0,
                "push_same_kind": False}
