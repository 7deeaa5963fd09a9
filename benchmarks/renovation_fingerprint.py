"""Seed-0 fingerprints of registered models, to check a refactor changes no number.

``python benchmarks/renovation_fingerprint.py OUT.npz [--models ...]`` fits each
model on the CLI benchmark's seed-0 split (explicit: 90/10 entry split;
implicit: binarized, 80/20 per-user hold-out) and saves its test metrics and
its ``predict`` on the first 50 training rows; ``--compare A.npz B.npz``
prints the largest difference of each array.
"""

from __future__ import annotations

import argparse
import numpy as np


def fingerprint(models: list[str], path: str) -> None:
    from sklearn_recae.cli import TASK_METRICS, load_dataset, split_dataset
    from sklearn_recae.metrics import get_scorer
    from sklearn_recae.registry import get_model_spec

    out = {}
    for name in models:
        task = get_model_spec(name).task
        X = load_dataset("ml-100k", 0, task)
        X_train, X_test, X_valid = split_dataset(X, task, 0.1 if task == "explicit" else 0.2,
                                                 None, 0)
        spec = get_model_spec(name)
        model = spec.factory(random_state=0, verbose=0)
        fit_params = spec.fit_params(X_train, "ml-100k") if spec.fit_params else {}
        model.fit(X_train, **fit_params)
        for metric in TASK_METRICS[task]:
            out[f"{name}:{metric}"] = np.float64(get_scorer(metric)(model, X_train, X_test))
        out[f"{name}:predict"] = model.predict(X_train)[:50]
        print(name, {k: float(v) for k, v in out.items() if k.startswith(name)
                     and not k.endswith("predict")}, flush=True)
        np.savez(path, **out)  # after each model: an interrupted run keeps what finished


def compare(a: str, b: str) -> None:
    left, right = np.load(a), np.load(b)
    for key in sorted(set(left) & set(right)):
        if key.endswith("seconds") or key.endswith("seconds_per_epoch"):
            continue
        print(f"{key:40s} {np.max(np.abs(left[key] - right[key])):.3g}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?")
    parser.add_argument("--models", nargs="+", default=["i-autorec", "mult-dae", "multvae"])
    parser.add_argument("--compare", nargs=2)
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
    else:
        fingerprint(args.models, args.out)
