"""Tests of sklearn_recae.datasets.

The loader tests never touch the network: they build tiny fake GroupLens and
RecBole archives, pin their hashes in place of the real ones, and replace the
two download steps (``sklearn.datasets.fetch_file``, pointed at a local
``file:`` copy or made to fail, and ``pip download``). Only the test marked
``slow`` loads the real MovieLens-100K.
"""

import hashlib
import http.client
import logging
import socket
import subprocess
import urllib.error
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import svds
from sklearn.datasets import fetch_file

from sklearn_recae.datasets import (
    GENRES,
    ChecksumError,
    get_data_home,
    load_movielens_100k,
    make_interactions,
)
from sklearn_recae.datasets import _base, _movielens

# ----------------------------------------------------------- fake ML-100K data
# (user, item, rating, timestamp), in file order (not sorted).
RATINGS = [(3, 1, 4, 881250949), (1, 5, 3, 891717742), (1, 1, 5, 878887116),
           (2, 3, 1, 880606923), (2, 4, 2, 886397596), (3, 2, 5, 884182806),
           (1, 2, 4, 881171488)]  # fmt: skip
USERS = [(1, 24, "M", "technician", "85711"), (2, 53, "F", "other", "94043"),
         (3, 23, "M", "writer", "T8H1N")]  # fmt: skip
# GroupLens title, RecBole title and year, genres, expected title and year
MOVIES = [
    (1, "Toy Story (1995)", "Toy Story", "1995", ["Animation", "Children's", "Comedy"],
     "Toy Story", 1995.0),
    (2, "Seven (Se7en) (1995)", "Seven (Se7en)", "1995", ["Crime", "Thriller"],
     "Seven (Se7en)", 1995.0),
    (3, "Land Before Time III: The Time of the Great Giving (1995) (V)",
     "Land Before Time III: The Time of the Great Giving (1995)", "V",
     ["Animation", "Children's"], "Land Before Time III: The Time of the Great Giving", 1995.0),
    (4, "unknown", "unkonwn", "unkonwn", ["unknown"], "unknown", np.nan),
    (5, "Double vie de Véronique, La (Double Life of Veronique, The) (1991)",
     "Double vie de Véronique, La (Double Life of Veronique, The)", "1991", ["Drama"],
     "Double vie de Véronique, La (Double Life of Veronique, The)", 1991.0),
]  # fmt: skip


def _grouplens_files():
    data = "".join("\t".join(map(str, r)) + "\n" for r in RATINGS)
    user = "".join("|".join(map(str, u)) + "\n" for u in USERS)
    item = "".join(
        f"{m[0]}|{m[1]}|01-Jan-1995||http://imdb/{m[0]}|"
        + "|".join("1" if g in m[4] else "0" for g in GENRES) + "\n"
        for m in MOVIES
    )  # fmt: skip
    return {"u.data": data.encode(), "u.user": user.encode(), "u.item": item.encode("latin-1")}


def _recbole_files():
    inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + "".join(
        "\t".join(map(str, r)) + "\n" for r in RATINGS)
    user = "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n" + "".join(
        "\t".join(map(str, u)) + "\n" for u in USERS)
    item = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n" + "".join(
        f"{m[0]}\t{m[2]}\t{m[3]}\t{' '.join(m[4])}\n" for m in MOVIES)
    return {"ml-100k.inter": inter.encode(), "ml-100k.user": user.encode(),
            "ml-100k.item": item.encode()}  # fmt: skip


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Fake archives with pinned hashes; downloads patched; network forbidden."""
    src = tmp_path / "src"
    src.mkdir()
    grouplens, recbole = _grouplens_files(), _recbole_files()
    wheel = _zip(src / "recbole-1.2.1-py3-none-any.whl",
                 {**{_movielens._RECBOLE_PREFIX + k: v for k, v in recbole.items()},
                  "recbole/__init__.py": b"", "recbole/dataset_example/ml-100k/ml-100k.kg": b"x"})
    archive = _zip(src / "ml-100k.zip", {"ml-100k/" + k: v for k, v in grouplens.items()})
    hashes = {name: _sha(content) for name, content in {**grouplens, **recbole}.items()}
    hashes.update({p.name: _sha(p.read_bytes()) for p in (wheel, archive)})
    monkeypatch.setattr(_movielens, "_SHA256", hashes)
    # each GroupLens fetch as (url, socket default timeout during the call, n_retries)
    calls = SimpleNamespace(pip=0, fetch=[])

    def fake_pip(requirement, dest):
        assert requirement == "recbole==1.2.1"
        calls.pip += 1
        target = dest / wheel.name
        target.write_bytes(wheel.read_bytes())
        return target

    def offline_fetch_file(url, *, folder, local_filename, sha256, n_retries):
        calls.fetch.append((url, socket.getdefaulttimeout(), n_retries))
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(_movielens, "pip_download", fake_pip)
    monkeypatch.setattr(_movielens, "fetch_file", offline_fetch_file)
    return SimpleNamespace(home=tmp_path / "home", calls=calls, wheel=wheel, archive=archive,
                           hashes=hashes, monkeypatch=monkeypatch)  # fmt: skip


def _serve_grouplens(fake):
    """Make ``fetch_file`` serve the fake GroupLens archive from a ``file:`` URL.

    The real ``fetch_file`` runs, so its sha256 check and clean-up are exercised.
    """

    def serving_fetch_file(url, **kwargs):
        fake.calls.fetch.append((url, socket.getdefaulttimeout(), kwargs["n_retries"]))
        # fetch_file wants a host name in the URL; urllib serves file://localhost/ locally
        return fetch_file("file://localhost" + fake.archive.as_posix(), **kwargs)

    fake.monkeypatch.setattr(_movielens, "fetch_file", serving_fetch_file)


def _cache(fake):
    return fake.home / "ml-100k"


# ------------------------------------------------------------------ data home
def test_get_data_home_argument_env_and_default(tmp_path, monkeypatch):
    assert get_data_home(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    monkeypatch.setenv("SKLEARN_RECAE_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env" and (tmp_path / "env").is_dir()
    monkeypatch.delenv("SKLEARN_RECAE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert get_data_home() == tmp_path / "user" / ".cache" / "sklearn_recae"


# -------------------------------------------------------------- the loader
def test_load_from_recbole_wheel_contents(fake):
    data = load_movielens_100k(fake.home)
    assert fake.calls.pip == 1 and len(fake.calls.fetch) == 1
    X, T = data.ratings, data.timestamps
    assert isinstance(X, sp.csr_matrix) and X.dtype == np.float32 and X.shape == (3, 5)
    assert X.nnz == len(RATINGS) and X.has_sorted_indices
    for user, item, rating, stamp in RATINGS:
        assert X[user - 1, item - 1] == rating and T[user - 1, item - 1] == stamp
    assert T.dtype == np.int64
    np.testing.assert_array_equal(T.indptr, X.indptr)
    np.testing.assert_array_equal(T.indices, X.indices)
    np.testing.assert_array_equal(data.user_ids, [1, 2, 3])
    np.testing.assert_array_equal(data.item_ids, [1, 2, 3, 4, 5])
    assert list(data.users.age) == [24, 53, 23] and data.users.age.dtype.kind == "i"
    assert list(data.users.gender) == ["M", "F", "M"]
    assert list(data.users.occupation) == ["technician", "other", "writer"]
    assert list(data.users.zip_code) == ["85711", "94043", "T8H1N"]
    assert "Harper" in data.DESCR and "RecBole" in data.DESCR


def test_movie_titles_years_and_genres(fake):
    movies = load_movielens_100k(fake.home).movies
    assert list(movies.title) == [m[5] for m in MOVIES]
    np.testing.assert_array_equal(movies.year, [m[6] for m in MOVIES])
    assert movies.genre_names == list(GENRES) and len(GENRES) == 19
    assert movies.genres.shape == (5, 19) and movies.genres.dtype == np.uint8
    for row, movie in enumerate(MOVIES):
        assert [GENRES[g] for g in np.flatnonzero(movies.genres[row])] == movie[4]


def test_grouplens_archive_used_first_and_gives_the_same_bunch(fake, tmp_path):
    from_wheel = load_movielens_100k(tmp_path / "other")
    _serve_grouplens(fake)
    from_grouplens = load_movielens_100k(fake.home)
    assert fake.calls.pip == 1  # only the first load
    assert fake.calls.fetch[-1] == (_movielens._GROUPLENS_URL, 5.0, 0)
    assert sorted(p.name for p in _cache(fake).iterdir()) == ["u.data", "u.item", "u.user"]
    assert "GroupLens files" in from_grouplens.DESCR
    for key in ("ratings", "timestamps"):
        assert (from_wheel[key] != from_grouplens[key]).nnz == 0
    for key in ("user_ids", "item_ids"):
        np.testing.assert_array_equal(from_wheel[key], from_grouplens[key])
    for group in ("users", "movies"):
        for key, value in from_wheel[group].items():
            np.testing.assert_array_equal(value, from_grouplens[group][key])


def test_cache_is_reused_without_downloading(fake):
    first = load_movielens_100k(fake.home)
    assert sorted(p.name for p in _cache(fake).iterdir()) == [
        "ml-100k.inter", "ml-100k.item", "ml-100k.user"]  # only these, no temp files
    second = load_movielens_100k(fake.home, download_if_missing=False)
    assert fake.calls.pip == 1 and len(fake.calls.fetch) == 1
    assert (first.ratings != second.ratings).nnz == 0


@pytest.mark.parametrize("flag", ["no", "False", 0, 1, None, [False]])
def test_download_if_missing_must_be_a_bool(fake, flag):
    """A non-bool is not read by truthiness ("no" would download): TypeError, nothing fetched."""
    with pytest.raises(TypeError, match=r"download_if_missing must be a bool \(True or False\)"):
        load_movielens_100k(fake.home, download_if_missing=flag)
    assert fake.calls.pip == 0 and fake.calls.fetch == []


def test_download_if_missing_false_without_cache(fake):
    with pytest.raises(OSError, match="download_if_missing=False") as info:
        load_movielens_100k(fake.home, download_if_missing=False)
    assert str(_cache(fake)) in str(info.value) and "by hand" in str(info.value)
    assert fake.calls.pip == 0 and fake.calls.fetch == []


def test_grouplens_failure_falls_through_to_the_wheel(fake, caplog):
    with caplog.at_level(logging.WARNING, logger=_movielens.__name__):
        data = load_movielens_100k(fake.home)
    # one try with the short timeout, no retry, then the recbole wheel
    assert fake.calls.fetch == [(_movielens._GROUPLENS_URL, _movielens._GROUPLENS_TIMEOUT, 0)]
    assert _movielens._GROUPLENS_TIMEOUT <= 10
    assert data.ratings.nnz == len(RATINGS) and fake.calls.pip == 1
    assert "GroupLens" in caplog.text and "Name or service not known" in caplog.text


def test_all_sources_failing_says_what_was_tried(fake):
    def broken_pip(requirement, dest):
        raise OSError("pip download recbole==1.2.1 failed (exit 1): no network")

    fake.monkeypatch.setattr(_movielens, "pip_download", broken_pip)
    with pytest.raises(OSError) as info:
        load_movielens_100k(fake.home)
    message = str(info.value)
    for part in ("GroupLens", "Name or service not known", "recbole==1.2.1", "no network",
                 "by hand", "u.data", "ml-100k.inter", str(_cache(fake))):
        assert part in message
    assert list(_cache(fake).iterdir()) == []


def test_cached_file_with_wrong_checksum_raises(fake):
    load_movielens_100k(fake.home)
    with open(_cache(fake) / "ml-100k.user", "ab") as handle:
        handle.write(b"4\t30\tF\tother\t00000\n")
    with pytest.raises(ChecksumError, match="sha256 mismatch") as info:
        load_movielens_100k(fake.home)
    assert "ml-100k.user" in str(info.value) and fake.hashes["ml-100k.user"] in str(info.value)
    assert fake.calls.pip == 1


@pytest.mark.parametrize("name", ["recbole-1.2.1-py3-none-any.whl", "ml-100k.item"])
def test_downloaded_file_with_wrong_checksum_is_not_loaded(fake, name):
    fake.hashes[name] = "0" * 64
    with pytest.raises(OSError, match=f"sha256 mismatch for .*{name}.*expected 0{{64}}, got"):
        load_movielens_100k(fake.home)
    assert list(_cache(fake).iterdir()) == []  # nothing unverified is left in the cache


def test_grouplens_archive_with_wrong_checksum_falls_through(fake, caplog):
    _serve_grouplens(fake)
    fake.hashes["ml-100k.zip"] = "0" * 64
    with caplog.at_level(logging.WARNING, logger=_movielens.__name__):
        data = load_movielens_100k(fake.home)
    assert fake.calls.pip == 1 and "RecBole files" in data.DESCR
    assert "SHA256 checksum of ml-100k.zip" in caplog.text  # raised by fetch_file
    assert sorted(p.name for p in _cache(fake).iterdir()) == [
        "ml-100k.inter", "ml-100k.item", "ml-100k.user"]  # no archive or .part file left


def test_grouplens_download_calls_fetch_file_with_pinned_sha256(tmp_path, monkeypatch):
    calls = []

    def recording_fetch_file(url, **kwargs):
        calls.append(dict(url=url, timeout=socket.getdefaulttimeout(), **kwargs))
        raise urllib.error.URLError("offline")

    def offline_pip(requirement, dest):
        raise OSError("no network")

    monkeypatch.setattr(_movielens, "fetch_file", recording_fetch_file)
    monkeypatch.setattr(_movielens, "pip_download", offline_pip)
    before = socket.getdefaulttimeout()
    with pytest.raises(OSError, match="Could not obtain MovieLens-100K"):
        load_movielens_100k(tmp_path)
    assert socket.getdefaulttimeout() == before  # the short timeout is restored
    [call] = calls
    assert call["url"] == "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
    assert call["sha256"] == "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
    assert call["sha256"] == _movielens._SHA256["ml-100k.zip"]
    assert call["local_filename"] == "ml-100k.zip" and call["n_retries"] == 0
    assert call["timeout"] == _movielens._GROUPLENS_TIMEOUT
    assert call["folder"].parent == tmp_path / "ml-100k"  # a temporary folder in the cache
    assert list((tmp_path / "ml-100k").iterdir()) == []

    def truncating_fetch_file(url, **kwargs):
        raise http.client.IncompleteRead(b"partial")

    monkeypatch.setattr(_movielens, "fetch_file", truncating_fetch_file)
    with pytest.raises(OSError, match="IncompleteRead"):  # an OSError, so the wheel is tried
        _movielens._fetch_grouplens(tmp_path, _movielens._SHA256["ml-100k.zip"])


def test_ratings_with_duplicates_or_unknown_ids_are_rejected():
    ids = np.arange(1, 4)
    duplicate = np.array([[1, 1, 5, 0], [2, 1, 3, 0], [1, 1, 4, 0]])
    with pytest.raises(ValueError, match="more than once"):
        _movielens._rating_matrices(duplicate, ids, ids)
    with pytest.raises(ValueError, match="item ids missing"):
        _movielens._rating_matrices(np.array([[1, 9, 5, 0]]), ids, ids)


def test_unknown_recbole_genre_is_rejected():
    with pytest.raises(ValueError, match="unknown genres"):
        _movielens._recbole_genres("Comedy Cyberpunk")


# ---------------------------------------------------------- download helpers
def test_pip_download_command_and_failure(tmp_path, monkeypatch):
    commands = []

    def fake_run(command, **kwargs):
        commands.append(command)
        (tmp_path / "recbole-1.2.1-py3-none-any.whl").write_bytes(b"wheel")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(_base.subprocess, "run", fake_run)
    wheel = _base.pip_download("recbole==1.2.1", tmp_path)
    assert wheel == tmp_path / "recbole-1.2.1-py3-none-any.whl"
    command = commands[0]
    assert command[1:4] == ["-m", "pip", "download"] and "install" not in command
    for flag in ("--no-deps", "--only-binary=:all:", "recbole==1.2.1", str(tmp_path)):
        assert flag in command

    def failing_run(command, **kwargs):
        raise subprocess.CalledProcessError(1, command, stderr="ERROR: No matching distribution")

    monkeypatch.setattr(_base.subprocess, "run", failing_run)
    with pytest.raises(OSError, match="No matching distribution"):
        _base.pip_download("recbole==1.2.1", tmp_path)


@pytest.mark.parametrize(
    "member", ["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt", "..\\evil.txt", "C:/evil.txt"]
)
def test_safe_extract_rejects_path_traversal(tmp_path, member):
    dest = tmp_path / "dest"
    dest.mkdir()
    archive = _zip(tmp_path / "bad.zip", {"good.txt": b"ok", member: b"owned"})
    with pytest.raises(ValueError, match="unsafe archive member"):
        _base.safe_extract(archive, {"good.txt": "good.txt"}, dest)
    assert list(dest.iterdir()) == [] and not (tmp_path / "evil.txt").exists()


def test_safe_extract_writes_bare_names_only(tmp_path):
    archive = _zip(tmp_path / "ok.zip", {"deep/dir/a.txt": b"a", "b.txt": b"b"})
    paths = _base.safe_extract(archive, {"deep/dir/a.txt": "a.txt"}, tmp_path)
    assert paths == [tmp_path / "a.txt"] and paths[0].read_bytes() == b"a"
    with pytest.raises(ValueError, match="bare file name"):
        _base.safe_extract(archive, {"b.txt": "../b.txt"}, tmp_path)
    with pytest.raises(KeyError):
        _base.safe_extract(archive, {"missing.txt": "missing.txt"}, tmp_path)


def test_check_sha256_message_names_file_and_both_hashes(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    _base.check_sha256(path, _sha(b"abc").upper())
    with pytest.raises(ChecksumError) as info:
        _base.check_sha256(path, "1" * 64)
    assert isinstance(info.value, OSError)
    for part in ("f.bin", "1" * 64, _sha(b"abc")):
        assert part in str(info.value)


# ------------------------------------------------------- synthetic generator
@pytest.mark.parametrize("implicit", [False, True])
@pytest.mark.parametrize("shape, density", [((200, 100), 0.1), ((50, 300), 0.05), ((30, 20), 0.9)])
def test_make_interactions_shape_density_values(shape, density, implicit):
    X = make_interactions(*shape, density=density, implicit=implicit, random_state=0)
    assert isinstance(X, sp.csr_matrix) and X.shape == shape and X.dtype == np.float32
    assert X.has_sorted_indices and X.has_canonical_format
    assert abs(X.nnz - density * shape[0] * shape[1]) <= 0.01 * density * shape[0] * shape[1]
    if implicit:
        np.testing.assert_array_equal(X.data, 1.0)
    else:
        assert set(np.unique(X.data)) == {1.0, 2.0, 3.0, 4.0, 5.0}


def test_make_interactions_is_deterministic():
    a = make_interactions(random_state=3)
    b = make_interactions(random_state=np.random.RandomState(3))
    c = make_interactions(random_state=4)
    assert (a != b).nnz == 0
    assert (a != c).nnz > 0


def test_make_interactions_row_minimum():
    X = make_interactions(100, 50, density=0.01, random_state=0)  # 0.5 entries per row asked
    assert np.diff(X.indptr).min() == 2
    X = make_interactions(100, 50, density=0.01, min_per_row=1, random_state=0)
    assert np.diff(X.indptr).min() >= 1
    with pytest.raises(ValueError, match="min_per_row"):
        make_interactions(10, 3, min_per_row=4)
    for bad in (dict(density=0.0), dict(density=1.5), dict(n_factors=0), dict(noise=-1)):
        with pytest.raises(ValueError):
            make_interactions(**bad)


@settings(max_examples=20, deadline=None)
@given(n_users=st.integers(1, 30), n_items=st.integers(2, 30),
       density=st.floats(0.01, 1.0), seed=st.integers(0, 2**31 - 1))  # fmt: skip
def test_make_interactions_invariants(n_users, n_items, density, seed):
    X = make_interactions(n_users, n_items, density, random_state=seed)
    counts = np.diff(X.indptr)
    assert X.shape == (n_users, n_items) and counts.min() >= 2 and counts.max() <= n_items
    assert X.nnz == max(round(density * n_users * n_items), 2 * n_users)


def _top_share(X, fraction=0.1):
    counts = np.sort(np.diff(X.tocsc().indptr))[::-1]
    return counts[: max(1, int(fraction * len(counts)))].sum() / counts.sum()


@pytest.mark.parametrize("implicit", [False, True])
def test_make_interactions_popularity_is_power_law(implicit):
    X = make_interactions(400, 200, density=0.05, implicit=implicit, random_state=0)
    assert _top_share(X) > 0.25  # 10% of the items hold over a quarter of the entries
    flat = make_interactions(400, 200, density=0.05, popularity_exponent=0, random_state=0)
    assert _top_share(flat) < 0.15


def test_make_interactions_explicit_has_low_rank_signal():
    X = make_interactions(300, 200, density=0.2, random_state=0).tocoo()
    test = np.random.default_rng(0).random(X.nnz) < 0.2
    train = sp.csr_matrix((X.data[~test], (X.row[~test], X.col[~test])), shape=X.shape)
    mean = train.data.mean()
    centred = train.copy()
    centred.data -= mean
    u, s, vt = svds(centred, k=5)
    recon = (u * s) @ vt
    fitted = recon[X.row[~test], X.col[~test]]
    scale = fitted @ (X.data[~test] - mean) / (fitted @ fitted)  # fitted on train entries only
    pred = mean + scale * recon[X.row[test], X.col[test]]
    rmse = np.sqrt(np.mean((pred - X.data[test]) ** 2))
    baseline = np.sqrt(np.mean((mean - X.data[test]) ** 2))
    assert rmse < 0.9 * baseline


def test_make_interactions_implicit_prefers_high_preference_items():
    X, P, Q = make_interactions(200, 100, density=0.1, implicit=True, random_state=0,
                                return_factors=True)  # fmt: skip
    assert P.shape == (200, 5) and Q.shape == (100, 5)
    scores = P @ Q.T / np.sqrt(5)
    observed = X.toarray() > 0
    assert scores[observed].mean() > scores[~observed].mean() + 0.5


# ------------------------------------------------------------ real ML-100K
@pytest.mark.slow
def test_real_movielens_100k():
    data = load_movielens_100k()
    X = data.ratings
    assert X.shape == (943, 1682) and X.nnz == 100_000 and X.dtype == np.float32
    assert set(np.unique(X.data)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert X.data.sum(dtype=np.float64) == 352_986  # mean 3.52986
    assert np.diff(X.indptr).min() >= 20
    np.testing.assert_array_equal(data.user_ids, np.arange(1, 944))
    np.testing.assert_array_equal(data.item_ids, np.arange(1, 1683))
    assert (data.timestamps.indices == X.indices).all() and data.timestamps.nnz == 100_000
    assert X[195, 241] == 3 and data.timestamps[195, 241] == 881250949  # first line of u.data
    users, movies = data.users, data.movies
    assert (users.age[0], users.gender[0], users.occupation[0]) == (24, "M", "technician")
    assert movies.title[0] == "Toy Story" and movies.year[0] == 1995
    assert [GENRES[g] for g in np.flatnonzero(movies.genres[0])] == [
        "Animation", "Children's", "Comedy"]
    assert movies.genres.shape == (1682, 19) and movies.genres.sum() == 2893
    assert movies.title[266] == "unknown" and np.isnan(movies.year[266])
    assert np.isnan(movies.year).sum() == 1
