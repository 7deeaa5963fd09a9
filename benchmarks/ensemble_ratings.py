"""Rating ensembles across model families on MovieLens-100K, and the bias baseline's defaults.

Two protocols, each with seeds ``s`` (default 0 1 2):

- ``90/10``: ``R_train, R_test = train_test_split(R, test_size=0.1, random_state=s)``;
  ``R_fit, R_valid = train_test_split(R_train, test_size=0.1, random_state=100 + s)``
  (the splits of ``autorec_default_sweep.py``);
- ``70/10/20``: ``R_fit, R_valid, R_test = train_test_split(R, test_size=0.2,
  valid_size=0.1, random_state=s)`` (the splits of ``mma_base_sweep.py``).

Commands:

``python benchmarks/ensemble_ratings.py baseline``
    Choose ``BaselineRatings``' penalties on the validation part only
    (fit on ``R_fit``, RMSE on ``R_valid``, mean over seeds, ``90/10``), then
    read the test part once with the chosen settings on both protocols
    (fitted on ``R_fit``, the part the ensembles' bases train on, and refitted on
    ``R_fit + R_valid``).

``python benchmarks/ensemble_ratings.py ensemble --protocol 90/10 [--seeds 0 1 2]``
    Fit every base once on ``R_fit`` (early-stopped on ``R_valid``, no refit:
    what :class:`~sklearn_recae.ensemble.RatingEnsemble` does with ``X_valid``),
    then every ensemble of the ``ENSEMBLES`` table over those fitted bases,
    self-adaptive and NNLS; prints validation and test RMSE per model (mean ±
    std over seeds) and each ensemble's weights. Fitted bases are cached
    (``--cache``) so an interrupted run resumes. The ensemble configuration to
    report is the one of least mean validation RMSE; the test columns are read
    once, after.

``python benchmarks/ensemble_ratings.py ranking [--rankers recvae ease mult-dae]``
    :class:`~sklearn_recae.ensemble.RankingEnsemble` on binarized ML-100K
    (ratings >= 4, users with >= 5): ``X_train, X_test = holdout_row_entries(X,
    0.2, random_state=s)``, ``X_fit, X_valid = holdout_row_entries(X_train,
    0.1, random_state=100 + s)``; bases fitted on ``X_fit`` (early-stopped on
    ``X_valid``), NDCG@100 of every base and ensemble.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
import time

import numpy as np
import pandas as pd
import torch

from sklearn_recae.datasets import load_movielens_100k
from sklearn_recae.linear import BaselineRatings
from sklearn_recae.metrics import get_scorer
from sklearn_recae.model_selection import train_test_split

ALPHAS = [1.0, 2.0, 5.0, 10.0, 15.0, 25.0]
RMSE = get_scorer("neg_rmse")
MAE = get_scorer("neg_mae")


def make_base(name: str, seed: int):
    """The base ``name`` with its package defaults, seeded ``seed``."""
    from sklearn_recae.autoencoder import AutoRec
    from sklearn_recae.compose import ItemBased
    from sklearn_recae.ensemble import MultiMetricAutoRec
    from sklearn_recae.hybrid import NRP

    return {
        "i_autorec": lambda: ItemBased(AutoRec(random_state=seed)),
        "u_autorec": lambda: AutoRec(random_state=seed),
        "baseline": lambda: BaselineRatings(),
        "nrp": lambda: NRP(max_epochs=40, random_state=seed),  # the cap of nrp_benchmark.py
        "i_mma": lambda: ItemBased(MultiMetricAutoRec(random_state=seed)),
    }[name]()


#: The ensembles measured: name -> (bases, RatingEnsemble parameters).
WEIGHTINGS = {
    "sa_d0.01": dict(weighting="self_adaptive", delta=0.01),
    "sa_d0.1": dict(weighting="self_adaptive", delta=0.1),
    "sa_d1": dict(weighting="self_adaptive", delta=1.0),
    "sa_d10": dict(weighting="self_adaptive", delta=10.0),
    "nnls": dict(weighting="nnls", fit_intercept=False),
    "nnls_b": dict(weighting="nnls", fit_intercept=True),
}
BASE_SETS = {
    "iu_base": ["i_autorec", "u_autorec", "baseline"],
    "iu_base_nrp": ["i_autorec", "u_autorec", "baseline", "nrp"],
    "iu_nrp": ["i_autorec", "u_autorec", "nrp"],
    "mma_u_base_nrp": ["i_mma", "u_autorec", "baseline", "nrp"],
    "mma_u_base": ["i_mma", "u_autorec", "baseline"],
}


def _side_information():
    from sklearn_recae.datasets import movielens_100k_side_information

    side = movielens_100k_side_information()
    return {"user_features": side.user_features, "item_features": side.item_features}


def fitted_bases(names, protocol, seed, data, cache_dir, make=None) -> dict:
    """Each base fitted once on ``R_fit``, early-stopped on ``R_valid`` (pickled in ``cache_dir``)."""
    make = make or make_base
    R_fit, R_valid, _ = data
    fitted = {}
    for name in names:
        path = os.path.join(cache_dir, f"{protocol.replace('/', '-')}_{seed}_{name}.pkl")
        if os.path.exists(path):
            with open(path, "rb") as f:
                fitted[name] = pickle.load(f)
            continue
        start = time.perf_counter()
        model = make(name, seed)
        side = _side_information() if name == "nrp" else {}
        model.fit(R_fit, X_valid=R_valid, **side)
        model.fit_seconds_ = time.perf_counter() - start
        with open(path, "wb") as f:
            pickle.dump(model, f)
        print(f"  fitted {name} (seed {seed}) in {model.fit_seconds_:.0f} s", flush=True)
        fitted[name] = model
    return fitted


def _fit_ensemble(names, params, seed, data, fitted, make=None, cls=None):
    """``RatingEnsemble(bases, **params).fit(R_fit, X_valid=R_valid)``, reusing the fitted bases.

    The bases are seeded explicitly, so the ensemble's fit would train exactly
    the cached models: its ``_fit_base`` is replaced by a lookup, and the rest
    of ``fit`` (weights, validation score) runs as it is.
    """
    from sklearn_recae.ensemble import RatingEnsemble, _base

    make, cls = make or make_base, cls or RatingEnsemble
    R_fit, R_valid, _ = data
    by_params = {repr(make(n, seed).get_params()): fitted[n] for n in names}
    original = _base._fit_base
    _base._fit_base = lambda estimator, X, X_valid, fit_params: by_params[
        repr(estimator.get_params())]
    try:
        ensemble = cls([(n, make(n, seed)) for n in names], random_state=seed, **params)
        side = _side_information() if "nrp" in names else {}
        return ensemble.fit(R_fit, X_valid=R_valid, **side)
    finally:
        _base._fit_base = original


def ensemble(protocol: str, seeds: list[int], cache_dir: str, base_sets: list[str]) -> None:
    os.makedirs(cache_dir, exist_ok=True)
    R = load_movielens_100k().ratings
    rows, weights = [], []
    for seed in seeds:
        data = splits(R, protocol, seed)
        R_fit, R_valid, R_test = data
        names = sorted({n for s in base_sets for n in BASE_SETS[s]})
        fitted = fitted_bases(names, protocol, seed, data, cache_dir)
        for name, model in fitted.items():
            rows.append(dict(model=name, seed=seed, valid=rmse(model, R_fit, R_valid),
                             test=rmse(model, R_fit, R_test), mae=-MAE(model, R_fit, R_test),
                             fit_s=model.fit_seconds_))
        for set_name, (w_name, params) in itertools.product(base_sets, WEIGHTINGS.items()):
            model = _fit_ensemble(BASE_SETS[set_name], params, seed, data, fitted)
            label = f"{set_name}:{w_name}"
            rows.append(dict(model=label, seed=seed, valid=model.validation_score_,
                             test=rmse(model, R_fit, R_test), mae=-MAE(model, R_fit, R_test),
                             fit_s=sum(fitted[n].fit_seconds_ for n in BASE_SETS[set_name])))
            weights.append(dict(model=label, seed=seed, intercept=model.intercept_,
                                **model.named_weights_))
        print(f"seed {seed} done", flush=True)
    table = pd.DataFrame(rows).groupby("model", sort=False).agg(
        valid=("valid", "mean"), valid_std=("valid", "std"), test=("test", "mean"),
        test_std=("test", "std"), mae=("mae", "mean"), fit_s=("fit_s", "mean"),
        seeds=("seed", "nunique"))
    pd.set_option("display.width", 200)
    print(f"\nprotocol {protocol}, seeds {seeds}: RMSE (valid in-sample for the ensembles)")
    print(table.round(4).to_string())
    print("\nmean weights over seeds")
    print(pd.DataFrame(weights).groupby("model", sort=False).mean().drop(columns="seed")
          .round(3).to_string())


def splits(R, protocol: str, seed: int):
    """``(R_fit, R_valid, R_test)`` of ``protocol`` and ``seed``."""
    if protocol == "90/10":
        R_train, R_test = train_test_split(R, test_size=0.1, random_state=seed)
        R_fit, R_valid = train_test_split(R_train, test_size=0.1, random_state=100 + seed)
        return R_fit, R_valid, R_test
    return train_test_split(R, test_size=0.2, valid_size=0.1, random_state=seed)


def rmse(model, X, y) -> float:
    return -RMSE(model, X, y)


def baseline(seeds: list[int]) -> None:
    R = load_movielens_100k().ratings
    data = {s: splits(R, "90/10", s) for s in seeds}
    rows = []
    for (au, ai, n_iter), s in itertools.product(
            itertools.product(ALPHAS, ALPHAS, [10, 30]), seeds):
        R_fit, R_valid, _ = data[s]
        model = BaselineRatings(alpha_user=au, alpha_item=ai, n_iter=n_iter).fit(R_fit)
        rows.append(dict(alpha_user=au, alpha_item=ai, n_iter=n_iter, seed=s,
                         valid_rmse=rmse(model, R_fit, R_valid)))
    table = (pd.DataFrame(rows).groupby(["alpha_user", "alpha_item", "n_iter"])["valid_rmse"]
             .agg(["mean", "std"]).sort_values("mean"))
    print("validation RMSE (90/10, fit on R_fit), best first\n", table.head(10).round(4))
    au, ai, n_iter = table.index[0]
    print(f"chosen: alpha_user={au}, alpha_item={ai}, n_iter={n_iter}")
    for protocol in ("90/10", "70/10/20"):
        tests = {"fit": [], "refit": []}
        for s in seeds:
            R_fit, R_valid, R_test = splits(R, protocol, s)
            params = dict(alpha_user=au, alpha_item=ai, n_iter=n_iter)
            tests["fit"].append(rmse(BaselineRatings(**params).fit(R_fit), R_fit, R_test))
            full = (R_fit + R_valid).tocsr()
            tests["refit"].append(rmse(BaselineRatings(**params).fit(full), full, R_test))
        for what, values in tests.items():
            print(f"{protocol:>9} test RMSE ({what:5s}): {np.mean(values):.4f} ± "
                  f"{np.std(values, ddof=1):.4f}  {np.round(values, 4).tolist()}")


def make_ranker(name: str, seed: int):
    """The registered implicit model ``name`` with the benchmark's defaults, seeded ``seed``."""
    from sklearn_recae.registry import get_model_spec

    model = get_model_spec(name).factory(random_state=seed, verbose=0)
    return model.set_params(device="cpu") if "device" in model.get_params() else model


RANKING_WEIGHTINGS = {
    "sa_d1": dict(weighting="self_adaptive", delta=1.0),
    "sa_d10": dict(weighting="self_adaptive", delta=10.0),
    "sa_d100": dict(weighting="self_adaptive", delta=100.0),
    "search": dict(weighting="search", search_step=0.1),
}


def ranking(seeds: list[int], cache_dir: str, names: list[str]) -> None:
    """The ranking ensemble on binarized ML-100K (the protocol of ``implicit_default_sweep.py``)."""
    from ease_l2_sweep import binarized_movielens
    from sklearn_recae.ensemble import RankingEnsemble
    from sklearn_recae.model_selection import holdout_row_entries

    os.makedirs(cache_dir, exist_ok=True)
    X = binarized_movielens()
    ndcg = get_scorer("ndcg@100")
    rows, weights = [], []
    for seed in seeds:
        X_train, X_test = holdout_row_entries(X, 0.2, random_state=seed)
        X_fit, X_valid = holdout_row_entries(X_train, 0.1, random_state=100 + seed)
        data = (X_fit, X_valid, X_test)
        fitted = fitted_bases(names, "implicit", seed, data, cache_dir, make_ranker)
        scored = list(fitted.items())
        for label, params in RANKING_WEIGHTINGS.items():
            model = _fit_ensemble(names, params, seed, data, fitted, make_ranker, RankingEnsemble)
            model.fit_seconds_ = sum(b.fit_seconds_ for b in fitted.values())
            scored.append((label, model))
            weights.append(dict(model=label, seed=seed, **model.named_weights_))
        for label, model in scored:
            rows.append(dict(model=label, seed=seed, valid=ndcg(model, X_fit, X_valid),
                             test=ndcg(model, X_train, X_test), fit_s=model.fit_seconds_))
        print(f"seed {seed} done", flush=True)
    table = pd.DataFrame(rows).groupby("model", sort=False).agg(
        valid=("valid", "mean"), valid_std=("valid", "std"), test=("test", "mean"),
        test_std=("test", "std"), fit_s=("fit_s", "mean"), seeds=("seed", "nunique"))
    print(f"\nbinarized ML-100K, seeds {seeds}: NDCG@100 (valid from X_fit; test from "
          "X_train = fit + valid entries; searched weights: valid in-sample)")
    print(table.round(4).to_string())
    print("\nmean weights over seeds")
    print(pd.DataFrame(weights).groupby("model", sort=False).mean().drop(columns="seed")
          .round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["baseline", "ensemble", "ranking"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--protocol", choices=["90/10", "70/10/20"], default="90/10")
    parser.add_argument("--cache", default="/tmp/ensemble_ratings")
    parser.add_argument("--base-sets", nargs="+", default=["iu_base"], choices=list(BASE_SETS))
    parser.add_argument("--rankers", nargs="+", default=["recvae", "ease", "mult-dae"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.command == "baseline":
        baseline(args.seeds)
    elif args.command == "ranking":
        ranking(args.seeds, args.cache, args.rankers)
    else:
        ensemble(args.protocol, args.seeds, args.cache, args.base_sets)


if __name__ == "__main__":
    main()
