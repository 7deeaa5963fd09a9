"""InteractionEncoder (long table <-> CSR matrix) and check_not_long_format."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_recae.preprocessing import InteractionEncoder, check_not_long_format

pd = pytest.importorskip("pandas")


@pytest.fixture
def ratings():
    """A long table with int ids, unsorted rows and an extra column."""
    return pd.DataFrame(
        {
            "user": [30, 10, 30, 20, 10],
            "item": [7, 5, 5, 9, 9],
            "rating": np.array([4.0, 5.0, 1.5, 3.0, 2.0], dtype=np.float32),
            "timestamp": [5, 4, 3, 2, 1],
        }
    )


def _sorted(df, user="user", item="item"):
    return df.sort_values([user, item]).reset_index(drop=True)


def test_fit_learns_sorted_unique_ids(ratings):
    enc = InteractionEncoder(rating_col="rating").fit(ratings)
    np.testing.assert_array_equal(enc.user_ids_, [10, 20, 30])
    np.testing.assert_array_equal(enc.item_ids_, [5, 7, 9])


def test_transform_places_each_rating(ratings):
    X = InteractionEncoder(rating_col="rating").fit_transform(ratings)
    assert isinstance(X, sp.csr_matrix) and X.dtype == np.float32
    assert X.shape == (3, 3) and X.nnz == 5 and X.has_canonical_format
    expected = [[5.0, 0.0, 2.0], [0.0, 0.0, 3.0], [1.5, 4.0, 0.0]]
    np.testing.assert_array_equal(X.toarray(), expected)


@pytest.mark.parametrize("id_kind", ["int", "str", "int32", "category"])
def test_round_trip_is_exact(ratings, id_kind):
    df = ratings[["user", "item", "rating"]].copy()
    if id_kind == "str":
        df["user"] = "u" + df["user"].astype(str)
        df["item"] = "movie " + df["item"].astype(str)
    elif id_kind != "int":
        df = df.astype({"user": id_kind, "item": id_kind})
    enc = InteractionEncoder(rating_col="rating")
    back = enc.inverse_transform(enc.fit_transform(df))
    pd.testing.assert_frame_equal(back, _sorted(df))


def test_round_trip_with_other_column_names_and_float64():
    df = pd.DataFrame({"uid": ["b", "a"], "sku": [2, 1], "stars": [3.7, 1.1]})
    enc = InteractionEncoder("uid", "sku", "stars", dtype=np.float64)
    back = enc.inverse_transform(enc.fit_transform(df))
    pd.testing.assert_frame_equal(back, _sorted(df, "uid", "sku"))


def test_integer_ratings_keep_their_values(ratings):
    df = ratings.astype({"rating": np.int64}).drop(columns="timestamp")
    enc = InteractionEncoder(rating_col="rating")
    back = enc.inverse_transform(enc.fit_transform(df))
    assert back["rating"].dtype == np.float32  # the matrix's dtype
    pd.testing.assert_frame_equal(back, _sorted(df), check_dtype=False)


def test_implicit_feedback_is_one_per_row(ratings):
    enc = InteractionEncoder()
    X = enc.fit_transform(ratings)
    np.testing.assert_array_equal(X.toarray(), [[1, 0, 1], [0, 0, 1], [1, 1, 0]])
    back = enc.inverse_transform(X)
    assert list(back.columns) == ["user", "item", "rating"]
    assert (back["rating"] == 1.0).all()


def test_transform_of_a_subset_keeps_the_fitted_rows(ratings):
    enc = InteractionEncoder(rating_col="rating").fit(ratings)
    X = enc.transform(ratings[ratings["user"] == 20])
    assert X.shape == (3, 3) and X.nnz == 1 and X[1, 2] == 3.0


@pytest.fixture
def with_duplicates():
    return pd.DataFrame({"user": [1, 1, 2, 1], "item": ["a", "b", "a", "a"],
                         "rating": [1.0, 2.0, 3.0, 4.0]})


def test_duplicates_raise_by_default(with_duplicates):
    with pytest.raises(ValueError, match=r"1 row\(s\) repeat.*\(1, 'a'\).*duplicates="):
        InteractionEncoder(rating_col="rating").fit_transform(with_duplicates)


@pytest.mark.parametrize("duplicates, expected", [("sum", 5.0), ("last", 4.0)])
def test_duplicates_sum_or_last(with_duplicates, duplicates, expected):
    enc = InteractionEncoder(rating_col="rating", duplicates=duplicates)
    X = enc.fit_transform(with_duplicates)
    np.testing.assert_array_equal(X.toarray(), [[expected, 2.0], [3.0, 0.0]])


def test_implicit_duplicates_sum_counts(with_duplicates):
    X = InteractionEncoder(duplicates="sum").fit_transform(with_duplicates)
    np.testing.assert_array_equal(X.toarray(), [[2.0, 1.0], [1.0, 0.0]])


def test_unknown_ids_raise_or_are_dropped(ratings):
    new = pd.DataFrame({"user": [10, 99, 10], "item": [5, 5, 42], "rating": [1.0, 2.0, 3.0]})
    enc = InteractionEncoder(rating_col="rating").fit(ratings)
    with pytest.raises(ValueError, match=r"1 user id\(s\) not seen in fit, e.g. \[99\]"):
        enc.transform(new)
    enc.set_params(handle_unknown="ignore")
    X = enc.transform(new)
    assert X.nnz == 1 and X[0, 0] == 1.0


@pytest.mark.parametrize("col", ["user", "item", "rating"])
def test_missing_values_raise(ratings, col):
    df = ratings.astype({col: "float64"})
    df.loc[2, col] = np.nan
    with pytest.raises(ValueError, match=rf"Column '{col}' has 1 missing"):
        InteractionEncoder(rating_col="rating").fit(df)


def test_string_id_none_raises():
    df = pd.DataFrame({"user": ["a", None], "item": ["x", "y"]})
    with pytest.raises(ValueError, match="Column 'user' has 1 missing"):
        InteractionEncoder().fit(df)


@pytest.mark.parametrize("bad, match", [
    (np.inf, "infinite"), (1e39, "infinite"), (0.0, "rating 0"), ("five", "numeric"),
])
def test_bad_ratings_raise(ratings, bad, match):
    df = ratings.astype({"rating": object})
    df.loc[0, "rating"] = bad
    with pytest.raises(ValueError, match=match):
        InteractionEncoder(rating_col="rating").fit_transform(df)


@pytest.mark.filterwarnings("error")  # no ComplexWarning on the way
@pytest.mark.parametrize("column", [
    np.array([4 + 1j, 5, 1.5, 3, 2]),  # complex128 column
    np.array([4 + 0j, 5, 1.5, 3, 2]),  # complex dtype, zero imaginary parts
    np.array([4.0, 5.0, 1.5, 3.0, 2 + 1j], dtype=object),  # one complex in an object column
])
@pytest.mark.parametrize("method", ["fit", "fit_transform"])
def test_complex_ratings_raise(ratings, column, method):
    df = ratings.assign(rating=column)
    with pytest.raises(TypeError, match="Column 'rating' holds complex values; ratings must be real"):
        getattr(InteractionEncoder(rating_col="rating"), method)(df)


def test_input_errors(ratings):
    with pytest.raises(ValueError, match=r"no column\(s\) \['score'\]"):
        InteractionEncoder(rating_col="score").fit(ratings)
    with pytest.raises(TypeError, match="pandas DataFrame"):
        InteractionEncoder().fit(ratings.to_numpy())
    with pytest.raises(ValueError, match="empty"):
        InteractionEncoder().fit(ratings.iloc[:0])
    with pytest.raises(ValueError, match="floating dtype"):
        InteractionEncoder(dtype=np.int64).fit(ratings)
    with pytest.raises(ValueError, match="duplicates"):
        InteractionEncoder(duplicates="mean").fit(ratings)
    with pytest.raises(TypeError, match="one sortable type"):
        InteractionEncoder().fit(pd.DataFrame({"user": [1, "a"], "item": [1, 2]}))
    with pytest.raises(NotFittedError):
        InteractionEncoder().transform(ratings)


def test_input_is_not_modified(ratings, with_duplicates):
    for df, params in ((ratings, {}), (with_duplicates, {"duplicates": "sum"})):
        before = df.copy(deep=True)
        enc = InteractionEncoder(rating_col="rating", **params)
        X = enc.fit_transform(df)
        X.data[:] = -1  # the matrix shares no memory with the frame
        enc.inverse_transform(X)
        pd.testing.assert_frame_equal(df, before)


def test_inverse_transform_checks_and_skips_zeros(ratings):
    enc = InteractionEncoder(rating_col="rating").fit(ratings)
    dense = np.zeros((3, 3))
    dense[2, 1] = 0.25
    back = enc.inverse_transform(dense)
    assert back.to_dict("list") == {"user": [30], "item": [7], "rating": [0.25]}
    with pytest.raises(ValueError, match=r"shape \(n_users, n_items\) = \(3, 3\)"):
        enc.inverse_transform(np.ones((2, 3)))
    dense[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        enc.inverse_transform(dense)


def test_recommendations_to_frame_maps_item_ids():
    df = pd.DataFrame({"user": ["u1", "u2", "u3"], "item": ["c", "a", "b"]})
    enc = InteractionEncoder().fit(df)  # item_ids_ = [a, b, c]
    items = np.array([[2, 0], [1, 2]])
    out = enc.recommendations_to_frame(items, scores=[[0.9, 0.5], [0.8, 0.1]],
                                       users=["u3", "u1"])
    assert out.to_dict("list") == {
        "user": ["u3", "u3", "u1", "u1"], "rank": [1, 2, 1, 2],
        "item": ["c", "a", "b", "c"], "score": [0.9, 0.5, 0.8, 0.1],
    }
    out = enc.recommendations_to_frame(np.array([[0], [1], [2]]))
    assert out["user"].tolist() == ["u1", "u2", "u3"] and list(out.columns) == [
        "user", "rank", "item"]
    assert out["item"].dtype == df["item"].dtype


@pytest.mark.parametrize("kwargs, match", [
    ({"items": [[0, 1]]}, "pass users="),
    ({"items": [[0, 3]], "users": ["u1"]}, "outside"),
    ({"items": [[0.0, 1.0]], "users": ["u1"]}, "integer"),
    ({"items": [[0, 1]], "users": ["u1", "u2"]}, "users must have shape"),
    ({"items": [[0, 1]], "users": ["u1"], "scores": [[1.0]]}, "scores must have"),
])
def test_recommendations_to_frame_errors(kwargs, match):
    enc = InteractionEncoder().fit(pd.DataFrame({"user": ["u1", "u2", "u3"], "item": [1, 2, 3]}))
    with pytest.raises(ValueError, match=match):
        enc.recommendations_to_frame(**kwargs)


@pytest.mark.filterwarnings("ignore:Too few entries:UserWarning")
def test_recommend_round_trip_with_an_estimator(ratings):
    """The README's path: long table -> matrix -> recommend -> item ids."""
    from sklearn_recae.autoencoder import AutoRec

    enc = InteractionEncoder(rating_col="rating")
    X = enc.fit_transform(ratings)
    model = AutoRec(hidden_units=(4,), max_epochs=2, random_state=0).fit(X)
    top = model.recommend(X[:2], k=1)
    out = enc.recommendations_to_frame(top, users=enc.user_ids_[:2])
    assert out.shape == (2, 3)
    seen = set(zip(ratings["user"], ratings["item"]))
    assert not seen & set(zip(out["user"], out["item"]))  # exclude_seen holds in id space


def test_clone_and_pickle(ratings):
    enc = InteractionEncoder(rating_col="rating", duplicates="sum")
    assert clone(enc).get_params() == enc.get_params()
    enc.fit(ratings)
    again = pickle.loads(pickle.dumps(enc))
    assert (again.transform(ratings) != enc.transform(ratings)).nnz == 0


# ---------------------------------------------------------------- check_not_long_format
@pytest.mark.parametrize("columns", [
    ["user", "item", "rating"],
    ["userId", "movieId", "rating", "timestamp"],
    ["USER_ID", "Item-Id"],
    ["uid", "iid"],
    ["user_id", "rating"],
    ["movie_id", "score"],
    ["customer id", "product id", "when"],
])
def test_check_not_long_format_rejects_long_tables(columns):
    df = pd.DataFrame(np.ones((2, len(columns))), columns=columns)
    with pytest.raises(ValueError, match="(?s)AutoRec takes X as a users x items.*InteractionEncoder"):
        check_not_long_format(df, "AutoRec")


def test_check_not_long_format_message_suggests_the_columns():
    df = pd.DataFrame({"userId": [1], "movieId": [2], "rating": [4.0]})
    with pytest.raises(ValueError, match=(
        r"InteractionEncoder\(user_col='userId', item_col='movieId', rating_col='rating'\)"
    )):
        check_not_long_format(df, "AutoRec")


@pytest.mark.parametrize("X", [
    pd.DataFrame(np.eye(3), columns=["0", "1", "2"]),
    pd.DataFrame(np.eye(3)),
    pd.DataFrame(np.eye(3), columns=["Toy Story (1995)", "GoldenEye (1995)", "Heat (1995)"]),
    pd.DataFrame(np.eye(2), columns=["user", "Heat (1995)"]),  # one role only
    np.ones((3, 3)),
    sp.csr_matrix(np.eye(3)),
    [[1, 2, 3]],
])
def test_check_not_long_format_accepts_matrices(X):
    assert check_not_long_format(X, "AutoRec") is None


# ---------------------------------------------------------------- new users (#20 item 3)
def _fitted_encoder(**params) -> InteractionEncoder:
    df = pd.DataFrame({"user": [1, 1, 2, 3], "item": ["a", "b", "b", "c"],
                       "rating": [5.0, 3.0, 4.0, 1.0]})
    return InteractionEncoder(rating_col="rating", **params).fit(df)


def test_transform_new_users_builds_rows_of_the_fitted_items():
    enc = _fitted_encoder()
    new = pd.DataFrame({"user": ["zoe", "ann", "zoe"], "item": ["c", "a", "a"],
                        "rating": [2.0, 4.0, 5.0]})
    snapshot = new.copy()
    X, users = enc.transform_new_users(new)
    assert users.tolist() == ["ann", "zoe"]
    np.testing.assert_array_equal(X.toarray(), [[4.0, 0.0, 0.0], [5.0, 0.0, 2.0]])
    assert X.dtype == np.float32 and X.has_canonical_format
    pd.testing.assert_frame_equal(new, snapshot)
    # a fitted user id is a row like any other
    X_known, known = enc.transform_new_users(pd.DataFrame({"user": [2], "item": ["a"],
                                                           "rating": [1.0]}))
    assert known.tolist() == [2] and X_known.toarray().tolist() == [[1.0, 0.0, 0.0]]


def test_transform_new_users_reports_unknown_items():
    new = pd.DataFrame({"user": [7, 7, 8, 8], "item": ["a", "x", "y", "z"],
                        "rating": [5.0, 4.0, 3.0, 2.0]})
    with pytest.raises(ValueError, match=r"3 item id\(s\) not seen in fit, e.g. \['x', 'y', 'z'\]"):
        _fitted_encoder().transform_new_users(new)
    with pytest.warns(UserWarning, match=r"3 item id\(s\) not seen in fit.*3 row\(s\) are dropped"):
        X, users = _fitted_encoder(handle_unknown="warn").transform_new_users(new)
    # user 8 had only unknown items: still a row, empty
    assert users.tolist() == [7, 8] and X.shape == (2, 3)
    np.testing.assert_array_equal(X.toarray(), [[5.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    X_ignored, _ = _fitted_encoder(handle_unknown="ignore").transform_new_users(new)
    np.testing.assert_array_equal(X_ignored.toarray(), X.toarray())


def test_transform_warns_on_unknown_ids_with_handle_unknown_warn(ratings):
    new = pd.DataFrame({"user": [10, 99, 10], "item": [5, 5, 42], "rating": [1.0, 2.0, 3.0]})
    enc = InteractionEncoder(rating_col="rating", handle_unknown="warn").fit(ratings)
    with pytest.warns(UserWarning) as record:
        X = enc.transform(new)
    assert [str(w.message).split(":")[0] for w in record] == [
        "1 user id(s) not seen in fit, e.g. [99]", "1 item id(s) not seen in fit, e.g. [42]"]
    assert X.nnz == 1 and X[0, 0] == 1.0


def test_transform_new_users_duplicates_and_zero_ratings():
    dup = pd.DataFrame({"user": ["n", "n"], "item": ["a", "a"], "rating": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"1 row\(s\) repeat.*\('n', 'a'\)"):
        _fitted_encoder().transform_new_users(dup)
    X, _ = _fitted_encoder(duplicates="sum").transform_new_users(dup)
    assert X.toarray().tolist() == [[3.0, 0.0, 0.0]]
    zero = pd.DataFrame({"user": ["n"], "item": ["a"], "rating": [0.0]})
    with pytest.raises(ValueError, match="rating 0"):
        _fitted_encoder().transform_new_users(zero)


def test_recommendations_to_frame_with_new_users_and_titles():
    enc = _fitted_encoder()
    _, users = enc.transform_new_users(pd.DataFrame({"user": ["zoe", "ann"], "item": ["a", "b"],
                                                     "rating": [5.0, 5.0]}))
    top = np.array([[2, 1], [0, 2]])
    by_id = enc.recommendations_to_frame(top, users=users,
                                         titles={"a": "Alien", "b": "Brazil", "c": "Casablanca"})
    assert by_id["user"].tolist() == ["ann", "ann", "zoe", "zoe"]
    assert by_id["item"].tolist() == ["c", "b", "a", "c"]
    assert by_id["title"].tolist() == ["Casablanca", "Brazil", "Alien", "Casablanca"]
    by_position = enc.recommendations_to_frame(top, users=users,
                                               titles=np.array(["Alien", "Brazil", "Casablanca"]))
    pd.testing.assert_frame_equal(by_position, by_id)
    partial = enc.recommendations_to_frame(top, users=users, titles=pd.Series({"c": "Casablanca"}))
    assert partial["title"].isna().sum() == 2
    with pytest.raises(ValueError, match="one title per item"):
        enc.recommendations_to_frame(top, users=users, titles=["Alien"])


def test_item_indices_map_ids_to_columns():
    enc = _fitted_encoder()
    np.testing.assert_array_equal(enc.item_indices(["c", "a", "c"]), [2, 0, 2])
    assert enc.item_indices([]).shape == (0,)
    with pytest.raises(ValueError, match=r"1 item id\(s\) not seen in fit, e.g. \['q'\]"):
        enc.item_indices(["a", "q"])
