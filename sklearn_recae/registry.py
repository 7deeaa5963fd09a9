"""The model registry the benchmark command reads: one line per model.

A :class:`ModelSpec` names a model, says how to build it with its defaults and
whether it is fitted on the item × user matrix (the "I-" variants).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sklearn.base import BaseEstimator

__all__ = ["MODELS", "ModelSpec", "get_model_spec"]


@dataclass(frozen=True)
class ModelSpec:
    """How the benchmark builds and orients one model.

    Attributes
    ----------
    name : str
        Command-line name.
    factory : callable
        ``factory(random_state, verbose) -> estimator`` with the model's defaults.
    item_based : bool
        Fit on ``X.T`` (rows = items), as I-AutoRec does.
    task : {"explicit", "implicit"}
        Which benchmark task the model belongs to.
    """

    name: str
    factory: Callable[..., BaseEstimator]
    item_based: bool = False
    task: str = "explicit"


def _autorec(random_state, verbose):
    from .autoencoder import AutoRec

    return AutoRec(random_state=random_state, verbose=verbose)


def _mma(random_state, verbose):
    from .ensemble import MultiMetricAutoRec

    return MultiMetricAutoRec(random_state=random_state, verbose=verbose)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("i-autorec", _autorec, item_based=True),
        ModelSpec("u-autorec", _autorec),
        ModelSpec("mma", _mma, item_based=True),
    ]
}


def get_model_spec(name: str) -> ModelSpec:
    """Return the registered :class:`ModelSpec` called ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; choose from {sorted(MODELS)}.") from None
