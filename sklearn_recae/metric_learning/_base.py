"""What the metric-embedding recommenders share: the skorch net, fit, fold-in, scoring.

The skorch glue's :class:`~sklearn_recae._skorch.net.MetricLearningNet`
trains a :class:`~sklearn_recae.nn.metric.MetricEmbeddingModule` through the
package's one skorch loop: its training set is a
:class:`~sklearn_recae.metric_learning._sampling.TripletSampler` over the
training part of the split (batches of positive pairs with freshly sampled
candidates, built by :func:`triplet_dataset`), its validation set the
``(x, users)`` row batches of :class:`~sklearn_recae._skorch.net.UserRowsNet`
(each fitted user ranks the items by its learned distance; NDCG@k of the
held-out entries is recorded and early stopping watches it). After every optimizer step the module
projects the embeddings into the unit ball and the margins into ``(0, 1]``.

:class:`MetricEmbeddingRecommender` is the estimator base of
:class:`~sklearn_recae.metric_learning.MagneticMetricLearning` and
:class:`~sklearn_recae.metric_learning.CML`; a subclass says which loss
terms it uses (``_loss_params``, ``_module_params``, ``_latent``).
"""

from __future__ import annotations

import functools
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch

from .._blocks import iter_row_blocks
from .._similarity import ItemSimilarity
from .._skorch import (
    OPTIMIZERS,
    PRECISIONS,
    MetricLearningNet,
    collate_user_csr,
    resolve_optimizer,
)
from .._torch_base import CodeTransformerMixin, ImplicitFeedbackMixin, TorchRecommender
from ..base import atomic_fit
from ..nn.metric import MetricEmbeddingModule, gather_rows, rank_weighted_hinge
from ..utils._sklearn import Interval, StrOptions, _fit_context
from ..utils.validation import check_held_out, check_interactions
from ._sampling import (
    StoredEntries,
    TripletSampler,
    collate_triplets,
    jaccard_similar_pairs,
)

__all__ = ["MetricEmbeddingRecommender", "row_fingerprints", "triplet_dataset"]


class _HeldOutDistance(torch.nn.Module):
    """Validation loss: the mean learned user–item distance of the held-out entries.

    The scores are ``−F_UI``; lower is closer. (The training objective needs
    sampled triplets, which the validation rows do not have.)
    """

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        held_out = y_true > 0
        return -(y_pred * held_out).sum() / held_out.sum().clamp(min=1)


def triplet_dataset(X_fit: sp.csr_matrix, *, sampler_params: dict,
                    similarity_threshold: float | None) -> TripletSampler:
    """The training dataset of :class:`~sklearn_recae._skorch.net.MetricLearningNet`.

    A :class:`~sklearn_recae.metric_learning._sampling.TripletSampler` over the
    training part ``X_fit`` of the split with ``sampler_params``; with a
    ``similarity_threshold``, the latent loss's Jaccard-similar user and item
    pairs (:func:`~sklearn_recae.metric_learning._sampling.jaccard_similar_pairs`)
    are found at that threshold from ``X_fit`` (the validation entries never
    make two users similar); None: no latent pairs.
    """
    if not (X_fit.data > 0).any():  # every positive of X held out to validate on
        raise ValueError(
            "The training part of X's validation split has no positive entry: every "
            "positive entry was held out to validate on, and the model learns from "
            "positive (user, item) pairs only. Pass X_valid to fit, or more positive entries."
        )
    params = dict(sampler_params)
    if similarity_threshold is not None:
        params["similar_users"] = jaccard_similar_pairs(X_fit, similarity_threshold)
        params["similar_items"] = jaccard_similar_pairs(X_fit.T.tocsr(), similarity_threshold)
    return TripletSampler(X_fit, **params)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a well-mixed uint64 of each uint64 value."""
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def row_fingerprints(X: sp.csr_matrix) -> np.ndarray:
    """A 64-bit hash of each row's stored items and values (uint64 array of length n_rows).

    Equal rows hash equally whatever their position; different rows collide
    with probability about 2⁻⁶⁴ per pair.
    """
    keys = (X.indices.astype(np.uint64) << np.uint64(32)) | np.asarray(
        X.data, dtype=np.float32).view(np.uint32).astype(np.uint64)
    entry_hashes = _splitmix64(keys)
    lengths = np.diff(X.indptr)
    sums = np.zeros(X.shape[0], dtype=np.uint64)
    nonempty = lengths > 0
    if X.nnz:
        with np.errstate(over="ignore"):
            sums[nonempty] = np.add.reduceat(entry_hashes, X.indptr[:-1][nonempty])
    with np.errstate(over="ignore"):
        return _splitmix64(sums + _splitmix64(lengths.astype(np.uint64)))


def _check_has_positive(estimator, X: sp.csr_matrix) -> None:
    """Raise a ValueError unless ``X`` has a positive entry: the training pairs are the positives."""
    if (X.data > 0).any():
        return
    raise ValueError(
        f"{type(estimator).__name__} needs at least one positive entry in X: its "
        f"{X.nnz} stored entr{'y is' if X.nnz == 1 else 'ies are all'} negative "
        "(negative feedback), and the model learns from positive (user, item) pairs only."
    )


#: Optimizers that step the rows of a sparse gradient as they would the dense one.
_SPARSE_OPTIMIZERS = (torch.optim.Adagrad, torch.optim.SGD)

_COMMON_CONSTRAINTS: dict = {
    "n_components": [Interval(Integral, 1, None, closed="left")],
    "margin": [Interval(Real, 0, 1, closed="right")],
    "n_candidates": [Interval(Integral, 1, None, closed="left")],
    "omega_p": [Interval(Real, 0, None, closed="left")],
    "init": [StrOptions({"uniform", "normal"})],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "k_valid": [Interval(Integral, 1, None, closed="left")],
    "refit": ["boolean"],
    "fold_in_steps": [Interval(Integral, 0, None, closed="left")],
    "output_space": [StrOptions({"metric", "raw"})],
    "binarize": ["boolean"],
    "device": [str],
    "precision": [StrOptions(set(PRECISIONS))],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


class MetricEmbeddingRecommender(ImplicitFeedbackMixin, CodeTransformerMixin, TorchRecommender):
    """Base of the estimators that embed users and items in one metric space.

    Subclasses define ``__init__`` (with at least the keys of
    ``_COMMON_CONSTRAINTS``), ``_module_params()`` (metric, margins),
    ``_loss_params()`` (the loss weights) and ``_latent`` (whether the
    latent loss, hence the Jaccard pairs, is used).

    **Which user a row is.** ``transform``, ``predict``, ``recommend`` and
    the scorers receive rows, not user ids. A row equal to a row of the
    matrix given to ``fit`` (same items, same values; matched by a 64-bit
    hash, :func:`row_fingerprints`) is that user and gets its learned
    embedding (rows that are equal in ``fit``'s matrix all get the first
    one's) — so ``fit_transform(X)`` equals ``fit(X).transform(X)`` and
    the entry hold-out protocol ranks the fitted users by their own
    embeddings. Any other row is **folded in**: its point starts at the mean
    of its positive items' embeddings and takes ``fold_in_steps`` AdaGrad
    steps (step ``lr``) on CML's user–item triplet loss of its own positives
    (``[m_c + F_UI(a, c) − F_UI(a, d)]₊``, rank-weighted, the hardest of
    ``n_candidates`` unobserved items ``d``) with the items, the metrics and
    the margins fixed; the negative
    candidates come from a fixed permutation offset by the row's hash, so a
    row's point does not depend on the other rows of the call.

    ``similar_items`` ranks items by the learned item–item distance ``F_I``
    of their points (the scores are ``−F_I``; squared Euclidean with
    ``metric="euclidean"`` and in CML).
    """

    _latent = False

    # -- fit ---------------------------------------------------------------------------
    @atomic_fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_valid=None):
        """Embed the users (rows) and items (columns) of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Implicit feedback; positive stored values are positives, zeros
            (stored or not) unobserved. Not modified.
        y : None
            Ignored; accepted for Pipeline and GridSearchCV compatibility.
        X_valid : {array-like, sparse matrix} of shape (n_users, n_items), default=None
            Held-out entries of the same users: their NDCG@``k_valid`` under
            the learned distances is recorded each epoch and, with
            ``early_stopping``, training stops on it.

        Returns
        -------
        self
        """
        X = self._prepare(check_interactions(self, X, reset=True))
        _check_has_positive(self, X)
        X_valid = None if X_valid is None else check_held_out(X_valid, X)
        self._fit_net(X, X_valid)
        module = self.net_.module_
        self.user_embeddings_ = module.user_embeddings.detach().cpu().numpy().copy()
        self.item_embeddings_ = module.item_embeddings.detach().cpu().numpy().copy()
        self.metrics_ = {name: W.cpu().numpy() for name, W in module.metric_matrices().items()}
        self.margins_ = {name: getattr(module, f"{name}_margins").detach().cpu().numpy().copy()
                         for name in ("user", "item", "latent")}
        fingerprints = row_fingerprints(X)
        order = np.argsort(fingerprints, kind="stable")
        self._fingerprints, self._fingerprint_rows = fingerprints[order], order
        self.n_users_ = X.shape[0]
        return self

    def _sampler_params(self) -> dict:
        seed = self._seed()
        if seed is None:  # random_state=None: new samples each fit, like the weights
            seed = int(np.random.randint(np.iinfo(np.int32).max))
        return {"n_candidates": self.n_candidates, "random_state": seed}

    def _sparse_gradients(self) -> bool:
        """Whether the embedding tables get sparse gradients: with an optimizer that takes them.

        AdaGrad and SGD step a sparse gradient's rows exactly as they step
        those rows of the dense one (whose other rows are zero and do not
        move); other optimizers (Adam's moments) move every row, so they get
        dense gradients.
        """
        return issubclass(resolve_optimizer(self.optimizer), _SPARSE_OPTIMIZERS)

    def _build_net(self, X: sp.csr_matrix, device: str, *, train_split, max_epochs: int):
        return MetricLearningNet(
            MetricEmbeddingModule,
            module__n_users=X.shape[0],
            module__n_items=X.shape[1],
            module__n_components=self.n_components,
            module__init=self.init,
            module__sparse_gradients=self._sparse_gradients(),
            **{f"module__{k}": v for k, v in self._module_params().items()},
            criterion=_HeldOutDistance,
            loss_params=self._loss_params(),
            train_dataset=functools.partial(
                triplet_dataset, sampler_params=self._sampler_params(),
                similarity_threshold=self.similarity_threshold if self._latent else None),
            **self._loop_params(device, train_split=train_split, max_epochs=max_epochs,
                                collate_fn=collate_triplets, valid_collate_fn=collate_user_csr),
            **self._ranking_validation(train_split),
        )

    # -- users of rows -----------------------------------------------------------------
    def _fitted_rows(self, block: sp.csr_matrix) -> np.ndarray:
        """The fitted user of each row of ``block`` (its row of fit's matrix), or −1."""
        query = row_fingerprints(block)
        position = np.searchsorted(self._fingerprints, query).clip(max=self._fingerprints.size - 1)
        found = self._fingerprints[position] == query
        return np.where(found, self._fingerprint_rows[position], -1)

    def _user_points(self, block: sp.csr_matrix) -> torch.Tensor:
        """The point of each row of ``block``: its learned embedding, or folded in."""
        module = self.net_.module_.eval()
        device = module.user_embeddings.device
        users = torch.as_tensor(self._fitted_rows(block), device=device)
        points = module.user_embeddings.detach()[users.clamp(min=0)].clone()
        new = (users < 0).cpu().numpy()
        if new.any():
            points[torch.as_tensor(new, device=device)] = self._fold_in(block[new])
        return points

    def _fold_in(self, block: sp.csr_matrix) -> torch.Tensor:
        """Points of rows not seen in fit (see the class docstring)."""
        module = self.net_.module_
        device = module.item_embeddings.device
        items_e = module.item_embeddings.detach()
        positive = block.multiply(block > 0).tocsr()
        positive.eliminate_zeros()
        pair_rows = np.repeat(np.arange(block.shape[0]), np.diff(positive.indptr))
        pair_items = positive.indices.astype(np.int64)
        counts = torch.as_tensor(np.diff(positive.indptr), device=device, dtype=torch.float32)
        rows_t = torch.as_tensor(pair_rows, device=device)
        items_t = torch.as_tensor(pair_items, device=device)
        start = torch.zeros(block.shape[0], items_e.shape[1], device=device)
        start.index_add_(0, rows_t, items_e[items_t])
        mean_user = module.user_embeddings.detach().mean(dim=0)
        start = torch.where(counts[:, None] > 0, start / counts.clamp(min=1)[:, None], mean_user)
        start = start / torch.linalg.vector_norm(start, dim=1, keepdim=True).clamp(min=1.0)
        if self.fold_in_steps == 0 or pair_items.size == 0:
            return start
        points = start.clone().requires_grad_(True)
        optimizer = torch.optim.Adagrad([points], lr=self.lr)
        stored = StoredEntries(block)
        n_items, n_candidates = block.shape[1], self.n_candidates
        permutation = np.random.default_rng(0).permutation(n_items)
        offsets = (row_fingerprints(block) % np.uint64(n_items)).astype(np.int64)[pair_rows]
        margins = module.item_margins.detach()[items_t]
        with torch.enable_grad():
            for step in range(self.fold_in_steps):
                slots = offsets[:, None] + step * n_candidates + np.arange(n_candidates)
                candidates = permutation[slots % n_items]
                valid = torch.as_tensor(~stored.contains(pair_rows[:, None], candidates),
                                        device=device)
                candidates_t = torch.as_tensor(candidates, device=device)
                e_a = gather_rows(points, rows_t)  # a reproducible gradient
                pulled = module.distance(e_a, items_e[items_t], "user_item")
                pushed = module.distance(e_a[:, None], items_e[candidates_t], "user_item")
                loss = rank_weighted_hinge(margins, pulled, pushed, valid, n_items).sum()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    points.div_(torch.linalg.vector_norm(points, dim=1, keepdim=True).clamp(min=1.0))
        return points.detach()

    # -- outputs -----------------------------------------------------------------------
    def _score_block(self, block: sp.csr_matrix) -> torch.Tensor:
        return self.net_.module_.score_items(self._user_points(block))

    def transform(self, X) -> np.ndarray:
        """Return each row's user point (learned, or folded in for rows not seen in fit).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_rows, n_items)

        Returns
        -------
        embeddings : ndarray of shape (n_rows, n_components), dtype float32
            With ``output_space="metric"`` the points times the factor
            ``L_U`` of the user–user metric ``W_U = L_U L_Uᵀ``, so that the
            Euclidean distance between two outputs is the learned user–user
            distance ``F_U`` (for a k-nearest-neighbour step); with
            ``"raw"`` the points themselves.
        """
        X = self._check_predict_input(X)
        module = self.net_.module_
        factor = module.factor("user") if self.output_space == "metric" else None
        out = np.empty((X.shape[0], self.n_components), dtype=np.float32)
        with torch.no_grad():
            for rows, block in iter_row_blocks(X, self._batch_rows()):
                points = self._user_points(block)
                out[rows] = (points if factor is None else points @ factor).cpu().numpy()
        return out

    def _item_similarity(self) -> ItemSimilarity:
        """Minus the learned item–item distance ``F_I``: the item points mapped by ``L_I``."""
        module = self.net_.module_
        factor = module.factor("item")
        points = module.item_embeddings.detach()
        return ItemSimilarity(points if factor is None else points @ factor.detach(),
                              "neg_squared_euclidean")

    @property
    def _code_size(self) -> int:
        return self.n_components
