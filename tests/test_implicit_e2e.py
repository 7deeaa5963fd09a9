"""End-to-end ranking quality on the real binarized MovieLens-100K (slow: minutes on 2 cores).

The protocol of ``python -m sklearn_recae benchmark --task implicit --seed 0``
(ratings >= 4, users with >= 5 positives, per-user 80/20 hold-out; each model
early-stops on 10% of each user's training entries, then refits). The bars are
the issues' (NDCG@100 >= 0.43 for EASE and CDAE; >= 0.436 for Mult-VAE;
>= 0.415 for the MIL DAE, issue #21; every autoencoder far above popularity);
the measured values over three seeds are in docs/models/implicit.md.

One model per network family of ``sklearn_recae/nn`` (issue #23: the suite in
minutes): Mult-DAE shares the MIL DAE's ``DenoisingAutoEncoderModule`` and
RecVAE Mult-VAE's ``nn/vae.py`` (RecVAE alone took 5x Mult-VAE's time, a fifth
of the suite's). Their bars (Mult-DAE 0.43, RecVAE 0.439) are checked by
``python -m sklearn_recae benchmark --task implicit --models mult-dae recvae``
(docs/models/implicit.md), or here with ``SKLEARN_RECAE_ALL_E2E=1``.
"""

from __future__ import annotations

import os

import pytest

from sklearn_recae.cli import load_dataset, split_dataset
from sklearn_recae.metrics import get_scorer
from sklearn_recae.registry import get_model_spec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def split():
    X = load_dataset("ml-100k", 0, "implicit")
    X_train, X_test, _ = split_dataset(X, "implicit", 0.2, None, 0)
    return X_train, X_test


def _ndcg(name: str, split) -> float:
    X_train, X_test = split
    model = get_model_spec(name).factory(random_state=0, verbose=0)
    if "device" in model.get_params():
        model.set_params(device="cpu")
    model.fit(X_train)
    return get_scorer("ndcg@100")(model, X_train, X_test)


@pytest.fixture(scope="module")
def popularity_ndcg(split):
    return _ndcg("popularity", split)


#: The same family's second model: run with SKLEARN_RECAE_ALL_E2E=1.
_SAME_FAMILY = pytest.mark.skipif(os.environ.get("SKLEARN_RECAE_ALL_E2E") != "1",
                                  reason="its nn family's e2e runs (set SKLEARN_RECAE_ALL_E2E=1)")


@pytest.mark.parametrize("name, bar", [
    ("ease", 0.43), ("cdae", 0.43), ("multvae", 0.436), ("mil-lin-sig", 0.415),
    pytest.param("mult-dae", 0.43, marks=_SAME_FAMILY),
    pytest.param("recvae", 0.439, marks=_SAME_FAMILY),
])
def test_defaults_reach_the_bar(name, bar, split, popularity_ndcg):
    ndcg = _ndcg(name, split)
    assert ndcg >= bar
    assert ndcg >= 1.5 * popularity_ndcg
