"""Joint user–item metric embeddings: Magnetic Metric Learning (MML) and CML, no scikit-learn.

Users and items are points of one ``k``-dimensional space inside the unit
ball. A metric ``W = L Lᵀ`` (positive semi-definite by construction) measures
``F(a, b) = (e_a − e_b)ᵀ W (e_a − e_b) = ‖(e_a − e_b) L‖²``; ``W = I`` is the
squared Euclidean distance. MML learns three metrics, user–user ``W_U``,
item–item ``W_I`` and user–item ``W_UI`` (Zhang et al., eqs. 7–11);
CML (Hsieh et al. 2017) uses the Euclidean one.

:class:`MetricEmbeddingModule` holds the embeddings, the metric factors and
the margins, scores items for users and computes the training loss of a
batch of sampled triplets (:meth:`MetricEmbeddingModule.loss`). Each
optimizer step is followed by :meth:`MetricEmbeddingModule.project_`, which
puts the embeddings back in the unit ball and the margins in ``(0, 1]``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["MARGIN_REWARDS", "METRICS", "METRIC_SCALES", "MetricEmbeddingModule", "covariance_penalty", "gather_rows",
           "rank_weighted_hinge"]

#: Metric structures: three learned metrics, one learned metric shared by the
#: three relations (W-MML), or the fixed identity (EUC-MML, CML).
METRICS = ("learned", "shared", "euclidean")
#: Index of each relation's metric factor in ``MetricEmbeddingModule.metric_factors``.
_RELATIONS = {"user": 0, "item": 1, "user_item": 2}
#: Bounds of the learned margins: the paper's constraint is ``m ∈ (0, 1]``.
PAPER_MARGIN_BOUNDS = (1e-4, 1.0)
#: Scales of the learned metrics: unbounded (the paper) or ``tr W = k`` after every step.
METRIC_SCALES = ("free", "trace")
#: Margin rewards: the mean of every margin (the paper's eq. 15) or of the batch's margins.
MARGIN_REWARDS = ("mean", "batch")
#: A step's embedding gradient is sparse when the table has this many times the rows it reads.
_SPARSE_SHARE = 4


def gather_rows(table: torch.Tensor, index: torch.Tensor, sparse: bool = False) -> torch.Tensor:
    """``table[index]`` (rows of a 2-d table, entries of a 1-d one) with a reproducible gradient.

    The forward values are those of ``table[index]``. Advanced indexing's
    backward (``index_put_`` with ``accumulate=True``) adds the gathered
    rows' gradients with atomic adds from several threads on CPU once the
    gradient has 32,768 elements or more (a 512 × 20 × 32 batch of
    candidates), so the order of the additions into a repeated row, hence
    its last bits, changes from run to run and training is not reproducible
    for a fixed seed. :func:`torch.nn.functional.embedding`'s backward adds
    each row's gradients in index order (on CPU each thread owns a range of
    the table's rows; on CUDA the indices are sorted): the same sums at any
    thread count, equal to the one-thread sums of advanced indexing.

    ``sparse=True`` (2-d tables) makes the table's gradient a sparse COO
    tensor of the gathered rows (``F.embedding(..., sparse=True)``): no
    ``n × k`` dense gradient per step, for optimizers that take sparse
    gradients (AdaGrad, SGD).
    """
    if table.dim() == 1:
        return F.embedding(index, table[:, None]).squeeze(-1)
    return F.embedding(index, table, sparse=sparse)


def rank_weighted_hinge(
    margin: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor,
    valid: torch.Tensor, n_candidates_total: int,
) -> torch.Tensor:
    """CML's rank-weighted hinge with the hardest of several sampled negatives.

    For each triplet, ``h_j = margin + positive − negatives_j`` over the
    sampled candidates ``j`` that are ``valid``; the loss is
    ``log(1 + J · (#impostors / #valid)) · max_j [h_j]₊`` (Hsieh et al. 2017,
    WARP-style rank estimate: ``J = n_candidates_total``, impostors are the
    candidates with ``h_j > 0``). Triplets without a valid candidate lose 0.

    Parameters
    ----------
    margin, positive : Tensor of shape (B,)
        Margin and pulled distance of each triplet.
    negatives : Tensor of shape (B, U)
        Pushed distances of the ``U`` candidates of each triplet.
    valid : bool Tensor of shape (B, U)
        Which candidates are true negatives.
    n_candidates_total : int
        How many candidates exist in all (users or items): scales the rank.

    Returns
    -------
    loss : Tensor of shape (B,)
    """
    hinge = margin[:, None] + positive[:, None] - negatives
    hinge = hinge.masked_fill(~valid, -torch.inf)
    n_valid = valid.sum(dim=1)
    impostors = (hinge > 0).sum(dim=1)
    rank = n_candidates_total * impostors / n_valid.clamp(min=1)
    weight = torch.log1p(rank.to(hinge.dtype)).detach()
    hardest = hinge.max(dim=1).values.clamp(min=0)
    return torch.where(n_valid > 0, weight * hardest, torch.zeros_like(hardest))


def covariance_penalty(embeddings: torch.Tensor) -> torch.Tensor:
    """``L_P = (‖C‖_F − ‖diag(C)‖₂) / O``: off-diagonal size of the batch's covariance ``C``.

    ``C`` is the ``k × k`` covariance of the ``O`` rows of ``embeddings``
    (eqs. 13–14 of the MML paper, after Cogswell et al.'s decorrelation penalty).
    """
    n_rows = embeddings.shape[0]
    centred = embeddings - embeddings.mean(dim=0, keepdim=True)
    covariance = centred.T @ centred / n_rows
    return (torch.linalg.matrix_norm(covariance) - torch.linalg.vector_norm(
        torch.diagonal(covariance))) / n_rows


def _squared_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``‖a − b‖²`` over the last dimension (broadcasting)."""
    return (a - b).pow(2).sum(dim=-1)


class _StepPoints:
    """The points of one kind (users or items) that a training step reads, gathered once.

    The step's indices of that kind (``negative`` candidates, ``anchor``s,
    the latent loss's ``similar`` and ``dissimilar`` ones, concatenated in
    that order) are deduplicated (a mask over the table's rows, no sort),
    the distinct rows gathered from the table once and mapped by each
    relation's metric factor once (``e L`` for the ``u`` distinct rows, not
    ``(e_a − e_b) L`` for every pair and candidate: ``F(a, b) = ‖e_a L −
    e_b L‖²``); each relation's rows are then read back in one gather of the
    names it uses (``user_item``: negatives and anchors; the same-kind
    relation: anchors to dissimilars, and the negatives with
    ``same_kind_negatives``). The table's gradient is sparse (those ``u``
    rows) with the module's ``sparse_gradients`` when the step reads at most
    ``1/_SPARSE_SHARE`` as many indices as the table has rows; otherwise a
    dense gradient is cheaper. With the Euclidean metric and a dense gradient
    there is nothing to map: each index's rows are gathered directly.
    ``points(name, relation)`` gives the rows of index ``name`` mapped by
    ``relation``'s factor (raw with ``relation=None``).
    """

    def __init__(self, module: MetricEmbeddingModule, kind: str, anchors: torch.Tensor,
                 negatives: torch.Tensor | None, latent: dict | None,
                 same_kind_negatives: bool = False) -> None:
        self.module, self.kind = module, kind
        index = {} if negatives is None else {"negative": negatives}
        index["anchor"] = anchors
        if latent is not None and f"has_similar_{kind}" in latent:
            index["similar"] = latent[f"similar_{kind}s"]
            index["dissimilar"] = latent[f"dissimilar_{kind}s"]
        flat = torch.cat([i.reshape(-1) for i in index.values()])
        table = module.user_embeddings if kind == "user" else module.item_embeddings
        sparse = module.sparse_gradients and flat.numel() * _SPARSE_SHARE <= table.shape[0]
        self.index, self.table = index, table
        self.read = {}
        if module.metric == "euclidean" and not sparse:  # nothing to map or to deduplicate
            self.rows = None
            return
        present = torch.zeros(table.shape[0], dtype=torch.bool, device=flat.device)
        present[flat] = True
        unique = present.nonzero().squeeze(1)
        position = torch.cumsum(present, 0) - 1
        self.inverse = position[flat]
        self.rows = {None: gather_rows(table, unique, sparse=sparse)}
        self.spans, start = {}, 0
        for name, i in index.items():
            self.spans[name] = (start, start + i.numel(), i.shape)
            start += i.numel()
        same_kind = [n for n in index if n != "negative" or same_kind_negatives]
        self.uses = {"user_item": [n for n in ("negative", "anchor") if n in index],
                     kind: same_kind, None: ["anchor"]}

    def __call__(self, name: str, relation: str | None = None) -> torch.Tensor:
        if self.rows is None:  # Euclidean, dense gradient: each index's rows gathered directly
            if name not in self.read:
                self.read[name] = gather_rows(self.table, self.index[name])
            return self.read[name]
        L = None if relation is None else self.module.factor(relation)
        key = None if L is None else relation if self.module.metric == "learned" else "shared"
        if key not in self.rows:
            self.rows[key] = self.rows[None] @ L
        read_key = (key, relation)
        if read_key not in self.read:  # one gather of every name this relation reads
            names = self.uses[relation if relation in self.uses else None]
            first, last = self.spans[names[0]][0], self.spans[names[-1]][1]
            self.read[read_key] = (first, gather_rows(self.rows[key], self.inverse[first:last]))
        first, rows = self.read[read_key]
        start, stop, shape = self.spans[name]
        return rows[start - first : stop - first].reshape(*shape, -1)


class MetricEmbeddingModule(nn.Module):
    """User and item embeddings in the unit ball with learned metrics and margins.

    Parameters
    ----------
    n_users, n_items : int
        Number of user and item points.
    n_components : int, default=32
        Dimension ``k`` of the space.
    metric : {"learned", "shared", "euclidean"}, default="learned"
        Three learned metrics ``W_U``, ``W_I``, ``W_UI``; one learned metric
        for all relations (W-MML); or ``W = I`` (EUC-MML, CML).
    margin : float, default=0.02
        Initial value of every margin (or their fixed value).
    adaptive_margin : bool, default=True
        Learn one margin per user (``m_u``, user triplets), per item
        (``m_i``, item triplets) and per user and item (``m_l``, latent
        triplets); False keeps every margin at ``margin`` (M-MML, CML).
    init : {"uniform", "normal"}, default="uniform"
        ``"uniform"``: the MML paper's initialisation (uniform, mean 0.2,
        variance 0.04 per coordinate); ``"normal"``: CML's (normal, standard
        deviation ``1/√k``). Both are then projected into the unit ball.
    metric_scale : {"free", "trace"}, default="free"
        ``"free"``: the metrics' scale is unbounded (the paper), so the
        hinges can be met by growing ``W`` instead of moving points;
        ``"trace"``: each learned factor is rescaled after every step so that
        ``tr W = ‖L‖_F² = k`` (the identity's trace).
    margin_bounds : tuple of float, default=(1e-4, 1.0)
        ``(low, high)``: learned margins are clipped to it after every step
        (the paper's ``(0, 1]``); a higher ``low`` keeps them from collapsing.
    sparse_gradients : bool, default=False
        Give the embedding tables sparse gradients (only the rows the batch
        gathered), for an optimizer that takes them (AdaGrad, SGD), in the
        steps that read few of a table's rows (at most a quarter as many
        indices as it has rows; dense is cheaper otherwise); then
        :meth:`project_` projects only those rows, the only ones the step
        moved. The same steps as dense gradients, without the ``n × k`` work.

    Attributes
    ----------
    user_embeddings : Parameter of shape (n_users, k)
    item_embeddings : Parameter of shape (n_items, k)
    metric_factors : Parameter or buffer of shape (3 or 1, k, k)
        The factors ``L`` of ``W = L Lᵀ`` (identity at the start; a buffer for
        ``metric="euclidean"``).
    user_margins, item_margins, latent_margins : Parameter or buffer
        Of shapes (n_users,), (n_items,) and (n_users + n_items,).
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        n_components: int = 32,
        metric: str = "learned",
        margin: float = 0.02,
        adaptive_margin: bool = True,
        init: str = "uniform",
        metric_scale: str = "free",
        margin_bounds: tuple[float, float] = PAPER_MARGIN_BOUNDS,
        sparse_gradients: bool = False,
    ) -> None:
        super().__init__()
        self.sparse_gradients = sparse_gradients
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}.")
        if metric_scale not in METRIC_SCALES:
            raise ValueError(f"metric_scale must be one of {METRIC_SCALES}, got {metric_scale!r}.")
        self.metric_scale, self.margin_bounds = metric_scale, tuple(margin_bounds)
        self.n_users, self.n_items, self.metric = n_users, n_items, metric
        self.user_embeddings = nn.Parameter(self._initial_points(n_users, n_components, init))
        self.item_embeddings = nn.Parameter(self._initial_points(n_items, n_components, init))
        factors = torch.eye(n_components).repeat(3 if metric == "learned" else 1, 1, 1)
        if metric == "euclidean":
            self.register_buffer("metric_factors", factors)
        else:
            self.metric_factors = nn.Parameter(factors)
        for name, size in (("user_margins", n_users), ("item_margins", n_items),
                           ("latent_margins", n_users + n_items)):
            values = torch.full((size,), float(margin))
            if adaptive_margin:
                setattr(self, name, nn.Parameter(values))
            else:
                self.register_buffer(name, values)
        self.project_()

    @staticmethod
    def _initial_points(n: int, k: int, init: str) -> torch.Tensor:
        if init == "uniform":  # mean 0.2, variance 0.04: half-width 0.2·√3
            half_width = 0.2 * math.sqrt(3.0)
            return torch.empty(n, k).uniform_(0.2 - half_width, 0.2 + half_width)
        if init == "normal":
            return torch.randn(n, k) / math.sqrt(k)
        raise ValueError(f"init must be 'uniform' or 'normal', got {init!r}.")

    def factor(self, relation: str) -> torch.Tensor | None:
        """The factor ``L`` of a relation's metric, or None for the Euclidean one."""
        if self.metric == "euclidean":
            return None
        return self.metric_factors[_RELATIONS[relation] if self.metric == "learned" else 0]

    def metric_matrices(self) -> dict[str, torch.Tensor]:
        """``{"user": W_U, "item": W_I, "user_item": W_UI}``, each ``L Lᵀ`` (detached)."""
        with torch.no_grad():
            out = {}
            for relation in _RELATIONS:
                L = self.factor(relation)
                eye = torch.eye(self.user_embeddings.shape[1], device=self.user_embeddings.device)
                out[relation] = eye if L is None else L @ L.T
            return out

    def distance(self, a: torch.Tensor, b: torch.Tensor, relation: str) -> torch.Tensor:
        """``F(a, b) = ‖(a − b) L‖²`` over the last dimension (broadcasting ``a`` and ``b``)."""
        diff = a - b
        L = self.factor(relation)
        if L is not None:
            diff = diff @ L
        return diff.pow(2).sum(dim=-1)

    def score_items(self, users: torch.Tensor) -> torch.Tensor:
        """``−F_UI(e_u, e_i)`` of every item for a batch of user points, shape (B, n_items).

        Computed as ``2 u'·i' − ‖u'‖² − ‖i'‖²`` on the transformed points
        ``u' = e_u L``, ``i' = e_i L``: one matrix product, no ``B × n × k`` tensor.
        """
        items = self.item_embeddings
        L = self.factor("user_item")
        if L is not None:
            users, items = users @ L, items @ L
        return (2 * users @ items.T - users.pow(2).sum(1, keepdim=True)
                - items.pow(2).sum(1)[None, :])

    def forward(self, users: torch.Tensor) -> torch.Tensor:
        """Scores of every item for the fitted users ``users`` (indices), shape (B, n_items)."""
        return self.score_items(self.user_embeddings[users])

    def loss(
        self,
        batch: dict[str, torch.Tensor],
        *,
        alpha: float = 0.7,
        balance: float = 0.5,
        omega_p: float = 0.03,
        omega_r: float = 0.03,
        push_same_kind: bool = True,
        triplet_form: str = "joint",
        margin_reward: str = "mean",
    ) -> torch.Tensor:
        """The MML objective of a batch of sampled triplets (eq. 16), averaged over the batch.

        ``alpha · (balance · L1 + (1 − balance) · L2) + (1 − alpha) · L_LA
        + omega_p · L_P + omega_r · L_R`` with each hinge term averaged over
        the batch's positive pairs (see :func:`rank_weighted_hinge`).

        Parameters
        ----------
        batch : dict of tensors
            ``users`` and ``items`` (B,): the positive pairs ``(a, c)``;
            ``neg_users`` (B, U) and ``neg_users_valid``: candidates ``b``
            with ``r_bc = 0``; ``neg_items``/``neg_items_valid``: candidates
            ``d`` with ``r_ad = 0``; and, for the latent loss,
            ``similar_users`` (B,) with ``has_similar_user``,
            ``dissimilar_users`` (B, U) with ``dissimilar_users_valid``, and
            the same four for items. A kind's four latent keys are absent when
            no anchor of the batch has a similar one (and all may be when ``alpha == 1``).
        alpha : float
            Weight of the explicit loss against the latent one.
        balance : float
            ``λ``: weight of the user triplets ``<a, b, c>`` (L1) against the
            item triplets ``<c, d, a>`` (L2).
        omega_p, omega_r : float
            Weights of the covariance penalty and of the margin reward.
        margin_reward : {"mean", "batch"}
            ``"mean"``: ``L_R = −(mean m_u + mean m_i + mean m_l)`` over every
            margin (eq. 15; a margin's reward gradient is ``omega_r / n``,
            far below its hinge gradient); ``"batch"``: the same means over
            the margins of the batch's pairs (``m_a``, ``m_c`` and the
            latent ``m_a``, ``m_c``), so each margin is rewarded on the
            scale of its hinges and settles where they balance.
        push_same_kind : bool
            MML's dual triplets also push ``b`` from ``a`` under ``W_U`` and
            ``d`` from ``c`` under ``W_I``; False gives CML's triplet
            ``m + F(a, c) − F(a, d)`` (L2 without the item–item term).
        triplet_form : {"joint", "split"}
            How a dual triplet's two pushed distances enter: ``"joint"``, one
            hinge on their sum (eqs. 7–8 as printed); ``"split"``, one hinge
            each against the pulled distance (see :meth:`_dual_hinge`).
        """
        users, items = batch["users"], batch["items"]
        explicit_users, explicit_items = alpha > 0 and balance > 0, alpha > 0 and balance < 1
        U = _StepPoints(self, "user", users, batch["neg_users"] if explicit_users else None,
                        batch if alpha < 1 else None, push_same_kind)
        I = _StepPoints(self, "item", items, batch["neg_items"] if explicit_items else None,
                        batch if alpha < 1 else None, push_same_kind)
        pulled = _squared_distance(U("anchor", "user_item"), I("anchor", "user_item"))
        total = torch.zeros((), device=pulled.device)
        if explicit_users:
            l1 = self._dual_hinge(
                gather_rows(self.user_margins, users), pulled,
                _squared_distance(U("negative", "user_item"), I("anchor", "user_item")[:, None]),
                _squared_distance(U("anchor", "user")[:, None], U("negative", "user"))
                if push_same_kind else None,
                batch["neg_users_valid"], self.n_users, triplet_form)
            total = total + alpha * balance * l1.mean()
        if explicit_items:
            l2 = self._dual_hinge(
                gather_rows(self.item_margins, items), pulled,
                _squared_distance(U("anchor", "user_item")[:, None], I("negative", "user_item")),
                _squared_distance(I("anchor", "item")[:, None], I("negative", "item"))
                if push_same_kind else None,
                batch["neg_items_valid"], self.n_items, triplet_form)
            total = total + alpha * (1 - balance) * l2.mean()
        if alpha < 1:
            total = total + (1 - alpha) * (
                self._latent_loss(batch, U, users, 0)
                + self._latent_loss(batch, I, items, self.n_users))
        if omega_p:
            total = total + omega_p * covariance_penalty(torch.cat([U("anchor"), I("anchor")]))
        if omega_r and isinstance(self.user_margins, nn.Parameter):
            total = total - omega_r * self._margin_reward(users, items, margin_reward)
        return total

    def _margin_reward(self, users, items, form: str) -> torch.Tensor:
        """``mean m_u + mean m_i + mean m_l`` over every margin or over the batch's."""
        if form == "mean":
            return self.user_margins.mean() + self.item_margins.mean() + self.latent_margins.mean()
        if form == "batch":
            latent = torch.cat([users, items + self.n_users])
            return (gather_rows(self.user_margins, users).mean()
                    + gather_rows(self.item_margins, items).mean()
                    + gather_rows(self.latent_margins, latent).mean())
        raise ValueError(f"margin_reward must be one of {MARGIN_REWARDS}, got {form!r}.")

    @staticmethod
    def _dual_hinge(margin, pulled, pushed_cross, pushed_same, valid, n_total, form: str):
        """The hinge of a dual triplet: ``pushed_same`` (or None) joined or split from ``pushed_cross``.

        ``"joint"``: ``[m + F(pulled) − F(cross) − F(same)]₊`` (the paper's
        printed form); ``"split"``: ``[m + F(pulled) − F(cross)]₊ + [m +
        F(pulled) − F(same)]₊``, each with its own hardest candidate and rank
        weight.
        """
        if pushed_same is None:
            return rank_weighted_hinge(margin, pulled, pushed_cross, valid, n_total)
        if form == "joint":
            return rank_weighted_hinge(margin, pulled, pushed_cross + pushed_same, valid, n_total)
        if form == "split":
            return (rank_weighted_hinge(margin, pulled, pushed_cross, valid, n_total)
                    + rank_weighted_hinge(margin, pulled, pushed_same, valid, n_total))
        raise ValueError(f"triplet_form must be 'joint' or 'split', got {form!r}.")

    def _latent_loss(self, batch, points: _StepPoints, anchors, offset: int):
        """``L_LA`` of one kind (eq. 11): ``[m_l + F(a, f) − F(a, g)]₊`` rank-weighted, batch mean."""
        kind = points.kind
        if f"has_similar_{kind}" not in batch:  # no anchor of the batch has a similar one
            return torch.zeros((), device=anchors.device)
        has_similar = batch[f"has_similar_{kind}"]
        pulled = _squared_distance(points("anchor", kind), points("similar", kind))
        pushed = _squared_distance(points("anchor", kind)[:, None], points("dissimilar", kind))
        valid = batch[f"dissimilar_{kind}s_valid"] & has_similar[:, None]
        margins = gather_rows(self.latent_margins, anchors + offset)
        n_total = self.n_users if kind == "user" else self.n_items
        hinge = rank_weighted_hinge(margins, pulled, pushed, valid, n_total)
        return hinge.mean()

    @torch.no_grad()
    def project_(self) -> None:
        """Embeddings into the unit ball, learned margins into ``margin_bounds``, metrics to scale.

        A table whose gradient is sparse (``sparse_gradients``) has only the
        rows of that gradient projected: the others did not move since the
        last projection, and dividing by ``max(1, ‖e‖) = 1`` leaves them as
        they are. With ``metric_scale="trace"`` each learned factor ``L`` is
        divided by ``‖L‖_F / √k`` so that ``tr(L Lᵀ) = k``.
        """
        for points in (self.user_embeddings, self.item_embeddings):
            grad = points.grad
            if grad is not None and grad.is_sparse:
                rows = grad._indices()[0]  # with repeats: each copy gets the same values
                touched = points[rows]
                norms = torch.linalg.vector_norm(touched, dim=1, keepdim=True)
                points[rows] = touched / norms.clamp(min=1.0)
                continue
            norms = torch.linalg.vector_norm(points, dim=1, keepdim=True)
            points.div_(norms.clamp(min=1.0))
        for margins in (self.user_margins, self.item_margins, self.latent_margins):
            if isinstance(margins, nn.Parameter):  # fixed margins (buffers) are left as given
                margins.clamp_(*self.margin_bounds)
        if self.metric_scale == "trace" and isinstance(self.metric_factors, nn.Parameter):
            k = self.metric_factors.shape[-1]
            norms = torch.linalg.matrix_norm(self.metric_factors, keepdim=True)
            self.metric_factors.mul_(math.sqrt(k) / norms.clamp(min=1e-12))
