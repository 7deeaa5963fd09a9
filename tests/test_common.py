"""One behaviour suite for every public estimator.

1. scikit-learn's ``parametrize_with_checks`` over every estimator, with the
   checks that cannot apply listed in ``EXPECTED_FAILED_CHECKS`` with a reason.
2. The recommender checks of ``recommender_checks.py`` over every recommender.

A new model joins the suite with one line in ``ESTIMATORS`` (sklearn checks:
a small, fast configuration) and one in ``RECOMMENDERS`` (a configuration
that learns the checkerboard, and whether it is an explicit-rating model).
"""

from __future__ import annotations

import copy
import inspect
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_recae.autoencoder import (
    CDAE,
    AutoRec,
    DeepRec,
    DenoisingAutoEncoder,
    MultDAE,
    MultVAE,
    RecVAE,
)
from sklearn_recae.compose import ColdStartFallback, ItemBased, make_recommender_pipeline
from sklearn_recae.ensemble import MultiMetricAutoRec, RankingEnsemble, RatingEnsemble
from sklearn_recae.hybrid import NRP
from sklearn_recae.linear import EASE, BaselineRatings, PopularityRecommender
from sklearn_recae.metric_learning import CML, MagneticMetricLearning
from sklearn_recae.neighbors import KNeighborsRecommender

from .recommender_checks import (
    BAD_INPUTS,
    Recommender,
    bad_input_applies,
    make_checkerboard,
    precision_of_withheld,
    recommend,
    score,
    set_everywhere,
    torch_threads,
)

#: Epochs of the two-thread reproducibility fits (test_seed_reproducible_with_two_threads).
TWO_THREAD_EPOCHS = 3

# Small and fast: the sklearn checks fit on tiny dense arrays many times.
def _small_mma_bases(**params):
    return [
        (f"{loss}_{penalty}", AutoRec(loss=loss, penalty=penalty, **params))
        for loss in ("l1", "l2") for penalty in ("l1", "l2")
    ]


ESTIMATORS = [
    AutoRec(hidden_units=(8,), max_epochs=3, batch_size=16, random_state=0),
    MultiMetricAutoRec(
        _small_mma_bases(hidden_units=(4,), max_epochs=2, batch_size=16), random_state=0
    ),
    ItemBased(AutoRec(hidden_units=(8,), max_epochs=3, batch_size=16, random_state=0)),
    RatingEnsemble([("autorec", AutoRec(hidden_units=(4,), max_epochs=2, batch_size=16)),
                    ("baseline", BaselineRatings())], weighting="nnls", random_state=0),
    RankingEnsemble([("ease", EASE(l2=10.0)), ("popularity", PopularityRecommender())],
                    weighting="search", search_step=0.5, random_state=0),
    DenoisingAutoEncoder(hidden_units=(8,), max_epochs=2, batch_size=16, random_state=0),
    MultDAE(hidden_units=(8, 4), max_epochs=2, batch_size=16, random_state=0),
    CDAE(hidden_units=(8,), max_epochs=2, batch_size=16, random_state=0),
    MultVAE(hidden_units=(8, 4), max_epochs=2, batch_size=16, random_state=0),
    RecVAE(hidden_units=(8,), n_components=4, n_layers=2, max_epochs=1, batch_size=16,
           random_state=0),
    # Adam: the checks' inputs are ~100, on which the default momentum SGD diverges
    DeepRec(hidden_units=(8, 4), optimizer="adam", max_epochs=3, batch_size=16, random_state=0),
    EASE(l2=10.0),
    ColdStartFallback(EASE(l2=10.0)),
    PopularityRecommender(),
    BaselineRatings(),
    MagneticMetricLearning(n_components=4, max_epochs=2, batch_size=16, fold_in_steps=5,
                           random_state=0),
    CML(n_components=4, max_epochs=2, batch_size=16, fold_in_steps=5, random_state=0),
    KNeighborsRecommender(n_neighbors=3),
    NRP(encoder_units=(8, 4), side_units=(4,), predictor_units=(8,), max_epochs=2,
        batch_size=16, random_state=0),
    make_recommender_pipeline(MultDAE(hidden_units=(8, 4), max_epochs=2, batch_size=16,
                                      random_state=0), KNeighborsRecommender(n_neighbors=3)),
    NRP("autoencoder", encoder_units=(8, 4), mask_fraction=0.1, noise_std=0.1, max_epochs=2,
        batch_size=16, random_state=0),
]

_PREDICT_IS_A_MATRIX = (
    "predict returns an (n_rows, n_items) matrix of scores, the check expects one target "
    "per row; every sparse format is tested in test_sparse_formats_agree instead."
)
_Y_IS_A_HELD_OUT_MATRIX = (
    "score(X, y) takes y as a held-out interaction matrix of X's shape (entry hold-out "
    "protocol) and rejects the 1-d label vector this check passes; fit ignores y, which "
    "test_fit_ignores_y_and_no_method_changes_the_input checks."
)
_FLOAT32_BATCHES = (
    "the networks compute in float32 and BLAS may round a row differently when it sits "
    "at another position of a batch (differences of one float32 ulp, ~1e-7 relative); "
    "the check's rtol=1e-7/atol=1e-9 is a float64 tolerance. "
    "test_predictions_do_not_depend_on_row_order checks the invariance at float32 precision."
)
_RECOMMENDER_CHECKS = {
    "check_methods_sample_order_invariance": _FLOAT32_BATCHES,
    "check_estimator_sparse_array": _PREDICT_IS_A_MATRIX,
    "check_estimator_sparse_matrix": _PREDICT_IS_A_MATRIX,
    "check_fit_score_takes_y": _Y_IS_A_HELD_OUT_MATRIX,
    "check_pipeline_consistency": _Y_IS_A_HELD_OUT_MATRIX,
}
_EXACT_RECOMMENDER_CHECKS = {
    name: reason for name, reason in _RECOMMENDER_CHECKS.items()
    if name != "check_methods_sample_order_invariance"
}
_USERS_ARE_FEATURES = (
    "an item-based model's inner features are the users seen in fit: it serves exactly "
    "those rows, in that order, and refuses another row count (test_item_based_refuses_"
    "other_users); a reordered or subset X is not the same input."
)
_STEPS_FITTED_IN_PLACE = (
    "a Pipeline fits the estimators of its steps parameter in place (scikit-learn's own "
    "design, which its test suite does not run through this check); each step passes it alone."
)
_SELF_MATCH_OF_FLOAT32_CODES = (
    "the kNN step drops a query row's neighbour whose code equals it exactly (exclude_self); "
    "MultDAE's float32 codes of a row may differ by one ulp with its position in a batch "
    "(see _FLOAT32_BATCHES), so a duplicated row's self-match is dropped in one call and "
    "not in another."
)
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "AutoRec": _RECOMMENDER_CHECKS,
    "MultiMetricAutoRec": _RECOMMENDER_CHECKS,
    "RatingEnsemble": _RECOMMENDER_CHECKS,
    "RankingEnsemble": _RECOMMENDER_CHECKS,
    "ItemBased": {
        **_RECOMMENDER_CHECKS,
        "check_methods_sample_order_invariance": _USERS_ARE_FEATURES,
        "check_methods_subset_invariance": _USERS_ARE_FEATURES,
        "check_fit_idempotent": _USERS_ARE_FEATURES,
    },
    "DenoisingAutoEncoder": _RECOMMENDER_CHECKS,
    "MultDAE": _RECOMMENDER_CHECKS,
    "CDAE": _RECOMMENDER_CHECKS,
    "MultVAE": _RECOMMENDER_CHECKS,
    "RecVAE": _RECOMMENDER_CHECKS,
    "DeepRec": _RECOMMENDER_CHECKS,
    # exact: each row is scored from its own entries, whatever the batch
    "EASE": _EXACT_RECOMMENDER_CHECKS,
    "ColdStartFallback": _EXACT_RECOMMENDER_CHECKS,
    "PopularityRecommender": _EXACT_RECOMMENDER_CHECKS,
    "BaselineRatings": _EXACT_RECOMMENDER_CHECKS,
    "MagneticMetricLearning": _RECOMMENDER_CHECKS,
    "CML": _RECOMMENDER_CHECKS,
    "KNeighborsRecommender": _EXACT_RECOMMENDER_CHECKS,
    "NRP": _RECOMMENDER_CHECKS,
    "RecommenderPipeline": {
        **_RECOMMENDER_CHECKS,
        "check_estimators_overwrite_params": _STEPS_FITTED_IN_PLACE,
        "check_dont_overwrite_parameters": _STEPS_FITTED_IN_PLACE,
        "check_methods_subset_invariance": _SELF_MATCH_OF_FLOAT32_CODES,
    },
}

def _multdae_then_knn(make):
    """User-kNN on Mult-DAE codes, as ``make(*steps)`` builds a pipeline of them."""
    return make(MultDAE(hidden_units=(32, 16), max_epochs=60, batch_size=16, lr=1e-2,
                        early_stopping=False, random_state=0),
                KNeighborsRecommender(n_neighbors=20))


# Each configuration must learn the checkerboard below.
RECOMMENDERS = [
    pytest.param(
        Recommender(
            lambda: AutoRec(hidden_units=(32,), max_epochs=150, batch_size=32, lr=1e-2, alpha=0.1,
                            early_stopping=False, random_state=0),
        ),
        id="AutoRec",
    ),
    pytest.param(
        Recommender(
            lambda: MultiMetricAutoRec(
                _small_mma_bases(hidden_units=(32,), max_epochs=60, batch_size=32, lr=1e-2,
                                 alpha=0.1, dropout=0.0),
                random_state=0,
            ),
        ),
        id="MultiMetricAutoRec",
    ),
    pytest.param(
        Recommender(
            lambda: RatingEnsemble(
                [("wide", AutoRec(hidden_units=(32,), max_epochs=60, batch_size=32, lr=1e-2,
                                  alpha=0.1, dropout=0.0)),
                 ("baseline", BaselineRatings())],
                weighting="nnls", random_state=0,
            ),
        ),
        id="RatingEnsemble",
    ),
    pytest.param(
        Recommender(
            lambda: ItemBased(
                AutoRec(hidden_units=(32,), max_epochs=150, batch_size=32, lr=1e-2, alpha=0.1,
                        early_stopping=False, random_state=0),
                batch_size=7,
            ),
            folds_in=False,
        ),
        id="ItemBased-AutoRec",
    ),
    pytest.param(
        Recommender(
            lambda: DenoisingAutoEncoder(hidden_units=(16,), max_epochs=60, batch_size=16,
                                         lr=1e-2, early_stopping=False, random_state=0),
            explicit=False,
        ),
        id="DenoisingAutoEncoder",
    ),
    pytest.param(
        Recommender(BaselineRatings, personalised=False),
        id="BaselineRatings",
    ),
    pytest.param(
        Recommender(
            lambda: MultDAE(hidden_units=(32, 16), max_epochs=60, batch_size=16, lr=1e-2,
                            early_stopping=False, random_state=0),
            explicit=False,
        ),
        id="MultDAE",
    ),
    pytest.param(
        Recommender(
            lambda: CDAE(hidden_units=(16,), max_epochs=15, batch_size=16, early_stopping=False,
                         random_state=0),
            explicit=False,
        ),
        id="CDAE",
    ),
    pytest.param(
        Recommender(
            lambda: MultVAE(hidden_units=(32, 16), max_epochs=60, batch_size=16, lr=1e-2,
                            early_stopping=False, random_state=0),
            explicit=False,
        ),
        id="MultVAE",
    ),
    pytest.param(
        Recommender(
            lambda: RecVAE(hidden_units=(32,), n_components=16, n_layers=2, max_epochs=15,
                           batch_size=16, lr=1e-2, early_stopping=False, random_state=0),
            explicit=False,
        ),
        id="RecVAE",
    ),
    pytest.param(
        Recommender(
            lambda: DeepRec(hidden_units=(32, 16), dropout=0.5, optimizer="sgd", lr=0.02,
                            max_epochs=30, batch_size=16, early_stopping=False, random_state=0),
        ),
        id="DeepRec",
    ),
    pytest.param(Recommender(lambda: EASE(l2=10.0), explicit=False), id="EASE"),
    pytest.param(Recommender(lambda: ColdStartFallback(EASE(l2=10.0)), explicit=False),
                 id="ColdStartFallback-EASE"),
    pytest.param(
        Recommender(
            lambda: RankingEnsemble([("ease", EASE(l2=10.0)), ("popularity", PopularityRecommender())],
                                    weighting="search", random_state=0),
            explicit=False,
        ),
        id="RankingEnsemble",
    ),
    pytest.param(
        Recommender(
            # batches of 512 x 10 candidates x 8 components: the parallel backward of the
            # candidates' gathers (test_seed_reproducible_with_two_threads)
            lambda: MagneticMetricLearning(n_components=8, margin=0.5, adaptive_margin=False,
                                           triplet_form="split", max_epochs=40, batch_size=512,
                                           lr=0.1, early_stopping=False, random_state=0),
            explicit=False,
            bounded=True,  # metric_scale="trace": metrics at tr W = k, fixed margins
        ),
        id="MagneticMetricLearning",
    ),
    pytest.param(
        Recommender(
            # batches of 256 x 10 candidates x 16 components: the parallel backward of the
            # candidates' gathers (test_seed_reproducible_with_two_threads)
            lambda: CML(n_components=16, n_candidates=10, max_epochs=20, batch_size=256,
                        early_stopping=False, random_state=0),
            explicit=False,
            bounded=True,
        ),
        id="CML",
    ),
    pytest.param(Recommender(lambda: KNeighborsRecommender(n_neighbors=20), explicit=False),
                 id="KNeighborsRecommender"),
    # a Pipeline (no recommend: ranked from predict, see recommend() of recommender_checks);
    # the kNN step gets the rows' interactions as a fit parameter
    pytest.param(
        Recommender(
            lambda: _multdae_then_knn(make_pipeline),
            explicit=False,
            fit_params=lambda X: {"kneighborsrecommender__interactions": X},
        ),
        id="Pipeline-MultDAE-KNeighborsRecommender",
    ),
    # the same, as a RecommenderPipeline: recommend and similar_items, the interactions
    # routed to the kNN step by the pipeline itself
    pytest.param(
        Recommender(lambda: _multdae_then_knn(make_recommender_pipeline), explicit=False),
        id="RecommenderPipeline-MultDAE-KNeighborsRecommender",
    ),
    pytest.param(
        Recommender(
            lambda: NRP(encoder_units=(32, 16), side_units=(4,), predictor_units=(32,), lr=3e-3,
                        max_epochs=30, batch_size=64, early_stopping=False, random_state=0),
        ),
        id="NRP",
    ),
    pytest.param(
        Recommender(
            lambda: NRP("autoencoder", encoder_units=(32, 16), lr=3e-3, max_epochs=30,
                        batch_size=64, early_stopping=False, random_state=0),
        ),
        id="NRP-aSDAE",
    ),
]


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator_class", sorted({type(est) for est in ESTIMATORS},
                                                    key=lambda cls: cls.__name__))
def test_layer_widths_are_tuples_of_ints(estimator_class):
    """One name, one type: each width parameter (``hidden_units``, NRP's ``*_units``) is a tuple."""
    widths = {name: param.default for name, param
              in inspect.signature(estimator_class.__init__).parameters.items()
              if name.endswith("_units")}
    for name, default in widths.items():
        assert default is None and name == "side_units" or (
            isinstance(default, tuple) and default
            and all(isinstance(h, int) and h >= 1 for h in default)
        ), f"{estimator_class.__name__}.{name} defaults to {default!r}, not a tuple of ints"
    assert "hidden_units" in widths or estimator_class.__name__ not in {
        "AutoRec", "CDAE", "DeepRec", "DenoisingAutoEncoder", "MultDAE", "MultVAE", "RecVAE"
    }


@pytest.fixture(scope="module", params=RECOMMENDERS)
def recommender(request):
    spec = request.param
    X, withheld = make_checkerboard(explicit=spec.explicit)
    return spec, X, withheld


@pytest.fixture(scope="module")
def fitted_once(recommender):
    spec, X, withheld = recommender
    return spec.fit(spec.factory(), X), X, withheld


@pytest.fixture
def fitted(fitted_once):
    """The module's fitted model, checked unchanged after each test that borrows it."""
    model, X, withheld = fitted_once
    expected = model.predict(X)
    yield model, X, withheld
    np.testing.assert_array_equal(model.predict(X), expected)


def _snapshot(X: sp.csr_matrix) -> tuple:
    return X.format, X.data.copy(), X.indices.copy(), X.indptr.copy(), X.shape


def _assert_unchanged(X: sp.csr_matrix, snapshot: tuple) -> None:
    assert X.format == snapshot[0] and X.shape == snapshot[4]
    np.testing.assert_array_equal(X.data, snapshot[1])
    np.testing.assert_array_equal(X.indices, snapshot[2])
    np.testing.assert_array_equal(X.indptr, snapshot[3])


def test_checkerboard_withheld_items_ranked_first(recommender, fitted):
    if not recommender[0].personalised:
        pytest.skip("a bias-only model ranks every row alike")
    model, X, withheld = fitted
    k = int(np.diff(withheld.indptr).max())
    recommended = recommend(model, X, k=k)
    assert precision_of_withheld(recommended, withheld) >= 0.9


def test_predict_and_recommend_shapes_and_dtypes(fitted, recommender):
    model, X, _ = fitted
    rows = X[:7] if recommender[0].folds_in else X
    scores = model.predict(rows)
    assert scores.shape == (rows.shape[0], X.shape[1]) and scores.dtype == np.float32
    assert np.isfinite(scores).all()
    recommended = recommend(model, rows, k=5)
    assert recommended.shape == (rows.shape[0], 5) and recommended.dtype == np.int64
    assert ((recommended >= 0) & (recommended < X.shape[1])).all()
    assert all(len(set(row)) == 5 for row in recommended)


def test_recommend_returns_the_scores_of_predict(fitted):
    model, X, _ = fitted
    items, scores = recommend(model, X, k=5, return_scores=True)
    np.testing.assert_array_equal(items, recommend(model, X, k=5))
    assert scores.shape == (X.shape[0], 5) and scores.dtype == np.float32
    assert np.all(np.diff(scores, axis=1) <= 0)
    np.testing.assert_allclose(
        scores, np.take_along_axis(model.predict(X), items, axis=1), rtol=1e-5, atol=1e-5
    )


def test_recommend_excludes_seen_items(fitted):
    model, X, _ = fitted
    recommended = recommend(model, X, k=5)
    for row, items in enumerate(recommended):
        seen = set(X.indices[X.indptr[row] : X.indptr[row + 1]])
        assert not seen.intersection(items)
    with_seen = recommend(model, X, k=5, exclude_seen=False)
    assert any(set(X[row].indices).intersection(items) for row, items in enumerate(with_seen))


def test_recommend_honours_filter_items_and_candidates(fitted):
    model, X, _ = fitted
    if not hasattr(model, "recommend"):
        pytest.skip("a Pipeline has no recommend")
    n_items = X.shape[1]
    blocked = np.arange(0, n_items, 3)
    candidates = np.arange(1, n_items, 2)
    reference = model.predict(X)
    reference[X.nonzero()] = -np.inf
    for kwargs, allowed in (({"filter_items": blocked}, np.setdiff1d(np.arange(n_items), blocked)),
                            ({"items": candidates}, candidates),
                            ({"items": candidates, "filter_items": blocked},
                             np.setdiff1d(candidates, blocked))):
        items, scores = model.recommend(X, k=3, return_scores=True, **kwargs)
        assert np.isin(items, allowed).all(), kwargs
        # the best allowed items: the scores are the top-3 of predict over the allowed columns
        expected = -np.sort(-reference[:, allowed], axis=1)[:, :3]
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="k="):
        model.recommend(X, k=len(candidates) + 1, items=candidates)
    with pytest.raises(ValueError, match="item indices in"):
        model.recommend(X, k=1, filter_items=[n_items])


def test_fold_in_of_rows_unseen_in_fit(recommender):
    spec, X, withheld = recommender
    rows = np.arange(X.shape[0])
    fit_rows, new_rows = rows[rows % 3 != 0], rows[rows % 3 == 0]
    model = spec.fit(spec.factory(), X[fit_rows])
    if not spec.folds_in:
        with pytest.raises(ValueError, match="cannot fold in new users"):
            recommend(model, X[new_rows])
        return
    k = int(np.diff(withheld.indptr).max())
    recommended = recommend(model, X[new_rows], k=k)
    if not spec.personalised:  # a new row is still served, from its fold-in
        assert recommended.shape == (len(new_rows), k)
        return
    assert precision_of_withheld(recommended, withheld[new_rows]) >= 0.8


# Share of an item's 3 nearest items inside its block, where a model's spec is below 0.9: the
# MIL autoencoder's decoder item vectors (no batch norm, paper init: #21 defaults) put 0.79 there
# (0.975 with batch_norm="hidden"), while its recommendations pass the precision checks above.
MIN_BLOCK_SHARE = {"DenoisingAutoEncoder": 0.75}


def test_similar_items_come_from_the_item_block(fitted):
    """An item's 3 nearest items are in its checkerboard block, never itself; or no method."""
    model, X, _ = fitted
    if not hasattr(model, "similar_items"):
        with pytest.raises(AttributeError, match="similar_items"):
            model.similar_items([0])
        return
    n_items = X.shape[1]
    items, scores = model.similar_items(np.arange(n_items), k=3, return_scores=True)
    assert items.shape == scores.shape == (n_items, 3) and items.dtype == np.int64
    assert not (items == np.arange(n_items)[:, None]).any()
    assert np.all(np.diff(scores, axis=1) <= 0) and np.isfinite(scores).all()
    block = np.arange(n_items) // 10  # make_checkerboard's items_per_block
    assert (block[items] == block[:, None]).mean() >= MIN_BLOCK_SHARE.get(type(model).__name__, 0.9)


def test_explicit_stored_zeros_are_unobserved(fitted):
    model, X, _ = fitted
    dense = X.toarray()
    zero_rows, zero_cols = np.nonzero(dense == 0)
    stored = sp.csr_matrix(
        (np.r_[X.data, np.zeros(len(zero_rows), np.float32)],
         (np.r_[np.repeat(np.arange(X.shape[0]), np.diff(X.indptr)), zero_rows],
          np.r_[X.indices, zero_cols])),
        shape=X.shape,
    )
    assert stored.nnz > X.nnz
    np.testing.assert_array_equal(model.predict(stored), model.predict(X))
    np.testing.assert_array_equal(recommend(model, stored, k=3), recommend(model, X, k=3))
    np.testing.assert_array_equal(model.predict(X.toarray()), model.predict(X))


@pytest.mark.parametrize("convert", [
    sp.csc_matrix, sp.coo_matrix, sp.lil_matrix, sp.csr_array, sp.coo_array,
    lambda X: X.toarray(), lambda X: X.astype(np.float64), lambda X: X.astype(np.int64),
])
def test_sparse_formats_agree(fitted, convert):
    model, X, _ = fitted
    np.testing.assert_array_equal(model.predict(convert(X)), model.predict(X))
    np.testing.assert_array_equal(recommend(model, convert(X), k=3), recommend(model, X, k=3))


def test_predictions_do_not_depend_on_row_order(fitted, recommender):
    model, X, _ = fitted
    if not recommender[0].folds_in:
        pytest.skip("the rows of an item-based model are its inner model's features")
    order = np.random.RandomState(0).permutation(X.shape[0])
    np.testing.assert_allclose(model.predict(X[order]), model.predict(X)[order], rtol=1e-5, atol=1e-5)
    if hasattr(model, "transform"):
        np.testing.assert_allclose(
            model.transform(X[order]), model.transform(X)[order], rtol=1e-5, atol=1e-5
        )


def test_fit_ignores_y_and_no_method_changes_the_input(fitted, recommender):
    """A fit given a label vector ``y`` equals the fit without it; no method writes to X or y.

    One fresh fit serves both checks (each used to fit its own model).
    """
    spec, X, withheld = recommender
    snap, snap_y = _snapshot(X), _snapshot(withheld)
    y = np.arange(X.shape[0])
    model = spec.fit(spec.factory(), X, y)
    np.testing.assert_array_equal(y, np.arange(X.shape[0]))
    np.testing.assert_array_equal(model.predict(X), fitted[0].predict(X))
    recommend(model, X, k=3)
    score(model, X, withheld)
    score(model, X)
    if hasattr(model, "transform"):
        model.transform(X)
    _assert_unchanged(X, snap)
    _assert_unchanged(withheld, snap_y)


def test_clone_pickle_and_seed_reproducible(fitted, recommender):
    """A pickled model predicts alike; a clone refits to the same predictions (one seed).

    A fresh ``factory()`` refit is checked equal in
    ``test_fit_ignores_y_and_no_method_changes_the_input``.
    """
    model, X, _ = fitted
    spec = recommender[0]
    expected = model.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), expected)
    np.testing.assert_array_equal(spec.fit(clone(model), X).predict(X), expected)


def test_seed_reproducible_with_two_threads(recommender):
    """Two fits with one random_state agree exactly when torch computes with two threads.

    A parallel CPU kernel whose summation order varies between runs (advanced
    indexing's backward adds repeated rows with atomics once the gradient has
    32,768 elements) breaks it; the CML and MML configurations' candidate
    batches are large enough to reach that kernel.

    A few epochs suffice: a run-to-run difference in any step's last bits
    reaches the predictions, and the large candidate batches come from the
    first step on (the configuration's other parameters are kept).
    """
    spec, X, _ = recommender

    def short_fit():
        model = spec.factory()
        set_everywhere(model, max_epochs=TWO_THREAD_EPOCHS)  # False (unset): no epochs
        return spec.fit(model, X).predict(X)

    with torch_threads(2):
        first, second = short_fit(), short_fit()
    np.testing.assert_array_equal(second, first)


@pytest.mark.parametrize("k", [0, -1, 10_000])
def test_recommend_rejects_out_of_range_k(fitted, k):
    model, X, _ = fitted
    with pytest.raises(ValueError, match="k must be in"):
        recommend(model, X, k=k)


def _assert_unfitted(model) -> None:
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


@pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda case: case.name)
def test_bad_input(recommender, fitted_once, case):
    """Every estimator x method x bad input: a clear error, and a failed fit changes nothing."""
    spec, X, withheld = recommender
    fresh, fitted_copy = spec.factory(), copy.deepcopy(fitted_once[0])
    reason = bad_input_applies(case, spec, fresh if case.stage != "fitted" else fitted_copy)
    if reason is not None:
        pytest.skip(reason)
    if isinstance(case.error, type) and issubclass(case.error, Warning):
        with pytest.warns(case.error, match=case.match):
            case.call(fresh, X, withheld)
        return
    if case.stage == "fit":
        bad_input_applies(case, spec, fitted_copy)
        expected = fitted_copy.predict(X)
        for model in (fresh, fitted_copy):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                with pytest.raises(case.error, match=case.match or None):
                    case.call(model, X, withheld)
        _assert_unfitted(fresh)
        np.testing.assert_array_equal(fitted_copy.predict(X), expected)
        return
    model = fresh if case.stage == "unfitted" else fitted_copy
    with pytest.raises(case.error, match=case.match or None):
        case.call(model, X, withheld)


def test_py_typed_marker_is_packaged():
    """PEP 561: ``py.typed`` sits in the package directory and pyproject ships it."""
    from pathlib import Path

    import tomllib

    import sklearn_recae

    package_dir = Path(sklearn_recae.__file__).parent
    assert (package_dir / "py.typed").is_file()
    pyproject = package_dir.parent / "pyproject.toml"
    if pyproject.is_file():  # a source checkout (editable install): the wheel must carry it
        package_data = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
        assert "py.typed" in package_data["sklearn_recae"]
