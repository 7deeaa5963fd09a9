"""skorch callbacks of the package and the factories that assemble them.

- :class:`ErrorSumScoring` records an exact validation metric per epoch from
  per-batch sums (RMSE, NDCG); :func:`rmse_scoring` / :func:`ndcg_scoring`
  and the matching ``error_sums`` functions;
- :class:`RaiseOnDivergence` stops a diverging run;
- :class:`KLAnnealing` raises the KL weight of the VAEs;
- :class:`MaxNormClipping` bounds each item's weights (eq. 14 of the MIL paper);
- :class:`FitProgress` / :func:`add_fit_progress`: what ``verbose=1`` shows of
  a training phase (a progress bar over the epochs with the validation metric
  and the best so far; plain lines when stdout is not a terminal);
- :func:`make_callbacks`: divergence guard, early stopping, and at
  ``verbose >= 2`` skorch's per-batch progress bar (terminals only).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable

import torch
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping, ProgressBar
from tqdm import tqdm
from skorch.dataset import get_len

from ..losses import MaxNorm

__all__ = [
    "Callback",
    "ErrorSumScoring",
    "FitProgress",
    "GradientNormClipping",
    "KLAnnealing",
    "MaxNormClipping",
    "RaiseOnDivergence",
    "add_fit_progress",
    "clipped_error_sums",
    "make_callbacks",
    "ndcg_error_sums",
    "ndcg_scoring",
    "print_table",
    "rmse_from_sums",
    "rmse_scoring",
    "weight_norm",
]


def weight_norm(module: torch.nn.Module) -> float:
    """L2 norm of all the parameters of ``module`` together."""
    with torch.no_grad():
        return float(torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p) for p in module.parameters()])
        ))


class ErrorSumScoring(Callback):
    """Record ``name = reduce(Σ numerator, Σ denominator)`` over an epoch's validation batches.

    With ``reduce=lambda s, n: sqrt(s / n)`` over squared-error sums this is the
    exact RMSE over every validation entry.
    """

    def __init__(self, name: str, numerator: str, denominator: str, reduce: Callable) -> None:
        self.name = name
        self.numerator = numerator
        self.denominator = denominator
        self.reduce = reduce

    def on_epoch_end(self, net, **kwargs) -> None:
        batches = net.history[-1, "batches"]
        num = sum(b[self.numerator] for b in batches if self.numerator in b)
        den = sum(b[self.denominator] for b in batches if self.denominator in b)
        if den:
            net.history.record(self.name, self.reduce(num, den))


class RaiseOnDivergence(Callback):
    """Stop training with ``FloatingPointError`` when the training loss is NaN, inf or explodes.

    A batch loss that is not finite stops training at once. Explosion is a
    finite loss that grew out of all proportion: an epoch whose mean training
    loss per row exceeds ``factor`` times the loss per row of the very first
    batch (the untrained network's) stops training too, and so does an epoch
    that ends with the weights' norm over ``factor`` times its initial value
    (a bounded loss, e.g. of sigmoid outputs, saturates instead of exploding). A learning rate far
    too large typically sends the loss from ~1e2 to ~1e16 in a few steps while
    clipped predictions hide it from the validation score.

    Parameters
    ----------
    factor : float, default=1e4
        Growth of the per-row training loss over the untrained network's that
        counts as divergence.
    """

    def __init__(self, factor: float = 1e4) -> None:
        self.factor = factor

    def on_train_begin(self, net, **kwargs) -> None:
        self.initial_loss_ = None
        self.initial_weight_norm_ = weight_norm(net.module_)

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs) -> None:
        if not training:
            return
        # the loss skorch has just recorded (it copied it to the host once already): reading the
        # history adds no device synchronisation to the training loop
        batches = net.history[-1].get("batches") or [{}]
        value = batches[-1].get("train_loss")
        if value is None:  # a net that records no per-batch train_loss
            value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if not math.isfinite(value):
            raise FloatingPointError(
                f"Training loss became {value} in epoch {len(net.history)}; "
                "lower the learning rate or the penalty strength, or check the input scale."
            )
        if self.initial_loss_ is None:
            self.initial_loss_ = abs(value) / max(get_len(batch[0]), 1)

    def on_epoch_end(self, net, **kwargs) -> None:
        batches = [b for b in net.history[-1, "batches"] if "train_loss" in b]
        rows = sum(b["train_batch_size"] for b in batches)
        if not rows or self.initial_loss_ is None:
            return
        # the batch losses over the rows, as for the first batch (whatever the loss's reduction)
        per_row = sum(b["train_loss"] for b in batches) / rows
        norm = weight_norm(net.module_)
        net.history.record("weight_norm", norm)  # logged: the one read-back of the epoch
        if norm > self.factor * max(self.initial_weight_norm_, 1e-12):
            raise FloatingPointError(
                f"Training diverged: in epoch {len(net.history)} the norm of the weights "
                f"reached {norm:.3g}, over {self.factor:g} times their initial "
                f"{self.initial_weight_norm_:.3g} (a bounded loss hides this). Lower the "
                "learning rate (lr)."
            )
        # a per-row loss of 0 at the first batch (e.g. a multinomial over one item, before a
        # KL term is annealed in) is no scale: losses below factor * 1e-3 never count
        limit = self.factor * max(self.initial_loss_, 1e-3)
        if per_row > limit:
            raise FloatingPointError(
                f"Training diverged: in epoch {len(net.history)} the training loss per row "
                f"reached {per_row:.3g}, over {self.factor:g} times the untrained network's "
                f"{self.initial_loss_:.3g}. Lower the learning rate (lr) or the penalty "
                "strength, or check the input scale."
            )


def rmse_scoring() -> tuple[str, ErrorSumScoring]:
    """The callback recording ``valid_rmse``, the RMSE over every validation entry of an epoch."""
    return "valid_rmse", ErrorSumScoring("valid_rmse", "valid_sse", "valid_count", rmse_from_sums)


def clipped_error_sums(y_pred, y_true, X, low: float | None, high: float | None) -> dict:
    """``error_sums`` of the rating models: squared-error sums of ``y_pred`` clipped to ``[low, high]``."""
    from ..losses import masked_squared_error_sums

    if low is not None:
        y_pred = y_pred.clamp(low, high)
    sse, count = masked_squared_error_sums(y_pred, y_true)
    return {"valid_sse": sse, "valid_count": count}


def ndcg_scoring() -> tuple[str, ErrorSumScoring]:
    """The callback recording ``valid_ndcg``, the mean NDCG@k of an epoch's validation rows."""
    return "valid_ndcg", ErrorSumScoring("valid_ndcg", "valid_ndcg_sum", "valid_ndcg_count",
                                         _mean_from_sums)


def ndcg_error_sums(y_pred, y_true, X, k: int) -> dict:
    """``error_sums`` of the implicit models: per-batch NDCG@k sums for :func:`ndcg_scoring`."""
    from ..nn.ranking import ndcg_sums

    sums = ndcg_sums(y_pred, y_true, X, k)
    return {"valid_ndcg_sum": sums["ndcg_sum"], "valid_ndcg_count": sums["ndcg_count"]}


def _mean_from_sums(total: float, count: float) -> float:
    return total / count


def rmse_from_sums(sse: float, count: float) -> float:
    """``sqrt(sse / count)``: the reduce function of the validation RMSE."""
    return math.sqrt(sse / count)


def make_callbacks(
    *, monitor: str | None, patience: int, verbose: int, tol: float = 1e-4,
    lower_is_better: bool = True,
) -> list[tuple[str, Callback]]:
    """The callbacks every estimator uses: divergence guard, early stopping, progress bar."""
    callbacks: list[tuple[str, Callback]] = [("divergence_guard", RaiseOnDivergence())]
    if monitor is not None:
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    patience=patience,
                    threshold=tol,
                    threshold_mode="rel",
                    lower_is_better=lower_is_better,
                    load_best=True,
                    sink=print_table if verbose > 1 else _silent,
                ),
            )
        )
    if verbose > 1 and _stdout_is_a_terminal():
        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks


def _silent(*args, **kwargs) -> None:
    """A sink that prints nothing."""


_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _stdout_is_a_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def print_table(text: str) -> None:
    """Print a line of skorch's epoch table (``verbose >= 2``), without colour codes unless on a terminal."""
    print(text if _stdout_is_a_terminal() else _ANSI_ESCAPE.sub("", text), flush=True)


class FitProgress(Callback):
    """Show the epochs of one training phase: a progress bar, or plain lines when piped.

    At the start the phase's ``title`` is printed; then, on a terminal, a tqdm
    bar over ``max_epochs`` with the epoch, the validation ``metric`` and the
    best value so far (the early-stopping callback's best epoch when there is
    one), or, when stdout is not a terminal (a log file, a notebook, a
    captured stream), one plain line per epoch with the same numbers and no
    colour codes. At the end one line says how the phase ended (stopped
    early, all epochs run, or interrupted) and which epoch is kept.
    With ``per_epoch=False`` (``verbose >= 2``, when skorch's table shows the
    epochs) only the title and the final line are printed.

    Parameters
    ----------
    name : str
        The estimator's name, at the start of the title and the final line.
    phase : str
        Short name of the phase (``"validation run"``, ``"refit"``): the bar's label.
    title : str
        What the phase does, printed at the start after ``name``.
    metric : str or None
        History key of the validation metric; None shows the training loss.
    lower_is_better : bool, default=True
    per_epoch : bool, default=True
    """

    def __init__(self, name: str, phase: str, title: str, metric: str | None,
                 lower_is_better: bool = True, per_epoch: bool = True) -> None:
        self.name = name
        self.phase = phase
        self.title = title
        self.metric = metric
        self.lower_is_better = lower_is_better
        self.per_epoch = per_epoch

    def on_train_begin(self, net, **kwargs) -> None:
        self.n_shown_ = 0
        self._bar = None
        print(f"{self.name}: {self.title}", flush=True)
        if self.per_epoch and _stdout_is_a_terminal():
            self._bar = tqdm(total=net.max_epochs, desc=self.phase, unit="epoch",
                             file=sys.stdout, dynamic_ncols=True, leave=True)

    def on_epoch_end(self, net, **kwargs) -> None:
        self._show_new_epochs(net)

    def on_train_end(self, net, **kwargs) -> None:
        self._show_new_epochs(net)  # the last epoch, when early stopping raised before us
        if self._bar is not None:
            self._bar.close()
        self._bar = None  # not pickled with the fitted net
        print(self._summary(net), flush=True)

    def _completed(self, net) -> list:
        return [epoch for epoch in net.history if "train_loss" in epoch]

    def _best(self, net) -> tuple[int, float] | None:
        """``(epoch, value)`` of the best validation score so far, or None."""
        if self.metric is None:
            return None
        scored = [(e["epoch"], e[self.metric]) for e in self._completed(net) if self.metric in e]
        if not scored:
            return None
        early_stopping = dict(net.callbacks_).get("early_stopping")
        if early_stopping is not None and early_stopping.best_epoch_ >= 1:
            return next((item for item in scored if item[0] == early_stopping.best_epoch_),
                        scored[-1])
        pick = min if self.lower_is_better else max
        return pick(scored, key=lambda item: item[1])

    def _show_new_epochs(self, net) -> None:
        completed = self._completed(net)
        for epoch in completed[self.n_shown_:]:
            text = self._epoch_text(net, epoch)
            if self._bar is not None:
                self._bar.set_postfix_str(text, refresh=False)
                self._bar.update(1)
            elif self.per_epoch:
                print(f"  {self.phase} epoch {epoch['epoch']}/{net.max_epochs}  {text}",
                      flush=True)
        self.n_shown_ = len(completed)

    def _epoch_text(self, net, epoch: dict) -> str:
        if self.metric is None or self.metric not in epoch:
            return f"train_loss {epoch['train_loss']:.4g}  {epoch.get('dur', 0.0):.2f}s"
        best_epoch, best = self._best(net)
        return (f"{self.metric} {epoch[self.metric]:.4f}  best {best:.4f} (epoch {best_epoch})"
                f"  {epoch.get('dur', 0.0):.2f}s")

    def _summary(self, net) -> str:
        n_epochs = len(self._completed(net))
        if getattr(net, "interrupted_", False):
            ended = f"interrupted after {_epochs(n_epochs)} complete"
        elif n_epochs < net.max_epochs:
            patience = getattr(dict(net.callbacks_).get("early_stopping"), "patience", None)
            ended = f"stopped early after {_epochs(n_epochs)}" + (
                f" (no gain in {patience})" if patience is not None else "")
        else:
            ended = f"done, {_epochs(n_epochs)}"
        best = self._best(net)
        if best is None:
            return f"{self.name}: {self.phase} {ended}."
        return (f"{self.name}: {self.phase} {ended}; best {self.metric} {best[1]:.4f} at "
                f"epoch {best[0]}.")


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def add_fit_progress(net, *, verbose: int, name: str, phase: str, title: str,
                     metric: str | None, lower_is_better: bool = True) -> None:
    """Add a :class:`FitProgress` to the callbacks of the unfitted ``net`` when ``verbose >= 1``.

    At ``verbose >= 2`` skorch's epoch table (``net.verbose``) shows the epochs
    and the callback prints only the phase's title and ending.
    """
    if verbose < 1:
        return
    progress = FitProgress(name, phase, title, metric, lower_is_better, per_epoch=verbose < 2)
    net.callbacks = [*(net.callbacks or []), ("fit_progress", progress)]


class KLAnnealing(Callback):
    """Set ``net.kl_weight_ = beta_max · min(1, t / total_steps)`` before training step ``t``.

    ``t`` counts the gradient steps from 0 since the start of training;
    ``total_steps=0`` uses ``beta_max`` from the first step. The weight of an
    epoch's last step is recorded in the history as ``kl_weight``.

    Parameters
    ----------
    beta_max : float
    total_steps : int
    """

    def __init__(self, beta_max: float, total_steps: int) -> None:
        self.beta_max = beta_max
        self.total_steps = total_steps

    def beta(self, step: int) -> float:
        """The KL weight of gradient step ``step`` (0-based)."""
        if self.total_steps == 0:
            return self.beta_max
        return self.beta_max * min(1.0, step / self.total_steps)

    def on_train_begin(self, net, **kwargs) -> None:
        self.n_steps_ = 0

    def on_batch_begin(self, net, training=False, **kwargs) -> None:
        if training:
            net.kl_weight_ = self.beta(self.n_steps_)

    def on_batch_end(self, net, training=False, **kwargs) -> None:
        if training:
            self.n_steps_ += 1

    def on_epoch_end(self, net, **kwargs) -> None:
        net.history.record("kl_weight", float(net.kl_weight_))


class MaxNormClipping(Callback):
    """Eq. 14 of the MIL paper after every training step: bound each item's weights.

    Each item's encoder column (first layer) is clipped to an L2 norm of
    ``encoder_alpha * sqrt(n_hidden)`` and its decoder row (last layer) to
    ``decoder_alpha * sqrt(n_hidden)``; None leaves that side free.
    """

    def __init__(self, encoder_alpha: float | None, decoder_alpha: float | None) -> None:
        self.encoder_alpha = encoder_alpha
        self.decoder_alpha = decoder_alpha

    def on_batch_end(self, net, training=False, **kwargs) -> None:
        if not training:
            return
        layers = net.module_.linear_layers()
        with torch.no_grad():
            if self.encoder_alpha is not None:  # (n_hidden, n_items): item columns
                MaxNorm(self.encoder_alpha, dim=0)(layers[0].weight)
            if self.decoder_alpha is not None:  # (n_items, n_hidden): item rows
                MaxNorm(self.decoder_alpha, dim=1)(layers[-1].weight)
