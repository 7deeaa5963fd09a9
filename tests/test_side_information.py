"""The MovieLens-100K side information of NRP: alignment, one-hot sources, no mutation."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sklearn_recae.datasets import (
    AGE_BINS,
    load_movielens_100k,
    movielens_100k_side_information,
)


@pytest.fixture(scope="module")
def data():
    return load_movielens_100k()


@pytest.fixture(scope="module")
def side(data):
    return movielens_100k_side_information(data)


def _active(matrix, names, row):
    return {names[j] for j in matrix[row].indices}


def test_shapes_sources_and_names(side, data):
    assert side.user_features.shape == (data.ratings.shape[0], sum(side.user_sources))
    assert side.item_features.shape == (data.ratings.shape[1], sum(side.item_sources))
    assert len(side.user_feature_names) == side.user_features.shape[1]
    assert len(side.item_feature_names) == side.item_features.shape[1]
    assert side.user_source_names == ["age", "gender", "occupation", "zip"]
    assert side.item_source_names == ["title", "year", "genres"]
    assert side.user_sources[:3] == (len(AGE_BINS) + 1, 2, 21)
    assert side.item_sources[2] == 19
    assert side.user_features.dtype == np.float32 and side.user_features.format == "csr"


def test_every_user_has_one_value_per_source(side):
    bounds = np.cumsum((0,) + side.user_sources)
    dense = side.user_features.toarray()
    for start, stop in zip(bounds[:-1], bounds[1:]):
        np.testing.assert_array_equal(dense[:, start:stop].sum(1), 1)


def test_rows_are_aligned_with_the_rating_matrix(side):
    # user id 1: 24, M, technician, 85711; movie id 1: Toy Story (1995)
    assert _active(side.user_features, side.user_feature_names, 0) == {
        "age=18-24", "gender=M", "occupation=technician", "zip=857"}
    assert _active(side.item_features, side.item_feature_names, 0) == {
        "title=toy", "title=story", "decade=1990", "genre=Animation", "genre=Children's",
        "genre=Comedy"}
    # movie 267 has no year: no year column is set
    assert not any(name.startswith("decade") for name in
                   _active(side.item_features, side.item_feature_names, 266))


def test_options_and_input_unchanged(data):
    before = copy.deepcopy(data.users)
    side = movielens_100k_side_information(data, zip_digits=1, decade=False)
    assert side.user_sources[3] < 20  # one character: 10 digits and the letters of foreign codes
    assert any(name.startswith("year=1995") for name in side.item_feature_names)
    for key, value in before.items():
        np.testing.assert_array_equal(data.users[key], value)
    with pytest.raises(ValueError, match="zip_digits"):
        movielens_100k_side_information(data, zip_digits=0)


@pytest.mark.parametrize("flag", ["no", 0, 1, None])
def test_decade_must_be_a_bool(flag):
    # checked before anything is loaded: data=None would otherwise load MovieLens first
    with pytest.raises(TypeError, match=r"decade must be a bool \(True or False\)"):
        movielens_100k_side_information(None, decade=flag)


def test_zip_digits_rejects_bools(data):
    with pytest.raises(ValueError, match="zip_digits must be a positive int, got True"):
        movielens_100k_side_information(data, zip_digits=True)
