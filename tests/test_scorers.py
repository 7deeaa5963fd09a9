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

from sklearn_recae.metrics import (
    get_scorer,
    make_recommender_scorer,
    ndcg_at_k,
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
    valid = r"Unknown scorer .*Valid names: neg_rmse, neg_mae, recall@<k>"
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
