"""This package against RecBole 1.2.1, side by side on the same binarized MovieLens-100K split.

RecBole is never a dependency of the package: ``--install`` puts it into its
own virtual environment, with implicit for its ALS (``--env``, default
``~/.cache/sklearn_recae/recbole-1.2.1``,
``--system-site-packages`` so that it reuses the installed torch), and each
RecBole model runs there in a child process (``_recbole_runner.py``), right
after the same model of this package runs here: one process tree, models
alternating.

Protocol, for each seed ``s``: binarized MovieLens-100K (rating >= 4, users
with >= 5 positives); ``X_train, X_test = holdout_row_entries(X, 0.2, s)``,
``X_fit, X_valid = holdout_row_entries(X_train, 0.1, 100 + s)``. Both
libraries train on ``X_fit``, early-stop on ``X_valid`` (NDCG@100; RecBole:
``stopping_step=10``, at most 300 epochs) and are tested once on ``X_test``
with ``X_fit`` as input and the ``X_fit`` and ``X_valid`` items excluded
(RecBole's full-sort protocol). Metrics as RecBole defines them: NDCG@100
(ideal DCG over ``min(|test|, 100)`` hits) and Recall@20 (hits over
``|test|``), means over users with test entries. Each library runs its own
defaults. For this package also the seconds of training (the sum of its
epochs' ``dur``) until its validation NDCG@100 first reaches RecBole's test
NDCG@100 (time to quality; NaN when it never does) and, since NDCG@100 of
the 10% validation entries is lower than of the 20% test entries (fewer
relevant items per user), until it reaches RecBole's best validation
NDCG@100 (the same entries, the same metric). implicit's ALS (the
practitioner's anchor) runs in the same environment, at its defaults and
tuned on the validation entries over ``ALS_GRID`` (the grid's seconds are
its ``fit_s``).

Every row has the wall (``fit_s``) and the CPU seconds (``fit_cpu_s``) of
the fit: ``time.process_time`` of this process for this package, of the
child process for RecBole (the runner reports its own) and for ALS. On a
loaded machine the wall seconds measure the load as much as the library;
the CPU seconds (one thread each) are the fairer comparison. For this
package the time to quality is given in both (``time_to_recbole_valid_s``
from the epochs' wall ``dur``, ``..._cpu_s`` from the process time recorded
at each epoch's end).

``--results FILE`` appends every row to a JSON-lines file as soon as it is
measured and skips the (library, model, seed) rows already there, so an
interrupted run resumes. ``--libraries recbole`` runs only RecBole's side
(and ALS), ``--libraries package`` only this package's; ``--recbole-rows
FILE`` reads RecBole's (and ALS's) rows from an earlier run's results to
pair with this package's rows, e.g. to rerun this package after a defaults
change. That gives up the alternation (the two sides no longer share the
load of one stretch of time): compare the CPU seconds then.

Run:  python benchmarks/versus_recbole.py --install      # once
      OMP_NUM_THREADS=1 python benchmarks/versus_recbole.py --seeds 0 [--models ease multvae]
      OMP_NUM_THREADS=1 python benchmarks/versus_recbole.py --libraries recbole --seeds 0 1 2 \
          --results rows.jsonl
      OMP_NUM_THREADS=1 python benchmarks/versus_recbole.py --libraries package --seeds 0 1 2 \
          --recbole-rows rows.jsonl --results package_rows.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from skorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ease_l2_sweep import binarized_movielens  # noqa: E402

from sklearn_recae.model_selection import holdout_row_entries  # noqa: E402
from sklearn_recae.registry import get_model_spec  # noqa: E402

#: This package's registry name -> RecBole's model name.
MODELS = {"mult-dae": "MultiDAE", "multvae": "MultiVAE", "recvae": "RecVAE", "cdae": "CDAE",
          "ease": "EASE"}
DEFAULT_ENV = Path.home() / ".cache" / "sklearn_recae" / "recbole-1.2.1"
RUNNER = Path(__file__).resolve().parent / "_recbole_runner.py"


def install(env: Path) -> None:
    """Create ``env``, install RecBole 1.2.1 and implicit into it (the package's deps are reused)."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env)], check=True)
    subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "recbole==1.2.1",
                    "implicit"], check=True)


def write_atomic_files(parts: dict, directory: Path) -> None:
    """RecBole's benchmark files ``ml100kbin.{train,valid,test}.inter`` of the split."""
    (directory / "ml100kbin").mkdir(parents=True, exist_ok=True)
    for name, matrix in parts.items():
        coo = matrix.tocoo()
        pd.DataFrame({"user_id:token": coo.row, "item_id:token": coo.col}).to_csv(
            directory / "ml100kbin" / f"ml100kbin.{name}.inter", sep="\t", index=False)


def ranking_metrics(scores: np.ndarray, excluded, X_test) -> tuple[float, float]:
    """NDCG@100 and Recall@20 as RecBole computes them, over users with test entries."""
    scores = np.array(scores, dtype=np.float64)
    scores[excluded.nonzero()] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :100]
    test = X_test.tocsr()
    users = np.flatnonzero(np.diff(test.indptr))
    discounts = 1.0 / np.log2(np.arange(2, 102))
    ndcg, recall = [], []
    for user in users:
        relevant = test.indices[test.indptr[user]:test.indptr[user + 1]]
        hits = np.isin(top[user], relevant)
        ideal = discounts[: min(len(relevant), 100)].sum()
        ndcg.append((hits * discounts).sum() / ideal)
        recall.append(hits[:20].sum() / len(relevant))
    return float(np.mean(ndcg)), float(np.mean(recall))


class CpuClock(Callback):
    """A skorch callback recording ``cpu``: process seconds since training began, each epoch."""

    def on_train_begin(self, net, **kwargs) -> None:
        self.start_ = time.process_time()

    def on_epoch_end(self, net, **kwargs) -> None:
        net.history.record("cpu", time.process_time() - self.start_)


def with_cpu_clock(model):
    """``model`` recording each epoch's cumulative CPU seconds (``cpu``) after its NDCG.

    Wraps the instance's ``_ranking_validation`` (every implicit autoencoder's
    callback list); models without it are returned as they are.
    """
    ranking_validation = getattr(model, "_ranking_validation", None)
    if ranking_validation is None:
        return model

    def clocked(*args, **kwargs):
        params = ranking_validation(*args, **kwargs)
        callbacks = list(params["callbacks"])
        params["callbacks"] = [callbacks[0], ("cpu_clock", CpuClock()), *callbacks[1:]]
        return params

    model._ranking_validation = clocked
    return model


def run_package(name: str, parts: dict, seed: int, **params) -> dict:
    """This package's ``name`` at its defaults (and ``params``) fitted on the split of ``seed``."""
    model = get_model_spec(name).factory(random_state=seed, verbose=0)
    if "device" in model.get_params():
        model.set_params(device="cpu")
    model = with_cpu_clock(model.set_params(**params))
    start, start_cpu = time.perf_counter(), time.process_time()
    model.fit(parts["train"], X_valid=parts["valid"])
    fit_seconds, fit_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    ndcg, recall = ranking_metrics(model.predict(parts["train"]),
                                   parts["train"] + parts["valid"], parts["test"])
    history = getattr(model, "history_", None)
    if history is not None:
        curve, cpu = [], 0.0
        for epoch in history:
            cpu = epoch.get("cpu", cpu)
            curve.append((epoch["dur"], cpu, epoch.get("valid_ndcg", np.nan)))
    else:
        curve = [(fit_seconds, fit_cpu, model.validation_score_)]
    return {"library": "sklearn_recae", "model": name, "seed": seed, "fit_s": fit_seconds,
            "fit_cpu_s": fit_cpu, "epochs": getattr(model, "n_epochs_", 1),
            "ndcg@100": ndcg, "recall@20": recall, "curve": curve}


def run_recbole(env: Path, name: str, data_dir: Path, seed: int, max_epochs: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([str(env / "bin" / "python"), str(RUNNER), str(data_dir), name,
                          str(seed), str(max_epochs)],
                         check=True, capture_output=True, text=True, cwd=data_dir)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    # the child's whole CPU time (imports, data loading, test included), next to its fit's
    row["process_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return row


#: implicit's ALS grid, searched on the validation entries (its defaults: 100, 0.01, 1.0).
ALS_GRID = [{"factors": f, "regularization": r, "alpha": a}
            for f in (64, 128, 200) for r in (0.01, 0.1, 1.0) for a in (1.0, 5.0, 20.0)]


def split(X, seed: int) -> dict:
    """The ``train`` (``X_fit``), ``valid`` and ``test`` parts of seed ``seed``."""
    X_train, X_test = holdout_row_entries(X, 0.2, random_state=seed)
    X_fit, X_valid = holdout_row_entries(X_train, 0.1, random_state=100 + seed)
    return {"train": X_fit, "valid": X_valid, "test": X_test}


def run_als(parts: dict, seed: int) -> list[dict]:
    """implicit's ALS at its defaults, and tuned on the validation entries (grid time counted).

    Runs in RecBole's environment, where ``--install`` put ``implicit``.
    """
    from implicit.als import AlternatingLeastSquares

    def scores(params: dict) -> np.ndarray:
        model = AlternatingLeastSquares(random_state=seed, num_threads=1, **params)
        model.fit(parts["train"], show_progress=False)
        return model.user_factors @ model.item_factors.T

    rows = []
    start, start_cpu = time.perf_counter(), time.process_time()
    default = scores({})
    rows.append({"fit_s": time.perf_counter() - start, "fit_cpu_s": time.process_time() - start_cpu,
                 "model": "als (defaults)"})
    start, start_cpu = time.perf_counter(), time.process_time()
    searched = [(ranking_metrics(scores(params), parts["train"], parts["valid"])[0], i)
                for i, params in enumerate(ALS_GRID)]
    valid, best = max(searched)
    tuned = scores(ALS_GRID[best])  # the best configuration again: its test scores
    rows.append({"fit_s": time.perf_counter() - start, "fit_cpu_s": time.process_time() - start_cpu,
                 "model": "als (tuned)", "params": ALS_GRID[best]})
    for row, predicted in zip(rows, (default, tuned)):
        ndcg, recall = ranking_metrics(predicted, parts["train"] + parts["valid"], parts["test"])
        row.update({"library": "implicit", "seed": seed, "epochs": 15,
                    "valid_ndcg@100": ranking_metrics(predicted, parts["train"],
                                                      parts["valid"])[0],
                    "ndcg@100": ndcg, "recall@20": recall})
    return rows


def time_to_quality(curve, target: float) -> tuple[float, float]:
    """Wall and CPU training seconds until the validation NDCG@100 first reaches ``target``.

    ``curve`` holds each epoch's ``(wall seconds, cumulative CPU seconds,
    validation NDCG@100)``; NaN when it never does.
    """
    elapsed = 0.0
    for seconds, cpu, ndcg in curve:
        elapsed += seconds
        if ndcg >= target:
            return elapsed, cpu
    return float("nan"), float("nan")


def read_rows(path: Path | None) -> list[dict]:
    """The rows of a JSON-lines results file (none when it is not given or not there yet)."""
    if path is None or not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pair(ours: dict, theirs: dict | None) -> dict:
    """This package's row with its best validation NDCG and its times to RecBole's quality."""
    row = {key: value for key, value in ours.items() if key != "curve"}
    row["valid_ndcg@100"] = max(ndcg for _, _, ndcg in ours["curve"])
    if theirs is not None:
        for target in ("test", "valid"):
            key = "ndcg@100" if target == "test" else "valid_ndcg@100"
            wall, cpu = time_to_quality(ours["curve"], theirs[key])
            row[f"time_to_recbole_{target}_s"] = wall
            row[f"time_to_recbole_{target}_cpu_s"] = cpu
        row["ratio_to_recbole_s"] = row["time_to_recbole_valid_s"] / theirs["fit_s"]
        if "fit_cpu_s" in theirs:
            row["ratio_to_recbole_cpu_s"] = row["time_to_recbole_valid_cpu_s"] / theirs["fit_cpu_s"]
            row["fit_cpu_to_recbole"] = row["fit_cpu_s"] / theirs["fit_cpu_s"]
    return row


def side_by_side(rows: list[dict]) -> pd.DataFrame:
    """The closing table: each (model, library)'s columns as ``mean ± std (n seeds)``."""
    columns = {"fit_s": "fit s", "fit_cpu_s": "fit CPU s", "epochs": "epochs",
               "valid_ndcg@100": "valid NDCG@100", "ndcg@100": "test NDCG@100",
               "recall@20": "test Recall@20",
               "time_to_recbole_valid_s": "s to RecBole's valid NDCG",
               "time_to_recbole_valid_cpu_s": "CPU s to it",
               "ratio_to_recbole_cpu_s": "CPU s to it / RecBole's fit CPU s",
               "fit_cpu_to_recbole": "fit CPU s / RecBole's"}
    table = pd.DataFrame(rows)
    lines = {}
    for key, group in table.groupby(["model", "library"], sort=False):
        line = {}
        for column, title in columns.items():
            values = group[column].dropna() if column in group else pd.Series(dtype=float)
            if len(values):
                digits = 4 if "ndcg" in column or "recall" in column or "/" in title else 1
                line[title] = (f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"
                               if len(values) > 1 else f"{values.mean():.{digits}f}")
        line["seeds"] = len(group)
        lines[key] = line
    return pd.DataFrame.from_dict(lines, orient="index").fillna("")


def summary(rows: list[dict]) -> pd.DataFrame:
    """Mean and std over seeds of each (model, library)."""
    table = pd.DataFrame(rows)
    columns = [column for column in
               ["fit_s", "fit_cpu_s", "epochs", "valid_ndcg@100", "ndcg@100", "recall@20",
                "time_to_recbole_valid_s", "time_to_recbole_valid_cpu_s", "ratio_to_recbole_s",
                "ratio_to_recbole_cpu_s", "time_to_recbole_test_s"] if column in table]
    return table.groupby(["model", "library"])[columns].agg(["mean", "std", "count"]).round(4)


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true")
    parser.add_argument("--env", type=Path, default=DEFAULT_ENV)
    parser.add_argument("--models", nargs="+", default=["ease", "cdae", "mult-dae", "multvae",
                                                        "recvae"], choices=list(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-epochs", type=int, default=300, help="RecBole's epochs")
    parser.add_argument("--no-als", action="store_true", help="skip implicit's ALS")
    parser.add_argument("--libraries", choices=["both", "package", "recbole"], default="both",
                        help="which side to run (recbole: RecBole and implicit's ALS)")
    parser.add_argument("--results", type=Path, help="JSON-lines file: append every row, "
                        "skip the rows already there (resume)")
    parser.add_argument("--recbole-rows", type=Path, help="JSON-lines file of RecBole's and "
                        "ALS's rows of an earlier run, paired with this package's")
    parser.add_argument("--als-child", type=int, metavar="SEED", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.install:
        install(args.env)
        return pd.DataFrame()
    X = binarized_movielens()
    if args.als_child is not None:  # in RecBole's environment: print the ALS rows
        print(json.dumps(run_als(split(X, args.als_child), args.als_child)))
        return pd.DataFrame()
    rows = read_rows(args.results) + [row for row in read_rows(args.recbole_rows)
                                      if row["library"] != "sklearn_recae"]
    done = {(row["library"], row["model"], row["seed"]) for row in rows}

    def add(row: dict) -> None:
        rows.append(row)
        if args.results is not None:
            with open(args.results, "a") as f:
                f.write(json.dumps(row) + "\n")
        print(json.dumps({**row, "curve": len(row.get("curve", ()))}),
              f"load {os.getloadavg()}", flush=True)

    run_ours, run_theirs = args.libraries != "recbole", args.libraries != "package"
    for seed in args.seeds:
        parts = split(X, seed)
        if run_theirs and not args.no_als and ("implicit", "als (tuned)", seed) not in done:
            out = subprocess.run([str(args.env / "bin" / "python"), __file__, "--als-child",
                                  str(seed)], check=True, capture_output=True, text=True)
            for row in json.loads(out.stdout.strip().splitlines()[-1]):
                add(row)
        with tempfile.TemporaryDirectory() as data_dir:
            write_atomic_files(parts, Path(data_dir))
            for name in args.models:
                if run_ours and ("sklearn_recae", name, seed) not in done:
                    add(run_package(name, parts, seed))
                if run_theirs and ("recbole", name, seed) not in done:
                    try:
                        theirs = run_recbole(args.env, MODELS[name], Path(data_dir), seed,
                                             args.max_epochs)
                    except subprocess.CalledProcessError as error:  # keep this package's side
                        print(f"RecBole {MODELS[name]} failed: {error.stderr[-2000:]}",
                              flush=True)
                        continue
                    add({**theirs, "model": name})
    theirs = {(row["model"], row["seed"]): row for row in rows if row["library"] == "recbole"}
    table = [pair(row, theirs.get((row["model"], row["seed"])))
             if row["library"] == "sklearn_recae" else row
             for row in rows if row["seed"] in args.seeds]
    print(summary(table).to_markdown())
    print(side_by_side(table).to_markdown())
    return pd.DataFrame(table)


if __name__ == "__main__":
    main()
