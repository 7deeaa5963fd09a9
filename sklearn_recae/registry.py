"""The model registry the benchmark command reads: one line per model.

A :class:`ModelSpec` names a model and says how to build it with its defaults;
the item-based ("I-") variants are built as
:class:`~sklearn_recae.compose.ItemBased` meta-estimators, so every registered
model takes a users × items matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sklearn.base import BaseEstimator

__all__ = ["MODELS", "ModelSpec", "get_model_spec"]


@dataclass(frozen=True)
class ModelSpec:
    """How the benchmark builds one model.

    Attributes
    ----------
    name : str
        Command-line name.
    factory : callable
        ``factory(random_state, verbose) -> estimator`` with the model's defaults.
    task : {"explicit", "implicit"}
        Which benchmark task the model belongs to.
    """

    name: str
    factory: Callable[..., BaseEstimator]
    task: str = "explicit"


def _autorec(random_state, verbose):
    from .autoencoder import AutoRec

    return AutoRec(random_state=random_state, verbose=verbose)


def _i_autorec(random_state, verbose):
    from .compose import ItemBased

    return ItemBased(_autorec(random_state, verbose))


def _i_mma(random_state, verbose):
    from .compose import ItemBased
    from .ensemble import MultiMetricAutoRec

    return ItemBased(MultiMetricAutoRec(random_state=random_state, verbose=verbose))


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("i-autorec", _i_autorec),
        ModelSpec("u-autorec", _autorec),
        ModelSpec("mma", _i_mma),
    ]
}


def get_model_spec(name: str) -> ModelSpec:
    """Return the registered :class:`ModelSpec` called ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; choose from {sorted(MODELS)}.") from None
