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

__all__ = ["DEFAULT_RUN", "MODELS", "ModelSpec", "TASK_MODELS", "get_model_spec"]


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


def _baseline(random_state, verbose):
    """Global mean + user and item biases (deterministic: no seed, no progress)."""
    from .linear import BaselineRatings

    return BaselineRatings()


def _implicit(factory_name: str, **params):
    """A factory of an implicit-feedback model with ``params`` over its defaults."""

    def factory(random_state, verbose):
        from . import autoencoder, linear, metric_learning

        family = next(module for module in (autoencoder, linear, metric_learning)
                      if hasattr(module, factory_name))
        estimator = getattr(family, factory_name)(**params)
        seeded = {"random_state": random_state, "verbose": verbose}
        return estimator.set_params(**{k: v for k, v in seeded.items()
                                       if k in estimator.get_params()})

    return factory


def _user_knn(random_state, verbose):
    """Cosine user-kNN on the raw interaction rows (deterministic: no seed, no progress)."""
    from .neighbors import KNeighborsRecommender

    return KNeighborsRecommender()


def _multdae_knn(random_state, verbose):
    """User-kNN on Mult-DAE codes: a RecommenderPipeline (its kNN step gets the rows' items)."""
    from .compose import make_recommender_pipeline
    from .neighbors import KNeighborsRecommender

    return make_recommender_pipeline(_implicit("MultDAE")(random_state, verbose), KNeighborsRecommender())


def _mml_paper(**params):
    """MML with the paper's configuration (``MML_PAPER_PARAMS``) and ``params`` over it."""
    from .metric_learning import MML_PAPER_PARAMS

    return _implicit("MagneticMetricLearning", **{**MML_PAPER_PARAMS, **params})


def _mml_knn(random_state, verbose):
    """User-kNN on MML's user points (Euclidean in the learned user–user metric)."""
    from .compose import make_recommender_pipeline
    from .neighbors import KNeighborsRecommender

    return make_recommender_pipeline(_implicit("MagneticMetricLearning")(random_state, verbose),
                         KNeighborsRecommender(metric="euclidean"))


def _nrp(structure: str):
    """A factory of NRP with its defaults (``"autoencoder"``: NRP-aSDAE, tanh units)."""

    def factory(random_state, verbose):
        from .hybrid import NRP

        return NRP(structure, random_state=random_state, verbose=verbose)

    return factory


def _nrp_side_information(X_train, dataset: str) -> dict:
    """NRP's fit arguments: MovieLens-100K's user and item side information (none otherwise)."""
    if dataset != "ml-100k":
        return {}
    from .datasets import movielens_100k_side_information

    side = movielens_100k_side_information()
    return {"user_features": side.user_features, "item_features": side.item_features}


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("i-autorec", _i_autorec),
        ModelSpec("u-autorec", _autorec),
        ModelSpec("mma", _i_mma),
        ModelSpec("deeprec", _deeprec),
        ModelSpec("baseline", _baseline),
        ModelSpec("nrp", _nrp("direct"), fit_params=_nrp_side_information),
        ModelSpec("nrp-ae", _nrp("autoencoder"), fit_params=_nrp_side_information),
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
        ModelSpec("mml", _implicit("MagneticMetricLearning"), task="implicit"),
        ModelSpec("mml-paper", _mml_paper(), task="implicit"),
        # the MML paper's Table 8 ablations (of its configuration)
        ModelSpec("euc-mml", _mml_paper(metric="euclidean"), task="implicit"),
        ModelSpec("w-mml", _mml_paper(metric="shared"), task="implicit"),
        ModelSpec("m-mml", _mml_paper(adaptive_margin=False), task="implicit"),
        ModelSpec("np-mml", _mml_paper(omega_p=0.0), task="implicit"),
        ModelSpec("nr-mml", _mml_paper(omega_r=0.0), task="implicit"),
        ModelSpec("cml", _implicit("CML"), task="implicit"),
        ModelSpec("mml-knn", _mml_knn, task="implicit"),
        ModelSpec("user-knn", _user_knn, task="implicit"),
        ModelSpec("multdae-knn", _multdae_knn, task="implicit"),
    ]
}

#: What ``benchmark --task T`` runs: the models of the README's tables, in their order.
TASK_MODELS: dict[str, tuple[str, ...]] = {
    "explicit": ("baseline", "i-autorec", "u-autorec", "mma", "deeprec"),
    "implicit": ("popularity", "ease", "mil-lin-sig", "mil-sig-sig", "ce", "ce-pair", "mult-dae",
                 "cdae", "multvae", "recvae"),
}

#: What a plain ``benchmark`` runs: one model per family on both tasks, a few minutes on 2 cores
#: (explicit: the global mean + biases baseline and an autoencoder; implicit: popularity, a
#: linear model, an autoencoder, metric learning and the user-kNN).
DEFAULT_RUN: dict[str, tuple[str, ...]] = {
    "explicit": ("baseline", "i-autorec"),
    "implicit": ("popularity", "ease", "mil-lin-sig", "cml", "user-knn"),
}


def get_model_spec(name: str) -> ModelSpec:
    """Return the registered :class:`ModelSpec` called ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; choose from {sorted(MODELS)}.") from None
