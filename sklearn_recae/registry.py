"""The model registry the benchmark command reads: one line per model.

A :class:`ModelSpec` names a model and says how to build it with its defaults;
the item-based ("I-") variants are built as
:class:`~sklearn_recae.compose.ItemBased` meta-estimators, so every registered
model takes a users × items matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import scipy.sparse as sp
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
    fit_params : callable, default=None
        ``fit_params(X_train, dataset) -> dict``: extra keyword arguments of
        ``fit`` (side information of the dataset called ``dataset``, the
        interactions a pipeline's last step needs), or None for none.
    """

    name: str
    factory: Callable[..., BaseEstimator]
    task: str = "explicit"
    fit_params: Callable[[sp.csr_matrix, str], dict] | None = None


def _autorec(random_state, verbose):
    from .autoencoder import AutoRec

    return AutoRec(random_state=random_state, verbose=verbose)


def _i_autorec(random_state, verbose):
    from .compose import ItemBased

    return ItemBased(_autorec(random_state, verbose))


def _deeprec(random_state, verbose):
    from .autoencoder import DeepRec
    from .compose import ItemBased

    return ItemBased(DeepRec(random_state=random_state, verbose=verbose))


def _i_mma(random_state, verbose):
    from .compose import ItemBased
    from .ensemble import MultiMetricAutoRec

    return ItemBased(MultiMetricAutoRec(random_state=random_state, verbose=verbose))


def _implicit(factory_name: str, **params):
    """A factory of an implicit-feedback model with ``params`` over its defaults."""

    def factory(random_state, verbose):
        from . import autoencoder, linear

        family = autoencoder if hasattr(autoencoder, factory_name) else linear
        estimator = getattr(family, factory_name)(**params)
        seeded = {"random_state": random_state, "verbose": verbose}
        return estimator.set_params(**{k: v for k, v in seeded.items()
                                       if k in estimator.get_params()})

    return factory


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("i-autorec", _i_autorec),
        ModelSpec("u-autorec", _autorec),
        ModelSpec("mma", _i_mma),
        ModelSpec("deeprec", _deeprec),
        ModelSpec("popularity", _implicit("PopularityRecommender"), task="implicit"),
        ModelSpec("ease", _implicit("EASE"), task="implicit"),
        ModelSpec("mil-lin-sig", _implicit("DenoisingAutoEncoder", loss="mil",
                                           activation="lin-sig"), task="implicit"),
        ModelSpec("mil-sig-sig", _implicit("DenoisingAutoEncoder", loss="mil",
                                           activation="sig-sig"), task="implicit"),
        ModelSpec("ce", _implicit("DenoisingAutoEncoder", loss="ce"), task="implicit"),
        ModelSpec("ce-pair", _implicit("DenoisingAutoEncoder", loss="ce_pair"), task="implicit"),
        ModelSpec("mult-dae", _implicit("MultDAE"), task="implicit"),
        ModelSpec("cdae", _implicit("CDAE"), task="implicit"),
        ModelSpec("multvae", _implicit("MultVAE"), task="implicit"),
        ModelSpec("recvae", _implicit("RecVAE"), task="implicit"),
    ]
}


def get_model_spec(name: str) -> ModelSpec:
    """Return the registered :class:`ModelSpec` called ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; choose from {sorted(MODELS)}.") from None
