"""``--plot``: metric bars with error bars over the seeds, and training curves (matplotlib).

matplotlib is an optional dependency (``pip install "sklearn-recae[plot]"``);
the figures are drawn on :class:`matplotlib.figure.Figure` objects, so no
pyplot state or interactive backend is touched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from ._report import summarize

__all__ = ["check_matplotlib", "plot_results"]

MISSING = 'plotting needs matplotlib: pip install "sklearn-recae[plot]"'


def check_matplotlib() -> None:
    """Raise ``ImportError`` with the install command when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(MISSING) from error


def plot_results(records: Sequence[dict], metrics: Sequence[str], folder: Path,
                 title: str = "") -> list[Path]:
    """Write ``metrics.png`` and, when a model has epochs, ``curves.png`` into ``folder``.

    Parameters
    ----------
    records : sequence of dict
        Result records (one per model and seed; see ``evaluate_model``).
    metrics : sequence of str
        The metric keys to draw, one panel each: a bar per model, the error
        bar the std over its seeds.
    folder : path
    title : str, default=""
        The figures' title (the task and dataset).

    Returns
    -------
    paths : list of Path
        The files written.
    """
    check_matplotlib()
    folder = Path(folder)
    paths = [_metric_bars(records, metrics, folder / "metrics.png", title)]
    curves = [record for record in records if record.get("curve")]
    if curves:
        paths.append(_training_curves(curves, folder / "curves.png", title))
    return paths


def _metric_bars(records, metrics, path: Path, title: str) -> Path:
    from matplotlib.figure import Figure

    rows = summarize(records, metrics)
    n_cols = min(3, len(metrics))
    n_rows = math.ceil(len(metrics) / n_cols)
    fig = Figure(figsize=(4.2 * n_cols, 0.35 * len(rows) * n_rows + 1.2 * n_rows + 0.6),
                 layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    names = [row["model"] for row in rows]
    for ax, metric in zip(axes, metrics):
        means = [row[metric][0] for row in rows]
        stds = [row[metric][1] for row in rows]
        ax.barh(names, means, xerr=stds, capsize=3, color="tab:blue")
        ax.invert_yaxis()
        ax.set_title(metric)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    seeds = sorted({record["seed"] for record in records})
    fig.suptitle(f"{title} (mean ± std over seeds {', '.join(map(str, seeds))})".strip())
    fig.savefig(path, dpi=100)
    return path


def _training_curves(records, path: Path, title: str) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax_valid, ax_loss = fig.subplots(1, 2)
    colors: dict[str, str] = {}
    for record in records:
        first = record["model"] not in colors  # one legend entry per model
        color = colors.setdefault(record["model"], f"C{len(colors) % 10}")
        label = record["model"] if first else None
        curve = record["curve"]
        valid = [math.nan if v is None else v for v in curve["validation"]]
        if any(not math.isnan(v) for v in valid):
            ax_valid.plot(range(1, len(valid) + 1), valid, color=color, label=label, lw=1.2)
        loss = [math.nan if v is None else v for v in curve["train_loss"]]
        if loss and loss[0]:
            ax_loss.plot(range(1, len(loss) + 1), [v / loss[0] for v in loss], color=color,
                         label=label, lw=1.2)
    score = "RMSE" if records[0].get("task") == "explicit" else "NDCG"
    ax_valid.set(xlabel="epoch", ylabel=f"validation {score}",
                 title=f"validation {score} of each epoch of the early-stopping run")
    ax_loss.set(xlabel="epoch", ylabel="training loss / first epoch's", yscale="log",
                title="training loss of the net kept (the refit's when refitted)")
    ax_valid.legend(fontsize=8)
    fig.suptitle(f"{title}: one line per model and seed".strip(": "))
    fig.savefig(path, dpi=100)
    return path

