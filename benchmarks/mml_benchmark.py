"""MML, its ablations, CML, MML → kNN pipelines and a user-kNN on MovieLens-100K (implicit).

Protocol, for each seed ``s`` (the benchmark command's implicit task):

1. binarized MovieLens-100K (ratings >= 4, users with >= 5 positives), a
   per-user 80/20 hold-out seeded by ``s``;
2. every metric model is the registered one (``sklearn_recae.registry``) with
   its defaults, plus the variant's parameters (the ``mml`` row is the
   paper's configuration, registered ``mml-paper``; ``mml-default`` the
   class defaults chosen in issue #21): it early-stops on 10% of each
   user's training positives, then refits on all of them;
3. a pipeline row reuses the fitted MML (or CML) of its ``source`` row as
   its first step and fits ``KNeighborsRecommender(metric="euclidean")`` on
   its ``transform`` (user points mapped by the learned ``W_U``; CML's are
   Euclidean) with the training rows as interactions;
4. test metrics: HR@10, HR@50, Recall@50, NDCG@100 (the package's scorers,
   training items excluded) and NMI@10/20 of spherical k-means clusters of
   the item embeddings against each movie's first genre (items with a
   training positive), plus epochs, seconds per epoch and fit seconds.

Fits run ``--n-jobs`` at a time with one torch thread each: seconds are
comparable within one run only.

Run:  python benchmarks/mml_benchmark.py --seeds 0 1 2
      python benchmarks/mml_benchmark.py --models mml-default cml --validation-only --n-jobs 1
      python benchmarks/mml_benchmark.py --models mml cml --seeds 0 --quick
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.pipeline import Pipeline

from sklearn_recae.cli import load_dataset, split_dataset
from sklearn_recae.datasets import genre_labels, load_movielens_100k
from sklearn_recae.metrics import get_scorer, spherical_kmeans_nmi
from sklearn_recae.neighbors import KNeighborsRecommender
from sklearn_recae.registry import get_model_spec

#: row name -> (registered model, extra parameters)
MODELS = {
    "mml": ("mml-paper", {}),
    "mml-default": ("mml", {}),
    "euc-mml": ("euc-mml", {}),
    "w-mml": ("w-mml", {}),
    "m-mml": ("m-mml", {}),
    "np-mml": ("np-mml", {}),
    "nr-mml": ("nr-mml", {}),
    "mml-m1": ("mml-paper", {"margin": 1.0, "adaptive_margin": False}),
    "cml": ("cml", {}),
    "user-knn": ("user-knn", {}),
}
#: pipeline row -> the MML row whose fitted model is its first step
PIPELINES = {"mml→knn": "mml", "mml-m1→knn": "mml-m1", "mml-default→knn": "mml-default",
             "cml→knn": "cml"}
RANKING = ("hit_rate@10", "hit_rate@50", "recall@50", "ndcg@100")


def _item_labels() -> np.ndarray:
    return genre_labels(load_movielens_100k().movies.genres, multi_genre="first")


def _nmi(item_embeddings, keep, labels, seed) -> dict:
    return {f"nmi@{k}": spherical_kmeans_nmi(item_embeddings[keep], labels[keep], n_clusters=k,
                                             random_state=seed) for k in (10, 20)}


def run(name: str, seed: int, quick: bool, validation_only: bool = False) -> list[dict]:
    """Fit one row's model on split ``seed``; its result and those of the pipelines built on it.

    ``validation_only``: no refit and no test part read; the row is the best
    validation NDCG@``k_valid`` of the early-stopping run (on 10% of each
    user's training positives), its epoch and the fit seconds.
    """
    import torch

    torch.set_num_threads(1)
    X = load_dataset("ml-100k", seed, "implicit")
    X_train, X_test, _ = split_dataset(X, "implicit", 0.2, None, seed)
    registered, params = MODELS[name]
    model = get_model_spec(registered).factory(random_state=seed, verbose=0)
    model.set_params(**params, **({"device": "cpu"} if "device" in model.get_params() else {}))
    if quick and "max_epochs" in model.get_params():
        model.set_params(max_epochs=2, early_stopping=False)
    if validation_only:
        model.set_params(refit=False)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(X_train)
    fit_s = time.perf_counter() - start
    if validation_only:
        return [{"model": name, "seed": seed,
                 f"valid_ndcg@{model.k_valid}": float(np.nanmax(model.validation_scores_)),
                 "best_epoch": int(model.best_epoch_), "epochs": int(model.n_epochs_),
                 "fit_s": fit_s, "fit_cpu_s": time.process_time() - cpu}]
    epochs = int(getattr(model, "n_epochs_", 1))
    labels = _item_labels()
    keep = (np.asarray(X_train.sum(axis=0)).ravel() > 0) & (labels >= 0)
    embeddings = getattr(model, "item_embeddings_", None)
    nmi = {} if embeddings is None else _nmi(embeddings, keep, labels, seed)

    def scores(estimator) -> dict:
        return {m: get_scorer(m)(estimator, X_train, X_test) for m in RANKING}

    rows = [{"model": name, "seed": seed, **scores(model), **nmi, "epochs": epochs,
             "s_per_epoch": fit_s / epochs, "fit_s": fit_s}]
    for pipeline_name, source in PIPELINES.items():
        if source != name:
            continue
        start = time.perf_counter()
        knn = KNeighborsRecommender(metric="euclidean").fit(model.transform(X_train),
                                                            interactions=X_train)
        knn_s = time.perf_counter() - start
        pipeline = Pipeline([("mml", model), ("knn", knn)])
        rows.append({"model": pipeline_name, "seed": seed, **scores(pipeline), **nmi,
                     "epochs": epochs, "s_per_epoch": fit_s / epochs, "fit_s": fit_s + knn_s})
    return rows


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over the seeds of each model's metrics (the README table)."""
    metrics = [c for c in results.columns if c not in ("model", "seed")]
    grouped = results.groupby("model", sort=False)[metrics]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    table = mean.copy().astype(object)
    for column in metrics:
        digits = (1 if column in ("fit_s", "fit_cpu_s", "epochs", "best_epoch")
                  else 2 if column == "s_per_epoch" else 3)
        table[column] = [f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in
                         zip(mean[column], std[column])]
    return table


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 epochs, no early stopping")
    parser.add_argument("--validation-only", action="store_true",
                        help="no refit, no test part: the best validation NDCG of each fit")
    parser.add_argument("--output", type=Path, default=Path("benchmark-results/mml.json"))
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    runs = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
        delayed(run)(name, seed, args.quick, args.validation_only) for seed in args.seeds for name in args.models)
    rows = []
    for finished in runs:  # saved as each fit ends, so an interrupted run keeps its results
        rows.extend(finished)
        args.output.write_text(json.dumps(rows, indent=2))
    results = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(results.round(4).to_string(index=False))
        print()
        print(summarise(results).to_markdown())


if __name__ == "__main__":
    main()
