"""Shared plumbing of the dataset loaders: data home, checksums, pip downloads, safe unzip.

The standard library already has every piece (``hashlib``, ``zipfile``,
``subprocess``); what is written here is the policy around them: every file
is checked against a pinned sha256 before use, files land in the cache
atomically (written under a temporary name, then renamed), and archive
members are never allowed to name a path outside the target folder. Plain
HTTP downloads use scikit-learn's :func:`sklearn.datasets.fetch_file`, which
applies the same checksum and atomic-rename policy; nothing here does HTTP.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO
from zipfile import ZipFile

import numpy as np

__all__ = [
    "ChecksumError",
    "check_sha256",
    "file_sha256",
    "get_data_home",
    "move_into",
    "pip_download",
    "safe_extract",
]

_ENV_VAR = "SKLEARN_RECAE_DATA"
_CHUNK = 1 << 20
#: Refuse to extract a single archive member larger than this (zip-bomb guard).
_MAX_MEMBER_BYTES = 512 * 1024 * 1024


def _check_bool(value, name: str) -> bool:
    """Return ``value`` if it is a bool (``numpy.bool_`` included); raise ``TypeError`` otherwise.

    A flag such as ``download_if_missing="no"`` must not be read by truthiness.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False), got {value!r}.")
    return bool(value)


class ChecksumError(OSError):
    """A file's sha256 differs from the value pinned for it."""


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder where datasets are cached, creating it if missing.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. When ``None``, the environment variable
        ``SKLEARN_RECAE_DATA`` is used if set, else ``~/.cache/sklearn_recae``.
        A leading ``~`` is expanded.

    Returns
    -------
    data_home : pathlib.Path
        The (existing) cache folder.
    """
    if data_home is None:
        data_home = os.environ.get(_ENV_VAR) or Path.home() / ".cache" / "sklearn_recae"
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """Return the hex sha256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`ChecksumError` unless the file's sha256 is ``expected``.

    Parameters
    ----------
    path : str or path-like
        The file to check.
    expected : str
        The pinned hex sha256 digest.

    Raises
    ------
    ChecksumError
        With the file name and both digests in the message.
    """
    actual = file_sha256(path)
    if actual != expected.lower():
        raise ChecksumError(
            f"sha256 mismatch for {os.fspath(path)!r}: expected {expected}, got {actual}. "
            "The file is corrupt or not the pinned version; delete it and load again."
        )


def _write_atomically(source: BinaryIO, dest: Path, limit: int | None = None) -> None:
    """Copy the stream ``source`` to ``dest`` through a temporary file and a rename."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            copied = 0
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                copied += len(chunk)
                if limit is not None and copied > limit:
                    raise ValueError(f"{dest.name!r} is larger than {limit} bytes")
                out.write(chunk)
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; a shared cache must be readable
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def pip_download(requirement: str, dest: str | os.PathLike, *, timeout: float = 300) -> Path:
    """Download one wheel with ``pip download`` (never installing it).

    Runs ``python -m pip download --no-deps --only-binary=:all: <requirement>
    -d <dest>`` with the running interpreter, so pip's own index settings,
    proxies and certificates apply.

    Parameters
    ----------
    requirement : str
        A pinned requirement such as ``"recbole==1.2.1"``.
    dest : str or path-like
        An existing, preferably empty, folder that receives the wheel.
    timeout : float, default=300
        Seconds before pip is stopped.

    Returns
    -------
    wheel : pathlib.Path
        The downloaded ``.whl`` file. Its content is not verified here.

    Raises
    ------
    OSError
        When pip fails, times out, or leaves no single wheel in ``dest``.
    """
    dest = Path(dest)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", requirement, "-d", os.fspath(dest),
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout)
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or exc.stdout or "").strip()[-800:]
        raise OSError(f"pip download {requirement} failed (exit {exc.returncode}): {tail}") from exc
    except subprocess.TimeoutExpired as exc:
        raise OSError(f"pip download {requirement} timed out after {timeout} s") from exc
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise OSError(f"pip download {requirement} left {len(wheels)} wheels in {dest}, expected 1")
    return wheels[0]


def _check_member_name(name: str) -> None:
    """Raise ``ValueError`` if an archive member name could escape its folder."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or PureWindowsPath(name).drive:
        raise ValueError(f"unsafe archive member {name!r}: absolute path")
    if ".." in PurePosixPath(posix).parts:
        raise ValueError(f"unsafe archive member {name!r}: '..' component")


def safe_extract(
    archive: str | os.PathLike, members: Mapping[str, str], dest: str | os.PathLike
) -> list[Path]:
    """Extract chosen members of a zip archive into ``dest``, refusing unsafe names.

    Every member name of the archive is checked first; an archive holding an
    absolute path or a ``..`` component is rejected as a whole, before
    anything is written. Each requested member is then written atomically
    under its plain target name directly inside ``dest``.

    Parameters
    ----------
    archive : str or path-like
        A zip file (wheels are zip files).
    members : mapping of str to str
        Archive member name -> file name to create in ``dest`` (a bare name,
        no folder part).
    dest : str or path-like
        An existing folder.

    Returns
    -------
    paths : list of pathlib.Path
        The extracted files, in the order of ``members``.

    Raises
    ------
    ValueError
        For an unsafe member name, a target that is not a bare file name, or
        a member larger than 512 MiB.
    KeyError
        When a requested member is not in the archive.
    """
    dest = Path(dest)
    for target in members.values():
        if PurePosixPath(target).name != target or target in ("", ".", ".."):
            raise ValueError(f"extraction target {target!r} is not a bare file name")
    with ZipFile(archive) as zf:
        for name in zf.namelist():
            _check_member_name(name)
        paths = []
        for member, target in members.items():
            if zf.getinfo(member).file_size > _MAX_MEMBER_BYTES:
                raise ValueError(f"archive member {member!r} is larger than {_MAX_MEMBER_BYTES}")
            with zf.open(member) as source:
                _write_atomically(source, dest / target, limit=_MAX_MEMBER_BYTES)
            paths.append(dest / target)
    return paths


def move_into(files: Iterable[Path], folder: str | os.PathLike) -> list[Path]:
    """Move ``files`` into ``folder`` with :func:`os.replace` (atomic on one file system).

    Returns the new paths.
    """
    moved = []
    for path in files:
        target = Path(folder) / Path(path).name
        os.replace(path, target)
        moved.append(target)
    return moved
