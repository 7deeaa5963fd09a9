"""The command line: ``python -m sklearn_recae benchmark`` (also ``sklearn-recae benchmark``).

The benchmark fits the registered models on a seeded split of a dataset
(MovieLens-100K by default), scores each on the held-out entries, prints a
table and writes it as JSON and CSV. Each model runs on its own task
(``--models multvae recvae deeprec`` gives an implicit and an explicit table,
written to ``<output-dir>/implicit`` and ``<output-dir>/explicit``); ``--task``
runs one task only.

- ``--task explicit`` (the default without ``--models``): a uniform entry split of the ratings, scored
  by RMSE and MAE. With ``--valid-size`` the split has a validation part too
  (MMA's 70/10/20 protocol: ``--test-size 0.2 --valid-size 0.1``): every model
  early-stops on it; otherwise each model holds out its own validation entries.
- ``--task implicit``: ratings >= 4 become 1 and users with fewer than 5
  positives are dropped (``binarize_interactions``); ``--test-size`` of each
  user's entries is held out (per-user hold-out), each model early-stops on
  10% of each user's remaining entries, and the lists are scored by Recall,
  NDCG, MAP, novelty-weighted MAP, coverage and popularity-tail shares.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import scipy.sparse as sp
from sklearn.base import clone

from .registry import MODELS, get_model_spec

__all__ = ["main", "models_by_task", "run_benchmark"]

DEFAULT_MODELS = ("i-autorec", "u-autorec")
#: Scorer names of each task's metrics (``metrics.get_scorer``), in table order.
TASK_METRICS = {
    "explicit": ("neg_rmse", "neg_mae"),
    "implicit": ("recall@20", "recall@50", "ndcg@100", "map@20", "novelty_map@100",
                 "coverage@100", "short_tail_share@100", "medium_tail_share@100",
                 "long_tail_share@100"),
}


def load_dataset(name: str, random_state: int, task: str = "explicit") -> sp.csr_matrix:
    """The user × item matrix of a benchmark dataset: ratings, or binarized for ``implicit``."""
    X = _load_ratings(name, random_state)
    if task == "implicit":
        from .preprocessing import binarize_interactions

        X, _ = binarize_interactions(X)
    return X


def _load_ratings(name: str, random_state: int) -> sp.csr_matrix:
    if name == "ml-100k":
        from .datasets import load_movielens_100k

        return load_movielens_100k().ratings
    if name == "synthetic":
        from .datasets import make_interactions

        return make_interactions(600, 300, density=0.08, random_state=random_state)
    raise ValueError(f"Unknown dataset {name!r}; choose 'ml-100k' or 'synthetic'.")


def evaluate_model(
    name: str, X_train, X_test, X_valid=None, *, random_state: int, verbose: int,
    dataset: str = "ml-100k", **params
) -> dict:
    """Fit one registered model on ``X_train`` and score it on ``X_test``'s entries.

    With ``X_valid`` the model early-stops on its entries (``fit(X_train, X_valid=...)``);
    the model's ``ModelSpec.fit_params`` add the fit arguments it needs from ``dataset``.
    """
    from .metrics import get_scorer

    spec = get_model_spec(name)
    model = spec.factory(random_state=random_state, verbose=verbose)
    names = model.get_params(deep=True)
    # an override reaches the model's own parameter and every nested one (MMA's bases)
    model = clone(model).set_params(**{
        name: value for key, value in params.items()
        for name in names if name == key or name.endswith(f"__{key}")
    })
    fit_params = {} if X_valid is None else {"X_valid": X_valid}
    if spec.fit_params is not None:
        fit_params.update(spec.fit_params(X_train, dataset))
    start = time.perf_counter()
    model.fit(X_train, **fit_params)
    fit_seconds = time.perf_counter() - start
    epochs = int(getattr(getattr(model, "estimator_", model), "n_epochs_", 1))
    scores = {}
    for metric in TASK_METRICS[spec.task]:  # "neg_rmse" is reported as "rmse", positive
        value = get_scorer(metric)(model, X_train, X_test)
        scores[metric.removeprefix("neg_")] = -value if metric.startswith("neg_") else value
    return {"model": name, **scores, "epochs": epochs,
            "seconds_per_epoch": fit_seconds / epochs, "fit_seconds": fit_seconds}


def split_dataset(X: sp.csr_matrix, task: str, test_size: float, valid_size: float | None,
                  seed: int) -> tuple:
    """``(X_train, X_test, X_valid or None)``: an entry split (explicit) or a per-user one."""
    from .model_selection import holdout_row_entries, train_test_split

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


def run_benchmark(
    models: Sequence[str] | None = None,
    *,
    task: str = "explicit",
    dataset: str = "ml-100k",
    test_size: float | None = None,
    valid_size: float | None = None,
    seed: int = 0,
    verbose: int = 0,
    **params,
) -> list[dict]:
    """Run the benchmark and return one result row per model.

    ``models`` defaults to the task's registered models; ``test_size`` to 0.1
    (explicit) or 0.2 (implicit).
    """
    if models is None:
        models = DEFAULT_MODELS if task == "explicit" else task_models("implicit")
    wrong = [name for name in models if get_model_spec(name).task != task]
    if wrong:
        raise ValueError(f"{wrong} are not {task}-feedback models; --task {task} runs "
                         f"{task_models(task)}.")
    if test_size is None:
        test_size = 0.1 if task == "explicit" else 0.2
    X = load_dataset(dataset, seed, task)
    X_train, X_test, X_valid = split_dataset(X, task, test_size, valid_size, seed)
    return [
        evaluate_model(name, X_train, X_test, X_valid, random_state=seed, verbose=verbose,
                       dataset=dataset, **params)
        for name in models
    ]


def task_models(task: str) -> list[str]:
    """The registered models of a task, in registry order."""
    return [name for name, spec in MODELS.items() if spec.task == task]


def format_table(rows: Sequence[dict]) -> str:
    """A plain-text table of benchmark rows (one column per key of the first row)."""
    columns = list(rows[0])
    width = {c: max(len(c), 9) for c in columns}
    width["model"] = max(len(r["model"]) for r in rows) + 2
    lines = ["".join(c.ljust(width[c]) if c == "model" else c.rjust(width[c] + 1)
                     for c in columns)]
    lines.append("-" * len(lines[0]))
    for r in rows:
        cells = [
            r[c].ljust(width[c]) if c == "model"
            else f"{r[c]:>{width[c] + 1}d}" if isinstance(r[c], int)
            else f"{r[c]:>{width[c] + 1}.4f}"
            for c in columns
        ]
        lines.append("".join(cells))
    return "\n".join(lines)


def write_results(rows: Sequence[dict], output_dir: Path, meta: dict) -> tuple[Path, Path]:
    """Write ``results.json`` (rows and run settings) and ``results.csv``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = output_dir / "results.json", output_dir / "results.csv"
    json_path.write_text(json.dumps({"settings": meta, "results": list(rows)}, indent=2))
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return json_path, csv_path


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``minimum`` (``--max-epochs 0`` is an error, not a default)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < minimum:
            what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
        return value

    parse.__name__ = "int"  # argparse names the type in its messages
    return parse


def _prepare_output_dirs(parser: argparse.ArgumentParser, dirs: Sequence[Path]) -> None:
    """Create each output folder and check it is writable, before any model is fitted.

    A bad ``--output-dir`` (under a regular file, unwritable) exits with an
    argparse error at once instead of a traceback after the whole benchmark ran.
    """
    for folder in dirs:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            reason = error.strerror or str(error)
            parser.error(f"argument --output-dir: cannot write results to {str(folder)!r}: "
                         f"{reason}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sklearn-recae", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("benchmark", help="fit and score models on a seeded entry split")
    bench.add_argument("--task", default=None, choices=["explicit", "implicit"],
                       help="ratings scored by RMSE/MAE, or binarized feedback scored by ranking "
                            "(default: each model's own task; explicit without --models)")
    bench.add_argument("--models", nargs="+", default=None, choices=sorted(MODELS),
                       help="default: i-autorec u-autorec (explicit), every implicit model")
    bench.add_argument("--dataset", default="ml-100k", choices=["ml-100k", "synthetic"])
    bench.add_argument("--test-size", type=float, default=None,
                       help="held-out fraction of entries (default 0.1; of each user's, 0.2)")
    bench.add_argument("--valid-size", type=float, default=None,
                       help="fraction of entries every model early-stops on (default: each model "
                            "holds out its own from the training part)")
    bench.add_argument("--seed", type=_int_at_least(0), default=0, help="split and model seed")
    bench.add_argument("--max-epochs", type=_int_at_least(1), default=None,
                       help="override every model's max_epochs (a positive integer)")
    bench.add_argument("--device", default=None, help="override the device (default: auto)")
    bench.add_argument("--output-dir", type=Path, default=Path("benchmark-results"))
    bench.add_argument("-v", "--verbose", type=_int_at_least(0), default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sklearn_recae`` and the ``sklearn-recae`` script."""
    parser = _parser()
    args = parser.parse_args(argv)
    # an explicit value always reaches the models (``is not None``: 0 is not "unset")
    overrides = {k: v for k, v in {"max_epochs": args.max_epochs, "device": args.device}.items()
                 if v is not None}
    tasks = models_by_task(args.models, args.task)
    _prepare_output_dirs(parser, [_output_dir(args.output_dir, task, tasks) for task in tasks])
    meta = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    for task, models in tasks.items():
        rows = run_benchmark(
            models, task=task, dataset=args.dataset, test_size=args.test_size,
            valid_size=args.valid_size, seed=args.seed, verbose=args.verbose, **overrides,
        )
        if len(tasks) > 1:
            print(f"\n{task} feedback")
        print(format_table(rows))
        # several tasks: one folder each (their metrics differ)
        json_path, csv_path = write_results(rows, _output_dir(args.output_dir, task, tasks),
                                            {**meta, "task": task})
        print(f"\nwrote {json_path} and {csv_path}")
    return 0


def _output_dir(output_dir: Path, task: str, tasks: dict) -> Path:
    """The folder of a task's results: ``output_dir``, or ``output_dir/<task>`` with several tasks."""
    return output_dir / task if len(tasks) > 1 else output_dir


def models_by_task(models: Sequence[str] | None, task: str | None) -> dict[str, list | None]:
    """``{task: models}`` to run: the given task, or each model's own task in order of appearance.

    ``models=None`` runs the task's registered models (the explicit task when
    no task is given either).
    """
    if task is not None or models is None:
        return {task or "explicit": models}
    grouped: dict[str, list] = {}
    for name in models:
        grouped.setdefault(get_model_spec(name).task, []).append(name)
    return grouped
