"""One CSV file that a sweep appends to, a row at a time, so an interrupted run keeps its rows."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def appending_csv(path: str | os.PathLike, fields: list[str]) -> Iterator[Callable[[dict], None]]:
    """Yield ``write_row(row)``: append ``row`` to ``path`` and flush it at once.

    The header is written only when ``path`` does not exist yet, so a rerun
    that skips the rows already there appends to the same file.
    """
    new_file = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        if new_file:
            writer.writeheader()

        def write_row(row: dict) -> None:
            writer.writerow(row)
            f.flush()

        yield write_row
