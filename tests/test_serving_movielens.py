"""Serving on the real MovieLens-100K (slow: loads the data set): a new user's top-10 titles.

The everyday path of issue #20: a long table, the encoder, EASE, then a new
user given as 5 liked movie ids gets 10 titles in 3 lines, and a movie's
most similar movies.
"""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_recae.datasets import load_movielens_100k
from sklearn_recae.linear import EASE
from sklearn_recae.preprocessing import InteractionEncoder

pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.slow

STAR_WARS, EMPIRE, JEDI, RAIDERS, LAST_CRUSADE = 50, 172, 181, 174, 210


def test_new_user_from_five_liked_movies_gets_ten_unseen_titles():
    data = load_movielens_100k()
    coo = data.ratings.tocoo()
    long = pd.DataFrame({"user": data.user_ids[coo.row], "item": data.item_ids[coo.col],
                         "rating": coo.data})
    encoder = InteractionEncoder(rating_col="rating")
    X = encoder.fit_transform(long[long["rating"] >= 4])
    model = EASE().fit((X > 0).astype(np.float32))
    titles = pd.Series(data.movies.title, index=data.item_ids)

    liked_ids = [STAR_WARS, EMPIRE, JEDI, RAIDERS, LAST_CRUSADE]
    liked = pd.DataFrame({"user": "new", "item": liked_ids, "rating": 5.0})
    X_new, users = encoder.transform_new_users(liked)
    top = encoder.recommendations_to_frame(model.recommend(X_new, k=10), users=users,
                                           titles=titles)

    assert X_new.shape == (1, X.shape[1]) and X_new.nnz == 5
    assert top["user"].tolist() == ["new"] * 10 and top["rank"].tolist() == list(range(1, 11))
    assert top["item"].nunique() == 10 and not top["item"].isin(liked_ids).any()
    assert top["title"].map(lambda t: isinstance(t, str) and t != "").all()
    genres = pd.DataFrame(data.movies.genres, index=data.item_ids, columns=data.movies.genre_names)
    adventurous = genres.loc[top["item"], ["Action", "Adventure", "Sci-Fi"]].any(axis=1)
    assert adventurous.mean() >= 0.6  # measured 0.9: the liked movies' genres

    column = encoder.item_indices([STAR_WARS])[0]
    similar = encoder.item_ids_[model.similar_items(column, k=10)]
    assert STAR_WARS not in similar and {EMPIRE, JEDI} <= set(similar[:3].tolist())
