"""MovieLens 100K loader.

The files come from the first of these that works:

1. the cache folder ``<data_home>/ml-100k/``, holding either the GroupLens
   files (``u.data``, ``u.user``, ``u.item``) or the RecBole atomic files
   (``ml-100k.inter``, ``ml-100k.user``, ``ml-100k.item``);
2. the official GroupLens archive ``ml-100k.zip``, fetched with
   :func:`sklearn.datasets.fetch_file` (one try, 5 s socket timeout);
3. the copy of the data set that the ``recbole==1.2.1`` wheel on PyPI ships,
   fetched with ``pip download`` (the wheel is never installed).

The GroupLens archive goes through scikit-learn's public ``fetch_file``
(public since scikit-learn 1.6, this package's minimum) rather than code of
our own: it already downloads to a uniquely named temporary file, checks the
pinned sha256, deletes the file on any failure and renames it into place
atomically, so the package carries no HTTP code of its own. ``fetch_file``
takes no timeout, so the short timeout is applied as the process's default
socket timeout for the duration of the call (and restored after), and
``n_retries=0`` keeps it to a single try so an unreachable GroupLens costs
seconds before the wheel is tried. The wheel still comes through ``pip``,
which resolves the pinned requirement with the user's index settings.

Every archive and every file is checked against a sha256 pinned below before
it is parsed. The GroupLens digests are the ones published by
``tensorflow_datasets`` (``url_checksums/movielens.txt``) and other
loaders; the ``u.data`` and ``u.user`` digests were confirmed independently:
RecBole's ``ml-100k.inter`` minus its header line is byte-identical to
``u.data``, and its ``ml-100k.user`` minus the header, with tabs turned back
into ``|``, is byte-identical to ``u.user``.

The parsers of both layouts produce the same intermediate tables, so the
returned ``Bunch`` does not depend on where the files came from (see
:func:`load_movielens_100k` for the two RecBole quirks that are undone).
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zipfile import BadZipFile

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import fetch_file
from sklearn.utils import Bunch

from ._base import (
    _check_bool,
    check_sha256,
    get_data_home,
    move_into,
    pip_download,
    safe_extract,
)

__all__ = ["GENRES", "load_movielens_100k"]

logger = logging.getLogger(__name__)

#: The 19 genres of ML-100K in GroupLens ``u.genre`` order (the column order of
#: ``movies.genres``). RecBole uses the same 19 names, "unknown" included.
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

_FOLDER = "ml-100k"
_GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
_GROUPLENS_TIMEOUT = 5.0
_RECBOLE_REQUIREMENT = "recbole==1.2.1"
_RECBOLE_PREFIX = "recbole/dataset_example/ml-100k/"

#: Pinned sha256 of every file the loader reads, by file name.
_SHA256 = {
    "ml-100k.zip": "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
    "recbole-1.2.1-py3-none-any.whl": (
        "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
    ),
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
}

_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)(?:\s*\(V\))?$")


@dataclass(frozen=True)
class _Tables:
    """What both file layouts parse into: the source-independent content."""

    ratings: np.ndarray  # (n_ratings, 4) int64: user id, item id, rating, timestamp
    users: list  # (user id, age, gender, occupation, zip code)
    items: list  # (item id, title, year, genre indices)


@dataclass(frozen=True)
class _Layout:
    """One set of ML-100K text files and the function that parses them."""

    name: str
    files: Mapping[str, str]  # role ("ratings", "users", "items") -> file name
    parse: Callable[[Mapping[str, Path]], _Tables]

    def is_in(self, folder: Path) -> bool:
        return all((folder / name).is_file() for name in self.files.values())

    def read(self, folder: Path) -> _Tables:
        paths = {role: folder / name for role, name in self.files.items()}
        for path in paths.values():
            check_sha256(path, _SHA256[path.name])
        return self.parse(paths)


@dataclass(frozen=True)
class _Archive:
    """A downloadable archive holding one layout's files."""

    name: str
    filename: str  # key of its pinned sha256
    member_prefix: str  # folder of the layout's files inside the archive
    layout: _Layout
    # download into a folder, verify against the given sha256, return the file
    fetch: Callable[[Path, str], Path]


# --------------------------------------------------------------------- parsing
def _read_rows(path: Path, sep: str, n_fields: int, *, header: bool, encoding: str) -> list:
    """Split a small text table into rows of ``n_fields`` strings."""
    # split on "\n" only: str.splitlines would also break at latin-1 "\x85" and friends
    lines = path.read_text(encoding=encoding).split("\n")[int(header):]
    rows = [line.rstrip("\r").split(sep) for line in lines if line.strip()]
    for row in rows:
        if len(row) != n_fields:
            raise ValueError(f"{path.name}: expected {n_fields} fields, got {row!r}")
    return rows


def _read_ratings(path: Path, *, header: bool) -> np.ndarray:
    return np.loadtxt(path, dtype=np.int64, delimiter="\t", skiprows=int(header), ndmin=2)


def _parse_user(row: list) -> tuple:
    user_id, age, gender, occupation, zip_code = row
    return int(user_id), int(age), gender, occupation, zip_code


def _split_title(raw: str) -> tuple[str, float]:
    """``"Toy Story (1995)"`` -> ``("Toy Story", 1995.0)``; no year -> NaN.

    A trailing video-release marker ``" (V)"`` after the year is dropped.
    """
    match = _TITLE_YEAR.match(raw.strip())
    if match is None:
        return raw.strip(), np.nan
    return match["title"], float(match["year"])


def _parse_grouplens(paths: Mapping[str, Path]) -> _Tables:
    users = [_parse_user(row) for row in _read_rows(paths["users"], "|", 5, header=False,
                                                    encoding="latin-1")]
    items = []
    for row in _read_rows(paths["items"], "|", 5 + len(GENRES), header=False, encoding="latin-1"):
        title, year = _split_title(row[1])
        genres = [g for g, flag in enumerate(row[5:]) if flag == "1"]
        items.append((int(row[0]), title, year, genres))
    return _Tables(_read_ratings(paths["ratings"], header=False), users, items)


def _recbole_genres(tokens: str) -> list:
    index = {name: g for g, name in enumerate(GENRES)}
    unknown = [t for t in tokens.split() if t not in index]
    if unknown:
        raise ValueError(f"ml-100k.item: unknown genres {unknown}")
    return sorted(index[t] for t in tokens.split())


def _parse_recbole_item(row: list) -> tuple:
    """Undo RecBole's title split so titles and years match the GroupLens parse.

    RecBole cut the last parenthesised group off each GroupLens title into
    ``release_year`` (so item 1412's "(V)" became its year) and wrote
    ``unkonwn`` for item 267's missing title and year.
    """
    item_id, title, year, genres = row
    if title == "unkonwn":
        title = "unknown"
    raw = title if year in ("", "unkonwn") else f"{title} ({year})"
    return (int(item_id), *_split_title(raw), _recbole_genres(genres))


def _parse_recbole(paths: Mapping[str, Path]) -> _Tables:
    read = dict(header=True, encoding="utf-8")
    users = [_parse_user(row) for row in _read_rows(paths["users"], "\t", 5, **read)]
    items = [_parse_recbole_item(row) for row in _read_rows(paths["items"], "\t", 4, **read)]
    return _Tables(_read_ratings(paths["ratings"], header=True), users, items)


_GROUPLENS = _Layout(
    "GroupLens", {"ratings": "u.data", "users": "u.user", "items": "u.item"}, _parse_grouplens
)
_RECBOLE = _Layout(
    "RecBole",
    {"ratings": "ml-100k.inter", "users": "ml-100k.user", "items": "ml-100k.item"},
    _parse_recbole,
)


# ------------------------------------------------------------------- fetching
@contextmanager
def _default_socket_timeout(seconds: float) -> Iterator[None]:
    """Set :func:`socket.setdefaulttimeout` for the block, restoring it after.

    The default applies to every socket the process opens meanwhile, in any
    thread; it is held only for the one GroupLens download.
    """
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _fetch_grouplens(folder: Path, sha256: str) -> Path:
    """Download and verify the GroupLens archive with :func:`sklearn.datasets.fetch_file`.

    Parameters
    ----------
    folder : pathlib.Path
        An existing, empty folder that receives ``ml-100k.zip``.
    sha256 : str
        The pinned hex sha256 digest of the archive.

    Returns
    -------
    archive : pathlib.Path
        The verified archive.

    Raises
    ------
    OSError
        On a network failure or timeout (one try, ``_GROUPLENS_TIMEOUT``
        seconds per connection or read), or when the archive does not match
        ``sha256`` (``fetch_file`` then deletes it).
    """
    try:
        with _default_socket_timeout(_GROUPLENS_TIMEOUT):
            return fetch_file(_GROUPLENS_URL, folder=folder, local_filename="ml-100k.zip",
                              sha256=sha256, n_retries=0)  # fmt: skip
    except http.client.HTTPException as exc:  # e.g. IncompleteRead: not an OSError
        raise OSError(f"downloading {_GROUPLENS_URL} failed: {exc!r}") from exc


def _fetch_recbole(folder: Path, sha256: str) -> Path:
    """Download the RecBole wheel with ``pip download`` and verify it against ``sha256``."""
    wheel = pip_download(_RECBOLE_REQUIREMENT, folder)
    check_sha256(wheel, sha256)
    return wheel


_ARCHIVES = (
    _Archive(f"GroupLens archive {_GROUPLENS_URL}", "ml-100k.zip", "ml-100k/", _GROUPLENS,
             _fetch_grouplens),
    _Archive(f"PyPI wheel {_RECBOLE_REQUIREMENT} (via pip download)",
             "recbole-1.2.1-py3-none-any.whl", _RECBOLE_PREFIX, _RECBOLE, _fetch_recbole),
)  # fmt: skip


def _install(archive: _Archive, folder: Path) -> None:
    """Fetch ``archive``, verify it and its files, and move the files into ``folder``."""
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        path = archive.fetch(Path(tmp), _SHA256[archive.filename])
        names = archive.layout.files.values()
        extracted = Path(tmp) / "extracted"
        extracted.mkdir()
        files = safe_extract(path, {archive.member_prefix + n: n for n in names}, extracted)
        for file in files:
            check_sha256(file, _SHA256[file.name])
        move_into(files, folder)


def _manual_help(folder: Path) -> str:
    return (
        f"To install the data by hand, put u.data, u.user and u.item from {_GROUPLENS_URL} "
        f"(or ml-100k.inter, ml-100k.user and ml-100k.item from the {_RECBOLE_REQUIREMENT} "
        f"wheel, folder {_RECBOLE_PREFIX}) into {folder}."
    )


def _download(folder: Path) -> _Layout:
    """Try each archive in turn; return the layout now in ``folder``."""
    failures = []
    for archive in _ARCHIVES:
        try:
            _install(archive, folder)
        except (OSError, ValueError, KeyError, BadZipFile) as exc:
            logger.warning("MovieLens-100K: %s failed (%s); trying the next source.",
                           archive.name, exc)
            failures.append(f"- {archive.name}: {type(exc).__name__}: {exc}")
        else:
            return archive.layout
    raise OSError(
        "Could not obtain MovieLens-100K. Tried:\n" + "\n".join(failures) + "\n"
        + _manual_help(folder)
    )


# ------------------------------------------------------------------- assembly
def _ids_to_positions(ids: np.ndarray, known: np.ndarray, what: str) -> np.ndarray:
    """Map ids to their positions in the sorted array ``known``."""
    pos = np.searchsorted(known, ids).clip(max=len(known) - 1)
    if not np.array_equal(known[pos], ids):
        raise ValueError(f"ratings refer to {what} ids missing from the {what} table")
    return pos


def _rating_matrices(ratings: np.ndarray, user_ids, item_ids) -> tuple:
    """CSR ratings (float32) and timestamps (int64) sharing one sparsity pattern."""
    rows = _ids_to_positions(ratings[:, 0], user_ids, "user")
    cols = _ids_to_positions(ratings[:, 1], item_ids, "item")
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    if np.any((np.diff(rows) == 0) & (np.diff(cols) == 0)):
        raise ValueError("a (user, item) pair is rated more than once")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(user_ids)))])
    shape = (len(user_ids), len(item_ids))
    values = ratings[order, 2].astype(np.float32)
    stamps = ratings[order, 3]
    return (sp.csr_matrix((values, cols, indptr), shape=shape),
            sp.csr_matrix((stamps, cols.copy(), indptr.copy()), shape=shape))  # fmt: skip


def _column_bunch(rows: list, names: tuple, dtypes: tuple) -> Bunch:
    columns = zip(*rows)
    return Bunch(**{n: np.asarray(c, dtype=d) for n, c, d in zip(names, columns, dtypes)})


def _items_bunch(items: list) -> Bunch:
    genres = np.zeros((len(items), len(GENRES)), dtype=np.uint8)
    for row, item in enumerate(items):
        genres[row, item[3]] = 1
    bunch = _column_bunch([i[1:3] for i in items], ("title", "year"), (str, np.float64))
    bunch.update(genres=genres, genre_names=list(GENRES))
    return bunch


def _to_bunch(tables: _Tables, layout: _Layout, folder: Path) -> Bunch:
    users = sorted(tables.users)
    items = sorted(tables.items, key=lambda item: item[0])
    user_ids = np.array([u[0] for u in users], dtype=np.int64)
    item_ids = np.array([i[0] for i in items], dtype=np.int64)
    ratings, timestamps = _rating_matrices(tables.ratings, user_ids, item_ids)
    return Bunch(
        ratings=ratings,
        timestamps=timestamps,
        user_ids=user_ids,
        item_ids=item_ids,
        users=_column_bunch([u[1:] for u in users], ("age", "gender", "occupation", "zip_code"),
                            (np.int64, str, str, str)),
        movies=_items_bunch(items),
        DESCR=_DESCR.format(n_ratings=ratings.nnz, n_users=len(user_ids),
                            n_items=len(item_ids), layout=layout.name, folder=folder),
    )  # fmt: skip


def load_movielens_100k(
    data_home: str | os.PathLike | None = None, *, download_if_missing: bool = True
) -> Bunch:
    """Load the MovieLens 100K ratings with user and movie attributes.

    =================   ======================
    users (rows)        943
    movies (columns)    1682
    ratings (stored)    100,000
    rating values       integers 1 to 5
    =================   ======================

    The files are read from ``<data_home>/ml-100k/`` when present; otherwise
    they are fetched from GroupLens (with :func:`sklearn.datasets.fetch_file`,
    one try, 5 s timeout) or, failing that, taken
    from the ``recbole==1.2.1`` wheel downloaded with ``pip download``. Every
    archive and file is verified against a pinned sha256, and the verified
    files stay in the cache, so later calls work offline.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, raise ``OSError`` instead of downloading when the cache
        does not hold the files.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ratings : scipy.sparse.csr_matrix of shape (943, 1682), float32
            Row ``u`` is the user with id ``user_ids[u]`` (id ``u + 1``),
            column ``j`` the movie with id ``item_ids[j]``; indices sorted.
        timestamps : scipy.sparse.csr_matrix of shape (943, 1682), int64
            Unix time of each rating; the same ``indptr``/``indices`` as
            ``ratings``.
        user_ids, item_ids : ndarray of int64
            The original ids, in row and column order (ascending).
        users : Bunch of arrays of length 943
            ``age`` (int64), ``gender`` ('M'/'F'), ``occupation``,
            ``zip_code`` (str; a few are not numeric).
        movies : Bunch
            Named ``movies``, not ``items``, because ``Bunch.items`` is the
            dict method. ``title`` (str array, the trailing "(year)" removed), ``year``
            (float64, NaN when the title has none: item 267 "unknown"),
            ``genres`` (uint8 ndarray of shape (1682, 19), 1 where the movie
            has the genre), ``genre_names`` (list of the 19 names in
            GroupLens ``u.genre`` order, "unknown" first; see ``GENRES``).
        DESCR : str
            Description, citation and license terms.

    Raises
    ------
    OSError
        When the files are missing and cannot be fetched (the message lists
        every source tried and how to place the files by hand), when
        ``download_if_missing=False`` and the cache is empty, or when a
        cached file fails its checksum (:class:`ChecksumError`).

    Notes
    -----
    Both file layouts give the same result. Two quirks of the RecBole copy
    are undone: item 267's title and year read ``unkonwn`` (GroupLens:
    title "unknown", no date) and item 1412's year reads ``V`` because its
    GroupLens title ends with "(1995) (V)". The video marker "(V)" is
    dropped from titles in both layouts, so item 1412 is "Land Before Time
    III: The Time of the Great Giving", year 1995. The GroupLens release-date
    and IMDb URL columns are not returned (RecBole does not ship them); the
    year comes from the title.

    A source that fails (network error, checksum mismatch of the downloaded
    archive or of a file in it) is logged as a warning and the next one is
    tried; nothing unverified is ever parsed or left in the cache. A cached
    file that fails its checksum raises at once: delete it to re-download.

    References
    ----------
    F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets:
    History and Context. ACM Transactions on Interactive Intelligent
    Systems 5, 4, Article 19. https://doi.org/10.1145/2827872

    Examples
    --------
    >>> from sklearn_recae.datasets import load_movielens_100k
    >>> data = load_movielens_100k()  # doctest: +SKIP
    >>> data.ratings.shape  # doctest: +SKIP
    (943, 1682)
    """
    download_if_missing = _check_bool(download_if_missing, "download_if_missing")
    folder = get_data_home(data_home) / _FOLDER
    folder.mkdir(exist_ok=True)
    layout = next((lay for lay in (_GROUPLENS, _RECBOLE) if lay.is_in(folder)), None)
    if layout is None:
        if not download_if_missing:
            raise OSError(
                f"MovieLens-100K is not in the cache {folder} and download_if_missing=False. "
                + _manual_help(folder)
            )
        layout = _download(folder)
    return _to_bunch(layout.read(folder), layout, folder)


_DESCR = """\
MovieLens 100K
--------------

{n_ratings} ratings (integers 1-5) given by {n_users} users to {n_items} movies
through the MovieLens web site (movielens.umn.edu) between 19 September 1997
and 22 April 1998; every user rated at least 20 movies. Users come with age,
gender, occupation and zip code; movies with title, year and 19 genre flags.
Collected by the GroupLens Research Project at the University of Minnesota.

Source: https://grouplens.org/datasets/movielens/100k/ (files u.data, u.user,
u.item), or the identical copy in the RecBole 1.2.1 wheel on PyPI.
Loaded from: {folder} ({layout} files).

License (summary of the GroupLens README; read it in full): the data may be
used for research only; no commercial use and no redistribution without
GroupLens's permission; do not imply endorsement by the University of
Minnesota or GroupLens; acknowledge the data set in publications by citing:

    F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets:
    History and Context. ACM Transactions on Interactive Intelligent Systems
    (TiiS) 5, 4, Article 19 (December 2015), 19 pages.
    https://doi.org/10.1145/2827872
"""
