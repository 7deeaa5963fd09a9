"""Fit one registered model on a split and score it: the benchmark's unit of work."""

from __future__ import annotations

import math
import time

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from ..metrics import get_scorer
from ..registry import get_model_spec

__all__ = ["TASK_METRICS", "build_model", "evaluate_model", "json_safe", "metric_names",
           "training_curve"]

#: Scorer names of each task's metrics (``metrics.get_scorer``), in table order.
TASK_METRICS = {
    "explicit": ("neg_rmse", "neg_mae"),
    "implicit": ("recall@20", "recall@50", "ndcg@100", "map@20", "novelty_map@100",
                 "coverage@100", "short_tail_share@100", "medium_tail_share@100",
                 "long_tail_share@100"),
}


def metric_names(task: str) -> list[str]:
    """The task's metric names as reported (``"neg_rmse"`` is reported as ``"rmse"``)."""
    return [metric.removeprefix("neg_") for metric in TASK_METRICS[task]]


def build_model(name: str, *, random_state: int, verbose: int, **params) -> BaseEstimator:
    """The registered model ``name`` with ``params`` over its defaults.

    An override reaches the model's own parameter and every nested one of
    that name (``max_epochs`` reaches MMA's bases); a name the model does not
    have is ignored (``max_epochs`` of EASE).
    """
    model = get_model_spec(name).factory(random_state=random_state, verbose=verbose)
    names = model.get_params(deep=True)
    return clone(model).set_params(**{
        target: value for key, value in params.items()
        for target in names if target == key or target.endswith(f"__{key}")
    })


def evaluate_model(
    name: str, X_train, X_test, X_valid=None, *, random_state: int, verbose: int,
    dataset: str = "ml-100k", **params
) -> dict:
    """Fit one registered model on ``X_train`` and score it on ``X_test``'s entries.

    With ``X_valid`` the model early-stops on its entries (``fit(X_train, X_valid=...)``);
    the model's ``ModelSpec.fit_params`` add the fit arguments it needs from ``dataset``.

    Returns
    -------
    record : dict
        ``model``, ``seed``, the task's metrics, ``epochs``, ``seconds_per_epoch``,
        ``fit_seconds``, then ``task``, ``device``, ``params`` (every
        hyper-parameter, JSON-safe) and ``curve`` (:func:`training_curve`).

    Raises
    ------
    KeyboardInterrupt
        When the fit was interrupted (Ctrl-C): the torch models stop training
        and keep their weights, but a partly trained model is no result.
    """
    spec = get_model_spec(name)
    model = build_model(name, random_state=random_state, verbose=verbose, **params)
    fit_params = {}
    if X_valid is not None:  # a pipeline's first step is the one that trains
        prefix = f"{model.steps[0][0]}__" if isinstance(model, Pipeline) else ""
        fit_params[f"{prefix}X_valid"] = X_valid
    if spec.fit_params is not None:
        fit_params.update(spec.fit_params(X_train, dataset))
    start = time.perf_counter()
    model.fit(X_train, **fit_params)
    fit_seconds = time.perf_counter() - start
    trained = _trained_step(model)
    if getattr(trained, "interrupted_", False):
        raise KeyboardInterrupt(f"the fit of {name} (seed {random_state}) was interrupted")
    epochs = int(getattr(trained, "n_epochs_", 1))
    scores = {}
    for metric in TASK_METRICS[spec.task]:  # "neg_rmse" is reported as "rmse", positive
        value = float(get_scorer(metric)(model, X_train, X_test))
        scores[metric.removeprefix("neg_")] = -value if metric.startswith("neg_") else value
    device = getattr(trained, "device_", None)
    return {"model": name, "seed": random_state, **scores, "epochs": epochs,
            "seconds_per_epoch": fit_seconds / epochs, "fit_seconds": fit_seconds,
            "task": spec.task, "device": "cpu" if device is None else str(device),
            "params": json_safe(model.get_params(deep=False)), "curve": training_curve(model)}


def _trained_step(model):
    """The estimator that trained: a pipeline's first step, else the model itself."""
    return model.steps[0][1] if isinstance(model, Pipeline) else model


def training_curve(model) -> dict | None:
    """Per-epoch ``validation`` scores and ``train_loss`` of a fitted torch model, or None.

    ``validation`` is the early-stopping run's score of each epoch
    (``validation_scores_``: RMSE for ratings, NDCG for implicit feedback);
    ``train_loss`` the training loss of each epoch of the net kept (the
    refit's when the model refitted). None for a model without epochs.
    """
    trained = _trained_step(model)
    scores = getattr(trained, "validation_scores_", None)
    if scores is None:
        return None
    try:
        history = trained.history_
    except AttributeError:
        history = []
    losses = [epoch["train_loss"] for epoch in history if "train_loss" in epoch]
    return {"validation": json_safe(list(scores)), "train_loss": json_safe(losses),
            "best_epoch": json_safe(getattr(trained, "best_epoch_", None))}


def json_safe(value):
    """``value`` with only JSON types: estimators as ``{"class", "params"}``, NaN as None.

    Containers are converted item by item, numpy scalars and arrays to Python
    numbers and lists, anything else (a class, a function) to its ``repr``.
    """
    if isinstance(value, BaseEstimator):
        return {"class": type(value).__name__,
                "params": json_safe(value.get_params(deep=False))}
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)
