"""Scorers under both protocols, with a fake estimator whose outputs are hand-computable."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.utils.validation import check_is_fitted

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.datasets import make_interactions
from sklearn_recae.metrics import (
    get_scorer,
    get_scorer_names,
    make_recommender_scorer,
    ndcg_at_k,
    novelty_weighted_map_at_k,
    popularity_tail_shares,
    recall_at_k,
    rmse,
)
from sklearn_recae.model_selection import PredefinedEntrySplit, holdout_row_entries
from sklearn_recae.utils.validation import as_interactions


class FakeRecommender(BaseEstimator):
    """``predict``: the constant ``value``; ``recommend``: items by training popularity.

    Popularity is the number of training rows holding the item; ties go to the
    lower item index (``reverse=True`` ranks the least popular first). Seen
    items are excluded. ``calls_`` records the row count of every call.
    """

    def __init__(self, value: float = 3.0, reverse: bool = False):
        self.value = value
        self.reverse = reverse

    def fit(self, X, y=None):
        X = as_interactions(X)
        self.n_features_in_ = X.shape[1]
        self.popularity_ = np.bincount(X.indices, minlength=X.shape[1])
        self.calls_ = []
        return self

    def _check(self, X) -> sp.csr_matrix:
        check_is_fitted(self)
        X = as_interactions(X)
        assert X.shape[1] == self.n_features_in_
        self.calls_.append(X.shape[0])
        return X

    def predict(self, X) -> np.ndarray:
        X = self._check(X)
        return np.full(X.shape, self.value, dtype=np.float32)

    def recommend(self, X, k: int = 10, exclude_seen: bool = True) -> np.ndarray:
        X = self._check(X)
        scores = np.tile((-1.0 if self.reverse else 1.0) * self.popularity_, (X.shape[0], 1))
        if exclude_seen:
            scores[X.nonzero()] = -np.inf
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]


@pytest.fixture
def entry_split():
    """A fixed entry split of 3 rows x 5 items.

    X_train: row 0 {0: 4, 1: 3}, row 1 {0: 5}, row 2 {0: 1, 2: 2}
    -> popularity [3, 1, 1, 0, 0] -> item order 0, 1, 2, 3, 4.
    Top-2 unseen: row 0 [2, 3], row 1 [1, 2], row 2 [1, 3].
    y (held-out): row 0 {3: 5}, row 1 {4: 2}, row 2 {1: 4, 4: 3}.
    """
    X_train = sp.csr_matrix(np.array([[4, 3, 0, 0, 0], [5, 0, 0, 0, 0], [1, 0, 2, 0, 0]], float))
    y = sp.csr_matrix(np.array([[0, 0, 0, 5, 0], [0, 0, 0, 0, 2], [0, 4, 0, 0, 3]], float))
    return X_train, y


@pytest.fixture
def ratings():
    """60 x 15 matrix of ratings, each row with 3 to 10 entries."""
    rng = np.random.RandomState(0)
    dense = np.zeros((60, 15))
    for row in dense:
        items = rng.choice(15, size=rng.randint(3, 11), replace=False)
        row[items] = rng.randint(1, 6, size=items.size)
    return sp.csr_matrix(dense)


# ---------------------------------------------------------------- hold-out protocol


def test_holdout_rmse_mae_hand_computed(entry_split):
    # predictions 3 at the held-out ratings 5, 2, 4, 3 -> errors 2, -1, 1, 0
    X_train, y = entry_split
    est = FakeRecommender(value=3.0).fit(X_train)
    assert get_scorer("neg_rmse")(est, X_train, y) == pytest.approx(-math.sqrt(6 / 4))
    assert get_scorer("neg_mae")(est, X_train, y) == pytest.approx(-1.0)


def test_holdout_ranking_hand_computed(entry_split):
    # hits: row 0 [0, 1], row 1 [0, 0], row 2 [1, 0]
    X_train, y = entry_split
    est = FakeRecommender().fit(X_train)
    # recall: 1/min(2,1), 0/1, 1/min(2,2) -> 1.5 / 3
    assert get_scorer("recall@2")(est, X_train, y) == pytest.approx(0.5)
    # precision: 1/2, 0, 1/2
    assert get_scorer("precision@2")(est, X_train, y) == pytest.approx(1 / 3)
    assert get_scorer("hit_rate@2")(est, X_train, y) == pytest.approx(2 / 3)
    # ndcg: row 0 (1/log2 3) / 1, row 1 0, row 2 1 / (1 + 1/log2 3)
    expected = (1 / math.log2(3) + 1 / (1 + 1 / math.log2(3))) / 3
    assert get_scorer("ndcg@2")(est, X_train, y) == pytest.approx(expected)
    # map: row 0 P@2 / 1 = 1/2, row 1 0, row 2 P@1 / 2 = 1/2
    assert get_scorer("map@2")(est, X_train, y) == pytest.approx(1 / 3)
    # mrr: first hit at rank 2 (row 0), none, rank 1 (row 2) -> (1/2 + 0 + 1) / 3
    assert get_scorer("mrr@2")(est, X_train, y) == pytest.approx(0.5)
    # items recommended to all rows: {2, 3, 1} of 5
    assert get_scorer("coverage@2")(est, X_train, y) == pytest.approx(3 / 5)


@pytest.mark.parametrize("name", ["neg_rmse", "recall@3", "ndcg@5", "map@4", "coverage@3"])
def test_batch_size_does_not_change_score(ratings, name):
    X_train, y = holdout_row_entries(ratings, 0.3, random_state=1)
    est = FakeRecommender().fit(X_train)
    full = get_scorer(name, batch_size=1000)(est, X_train, y)
    est.calls_.clear()
    assert get_scorer(name, batch_size=7)(est, X_train, y) == pytest.approx(full)
    assert max(est.calls_) <= 7 and len(est.calls_) > 1


# ---------------------------------------------------------------- fold-in protocol


def test_foldin_scores_hidden_entries(ratings):
    est = FakeRecommender(value=2.5).fit(ratings)
    visible, hidden = holdout_row_entries(ratings, 0.2, random_state=0)
    rows = np.flatnonzero(np.diff(hidden.indptr))
    expected_rmse = rmse(hidden[rows], est.predict(visible[rows]))
    expected_recall = recall_at_k(hidden, est.recommend(visible, k=5))
    assert get_scorer("neg_rmse")(est, ratings) == pytest.approx(-expected_rmse)
    assert get_scorer("recall@5")(est, ratings) == pytest.approx(expected_recall)


def test_foldin_constant_ratings_hand_computed():
    # every rating is 4: whichever entries are hidden, predicting 3 gives RMSE 1
    X = sp.csr_matrix(np.where(np.eye(6, 8) + np.eye(6, 8, 1) + np.eye(6, 8, 2) > 0, 4.0, 0))
    est = FakeRecommender(value=3.0).fit(X)
    assert get_scorer("neg_rmse")(est, X) == pytest.approx(-1.0)


def test_foldin_is_deterministic_and_respects_fraction(ratings):
    est = FakeRecommender().fit(ratings)
    scorer = make_recommender_scorer("ndcg", k=5, holdout_fraction=0.5, random_state=3)
    visible, hidden = holdout_row_entries(ratings, 0.5, random_state=3)
    expected = ndcg_at_k(hidden, est.recommend(visible, k=5))
    assert scorer(est, ratings) == scorer(est, ratings) == pytest.approx(expected)


def test_scorer_does_not_modify_inputs(entry_split):
    X_train, y = entry_split
    before = X_train.copy(), y.copy()
    est = FakeRecommender().fit(X_train)
    get_scorer("recall@2")(est, X_train, y)
    get_scorer("neg_rmse")(est, X_train)
    assert (X_train != before[0]).nnz == 0 and (y != before[1]).nnz == 0


# ---------------------------------------------------------------- protocol and parameter errors


def test_explicit_protocols(entry_split):
    X_train, y = entry_split
    est = FakeRecommender().fit(X_train)
    with pytest.raises(ValueError, match="y is None"):
        make_recommender_scorer("rmse", protocol="holdout")(est, X_train)
    with pytest.raises(ValueError, match="takes no y"):
        make_recommender_scorer("rmse", protocol="foldin")(est, X_train, y)
    with pytest.raises(ValueError, match="same shape"):
        get_scorer("neg_rmse")(est, X_train, y[:, :4])
    auto = make_recommender_scorer("rmse")(est, X_train, y)
    assert make_recommender_scorer("rmse", protocol="holdout")(est, X_train, y) == auto


def test_no_held_out_rows_raise():
    X = sp.csr_matrix(np.eye(4))  # one entry per row: fold-in hides nothing
    est = FakeRecommender().fit(X)
    with pytest.raises(ValueError, match="No row has a held-out entry"):
        get_scorer("recall@2")(est, X)
    with pytest.raises(ValueError, match="no stored"):
        get_scorer("neg_rmse")(est, X)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metric": "auc"}, ValueError, "Unknown metric 'auc'"),
        ({"metric": len}, ValueError, "Unknown metric"),
        ({"metric": "recall"}, ValueError, "needs a cut-off k"),
        ({"metric": "rmse", "k": 10}, ValueError, "k=None"),
        ({"metric": "recall", "k": 0}, ValueError, "k must be >= 1"),
        ({"metric": "recall", "k": 2.0}, TypeError, "k must be an int"),
        ({"metric": "rmse", "protocol": "weak"}, ValueError, "protocol must be one of"),
        ({"metric": "rmse", "holdout_fraction": 1.0}, ValueError, r"\(0, 1\)"),
        ({"metric": "rmse", "batch_size": 0}, ValueError, "batch_size must be >= 1"),
    ],
)
def test_make_scorer_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_recommender_scorer(**kwargs)


@pytest.mark.parametrize("name", ["rmse", "recall", "recall@0", "recall@x", "neg_rmse@3", "auc@5"])
def test_get_scorer_unknown_names(name):
    valid = (
        r"Unknown scorer .*Valid names: 'neg_rmse', 'neg_mae', or '<metric>@<k>' with "
        r"<metric> one of coverage, hit_rate, long_tail_share, map, medium_tail_share, mrr, ndcg, "
        r"novelty_map, precision, recall, short_tail_share .*"
        r"get_scorer_names\(\) lists coverage@5, .*, short_tail_share@100\."
    )
    with pytest.raises(ValueError, match=valid):
        get_scorer(name)


def test_get_scorer_names_and_passthrough():
    assert get_scorer("hit_rate@10").k == 10
    assert get_scorer("neg_mae").sign == -1
    assert get_scorer(rmse) is rmse  # a callable is returned as is


def test_scorer_accepts_metric_functions_and_direction():
    assert repr(make_recommender_scorer(recall_at_k, k=20)) == repr(get_scorer("recall@20"))
    assert repr(make_recommender_scorer(rmse)) == repr(get_scorer("neg_rmse"))
    assert make_recommender_scorer(rmse, greater_is_better=True).sign == 1


def test_repr():
    assert repr(get_scorer("neg_rmse")) == (
        "make_recommender_scorer('rmse', protocol='auto', holdout_fraction=0.2, "
        "batch_size=1000, random_state=0, greater_is_better=False)"
    )
    assert "'ndcg', k=100" in repr(get_scorer("ndcg@100"))


def test_scorer_pickles(ratings):
    est = FakeRecommender().fit(ratings)
    scorer = get_scorer("ndcg@5")
    clone = pickle.loads(pickle.dumps(scorer))
    assert repr(clone) == repr(scorer)
    assert clone(est, ratings) == scorer(est, ratings)


# ---------------------------------------------------------------- model selection


def test_grid_search_foldin_with_kfold(ratings):
    grid = {"value": [1.0, 3.0, 5.0]}
    search = GridSearchCV(
        FakeRecommender(), grid, cv=KFold(3), scoring=get_scorer("neg_rmse"), n_jobs=2
    )
    search.fit(ratings)
    # ratings are uniform on 1..5: predicting the middle value 3 is best
    assert search.best_params_ == {"value": 3.0}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_cross_val_score_multi_metric_ranking(ratings):
    recall = get_scorer("recall@5")
    scores = cross_val_score(FakeRecommender(), ratings, cv=KFold(3), scoring=recall)
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))
    search = GridSearchCV(
        FakeRecommender(), {"reverse": [False, True]}, cv=KFold(3),
        scoring={"recall": get_scorer("recall@5"), "cov": get_scorer("coverage@5")},
        refit="recall",
    ).fit(ratings)
    assert set(search.cv_results_) >= {"mean_test_recall", "mean_test_cov"}


def test_grid_search_predefined_entry_split(entry_split):
    X_train, y = entry_split
    search = GridSearchCV(
        FakeRecommender(), {"value": [2.0, 3.0, 4.0]}, cv=PredefinedEntrySplit(),
        scoring=get_scorer("neg_rmse"),
    ).fit(X_train, y)
    # held-out 5, 2, 4, 3: SSE 9+0+4+1=14 / 4+1+1+0=6 / 1+4+0+1=6 for 2 / 3 / 4
    # -> tie, the first (3.0) wins
    expected = [-math.sqrt(14 / 4), -math.sqrt(6 / 4), -math.sqrt(6 / 4)]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected)
    assert search.best_params_ == {"value": 3.0}
    assert search.best_estimator_.n_features_in_ == 5


# ---------------------------------------------------------------- input validation
# X and y of every scorer are checked by name (design §6): NaN, infinity, float32
# overflow, complex values and non-2-d input raise in the user's terms.

SCORER_NAMES = ["neg_rmse", "neg_mae", "recall@2", "precision@2", "hit_rate@2", "ndcg@2",
                "map@2", "mrr@2", "coverage@2"]
GOOD_X = np.array([[4.0, 3.0, 0.0, 0.0], [5.0, 0.0, 2.0, 0.0], [1.0, 0.0, 2.0, 3.0]])
GOOD_Y = np.array([[0.0, 0.0, 5.0, 1.0], [0.0, 4.0, 0.0, 2.0], [0.0, 4.0, 0.0, 0.0]])


def _bad(base, value, position=(0, 0)):
    out = base.astype(np.result_type(base, type(value)))
    out[position] = value
    return out


# (id, function of a good matrix -> bad one, error, message with {name})
BAD_INPUTS = [
    ("nan", lambda m: _bad(m, np.nan), ValueError,
     r"{name} contains NaN at 1 entry \(first at row 0, item 0\)"),
    ("nan-sparse", lambda m: sp.csr_matrix(_bad(m, np.nan, (2, 1))), ValueError,
     r"{name} contains NaN at 1 entry \(first at row 2, item 1\)"),
    ("inf", lambda m: _bad(m, np.inf, (1, 3)), ValueError, "{name} contains infinity"),
    ("-inf-sparse", lambda m: sp.coo_matrix(_bad(m, -np.inf)), ValueError,
     "{name} contains infinity"),
    ("1e39", lambda m: _bad(m, 1e39), ValueError,
     r"{name} has 1 value that overflows float32 \(1e\+39 at row 0, item 0"),
    ("1e39-sparse", lambda m: sp.csr_matrix(_bad(m, -1e39, (2, 3))), ValueError,
     "{name} has 1 value that overflows float32"),
    ("complex", lambda m: m + 1j, TypeError,
     "{name} has complex values; complex values are not supported"),
    ("complex-sparse", lambda m: sp.csr_matrix(m * 1j), TypeError,
     "complex values are not supported"),
    ("3-d", lambda m: m[None], ValueError, r"{name} must be a 2-d matrix .* got 3-d input"),
    ("1-d", lambda m: m[0], ValueError, r"{name} must be a 2-d matrix .* got 1-d input"),
    # numeric strings ("4.0") are cast as fit/predict cast them (see below); other
    # strings fail with fit's ValueError
    ("strings", lambda m: np.where(m > 0, "a", "0"), ValueError,
     "{name} must hold numbers: could not convert string to float"),
]


@pytest.fixture(scope="module")
def fitted():
    return FakeRecommender().fit(GOOD_X)


@pytest.mark.filterwarnings("error")  # no ComplexWarning / RuntimeWarning on the way
@pytest.mark.parametrize("scoring", SCORER_NAMES)
@pytest.mark.parametrize(
    ("make_bad", "error", "match"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
@pytest.mark.parametrize("argument", ["X", "y"])
def test_bad_X_and_y(fitted, scoring, make_bad, error, match, argument):
    scorer = get_scorer(scoring)
    with pytest.raises(error, match=match.format(name=argument)):
        if argument == "X":
            scorer(fitted, make_bad(GOOD_X), GOOD_Y)  # hold-out protocol
        else:
            scorer(fitted, GOOD_X, make_bad(GOOD_Y))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("scoring", SCORER_NAMES)
@pytest.mark.parametrize(
    ("make_bad", "error", "match"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_X_foldin(fitted, scoring, make_bad, error, match):
    with pytest.raises(error, match=match.format(name="X")):
        get_scorer(scoring)(fitted, make_bad(GOOD_X))


@pytest.mark.parametrize("scoring", SCORER_NAMES + ["novelty_map@2", "long_tail_share@2"])
@pytest.mark.parametrize("strings", ["<U3", "S3", "object"])
def test_scorers_accept_numeric_strings_like_fit(fitted, scoring, strings):
    """What fit/predict accept (their check_array casts "4.0" to 4.0), the scorers accept."""
    scorer = get_scorer(scoring)
    as_strings = lambda m: m.astype("<U3").astype(strings)
    expected_holdout = scorer(fitted, GOOD_X, GOOD_Y)
    assert scorer(fitted, as_strings(GOOD_X), as_strings(GOOD_Y)) == expected_holdout
    assert scorer(fitted, GOOD_X.tolist(), as_strings(GOOD_Y).tolist()) == expected_holdout
    assert scorer(fitted, as_strings(GOOD_X)) == scorer(fitted, GOOD_X)


def test_score_accepts_what_fit_and_predict_accept():
    """RecommenderMixin.score and predict share one validation: same acceptance, same errors."""
    from sklearn_recae.linear import EASE

    X = make_interactions(n_users=40, n_items=12, density=0.4, random_state=0)
    dense = X.toarray()
    strings = dense.astype("<U4")
    model = EASE().fit(strings)
    model.predict(strings)
    model.recommend(strings, k=3)
    assert model.score(strings) == model.score(dense)
    X_train, y = holdout_row_entries(X, 0.3, random_state=0)
    assert model.score(X_train.toarray().astype("<U4"), y.toarray().astype("<U4")) == \
        model.score(X_train, y)
    bad = np.where(dense > 0, "a", "0")
    with pytest.raises(ValueError, match="could not convert string to float") as from_predict:
        model.predict(bad)
    with pytest.raises(ValueError, match="could not convert string to float") as from_score:
        model.score(bad)
    assert str(from_score.value) == str(from_predict.value)
    with pytest.raises(ValueError, match="y must hold numbers: could not convert string"):
        model.score(dense, bad)


@pytest.mark.parametrize("scoring", SCORER_NAMES)
def test_float64_overflowing_float32_is_rejected_by_scorers(fitted, scoring):
    scorer = get_scorer(scoring)
    with pytest.raises(ValueError, match="y has 1 value that overflows float32"):
        scorer(fitted, GOOD_X, _bad(GOOD_Y, 1e39, (0, 2)))
    with pytest.raises(ValueError, match="X has 1 value that overflows float32"):
        scorer(fitted, _bad(GOOD_X, 1e39, (0, 1)))
    # the largest float32 itself is finite after the cast
    largest = float(np.finfo(np.float32).max)
    assert np.isfinite(scorer(fitted, GOOD_X, _bad(GOOD_Y, largest, (0, 2))))


@pytest.mark.parametrize("scoring", ["neg_rmse", "recall@2"])
def test_holdout_y_without_entries_raises(fitted, scoring):
    with pytest.raises(ValueError, match="y has no stored \\(held-out\\) entry"):
        get_scorer(scoring)(fitted, GOOD_X, np.zeros_like(GOOD_Y))


def test_get_scorer_argument_errors():
    with pytest.raises(TypeError, match="scoring must be a scorer name .* got NoneType"):
        get_scorer(None)
    with pytest.raises(TypeError, match="only apply to a scorer name"):
        get_scorer(rmse, batch_size=10)
    with pytest.raises(TypeError, match="from the name"):
        get_scorer("recall@20", k=10)


# ---------------------------------------------------------------- get_scorer_names


def test_get_scorer_names():
    names = get_scorer_names()
    assert names[:2] == ["coverage@5", "coverage@10"]
    assert {"neg_rmse", "neg_mae", "recall@20", "ndcg@100", "map@50", "mrr@10"} <= set(names)
    assert len(names) == len(set(names)) == 2 + 11 * 5
    # sorted by metric, then k numerically
    keys = [(n.partition("@")[0], int(n.partition("@")[2] or 0)) for n in names]
    assert keys == sorted(keys)
    for name in names:  # every listed name is accepted
        scorer = get_scorer(name)
        assert scorer.metric == name.partition("@")[0].removeprefix("neg_")
    assert get_scorer("recall@7").k == 7  # unlisted cut-offs are valid too


def test_get_scorer_error_lists_names():
    with pytest.raises(ValueError) as info:
        get_scorer("ndcg")
    for name in get_scorer_names():
        assert name in str(info.value)


# ---------------------------------------------------------------- GridSearchCV with AutoRec


def test_grid_search_autorec_with_package_scorers():
    """scoring=<scorer> and a multi-metric dict with refit work; the bare name does not."""
    X = make_interactions(40, 20, density=0.3, random_state=0)
    est = AutoRec(hidden_units=(4,), max_epochs=3, early_stopping=False, device="cpu",
                  random_state=0)
    grid = {"hidden_units": [(4,), (8,)]}
    # scikit-learn does not know this package's names
    with pytest.raises(ValueError, match="scoring"):
        GridSearchCV(est, grid, cv=KFold(2), scoring="neg_rmse").fit(X)

    single = GridSearchCV(est, grid, cv=KFold(2), scoring=get_scorer("neg_rmse")).fit(X)
    assert np.all(single.cv_results_["mean_test_score"] < 0)

    scoring = {"rmse": get_scorer("neg_rmse"), "ndcg": get_scorer("ndcg@10")}
    multi = GridSearchCV(est, grid, cv=KFold(2), scoring=scoring, refit="rmse").fit(X)
    ndcg = multi.cv_results_["mean_test_ndcg"]
    assert np.all((ndcg >= 0) & (ndcg <= 1))
    # refit on RMSE: the same choice and scores as the single-metric search
    np.testing.assert_allclose(multi.cv_results_["mean_test_rmse"],
                               single.cv_results_["mean_test_score"])
    assert multi.best_params_ == single.best_params_
    assert multi.best_score_ == pytest.approx(single.best_score_)
    assert multi.best_estimator_.predict(X[:3]).shape == (3, 20)


# ---------------------------------------------------------------- popularity scorers
# novelty_map@k and short/medium/long_tail_share@k count the item popularity in the
# source matrix the estimator recommends from (X under hold-out, the visible part of X
# under fold-in), plus one; each must equal the metric function applied by hand.

POPULARITY_NAMES = ["novelty_map", "short_tail_share", "medium_tail_share", "long_tail_share"]
TAILS = {"short_tail_share": "short", "medium_tail_share": "medium", "long_tail_share": "long"}


def _source_popularity(source) -> np.ndarray:
    return np.bincount(as_interactions(source).indices, minlength=source.shape[1]) + 1.0


@pytest.fixture
def wide_ratings():
    """80 x 1300 matrix (enough items for the 200 / 1000 tails), 5 to 60 entries a row."""
    rng = np.random.RandomState(0)
    # skewed item popularity, so the popularity ranking is far from the index order
    weights = rng.permutation(1.0 / np.arange(1, 1301) ** 0.8)
    rows, cols = [], []
    for row in range(80):
        items = rng.choice(1300, size=rng.randint(5, 61), replace=False, p=weights / weights.sum())
        rows += [row] * items.size
        cols += list(items)
    values = rng.randint(1, 6, size=len(rows)).astype(float)
    return sp.csr_matrix((values, (rows, cols)), shape=(80, 1300))


def test_holdout_novelty_map_hand_computed(entry_split):
    # X_train counts [3, 1, 1, 0, 0] + 1 = [4, 2, 2, 1, 1], total 10
    # hits: row 0 item 3 at rank 2 (1 held-out), row 1 none, row 2 item 1 at rank 1 (2 held-out)
    # item 3 is absent from X_train: the add-one keeps its novelty -ln(1/10) finite
    X_train, y = entry_split
    est = FakeRecommender().fit(X_train)
    expected = (0.5 * math.log(10) / 1 + 0 + 1.0 * math.log(5) / 2) / 3
    assert get_scorer("novelty_map@2")(est, X_train, y) == pytest.approx(expected)
    by_hand = novelty_weighted_map_at_k(
        y, est.recommend(X_train, k=2), np.array([4.0, 2, 2, 1, 1]), k=2
    )
    assert by_hand == pytest.approx(expected)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("k", [3, 20])
def test_holdout_popularity_scorers_equal_metric_functions(wide_ratings, reverse, k):
    X_train, y = holdout_row_entries(wide_ratings, 0.3, random_state=2)
    est = FakeRecommender(reverse=reverse).fit(X_train)
    popularity = _source_popularity(X_train)
    rows = np.flatnonzero(np.diff(y.indptr))
    novelty = novelty_weighted_map_at_k(y[rows], est.recommend(X_train[rows], k=k), popularity)
    assert get_scorer(f"novelty_map@{k}")(est, X_train, y) == pytest.approx(novelty)
    shares = popularity_tail_shares(est.recommend(X_train, k=k), popularity)
    # the add-one does not change the tails
    assert shares == popularity_tail_shares(est.recommend(X_train, k=k), popularity - 1)
    for name, tail in TAILS.items():
        assert get_scorer(f"{name}@{k}")(est, X_train, y) == pytest.approx(shares[tail])
    # popularity-ordered lists stay in the short tail; reversed ones leave it (the many
    # items of count 0 are ranked by index, so the lowest of them are medium tail)
    assert shares["short"] == (0.0 if reverse else 1.0)


@pytest.mark.parametrize("k", [20, 100])
def test_foldin_popularity_scorers_equal_metric_functions(wide_ratings, k):
    # the estimator's own ranking (popularity in its training data) differs from the
    # scorer's popularity (counts in the visible part of X): fit on other rows
    est = FakeRecommender().fit(wide_ratings[40:])
    X = wide_ratings[:40]
    visible, hidden = holdout_row_entries(X, 0.25, random_state=5)
    popularity = _source_popularity(visible)
    rows = np.flatnonzero(np.diff(hidden.indptr))
    novelty = novelty_weighted_map_at_k(hidden[rows], est.recommend(visible[rows], k=k), popularity)
    scorer = make_recommender_scorer("novelty_map", k=k, holdout_fraction=0.25, random_state=5)
    assert scorer(est, X) == pytest.approx(novelty)
    shares = popularity_tail_shares(est.recommend(visible, k=k), popularity)
    assert 0 < shares["short"] < 1  # a non-trivial split over the tails (k=100: all three)
    for name, tail in TAILS.items():
        scorer = make_recommender_scorer(name, k=k, holdout_fraction=0.25, random_state=5)
        assert scorer(est, X) == pytest.approx(shares[tail])
    # default fold-in (20% hidden, seed 0) through get_scorer
    visible, hidden = holdout_row_entries(X, 0.2, random_state=0)
    shares = popularity_tail_shares(est.recommend(visible, k=k), _source_popularity(visible))
    assert get_scorer(f"long_tail_share@{k}")(est, X) == pytest.approx(shares["long"])


def test_popularity_scorers_with_autorec(wide_ratings):
    X_train, y = holdout_row_entries(wide_ratings, 0.3, random_state=0)
    est = AutoRec(hidden_units=(8,), max_epochs=2, early_stopping=False, device="cpu",
                  random_state=0).fit(X_train)
    y_rec = est.recommend(X_train, k=50)
    popularity = _source_popularity(X_train)
    rows = np.flatnonzero(np.diff(y.indptr))
    expected = novelty_weighted_map_at_k(y[rows], y_rec[rows], popularity)
    assert get_scorer("novelty_map@50", batch_size=16)(est, X_train, y) == pytest.approx(expected)
    shares = popularity_tail_shares(y_rec, popularity)
    got = {tail: get_scorer(f"{name}@50")(est, X_train, y) for name, tail in TAILS.items()}
    assert got == pytest.approx(shares)
    assert sum(got.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("name", POPULARITY_NAMES)
def test_popularity_scorers_do_not_depend_on_batch_size(wide_ratings, name):
    X_train, y = holdout_row_entries(wide_ratings, 0.3, random_state=1)
    est = FakeRecommender(reverse=True).fit(wide_ratings[::2])
    full = get_scorer(f"{name}@10", batch_size=1000)(est, X_train, y)
    est.calls_.clear()
    assert get_scorer(f"{name}@10", batch_size=7)(est, X_train, y) == pytest.approx(full)
    assert max(est.calls_) <= 7 and len(est.calls_) > 1


def test_popularity_scorers_names_functions_and_errors():
    names = get_scorer_names()
    for name in POPULARITY_NAMES:
        assert [f"{name}@{k}" for k in (5, 10, 20, 50, 100)] == [
            n for n in names if n.partition("@")[0] == name
        ]
        scorer = get_scorer(f"{name}@100")
        assert (scorer.metric, scorer.k, scorer.sign) == (name, 100, 1)
        with pytest.raises(ValueError, match="needs a cut-off k"):
            make_recommender_scorer(name)
    assert repr(make_recommender_scorer(novelty_weighted_map_at_k, k=10)) == repr(
        get_scorer("novelty_map@10")
    )
    # popularity_tail_shares returns three values: the scorer must name one
    with pytest.raises(ValueError, match="name the one to score: 'short_tail_share'"):
        make_recommender_scorer(popularity_tail_shares, k=10)
    assert get_scorer("short_tail_share@10", greater_is_better=False).sign == -1


def test_popularity_scorers_pickle_and_grid_search(wide_ratings):
    est = FakeRecommender().fit(wide_ratings)
    for name in POPULARITY_NAMES:
        scorer = get_scorer(f"{name}@10")
        clone = pickle.loads(pickle.dumps(scorer))
        assert repr(clone) == repr(scorer)
        assert clone(est, wide_ratings) == scorer(est, wide_ratings)
    scoring = {name: get_scorer(f"{name}@10") for name in POPULARITY_NAMES}
    # select on the lowest short-tail share (the documented greater_is_better=False)
    scoring["least_short"] = get_scorer("short_tail_share@10", greater_is_better=False)
    search = GridSearchCV(
        FakeRecommender(), {"reverse": [False, True]}, cv=KFold(2), scoring=scoring,
        refit="least_short",
    ).fit(wide_ratings)
    results = search.cv_results_
    assert search.best_params_ == {"reverse": True}  # least popular first
    np.testing.assert_allclose(results["mean_test_least_short"],
                               -results["mean_test_short_tail_share"])
    total = sum(results[f"mean_test_{name}"] for name in TAILS)
    np.testing.assert_allclose(total, 1.0)
    assert np.all(results["mean_test_novelty_map"] >= 0)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("scoring", ["novelty_map@2", "long_tail_share@2"])
@pytest.mark.parametrize(
    ("make_bad", "error", "match"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
@pytest.mark.parametrize("argument", ["X", "y"])
def test_popularity_scorers_bad_X_and_y(fitted, scoring, make_bad, error, match, argument):
    scorer = get_scorer(scoring)
    with pytest.raises(error, match=match.format(name=argument)):
        if argument == "X":
            scorer(fitted, make_bad(GOOD_X), GOOD_Y)
        else:
            scorer(fitted, GOOD_X, make_bad(GOOD_Y))
