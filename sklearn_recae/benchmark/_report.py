"""The printed side of a run: one line per finished model, the table over seeds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["format_result", "format_table", "summarize"]

#: The columns after the metrics, in table order.
COST_COLUMNS = ("epochs", "seconds_per_epoch", "fit_seconds")
#: Shorter column titles of the printed table (the files keep the full names).
HEADERS = {"short_tail_share@100": "short_tail@100", "medium_tail_share@100": "medium_tail@100",
           "long_tail_share@100": "long_tail@100", "seconds_per_epoch": "s/epoch",
           "fit_seconds": "fit s"}


def summarize(records: Sequence[dict], columns: Sequence[str]) -> list[dict]:
    """One row per model, in order of appearance: each column's mean and std over the seeds.

    A column's cell is ``(mean, std)`` (std 0 for one seed); ``seeds`` lists
    the seeds the row averages.
    """
    by_model: dict[str, list[dict]] = {}
    for record in records:
        by_model.setdefault(record["model"], []).append(record)
    rows = []
    for model, group in by_model.items():
        row = {"model": model, "seeds": [record["seed"] for record in group]}
        for column in columns:
            values = np.array([record[column] for record in group], dtype=np.float64)
            row[column] = (float(values.mean()), float(values.std()))
        rows.append(row)
    return rows


def format_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """A plain-text table: a ``model`` column, then ``columns`` (default: the first row's keys).

    A cell is a number, or ``(mean, std)`` shown as ``mean ± std`` (``epochs``
    as whole numbers); the std is left out when every row has one seed.
    """
    if columns is None:
        columns = [c for c in rows[0] if c not in ("model", "seeds")]
    several = any(len(row.get("seeds", ())) > 1 for row in rows)
    cells = [[_cell(row[c], c, several) for c in columns] for row in rows]
    titles = [HEADERS.get(c, c) for c in columns]
    width = [max(len(t), *(len(line[i]) for line in cells)) for i, t in enumerate(titles)]
    name_width = max(len("model"), *(len(row["model"]) for row in rows)) + 2
    lines = ["model".ljust(name_width) + " ".join(t.rjust(w) for t, w in zip(titles, width))]
    lines.append("-" * len(lines[0]))
    for row, line in zip(rows, cells):
        lines.append(row["model"].ljust(name_width)
                     + " ".join(cell.rjust(w) for cell, w in zip(line, width)))
    return "\n".join(lines)


def _cell(value, column: str, several: bool) -> str:
    digits = 0 if column == "epochs" else 1 if column == "fit_seconds" else 4
    if isinstance(value, tuple):
        mean, std = value
        return f"{mean:.{digits}f} ± {std:.{digits}f}" if several else f"{mean:.{digits}f}"
    if isinstance(value, (int, np.integer)) or value is None:
        return str(value)
    return f"{value:.{digits}f}"


def format_result(record: dict, metrics: Sequence[str]) -> str:
    """The line printed when one model's fit and scoring are done."""
    scores = ", ".join(f"{metric} {record[metric]:.4f}" for metric in metrics)
    epochs = record["epochs"]
    return (f"  {record['model']} (seed {record['seed']}): {scores}; {epochs} "
            f"epoch{'s' if epochs != 1 else ''}, fit {record['fit_seconds']:.1f} s")
