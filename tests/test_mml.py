"""Magnetic Metric Learning, CML, their network, losses and triplet sampling."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from sklearn_recae.metric_learning import CML, MML_PAPER_PARAMS, MagneticMetricLearning
from sklearn_recae.metric_learning._base import row_fingerprints
from sklearn_recae.metric_learning import _sampling as sampling
from sklearn_recae.metric_learning._sampling import (
    StoredEntries,
    TripletSampler,
    jaccard_similar_pairs,
)
from sklearn_recae.nn import metric as metric_module
from sklearn_recae.nn.metric import (
    MetricEmbeddingModule,
    covariance_penalty,
    gather_rows,
    rank_weighted_hinge,
)

from .recommender_checks import make_checkerboard, torch_threads


def _random_binary(n_rows=30, n_cols=20, density=0.2, seed=0) -> sp.csr_matrix:
    return sp.random(n_rows, n_cols, density=density, format="csr", random_state=seed,
                     data_rvs=np.ones, dtype=np.float32)


@pytest.fixture(scope="module")
def planted():
    """Four planted user/item clusters (checkerboard) and a fitted MML."""
    X, withheld = make_checkerboard(n_blocks=4, rows_per_block=25, items_per_block=10,
                                    explicit=False)
    model = MagneticMetricLearning(n_components=8, max_epochs=40, batch_size=64, lr=0.1,
                                   margin=0.5, triplet_form="split", output_space="metric",
                                   early_stopping=False,
                                   device="cpu", random_state=0).fit(X)
    return X, withheld, model


# -- the network -------------------------------------------------------------------------
def test_identity_metric_distance_is_squared_euclidean():
    torch.manual_seed(0)
    a, b = torch.randn(5, 4), torch.randn(5, 4)
    for metric in ("euclidean", "learned", "shared"):  # learned ones start at L = I
        module = MetricEmbeddingModule(3, 3, n_components=4, metric=metric)
        for relation in ("user", "item", "user_item"):
            torch.testing.assert_close(module.distance(a, b, relation), ((a - b) ** 2).sum(1))


def test_distance_uses_w_equal_l_lt():
    torch.manual_seed(0)
    module = MetricEmbeddingModule(3, 3, n_components=4, metric="learned")
    with torch.no_grad():
        module.metric_factors.copy_(torch.randn(3, 4, 4))
    a, b = torch.randn(6, 4), torch.randn(6, 4)
    W = module.metric_matrices()["item"]
    expected = torch.einsum("bi,ij,bj->b", a - b, W, a - b)
    torch.testing.assert_close(module.distance(a, b, "item"), expected)


def test_score_items_is_minus_user_item_distance():
    torch.manual_seed(0)
    module = MetricEmbeddingModule(4, 6, n_components=3)
    with torch.no_grad():
        module.metric_factors.copy_(torch.randn(3, 3, 3))
    scores = module(torch.arange(4))
    expected = -module.distance(module.user_embeddings[:, None], module.item_embeddings[None],
                                "user_item")
    torch.testing.assert_close(scores, expected, atol=1e-5, rtol=1e-5)


def test_metric_structures_and_margins():
    learned = MetricEmbeddingModule(5, 7, n_components=3, metric="learned")
    shared = MetricEmbeddingModule(5, 7, n_components=3, metric="shared")
    euclidean = MetricEmbeddingModule(5, 7, n_components=3, metric="euclidean",
                                      adaptive_margin=False, margin=0.3)
    assert learned.metric_factors.shape == (3, 3, 3)
    assert shared.metric_factors.shape == (1, 3, 3)
    assert shared.factor("user") is shared.factor("user_item") or torch.equal(
        shared.factor("user"), shared.factor("user_item"))
    assert "metric_factors" not in dict(euclidean.named_parameters())
    assert "user_margins" not in dict(euclidean.named_parameters())
    assert torch.all(euclidean.latent_margins == 0.3)
    assert learned.latent_margins.shape == (12,)
    with pytest.raises(ValueError, match="metric must be"):
        MetricEmbeddingModule(2, 2, metric="cosine")


def test_initial_points_in_unit_ball_and_projection():
    module = MetricEmbeddingModule(50, 40, n_components=32, init="uniform")
    norms = torch.linalg.vector_norm(module.user_embeddings, dim=1)
    assert torch.all(norms <= 1 + 1e-6)
    with torch.no_grad():
        module.item_embeddings.mul_(10)
        module.user_margins.fill_(3.0)
        module.item_margins.fill_(-1.0)
    module.project_()
    assert torch.all(torch.linalg.vector_norm(module.item_embeddings, dim=1) <= 1 + 1e-6)
    assert torch.all(module.user_margins == 1.0) and torch.all(module.item_margins > 0)


def test_rank_weighted_hinge_values():
    margin = torch.tensor([0.5, 0.5, 0.5])
    positive = torch.tensor([1.0, 0.0, 1.0])
    negatives = torch.tensor([[0.8, 2.0, 1.2], [3.0, 3.0, 3.0], [0.0, 5.0, 0.1]])
    valid = torch.tensor([[True, True, True], [True, True, True], [False, False, False]])
    loss = rank_weighted_hinge(margin, positive, negatives, valid, n_candidates_total=30)
    # row 0: hinges 0.7, -0.5, 0.3 -> hardest 0.7, 2 impostors of 3 -> log(1 + 30 * 2/3)
    torch.testing.assert_close(loss[0], torch.log1p(torch.tensor(20.0)) * 0.7)
    assert loss[1] == 0 and loss[2] == 0  # satisfied; no valid candidate


def test_covariance_penalty_of_decorrelated_and_correlated_points():
    rng = np.random.default_rng(0)
    axis = torch.as_tensor(rng.standard_normal((200, 1)), dtype=torch.float32)
    diagonal_only = torch.as_tensor(np.diag([1.0, 2.0, 3.0]), dtype=torch.float32)
    assert covariance_penalty(diagonal_only) >= 0
    correlated = torch.cat([axis, axis, axis], dim=1)
    C = np.cov(correlated.numpy().T, bias=True)
    expected = (np.linalg.norm(C) - np.linalg.norm(np.diag(C))) / 200
    torch.testing.assert_close(covariance_penalty(correlated).double(),
                               torch.tensor(expected, dtype=torch.float64), rtol=1e-4, atol=1e-7)


# -- sampling ----------------------------------------------------------------------------
def test_jaccard_pairs_match_brute_force():
    X = _random_binary(40, 15, density=0.25, seed=1)
    dense = X.toarray() > 0
    for threshold in (0.0, 0.2, 0.4):
        expected = np.zeros((40, 40), dtype=bool)
        for a in range(40):
            for b in range(40):
                union = np.sum(dense[a] | dense[b])
                if a != b and union and np.sum(dense[a] & dense[b]) / union > threshold:
                    expected[a, b] = True
        for block_entries in (1, 100, 1 << 24):  # blocks of 1, 2 and all rows
            similar = jaccard_similar_pairs(X, threshold, block_entries=block_entries)
            np.testing.assert_array_equal(similar.toarray(), expected)


@pytest.mark.parametrize("global_search", [1 << 20, 0])  # all keys at once, or row by row
def test_stored_entries(global_search, monkeypatch):
    monkeypatch.setattr(sampling, "_GLOBAL_SEARCH_ENTRIES", global_search)
    X = _random_binary(10, 8, density=0.3, seed=2)
    rows, cols = np.meshgrid(np.arange(10), np.arange(8), indexing="ij")
    np.testing.assert_array_equal(StoredEntries(X).contains(rows, cols), X.toarray() > 0)
    assert not StoredEntries(sp.csr_matrix((3, 3))).contains(np.array([1]), np.array([2]))[0]
    long_rows = _random_binary(3, 1000, density=0.5, seed=3)  # ~500 entries a row: 9 halvings
    rows, cols = np.meshgrid(np.arange(3), np.arange(1000), indexing="ij")
    np.testing.assert_array_equal(StoredEntries(long_rows).contains(rows, cols),
                                  long_rows.toarray() > 0)
    np.testing.assert_array_equal(StoredEntries(long_rows).contains(np.array([[2], [0]]), cols[0]),
                                  long_rows.toarray()[[2, 0]] > 0)  # broadcast shapes


def test_triplet_sampler_batches_are_valid():
    X = _random_binary(30, 20, density=0.3, seed=3)
    similar_users = jaccard_similar_pairs(X, 0.1)
    similar_items = jaccard_similar_pairs(X.T.tocsr(), 0.1)
    sampler = TripletSampler(X, 7, similar_users=similar_users, similar_items=similar_items,
                             random_state=0)
    assert len(sampler) == X.nnz
    batch = sampler.__getitems__(np.arange(len(sampler)))
    dense = X.toarray() > 0
    assert np.all(dense[batch["users"], batch["items"]])
    assert batch["neg_items"].shape == (X.nnz, 7)
    np.testing.assert_array_equal(batch["neg_items_valid"],
                                  ~dense[batch["users"][:, None], batch["neg_items"]])
    np.testing.assert_array_equal(batch["neg_users_valid"],
                                  ~dense[batch["neg_users"], batch["items"][:, None]])
    has = batch["has_similar_user"]
    assert has.any()
    S = similar_users.toarray()
    assert np.all(S[batch["users"][has], batch["similar_users"][has]])
    np.testing.assert_array_equal(np.diff(similar_users.indptr)[batch["users"]] > 0, has)
    dissimilar_valid = batch["dissimilar_items_valid"]
    S_items = similar_items.toarray()
    anchors = batch["items"][:, None]
    candidates = batch["dissimilar_items"]
    np.testing.assert_array_equal(dissimilar_valid,
                                  ~S_items[anchors, candidates] & (candidates != anchors))


def test_row_fingerprints_depend_on_content_only():
    X = _random_binary(20, 12, density=0.3, seed=4)
    fingerprints = row_fingerprints(X)
    shuffled = X[::-1]
    np.testing.assert_array_equal(row_fingerprints(shuffled), fingerprints[::-1])
    changed = X.copy()
    changed.data[0] = 2.0
    assert row_fingerprints(changed)[0] != fingerprints[0]
    assert np.unique(fingerprints[np.diff(X.indptr) > 0]).size == len(
        {tuple(X[i].indices) for i in range(20) if X[i].nnz})


# -- the estimators ----------------------------------------------------------------------
def test_fitted_metrics_are_psd_and_points_in_unit_ball(planted):
    _, _, model = planted
    for W in model.metrics_.values():
        assert np.linalg.eigvalsh(W).min() >= -1e-6
        np.testing.assert_allclose(W, W.T, atol=1e-6)
    assert not np.allclose(model.metrics_["user"], np.eye(8))  # learned
    for points in (model.user_embeddings_, model.item_embeddings_):
        assert np.linalg.norm(points, axis=1).max() <= 1 + 1e-5
    for margins in model.margins_.values():
        assert margins.min() > 0 and margins.max() <= 1


def test_planted_clusters_are_recovered_and_loss_decreases(planted):
    X, withheld, model = planted
    losses = model.history_[:, "train_loss"]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:2])
    item_clusters = np.arange(40) // 10
    points = model.item_embeddings_ / np.linalg.norm(model.item_embeddings_, axis=1,
                                                     keepdims=True)
    labels = KMeans(4, n_init=10, random_state=0).fit_predict(points)
    assert normalized_mutual_info_score(item_clusters, labels) > 0.8
    top = model.recommend(X, k=3)
    user_clusters = np.arange(100) // 25
    assert np.mean(top // 10 == user_clusters[:, None]) > 0.7


def test_training_rows_get_learned_points_new_rows_are_folded_in(planted):
    X, _, model = planted
    # rows equal to no other row (equal rows all get the first one's point)
    _, first, counts = np.unique(row_fingerprints(X), return_index=True, return_counts=True)
    rows = np.sort(first[counts == 1])[:6]
    duplicated = first[counts > 1]
    np.testing.assert_allclose(model.transform(X[rows]),
                               model.user_embeddings_[rows] @ _user_factor(model), atol=1e-6)
    raw = MagneticMetricLearning(**{**model.get_params(), "output_space": "raw"})
    raw.__dict__.update({k: v for k, v in model.__dict__.items() if k.endswith("_")
                         or k.startswith("_")})
    np.testing.assert_allclose(raw.transform(X[rows]), model.user_embeddings_[rows], atol=1e-6)
    np.testing.assert_allclose(raw.transform(X[duplicated]), model.user_embeddings_[duplicated],
                               atol=1e-6)
    # a new user of cluster 2: items 20, 21, 22 only
    new = sp.csr_matrix((np.ones(3, np.float32), ([0, 0, 0], [20, 21, 22])), shape=(1, 40))
    folded = raw.transform(new)[0]
    distances = np.sum((model.item_embeddings_ - folded) ** 2, axis=1)
    assert np.mean(np.argsort(distances)[:10] // 10 == 2) > 0.7
    # a row's fold-in does not depend on the other rows of the call
    np.testing.assert_allclose(raw.transform(sp.vstack([new, X[:3]]).tocsr())[0], folded,
                               atol=1e-5)


def _user_factor(model) -> np.ndarray:
    return model.net_.module_.factor("user").detach().numpy()


def test_fit_transform_equals_fit_then_transform():
    X, _ = make_checkerboard(n_blocks=2, rows_per_block=10, items_per_block=5, explicit=False)
    params = dict(n_components=4, max_epochs=2, batch_size=32, device="cpu", random_state=0)
    np.testing.assert_allclose(MagneticMetricLearning(**params).fit_transform(X),
                               MagneticMetricLearning(**params).fit(X).transform(X), atol=1e-6)


@pytest.mark.parametrize("params, structure", [
    ({"metric": "euclidean"}, "euclidean"),
    ({"metric": "shared"}, "shared"),
    ({"adaptive_margin": False}, "fixed margins"),
])
def test_ablations_are_parameter_settings(params, structure):
    X, _ = make_checkerboard(n_blocks=2, rows_per_block=10, items_per_block=5, explicit=False)
    model = MagneticMetricLearning(n_components=4, max_epochs=2, batch_size=32, device="cpu",
                                   random_state=0, **{**MML_PAPER_PARAMS, **params}).fit(X)
    W = model.metrics_
    if structure == "euclidean":
        for matrix in W.values():
            np.testing.assert_array_equal(matrix, np.eye(4))
    elif structure == "shared":
        np.testing.assert_array_equal(W["user"], W["user_item"])
        assert not np.allclose(W["user"], np.eye(4))
    else:
        for margins in model.margins_.values():
            np.testing.assert_allclose(margins, 0.02)


def test_cml_is_euclidean_with_a_fixed_margin():
    """Its ranking is checked by the behaviour suite (test_common's checkerboard)."""
    X, _ = make_checkerboard(n_blocks=3, rows_per_block=20, items_per_block=8, explicit=False)
    model = CML(n_components=4, n_candidates=3, max_epochs=20, batch_size=64,
                early_stopping=False, device="cpu", random_state=0).fit(X)
    for matrix in model.metrics_.values():
        np.testing.assert_array_equal(matrix, np.eye(4))
    np.testing.assert_allclose(model.margins_["item"], 1.9)  # fixed, above the (0, 1] of MML
    assert "metric_factors" not in dict(model.net_.module_.named_parameters())
    assert not any("margins" in name for name, _ in model.net_.module_.named_parameters())


def test_latent_pairs_come_from_the_training_part_only(monkeypatch):
    import sklearn_recae.metric_learning._base as base

    X, _ = make_checkerboard(n_blocks=2, rows_per_block=10, items_per_block=5, explicit=False)
    X_valid = sp.csr_matrix(X.shape, dtype=np.float32)
    X_valid[0, 1] = 1.0
    X_fit = X.copy()
    X_fit[0, 1] = 0
    X_fit.eliminate_zeros()
    seen = []
    original = base.jaccard_similar_pairs
    monkeypatch.setattr(base, "jaccard_similar_pairs",
                        lambda M, t, **kw: seen.append(M.nnz) or original(M, t, **kw))
    MagneticMetricLearning(n_components=4, max_epochs=1, device="cpu", random_state=0).fit(
        X_fit, X_valid=X_valid)
    assert seen == [X_fit.nnz, X_fit.nnz]


def test_bad_parameters_are_rejected():
    X, _ = make_checkerboard(n_blocks=2, rows_per_block=5, items_per_block=4, explicit=False)
    with pytest.raises(ValueError, match="triplet_form"):
        MagneticMetricLearning(triplet_form="sum").fit(X)
    with pytest.raises(ValueError, match="margin"):
        MagneticMetricLearning(margin=1.5, adaptive_margin=True).fit(X)  # paper's (0, 1]
    with pytest.raises(ValueError, match="margin"):
        MagneticMetricLearning(margin=4.5).fit(X)  # squared distances reach 4
    with pytest.raises(ValueError, match="margin"):
        CML(margin=0.0).fit(X)


def test_cml_huge_step_stays_bounded():
    """Projected steps: a huge learning rate keeps the points in the ball, no divergence."""
    X, _ = make_checkerboard(n_blocks=2, rows_per_block=10, items_per_block=5, explicit=False)
    model = CML(n_components=4, lr=1e6, max_epochs=3, early_stopping=False, device="cpu",
                random_state=0).fit(X)
    assert np.isfinite(model.history_[:, "train_loss"]).all()
    assert np.linalg.norm(model.item_embeddings_, axis=1).max() <= 1 + 1e-5


# -- input without a positive entry -----------------------------------------------------------
@pytest.mark.parametrize("binarize", [True, False])
@pytest.mark.parametrize("Estimator", [CML, MagneticMetricLearning])
def test_fit_without_a_positive_entry_raises_and_changes_nothing(Estimator, binarize):
    negative = _random_binary(seed=1)
    negative.data[:] = -2.0  # negative feedback only: no (user, item) pair to pull together
    params = dict(n_components=4, max_epochs=2, batch_size=16, fold_in_steps=2,
                  binarize=binarize, random_state=0)
    name = Estimator.__name__
    match = f"{name} needs at least one positive entry in X: its {negative.nnz} stored"
    fresh = Estimator(**params)
    with pytest.raises(ValueError, match=match):
        fresh.fit(negative)
    assert not hasattr(fresh, "net_") and not hasattr(fresh, "user_embeddings_")
    X = _random_binary()
    fitted = Estimator(**params).fit(X)
    expected = fitted.predict(X)
    with pytest.raises(ValueError, match=match):
        fitted.fit(negative)
    np.testing.assert_array_equal(fitted.predict(X), expected)


def test_gather_rows_has_the_values_of_indexing_and_a_reproducible_gradient():
    gen = torch.Generator().manual_seed(0)
    table = torch.randn(300, 32, generator=gen)
    index = torch.randint(0, 300, (512, 10), generator=gen)  # 163,840 gradient elements
    upstream = torch.randn(512, 10, 32, generator=gen)

    def gradient(gather):
        leaf = table.clone().requires_grad_(True)
        (gather(leaf, index) * upstream).sum().backward()
        return leaf.grad

    np.testing.assert_array_equal(gather_rows(table, index), table[index])
    margins = table[:, 0].contiguous()
    np.testing.assert_array_equal(gather_rows(margins, index), margins[index])
    with torch_threads(1):
        serial = gradient(lambda t, i: t[i])  # one thread: indexing adds in index order
    with torch_threads(2):
        for _ in range(5):
            np.testing.assert_array_equal(gradient(gather_rows), serial)


# -- beyond the paper: bounded metric scale, margins that do not collapse ------------------
def test_trace_scale_keeps_each_metric_at_trace_k():
    torch.manual_seed(0)
    module = MetricEmbeddingModule(5, 7, n_components=4, metric="learned", metric_scale="trace")
    with torch.no_grad():
        module.metric_factors.mul_(3.0).add_(torch.randn(3, 4, 4))
    module.project_()
    for W in module.metric_matrices().values():
        assert torch.trace(W).item() == pytest.approx(4.0, rel=1e-5)
    free = MetricEmbeddingModule(5, 7, n_components=4, metric="learned")
    with torch.no_grad():
        free.metric_factors.mul_(3.0)
    free.project_()
    assert torch.trace(free.metric_matrices()["user"]).item() == pytest.approx(36.0)


def test_fitted_trace_metrics_and_margin_floor():
    X, _ = make_checkerboard(n_blocks=2, rows_per_block=10, items_per_block=5, explicit=False)
    model = MagneticMetricLearning(n_components=4, max_epochs=3, batch_size=32, lr=0.1,
                                   metric_scale="trace", margin=0.8, margin_bounds=(0.5, 1.0),
                                   adaptive_margin=True,
                                   device="cpu", early_stopping=False, random_state=0).fit(X)
    for W in model.metrics_.values():
        assert np.trace(W) == pytest.approx(4.0, rel=1e-4)
    for margins in model.margins_.values():
        assert margins.min() >= 0.5 and margins.max() <= 1.0
    assert not np.allclose(model.margins_["item"], 0.8)  # still learned


def test_batch_margin_reward_is_the_mean_of_the_batch_margins():
    module = MetricEmbeddingModule(3, 4, n_components=2, margin=0.5)
    with torch.no_grad():
        module.user_margins.copy_(torch.tensor([0.1, 0.2, 0.3]))
        module.item_margins.copy_(torch.tensor([0.4, 0.5, 0.6, 0.7]))
        module.latent_margins.copy_(torch.arange(7) / 10)
    users, items = torch.tensor([0, 0, 2]), torch.tensor([1, 3, 3])
    batch_reward = module._margin_reward(users, items, "batch")
    expected = (0.1 + 0.1 + 0.3) / 3 + (0.5 + 0.7 + 0.7) / 3 + (0 + 0 + 2 + 4 + 6 + 6) / 60
    assert batch_reward.item() == pytest.approx(expected)
    assert module._margin_reward(users, items, "mean").item() == pytest.approx(0.2 + 0.55 + 0.3)
    batch_reward.backward()
    assert module.user_margins.grad[1] == 0 and module.user_margins.grad[0] == pytest.approx(2 / 3)


def test_bad_margin_bounds_are_rejected():
    X, _ = make_checkerboard(n_blocks=2, rows_per_block=5, items_per_block=4, explicit=False)
    for bounds in [(0.0, 1.0), (1.0, 0.5), (0.5, 5.0), (0.5,)]:
        with pytest.raises(ValueError, match="margin_bounds"):
            MagneticMetricLearning(margin_bounds=bounds, margin=0.5).fit(X)  # even if fixed
    with pytest.raises(ValueError, match="outside margin_bounds"):
        MagneticMetricLearning(margin=0.2, margin_bounds=(0.5, 1.0), adaptive_margin=True).fit(X)
    with pytest.raises(ValueError, match="metric_scale"):
        MagneticMetricLearning(metric_scale="spectral").fit(X)


def test_cross_triplets_leave_the_same_kind_metrics_to_the_latent_loss():
    X, _ = make_checkerboard(n_blocks=2, rows_per_block=10, items_per_block=5, explicit=False)
    params = dict(n_components=4, max_epochs=2, batch_size=32, alpha=1.0, device="cpu",
                  early_stopping=False, random_state=0)
    cross = MagneticMetricLearning(triplet_form="cross", **params).fit(X).metrics_
    np.testing.assert_array_equal(cross["user"], np.eye(4))  # no user-user push, no latent loss
    np.testing.assert_array_equal(cross["item"], np.eye(4))
    assert not np.allclose(cross["user_item"], np.eye(4))
    split = MagneticMetricLearning(triplet_form="split", **params).fit(X).metrics_
    assert not np.allclose(split["user"], np.eye(4))


def test_paper_configuration_is_one_set_params_away():
    paper = MagneticMetricLearning().set_params(**MML_PAPER_PARAMS).get_params()
    assert paper["margin"] == 0.02 and paper["adaptive_margin"]
    assert paper["metric_scale"] == "free" and paper["margin_bounds"] == (1e-4, 1.0)
    defaults = MagneticMetricLearning().get_params()
    assert (defaults["metric_scale"], defaults["margin"], defaults["adaptive_margin"],
            defaults["triplet_form"], defaults["output_space"]) == ("trace", 1.0, False, "cross",
                                                                    "raw")


def test_free_metrics_still_diverge_at_a_huge_step():
    """The behaviour suite skips MML's divergence case (bounded defaults); the paper's is not."""
    X, _ = make_checkerboard(n_blocks=3, rows_per_block=20, items_per_block=8, explicit=False)
    model = MagneticMetricLearning(n_components=8, max_epochs=10, lr=1e6, early_stopping=False,
                                   device="cpu", random_state=0,
                                   **{**MML_PAPER_PARAMS, "margin": 0.5, "adaptive_margin": False})
    with pytest.raises(FloatingPointError, match="diverged|became"):
        model.fit(X)


# -- at scale: sparse gradients, touched-row projection, points gathered once per step --------
def _triplet_batch(X: sp.csr_matrix, n_candidates: int = 5, size: int = 60) -> dict:
    sampler = TripletSampler(X, n_candidates, similar_users=jaccard_similar_pairs(X, 0.1),
                             similar_items=jaccard_similar_pairs(X.T.tocsr(), 0.1),
                             random_state=0)
    return {k: torch.from_numpy(np.ascontiguousarray(v))
            for k, v in sampler.__getitems__(np.arange(size)).items()}


def test_loss_equals_the_pairwise_metric_formula():
    """The step maps each distinct row by L once; the loss is that of ``‖(e_a − e_b) L‖²``."""
    X = _random_binary(40, 30, density=0.2, seed=4)
    batch = _triplet_batch(X)
    torch.manual_seed(0)
    module = MetricEmbeddingModule(40, 30, n_components=6, adaptive_margin=True)
    with torch.no_grad():
        module.metric_factors.add_(0.3 * torch.randn_like(module.metric_factors))
    e_a, e_c = module.user_embeddings[batch["users"]], module.item_embeddings[batch["items"]]
    e_b = module.user_embeddings[batch["neg_users"]]
    e_d = module.item_embeddings[batch["neg_items"]]
    F_ = module.distance
    pulled = F_(e_a, e_c, "user_item")

    def hinge(margins, pushed, valid, n):
        return rank_weighted_hinge(margins, pulled, pushed, valid, n)

    l1 = (hinge(module.user_margins[batch["users"]], F_(e_b, e_c[:, None], "user_item"),
                batch["neg_users_valid"], 40)
          + hinge(module.user_margins[batch["users"]], F_(e_a[:, None], e_b, "user"),
                  batch["neg_users_valid"], 40))
    l2 = (hinge(module.item_margins[batch["items"]], F_(e_a[:, None], e_d, "user_item"),
                batch["neg_items_valid"], 30)
          + hinge(module.item_margins[batch["items"]], F_(e_c[:, None], e_d, "item"),
                  batch["neg_items_valid"], 30))
    expected = 0.3 * l1.mean() + 0.7 * l2.mean()
    loss = module.loss(batch, alpha=1.0, balance=0.3, omega_p=0.0, omega_r=0.0,
                       triplet_form="split")
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)


@pytest.fixture
def always_sparse(monkeypatch):
    """Sparse gradients in every step, however many of the table's rows it reads."""
    monkeypatch.setattr(metric_module, "_SPARSE_SHARE", 0)


@pytest.mark.parametrize("metric", ["learned", "euclidean"])
def test_sparse_gradients_equal_the_dense_ones(metric, always_sparse):
    X = _random_binary(40, 30, density=0.2, seed=5)
    batch = _triplet_batch(X)
    grads = []
    for sparse in (False, True):
        torch.manual_seed(0)
        module = MetricEmbeddingModule(40, 30, n_components=6, metric=metric,
                                       sparse_gradients=sparse)
        module.loss(batch, triplet_form="split").backward()
        assert module.user_embeddings.grad.is_sparse == sparse
        grads.append({n: p.grad.to_dense() for n, p in module.named_parameters()})
    for name, dense in grads[0].items():
        torch.testing.assert_close(grads[1][name], dense, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("Estimator", [MagneticMetricLearning, CML])
def test_sparse_fit_takes_the_dense_steps(Estimator, monkeypatch, always_sparse):
    """AdaGrad and SGD get sparse gradients; the fit equals the dense one (Adam stays dense)."""
    X = _random_binary(60, 40, density=0.15, seed=6)
    fits = []
    for sparse in (False, True):
        monkeypatch.setattr(Estimator, "_sparse_gradients", lambda self, s=sparse: s)
        fits.append(Estimator(n_components=6, max_epochs=3, batch_size=32, early_stopping=False,
                              device="cpu", random_state=0).fit(X))
    assert fits[1].net_.module_.sparse_gradients and not fits[0].net_.module_.sparse_gradients
    np.testing.assert_allclose(fits[1].user_embeddings_, fits[0].user_embeddings_, atol=1e-5)
    np.testing.assert_allclose(fits[1].item_embeddings_, fits[0].item_embeddings_, atol=1e-5)
    for name, W in fits[0].metrics_.items():
        np.testing.assert_allclose(fits[1].metrics_[name], W, atol=1e-5)
    monkeypatch.undo()
    assert Estimator(optimizer="adagrad")._sparse_gradients()
    assert Estimator(optimizer="sgd")._sparse_gradients()
    assert not Estimator(optimizer="adam")._sparse_gradients()


def test_sparse_gradients_only_for_steps_that_read_few_rows():
    X = _random_binary(400, 30, density=0.1, seed=8)
    batch = _triplet_batch(X, n_candidates=5, size=10)  # reads 10 + 50 + ... users of 400
    module = MetricEmbeddingModule(400, 30, n_components=4, sparse_gradients=True)
    module.loss(batch, alpha=1.0).backward()
    assert module.user_embeddings.grad.is_sparse  # 60 user indices, 400 rows
    assert not module.item_embeddings.grad.is_sparse  # 60 item indices, 30 rows: dense


def test_projection_of_the_touched_rows_only(always_sparse):
    X = _random_binary(40, 30, density=0.2, seed=7)
    batch = _triplet_batch(X, size=10)
    module = MetricEmbeddingModule(40, 30, n_components=6, sparse_gradients=True)
    module.loss(batch).backward()
    touched = torch.unique(module.user_embeddings.grad.coalesce().indices()[0])
    untouched = np.setdiff1d(np.arange(40), touched.numpy())
    assert 0 < touched.numel() < 40
    with torch.no_grad():
        module.user_embeddings.mul_(5.0)  # every row outside the ball
    before = module.user_embeddings.detach().clone()
    module.project_()
    norms = torch.linalg.vector_norm(module.user_embeddings.detach(), dim=1)
    assert torch.all(norms[touched] <= 1 + 1e-6)
    np.testing.assert_array_equal(module.user_embeddings.detach()[untouched], before[untouched])
    module.user_embeddings.grad = None  # no sparse gradient: every row is projected
    module.project_()
    assert torch.all(torch.linalg.vector_norm(module.user_embeddings.detach(), dim=1) <= 1 + 1e-6)
