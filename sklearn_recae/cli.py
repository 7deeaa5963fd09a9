"""The command line: ``python -m sklearn_recae benchmark`` (also ``sklearn-recae benchmark``).

The benchmark fits the registered models on a seeded entry split of a dataset
(MovieLens-100K by default), scores each on the held-out entries, prints a
table and writes it as JSON and CSV. With ``--valid-size`` the split has a
validation part too (MMA's 70/10/20 protocol: ``--test-size 0.2 --valid-size
0.1``): every model early-stops on it and is scored on the test part;
otherwise each model holds out its own validation entries from the training
part.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Sequence
from pathlib import Path

import scipy.sparse as sp
from sklearn.base import clone

from .registry import MODELS, get_model_spec

__all__ = ["main", "run_benchmark"]

DEFAULT_MODELS = ("i-autorec", "u-autorec")
COLUMNS = ("model", "rmse", "mae", "epochs", "seconds_per_epoch", "fit_seconds")


def load_dataset(name: str, random_state: int) -> sp.csr_matrix:
    """The user × item rating matrix of a benchmark dataset."""
    if name == "ml-100k":
        from .datasets import load_movielens_100k

        return load_movielens_100k().ratings
    if name == "synthetic":
        from .datasets import make_interactions

        return make_interactions(600, 300, density=0.08, random_state=random_state)
    raise ValueError(f"Unknown dataset {name!r}; choose 'ml-100k' or 'synthetic'.")


def evaluate_model(
    name: str, X_train, X_test, X_valid=None, *, random_state: int, verbose: int, **params
) -> dict:
    """Fit one registered model on ``X_train`` and score it on ``X_test``'s entries.

    With ``X_valid`` the model early-stops on its entries (``fit(X_train, X_valid=...)``).
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
    start = time.perf_counter()
    model.fit(X_train, **fit_params)
    fit_seconds = time.perf_counter() - start
    epochs = int(getattr(getattr(model, "estimator_", model), "n_epochs_", 1))
    return {
        "model": name,
        "rmse": -get_scorer("neg_rmse")(model, X_train, X_test),
        "mae": -get_scorer("neg_mae")(model, X_train, X_test),
        "epochs": epochs,
        "seconds_per_epoch": fit_seconds / epochs,
        "fit_seconds": fit_seconds,
    }


def run_benchmark(
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    dataset: str = "ml-100k",
    test_size: float = 0.1,
    valid_size: float | None = None,
    seed: int = 0,
    verbose: int = 0,
    **params,
) -> list[dict]:
    """Run the benchmark and return one result row per model."""
    from .model_selection import train_test_split

    X = load_dataset(dataset, seed)
    parts = train_test_split(X, test_size=test_size, valid_size=valid_size, random_state=seed)
    X_train, X_test = parts[0], parts[-1]
    X_valid = parts[1] if valid_size is not None else None
    return [
        evaluate_model(name, X_train, X_test, X_valid, random_state=seed, verbose=verbose, **params)
        for name in models
    ]


def format_table(rows: Sequence[dict]) -> str:
    """A plain-text table of benchmark rows."""
    header = f"{'model':<14}{'RMSE':>8}{'MAE':>8}{'epochs':>8}{'s/epoch':>10}{'fit s':>9}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['model']:<14}{r['rmse']:>8.4f}{r['mae']:>8.4f}{r['epochs']:>8d}"
            f"{r['seconds_per_epoch']:>10.3f}{r['fit_seconds']:>9.1f}"
        )
    return "\n".join(lines)


def write_results(rows: Sequence[dict], output_dir: Path, meta: dict) -> tuple[Path, Path]:
    """Write ``results.json`` (rows and run settings) and ``results.csv``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = output_dir / "results.json", output_dir / "results.csv"
    json_path.write_text(json.dumps({"settings": meta, "results": list(rows)}, indent=2))
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return json_path, csv_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sklearn-recae", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("benchmark", help="fit and score models on a seeded entry split")
    bench.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=sorted(MODELS))
    bench.add_argument("--dataset", default="ml-100k", choices=["ml-100k", "synthetic"])
    bench.add_argument("--test-size", type=float, default=0.1, help="held-out fraction of entries")
    bench.add_argument("--valid-size", type=float, default=None,
                       help="fraction of entries every model early-stops on (default: each model "
                            "holds out its own from the training part)")
    bench.add_argument("--seed", type=int, default=0, help="split and model seed")
    bench.add_argument("--max-epochs", type=int, default=None, help="override every model's max_epochs")
    bench.add_argument("--device", default=None, help="override the device (default: auto)")
    bench.add_argument("--output-dir", type=Path, default=Path("benchmark-results"))
    bench.add_argument("-v", "--verbose", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sklearn_recae`` and the ``sklearn-recae`` script."""
    args = _parser().parse_args(argv)
    overrides = {k: v for k, v in {"max_epochs": args.max_epochs, "device": args.device}.items() if v}
    rows = run_benchmark(
        args.models, dataset=args.dataset, test_size=args.test_size, valid_size=args.valid_size,
        seed=args.seed,
        verbose=args.verbose, **overrides,
    )
    print(format_table(rows))
    meta = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    json_path, csv_path = write_results(rows, args.output_dir, meta)
    print(f"\nwrote {json_path} and {csv_path}")
    return 0
