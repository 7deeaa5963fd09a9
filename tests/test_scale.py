"""The ML-20M-shaped data generator and a smoke run of ``benchmarks/scale_ml20m.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_recae.datasets import make_power_law_interactions

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "scale_ml20m.py"


def test_power_law_interactions_shape_counts_and_popularity():
    X = make_power_law_interactions(2000, 1000, 60_000, min_per_row=10, random_state=0)
    X.check_format(full_check=True)
    assert X.shape == (2000, 1000) and X.nnz == 60_000 and X.has_canonical_format
    counts = X.getnnz(axis=1)
    assert counts.min() >= 10 and counts.max() <= 500  # at most n_items // 2
    assert np.all(X.data == 1.0) and X.dtype == np.float32
    popularity = np.sort(X.getnnz(axis=0))[::-1]
    # power law: the top 1% of the items hold far more than 1% of the entries
    assert popularity[:10].sum() > 0.1 * X.nnz
    # heavy rows exist (log-normal activity) and still have distinct items
    assert counts.max() > 5 * np.median(counts)


def test_power_law_interactions_seeded():
    a = make_power_law_interactions(300, 200, 6000, random_state=1)
    b = make_power_law_interactions(300, 200, 6000, random_state=1)
    c = make_power_law_interactions(300, 200, 6000, random_state=2)
    assert (a != b).nnz == 0 and (a != c).nnz > 0


def test_power_law_interactions_uniform_popularity_and_errors():
    X = make_power_law_interactions(500, 100, 5000, popularity_exponent=0.0,
                                    activity_sigma=0.0, min_per_row=5, random_state=0)
    assert X.getnnz(axis=0).max() < 3 * X.getnnz(axis=0).mean()
    with pytest.raises(ValueError, match="min_per_row"):
        make_power_law_interactions(10, 20, 100, min_per_row=15)
    with pytest.raises(ValueError, match="does not fit"):
        make_power_law_interactions(10, 20, 1000, min_per_row=2)


def test_scale_benchmark_smoke(tmp_path):
    """A tiny fraction of the rows, three models (EASE refused by a budget below its 2.9 GB).

    At the default ``max_memory_gb=4`` float32 EASE fits ML-20M's 26,744 items
    (minutes of Cholesky inverse): the smoke test gives it 1 GB to check the refusal.
    """
    output = tmp_path / "scale.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(BENCHMARK.parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    subprocess.run(
        [sys.executable, str(BENCHMARK), "--fraction", "0.0005", "--models", "cdae",
         "u-autorec", "ease", "--k", "10", "--ratio", "--ease-max-memory-gb", "1",
         "--output", str(output)],
        check=True, env=env, capture_output=True, timeout=300,
    )
    result = json.loads(output.read_text())
    assert result["fraction"] == 0.0005
    rows = {row["model"]: row for row in result["rows"]}
    n_users = round(138_493 * 0.0005)
    for name in ("cdae", "u-autorec"):
        assert "error" not in rows[name], rows[name]
        assert rows[name]["recommend_shape"] == [n_users, 10]
        assert rows[name]["s_per_epoch"] > 0 and rows[name]["peak_rss_mib"] > 0
    assert rows["u-autorec"]["ratio"] > 0
    assert "max_memory_gb" in rows["ease"]["error"]
