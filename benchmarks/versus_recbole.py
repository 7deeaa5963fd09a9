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

Run:  python benchmarks/versus_recbole.py --install      # once
      OMP_NUM_THREADS=1 python benchmarks/versus_recbole.py --seeds 0 [--models ease multvae]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

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


def run_package(name: str, parts: dict, seed: int) -> dict:
    model = get_model_spec(name).factory(random_state=seed, verbose=0)
    if "device" in model.get_params():
        model.set_params(device="cpu")
    start = time.perf_counter()
    model.fit(parts["train"], X_valid=parts["valid"])
    fit_seconds = time.perf_counter() - start
    ndcg, recall = ranking_metrics(model.predict(parts["train"]),
                                   parts["train"] + parts["valid"], parts["test"])
    history = getattr(model, "history_", None)
    curve = ([(epoch["dur"], epoch.get("valid_ndcg", np.nan)) for epoch in history]
             if history is not None else [(fit_seconds, model.validation_score_)])
    return {"library": "sklearn_recae", "model": name, "seed": seed, "fit_s": fit_seconds,
            "epochs": getattr(model, "n_epochs_", 1), "ndcg@100": ndcg, "recall@20": recall,
            "curve": curve}


def run_recbole(env: Path, name: str, data_dir: Path, seed: int, max_epochs: int) -> dict:
    out = subprocess.run([str(env / "bin" / "python"), str(RUNNER), str(data_dir), name,
                          str(seed), str(max_epochs)],
                         check=True, capture_output=True, text=True, cwd=data_dir)
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    start = time.perf_counter()
    default = scores({})
    rows.append({"fit_s": time.perf_counter() - start, "model": "als (defaults)"})
    start = time.perf_counter()
    searched = [(ranking_metrics(scores(params), parts["train"], parts["valid"])[0], i)
                for i, params in enumerate(ALS_GRID)]
    valid, best = max(searched)
    tuned = scores(ALS_GRID[best])  # the best configuration again: its test scores
    rows.append({"fit_s": time.perf_counter() - start, "model": "als (tuned)",
                 "params": ALS_GRID[best]})
    for row, predicted in zip(rows, (default, tuned)):
        ndcg, recall = ranking_metrics(predicted, parts["train"] + parts["valid"], parts["test"])
        row.update({"library": "implicit", "seed": seed, "epochs": 15,
                    "valid_ndcg@100": ranking_metrics(predicted, parts["train"],
                                                      parts["valid"])[0],
                    "ndcg@100": ndcg, "recall@20": recall})
    return rows


def time_to_quality(curve, target: float) -> float:
    """Training seconds until the validation NDCG@100 first reaches ``target`` (NaN: never)."""
    elapsed = 0.0
    for seconds, ndcg in curve:
        elapsed += seconds
        if ndcg >= target:
            return elapsed
    return float("nan")


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true")
    parser.add_argument("--env", type=Path, default=DEFAULT_ENV)
    parser.add_argument("--models", nargs="+", default=["ease", "cdae", "mult-dae", "multvae",
                                                        "recvae"], choices=list(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-epochs", type=int, default=300, help="RecBole's epochs")
    parser.add_argument("--no-als", action="store_true", help="skip implicit's ALS")
    parser.add_argument("--als-child", type=int, metavar="SEED", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.install:
        install(args.env)
        return pd.DataFrame()
    X = binarized_movielens()
    if args.als_child is not None:  # in RecBole's environment: print the ALS rows
        print(json.dumps(run_als(split(X, args.als_child), args.als_child)))
        return pd.DataFrame()
    rows = []
    for seed in args.seeds:
        parts = split(X, seed)
        if not args.no_als:
            out = subprocess.run([str(args.env / "bin" / "python"), __file__, "--als-child",
                                  str(seed)], check=True, capture_output=True, text=True)
            rows += json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(rows[-2:]), flush=True)
        with tempfile.TemporaryDirectory() as data_dir:
            write_atomic_files(parts, Path(data_dir))
            for name in args.models:
                ours = run_package(name, parts, seed)
                print(json.dumps({**ours, "curve": len(ours["curve"])}), flush=True)
                try:
                    theirs = run_recbole(args.env, MODELS[name], Path(data_dir), seed,
                                         args.max_epochs)
                except subprocess.CalledProcessError as error:  # keep this package's side
                    print(f"RecBole {MODELS[name]} failed: {error.stderr[-2000:]}", flush=True)
                    continue
                curve = ours.pop("curve")
                ours["valid_ndcg@100"] = max(ndcg for _, ndcg in curve)
                ours["time_to_recbole_test_s"] = time_to_quality(curve, theirs["ndcg@100"])
                ours["time_to_recbole_valid_s"] = time_to_quality(curve, theirs["valid_ndcg@100"])
                theirs["model"] = name
                rows += [ours, theirs]
                print(json.dumps(ours), json.dumps(theirs), f"load {os.getloadavg()}",
                      sep="\n", flush=True)
    table = pd.DataFrame(rows)
    columns = ["fit_s", "epochs", "valid_ndcg@100", "ndcg@100", "recall@20",
               "time_to_recbole_test_s", "time_to_recbole_valid_s"]
    print(table.groupby(["model", "library"])[columns].agg(["mean", "std"]).round(4)
          .to_markdown())
    return table


if __name__ == "__main__":
    main()
