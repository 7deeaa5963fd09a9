"""Shared fixtures: one autouse seed, small synthetic data."""

from __future__ import annotations

import signal

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seed numpy and torch so no test depends on the order tests run in."""
    np.random.seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture
def python_sigint_handler():
    """Python's own SIGINT handler for the test (it raises ``KeyboardInterrupt``), then the previous.

    The interrupt tests send SIGINT to their own process as Ctrl-C does; a
    handler left by a library in an earlier test (an event loop, a kernel
    client) would swallow it and the test would check nothing.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``gpu`` when CUDA is not available."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
