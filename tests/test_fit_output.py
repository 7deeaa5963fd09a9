"""What ``fit`` prints at each ``verbose`` level, and ``device_``, for every torch estimator."""

from __future__ import annotations

import io
import sys
import warnings

import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from sklearn_recae.autoencoder import AutoRec
from sklearn_recae.datasets import make_interactions
from sklearn_recae.ensemble._base import BaseEnsemble

from .test_common import ESTIMATORS

# A Pipeline's ``verbose`` is scikit-learn's own (a bool: time each step), not a progress level.
VERBOSE = [est for est in ESTIMATORS if "verbose" in est.get_params() and not isinstance(est, Pipeline)]
IDS = [type(est).__name__ for est in VERBOSE]


@pytest.fixture(scope="module")
def X():
    return make_interactions(40, 20, density=0.3, random_state=0)


def _on_cpu(estimator):
    """A clone with every ``device`` parameter (the bases' too) set to the CPU."""
    estimator = clone(estimator)
    devices = [key for key in estimator.get_params(deep=True) if key.split("__")[-1] == "device"]
    return estimator.set_params(**dict.fromkeys(devices, "cpu"))


def _fit_quietly(estimator, X):
    """Fit, letting warnings (binary input to a rating model, ...) pass: stdout is checked."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X)


def test_every_torch_estimator_takes_verbose():
    names = set(IDS)
    assert {"AutoRec", "MultiMetricAutoRec", "DeepRec", "MultVAE", "RecVAE", "CDAE", "NRP",
            "CML", "MagneticMetricLearning", "DenoisingAutoEncoder", "MultDAE"} <= names


@pytest.mark.parametrize("estimator", VERBOSE, ids=IDS)
def test_verbose_0_prints_nothing(estimator, X, capsys):
    _fit_quietly(_on_cpu(estimator).set_params(verbose=0), X)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("estimator", VERBOSE, ids=IDS)
def test_verbose_1_names_the_phases_in_plain_text(estimator, X, capsys):
    fitted = _fit_quietly(_on_cpu(estimator).set_params(verbose=1), X)
    out = capsys.readouterr().out
    assert "\x1b[" not in out and "\r" not in out  # stdout is captured: not a terminal
    name = type(fitted).__name__
    if isinstance(fitted, BaseEnsemble):  # bases early-stop on the ensemble's validation part
        bases = [base_name for base_name, _ in fitted.estimators]
        for position, base_name in enumerate(bases, start=1):
            assert f"{name}: base {base_name!r} ({position} of {len(bases)}" in out
        if name == "MultiMetricAutoRec":
            assert out.count("validation run, early stopping on valid_rmse") == len(bases)
        assert "refit" not in out and "weights" in out
        return
    metric = fitted._validation_metric
    whose = "each row's entries" if fitted._per_row_validation else "the entries"
    assert f"{name}: validation run, early stopping on {metric} of 10% of {whose} held out" in out
    refits = fitted.get_params().get("refit", True)
    n_validation_epochs = fitted.n_epochs_ - (fitted.best_epoch_ if refits else 0)
    assert f"validation run epoch {n_validation_epochs}/{fitted.max_epochs}  {metric} " in out
    assert f"best {metric} " in out
    if not refits:  # refit=False by default (CDAE): the early-stopped weights are kept
        assert "refit" not in out
        return
    epochs = f"{fitted.best_epoch_} epoch" + ("s" if fitted.best_epoch_ > 1 else "")
    assert f"{name}: refit: {epochs} on all entries (best epoch of the validation run)" in out
    assert f"refit epoch {fitted.best_epoch_}/{fitted.best_epoch_}  train_loss" in out
    assert out.index("validation run") < out.index("refit:")


@pytest.mark.parametrize("estimator", VERBOSE, ids=IDS)
def test_device_is_a_fitted_attribute(estimator, X):
    fitted = _fit_quietly(_on_cpu(estimator), X)
    if isinstance(fitted, BaseEnsemble):  # the device its bases trained on, if any did
        trained = [base.device_ for base in fitted.estimators_ if hasattr(base, "device_")]
        assert fitted.device_ == (trained[0] if trained else None)
        return
    assert fitted.device_ == torch.device("cpu")


def test_early_stop_and_best_so_far_are_reported(X, capsys):
    est = AutoRec(hidden_units=(8,), max_epochs=30, n_iter_no_change=2, lr=0.3, device="cpu",
                  random_state=0, verbose=1).fit(X)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "validation run epoch" in line]
    scores = est.validation_scores_
    assert len(lines) == len(scores) < 30
    best_epoch = int(scores[:3].argmin()) + 1
    assert f"best {scores[:3].min():.4f} (epoch {best_epoch})" in lines[2]
    assert (f"validation run stopped early after {len(scores)} epochs (no gain in 2); "
            f"best valid_rmse {scores[est.best_epoch_ - 1]:.4f} at epoch {est.best_epoch_}") in out


def test_no_validation_part_is_one_training_phase(X, capsys):
    AutoRec(hidden_units=(8,), max_epochs=3, early_stopping=False, device="cpu",
            random_state=0, verbose=1).fit(X)
    out = capsys.readouterr().out
    assert "AutoRec: training 3 epochs, no validation part" in out
    assert "training epoch 3/3  train_loss" in out and "refit" not in out


def test_verbose_2_adds_the_epoch_table_without_colour_codes(X, capsys):
    AutoRec(hidden_units=(8,), max_epochs=2, device="cpu", random_state=0, verbose=2).fit(X)
    out = capsys.readouterr().out
    assert "valid_rmse" in out and "weight_norm" in out and "-------" in out  # the table
    assert "refit: " in out and "\x1b[" not in out
    assert "validation run epoch" not in out  # the table replaces the per-epoch lines


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_progress_bar_per_phase(X, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    est = AutoRec(hidden_units=(8,), max_epochs=3, device="cpu", random_state=0, verbose=1)
    est.fit(X)
    out = terminal.getvalue()
    assert "\rvalidation run:" in out and "\rrefit:" in out  # tqdm redraws its line
    assert "3/3 [" in out and "valid_rmse" in out
    assert "validation run epoch" not in out  # no plain lines on a terminal
    assert "refit: 3 epochs on all entries" in out
