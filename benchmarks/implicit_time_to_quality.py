"""Time to quality of the implicit autoencoders on validation data (issue #23, item 2).

The split of ``versus_recbole.py`` (binarized MovieLens-100K; per seed ``s``
``X_train, X_test = holdout_row_entries(X, 0.2, s)``, ``X_fit, X_valid =
holdout_row_entries(X_train, 0.1, 100 + s)``); the test part is never read
here. Each configuration (a model's defaults updated by one JSON dict of
``--configs``) is fitted for each seed in one of two modes:

``valid`` (default)
    ``model.fit(X_fit, X_valid=X_valid)``: early stopping on the validation
    entries, as ``versus_recbole.py`` fits. Rows: the best validation
    NDCG@100, wall and CPU seconds (``time.process_time``, one thread),
    epochs, the per-epoch curve, and the wall / CPU seconds until the
    validation NDCG@100 first reaches RecBole's best validation NDCG@100 of
    the same seed (read from ``--recbole-rows``, the JSON lines of
    ``versus_recbole.py --results``). Since early stopping does not change
    the epochs before it stops, the summary also replays each curve with a
    shorter patience (``--patience``): the epoch it would have stopped at,
    its best NDCG and its CPU seconds.
``nested``
    The refit question: ``model.fit(X_fit)`` with its own internal
    validation split (``validation_fraction`` of each row), scored by
    NDCG@100 of ``X_valid`` ranked from ``X_fit``. ``refit=False`` keeps the
    early-stopped net; the refit is measured as what ``refit=True`` does
    after it: a fresh net trained on all of ``X_fit`` for ``best_epoch_``
    epochs (``early_stopping=False, max_epochs=best_epoch_``; its own
    initial weights, so the same model as ``refit=True`` up to the draw).
    Rows: the NDCG of both and the CPU seconds of both phases.

For each seed the configurations run one after the other (alternating, so
that they share the load). Rows are appended to ``--out`` (CSV) as they
finish and skipped when already there, so an interrupted sweep resumes. Run (one thread):

    OMP_NUM_THREADS=1 python benchmarks/implicit_time_to_quality.py --model recvae \\
        --configs '{}' '{"n_enc_epochs": 1}' --seeds 0 1 2 \\
        --recbole-rows benchmark-results/versus_recbole_rows.jsonl
    OMP_NUM_THREADS=1 python benchmarks/implicit_time_to_quality.py --model cdae --mode nested
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _csv_rows import appending_csv  # noqa: E402
from ease_l2_sweep import binarized_movielens  # noqa: E402
from versus_recbole import ranking_metrics, read_rows, split, time_to_quality  # noqa: E402
from versus_recbole import with_cpu_clock  # noqa: E402

from sklearn_recae.registry import get_model_spec  # noqa: E402

FIELDS = ["model", "config", "mode", "seed", "fit_s", "fit_cpu_s", "epochs", "best_epoch",
          "valid_ndcg@100", "refit_s", "refit_cpu_s", "refit_valid_ndcg@100", "curve", "load"]
#: RecBole's best validation NDCG@100 and fit seconds of seed 0 (docs/benchmarks.md), used
#: when ``--recbole-rows`` has no row for a (model, seed).
RECBOLE_SEED0 = {"cdae": (0.2567, 206.6), "mult-dae": (0.3094, 251.8),
                 "multvae": (0.3046, 244.4), "recvae": (0.3115, 392.2)}


def make_model(name: str, seed: int, config: dict):
    model = get_model_spec(name).factory(random_state=seed, verbose=0)
    return with_cpu_clock(model.set_params(device="cpu", **config))


def curve_of(model) -> list[tuple[float, float, float]]:
    """Each epoch's (wall seconds, cumulative CPU seconds, validation NDCG@100)."""
    return [(epoch["dur"], epoch.get("cpu", np.nan), epoch.get("valid_ndcg", np.nan))
            for epoch in model.history_]


def fit_valid(name: str, parts: dict, seed: int, config: dict) -> dict:
    """Fit with early stopping on the validation entries (``versus_recbole.py``'s protocol)."""
    model = make_model(name, seed, config)
    start, start_cpu = time.perf_counter(), time.process_time()
    model.fit(parts["train"], X_valid=parts["valid"])
    curve = curve_of(model)
    return {"fit_s": time.perf_counter() - start, "fit_cpu_s": time.process_time() - start_cpu,
            "epochs": model.n_epochs_, "best_epoch": model.best_epoch_,
            "valid_ndcg@100": max(ndcg for _, _, ndcg in curve), "curve": json.dumps(curve)}


def fit_nested(name: str, parts: dict, seed: int, config: dict) -> dict:
    """``refit=False`` against the refit, both scored on the outer validation entries."""
    X_fit, X_valid = parts["train"], parts["valid"]

    def score(model) -> float:
        return ranking_metrics(model.predict(X_fit), X_fit, X_valid)[0]

    model = make_model(name, seed, {**config, "refit": False})
    start, start_cpu = time.perf_counter(), time.process_time()
    model.fit(X_fit)
    row = {"fit_s": time.perf_counter() - start, "fit_cpu_s": time.process_time() - start_cpu,
           "epochs": model.n_epochs_, "best_epoch": model.best_epoch_,
           "valid_ndcg@100": score(model), "curve": json.dumps(curve_of(model))}
    refit = make_model(name, seed, {**config, "early_stopping": False,
                                    "max_epochs": int(model.best_epoch_)})
    start, start_cpu = time.perf_counter(), time.process_time()
    refit.fit(X_fit)
    row.update({"refit_s": time.perf_counter() - start,
                "refit_cpu_s": time.process_time() - start_cpu,
                "refit_valid_ndcg@100": score(refit)})
    return row


def replay_patience(curve: list, patience: int) -> tuple[int, float, float]:
    """The epochs, best NDCG and CPU seconds of the same run stopped after ``patience`` epochs
    without improvement (skorch's ``EarlyStopping``: strictly greater is better)."""
    best, best_epoch = -np.inf, 0
    for epoch, (_, _, ndcg) in enumerate(curve, start=1):
        if ndcg > best:
            best, best_epoch = ndcg, epoch
        elif epoch - best_epoch >= patience:
            return epoch, best, curve[epoch - 1][1]
    return len(curve), best, curve[-1][1]


def recbole_targets(path: Path | None) -> dict:
    """``(model, seed) -> (RecBole's best validation NDCG@100, its fit s, its fit CPU s)``."""
    targets = {(name, 0): (ndcg, seconds, np.nan)
               for name, (ndcg, seconds) in RECBOLE_SEED0.items()}
    for row in read_rows(path):
        if row["library"] == "recbole":
            targets[(row["model"], row["seed"])] = (row["valid_ndcg@100"], row["fit_s"],
                                                    row.get("fit_cpu_s", np.nan))
    return targets


def summarize(rows: list[dict], targets: dict, patiences: list[int]) -> pd.DataFrame:
    """One line per (model, mode, config): means and stds over the seeds."""
    records = []
    for row in rows:
        record = {key: row[key] for key in ("model", "config", "mode", "seed")}
        for key in ("fit_s", "fit_cpu_s", "epochs", "valid_ndcg@100", "refit_cpu_s",
                    "refit_valid_ndcg@100"):
            record[key] = float(row[key]) if row.get(key) not in (None, "") else np.nan
        curve = json.loads(row["curve"])
        target = targets.get((row["model"], int(row["seed"])))
        if row["mode"] == "valid" and target is not None:
            wall, cpu = time_to_quality(curve, target[0])
            record.update({"to_recbole_s": wall, "to_recbole_cpu_s": cpu,
                           "to_recbole/recbole_fit": wall / target[1],
                           "to_recbole_cpu/recbole_cpu": cpu / target[2]})
        if row["mode"] == "valid":
            for patience in patiences:
                epochs, best, cpu = replay_patience(curve, patience)
                record.update({f"p{patience}_epochs": epochs, f"p{patience}_ndcg": best,
                               f"p{patience}_cpu_s": cpu})
        records.append(record)
    table = pd.DataFrame(records)
    return (table.drop(columns="seed").groupby(["model", "mode", "config"], sort=False)
            .agg(["mean", "std"]).dropna(axis=1, how="all").round(4))


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True,
                        choices=["cdae", "mult-dae", "multvae", "recvae"])
    parser.add_argument("--configs", nargs="+", default=["{}"],
                        help="JSON dicts of parameters over the model's defaults")
    parser.add_argument("--mode", choices=["valid", "nested"], default="valid")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--patience", type=int, nargs="*", default=[5, 10],
                        help="patiences replayed on the curves (valid mode)")
    parser.add_argument("--recbole-rows", type=Path)
    parser.add_argument("--out", type=Path,
                        default=Path("benchmark-results/implicit_time_to_quality.csv"))
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    configs = [json.dumps(json.loads(config), sort_keys=True) for config in args.configs]
    rows = []
    if args.out.exists():
        with open(args.out, newline="") as f:
            rows = list(csv.DictReader(f))
    done = {(row["model"], row["config"], row["mode"], int(row["seed"])) for row in rows}
    X = binarized_movielens()
    fit = fit_valid if args.mode == "valid" else fit_nested
    with appending_csv(args.out, FIELDS) as write_row:
        for seed in args.seeds:  # the configurations alternate: they share the load
            for config in configs:
                if (args.model, config, args.mode, seed) in done:
                    continue
                row = {"model": args.model, "config": config, "mode": args.mode, "seed": seed,
                       **fit(args.model, split(X, seed), seed, json.loads(config)),
                       "load": os.getloadavg()[0]}
                write_row(row)
                rows.append(row)
                print({key: value for key, value in row.items() if key != "curve"}, flush=True)
    ours = [row for row in rows if row["model"] == args.model and row["mode"] == args.mode
            and row["config"] in configs and int(row["seed"]) in args.seeds]
    table = summarize(ours, recbole_targets(args.recbole_rows), args.patience)
    with pd.option_context("display.width", 250, "display.max_columns", 100):
        print(table.to_markdown())
    return table


if __name__ == "__main__":
    main()
