"""Hyper-parameter search over a ``dask.distributed`` cluster through joblib's dask backend.

Nothing here is specific to this package: ``GridSearchCV`` dispatches its fits
with joblib, and ``joblib.parallel_backend("dask")`` sends them to the workers
of the active ``distributed.Client``. The tests check that a search over a
2-worker ``LocalCluster`` (separate processes, as on a real cluster) runs its
fits on the workers and finds what ``n_jobs=1`` finds, for a closed-form model
(EASE) and a seeded torch model (AutoRec).
"""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.datasets import make_interactions
from sklearn_recae.linear import EASE
from sklearn_recae.metrics import get_scorer

distributed = pytest.importorskip("distributed", reason="needs the [dask] extra")


@pytest.fixture(scope="module")
def client():
    """A client of a 2-process, 1-thread-per-worker ``LocalCluster`` (one per module)."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def _searches():
    """(search, X) pairs: an EASE ``l2`` grid and a seeded tiny AutoRec grid."""
    X_implicit = make_interactions(120, 40, density=0.2, implicit=True, random_state=0)
    X_ratings = make_interactions(120, 40, density=0.2, random_state=0)
    ease = GridSearchCV(
        EASE(), {"l2": [1.0, 30.0, 300.0]}, cv=KFold(3), scoring=get_scorer("ndcg@10")
    )
    autorec = GridSearchCV(
        AutoRec(max_epochs=3, early_stopping=False, device="cpu", random_state=0),
        {"hidden_units": [(4,), (16,)], "alpha": [1.0, 100.0]},
        cv=KFold(2),
        scoring=get_scorer("neg_rmse"),
    )
    return [(ease, X_implicit), (autorec, X_ratings)]


@pytest.mark.parametrize("index", [0, 1], ids=["ease", "autorec"])
def test_dask_grid_search_matches_serial(client, index):
    search, X = _searches()[index]
    serial = search.set_params(n_jobs=1).fit(X)
    serial_scores = serial.cv_results_["split0_test_score"].copy()
    serial_best = dict(serial.best_params_)

    distributed_search = _searches()[index][0].set_params(n_jobs=-1)
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        distributed_search.fit(X)

    assert stream.data, "no task ran on the dask workers"
    workers = {task["worker"] for task in stream.data}
    assert workers <= set(client.scheduler_info()["workers"])
    assert distributed_search.best_params_ == serial_best
    np.testing.assert_allclose(
        distributed_search.cv_results_["split0_test_score"], serial_scores, rtol=1e-6
    )
    np.testing.assert_allclose(
        distributed_search.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
        rtol=1e-6,
    )
    # the refitted best model predicts like the serial one
    np.testing.assert_allclose(
        distributed_search.predict(X[:5]), serial.predict(X[:5]), rtol=1e-5, atol=1e-6
    )
