"""The benchmark's data: the datasets it knows and the two tasks' splits."""

from __future__ import annotations

import scipy.sparse as sp

from ..model_selection import holdout_row_entries, train_test_split
from ..preprocessing import binarize_interactions

__all__ = ["DATASETS", "describe_split", "load_dataset", "split_dataset"]

#: The ``--dataset`` names.
DATASETS = ("ml-100k", "synthetic")


def load_dataset(name: str, random_state: int, task: str = "explicit") -> sp.csr_matrix:
    """The user × item matrix of a benchmark dataset.

    Parameters
    ----------
    name : {"ml-100k", "synthetic"}
        MovieLens-100K's ratings, or a seeded 600 × 300 synthetic rating matrix.
    random_state : int
        Seed of the synthetic matrix (MovieLens-100K does not use it).
    task : {"explicit", "implicit"}, default="explicit"
        ``"implicit"`` binarizes: ratings >= 4 become 1 and users with fewer
        than 5 positives are dropped (:func:`~sklearn_recae.preprocessing.binarize_interactions`).

    Returns
    -------
    X : csr_matrix of shape (n_users, n_items)
    """
    if task not in ("explicit", "implicit"):
        raise ValueError(f"Unknown task {task!r}; choose 'explicit' or 'implicit'.")
    X = _load_ratings(name, random_state)
    if task == "implicit":
        X, _ = binarize_interactions(X)
    return X


def _load_ratings(name: str, random_state: int) -> sp.csr_matrix:
    if name == "ml-100k":
        from ..datasets import load_movielens_100k

        return load_movielens_100k().ratings
    if name == "synthetic":
        from ..datasets import make_interactions

        return make_interactions(600, 300, density=0.08, random_state=random_state)
    raise ValueError(f"Unknown dataset {name!r}; choose from {list(DATASETS)}.")


def split_dataset(X: sp.csr_matrix, task: str, test_size: float, valid_size: float | None,
                  seed: int) -> tuple:
    """``(X_train, X_test, X_valid or None)`` of the task's protocol.

    Parameters
    ----------
    X : csr_matrix of shape (n_users, n_items)
    task : {"explicit", "implicit"}
        ``"explicit"``: a uniform entry split
        (:func:`~sklearn_recae.model_selection.train_test_split`), with a
        validation part when ``valid_size`` is given; ``"implicit"``: a
        per-user hold-out of ``test_size`` of each user's entries
        (:func:`~sklearn_recae.model_selection.holdout_row_entries`).
    test_size : float
    valid_size : float or None
        Explicit task only: the validation part every model early-stops on.
    seed : int
        Seed of the split.
    """
    if task == "implicit":
        if valid_size is not None:
            raise ValueError(
                "--valid-size applies to the explicit task; implicit models hold out 10% of "
                "each user's training entries themselves."
            )
        X_train, X_test = holdout_row_entries(X, test_size, random_state=seed)
        return X_train, X_test, None
    parts = train_test_split(X, test_size=test_size, valid_size=valid_size, random_state=seed)
    return parts[0], parts[-1], (parts[1] if valid_size is not None else None)


def describe_split(X_train, X_test, X_valid=None) -> dict:
    """The shape of a split, as recorded with each result: users, items, entries, density."""
    n_users, n_items = X_train.shape
    entries = X_train.nnz + X_test.nnz + (0 if X_valid is None else X_valid.nnz)
    return {"n_users": n_users, "n_items": n_items, "n_entries": entries,
            "density": entries / (n_users * n_items), "n_train": X_train.nnz,
            "n_test": X_test.nnz, "n_valid": None if X_valid is None else X_valid.nnz}
