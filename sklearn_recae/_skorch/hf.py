"""skorch's Accelerate mixin under the package's nets (public face: :mod:`sklearn_recae.accelerate`).

Imported only by :mod:`sklearn_recae.accelerate`, never by the glue's
``__init__``: skorch's ``hf`` module is needed only by users of the
``[accelerate]`` extra.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from skorch.hf import AccelerateMixin
from skorch.utils import to_tensor

__all__ = ["AcceleratedNetMixin", "accelerated_net", "plain_net", "use_accelerator"]


class AcceleratedNetMixin(AccelerateMixin):
    """skorch's ``AccelerateMixin`` for the package's nets (put it first in the bases).

    Training batches come from the iterator the accelerator prepared, already
    on the process's device; the row blocks of ``predict``/``recommend`` do
    not, so :meth:`infer` moves its input to ``accelerator.device``.
    """

    #: The net class this accelerated class was made from (see :func:`plain_net`).
    plain_class: type

    def infer(self, x, **fit_params):
        return super().infer(to_tensor(x, device=self.accelerator.device), **fit_params)


@functools.cache
def _accelerated_class(net_class: type) -> type:
    """``Accelerated<net_class>``: :class:`AcceleratedNetMixin` over ``net_class``, made once."""
    return type(
        f"Accelerated{net_class.__name__}",
        (AcceleratedNetMixin, net_class),
        {"__module__": __name__, "plain_class": net_class,
         "__doc__": f"``{net_class.__name__}`` trained through an ``accelerate.Accelerator``."},
    )


def _init_params(net) -> dict:
    """The constructor arguments of a skorch net (``get_params`` also lists private state)."""
    return {k: v for k, v in net.get_params(deep=False).items() if not k.startswith("_")}


def accelerated_net(net, accelerator):
    """Return an unfitted copy of the skorch ``net`` that trains through ``accelerator``.

    Parameters
    ----------
    net : skorch.NeuralNet
        A net as an estimator's ``_build_net`` returns it (not yet initialized).
    accelerator : accelerate.Accelerator
        Places the module and the batches (so the copy's ``device`` is None).

    Returns
    -------
    net : skorch.NeuralNet
        An instance of ``Accelerated<type(net).__name__>`` with the same parameters.
    """
    if isinstance(net, AcceleratedNetMixin):
        raise TypeError(f"{type(net).__name__} is already accelerated.")
    params = _init_params(net)
    params.update(device=None, accelerator=accelerator, callbacks__print_log__sink=print)
    return _accelerated_class(type(net))(**params)


def plain_net(net):
    """Return the trained accelerated ``net`` as an initialized net of its plain class.

    The copy has the trained weights and the history, on the accelerator's
    device, and no reference to the accelerator, so it pickles and predicts
    like any fitted net (its optimizer starts afresh: no warm start).
    """
    net._unwrap_accelerator()
    params = {k: v for k, v in _init_params(net).items()
              if k not in {"accelerator", "unwrap_after_train", "callbacks__print_log__sink"}}
    params["device"] = str(net.accelerator.device)
    plain = net.plain_class(**params).initialize()
    for name in (*net._modules, *net._criteria):
        trained = getattr(net, name + "_")
        if hasattr(trained, "state_dict"):
            getattr(plain, name + "_").load_state_dict(trained.state_dict())
    plain.history_ = net.history_
    for attr in ("n_train_rows_", "interrupted_"):
        if hasattr(net, attr):
            setattr(plain, attr, getattr(net, attr))
    return plain


@contextlib.contextmanager
def use_accelerator(estimator, accelerator) -> Iterator:
    """Within the block, ``estimator.fit`` trains its nets through ``accelerator``.

    On leaving the block the fitted ``net_`` is turned back into a plain net
    (:func:`plain_net`): the estimator pickles, predicts and recommends as
    usual, on the accelerator's device. Loading a pickle or joblib file
    (``pickle.load``, ``joblib.load``) runs code stored in it, so load only
    files you trust.

    Parameters
    ----------
    estimator : TorchRecommender
        Any torch estimator of the package (``AutoRec``, ``MultVAE``, ...).
        Its ``device`` parameter is overridden by the accelerator's placement.
    accelerator : accelerate.Accelerator

    Examples
    --------
    >>> from accelerate import Accelerator  # doctest: +SKIP
    >>> model = MultVAE(max_epochs=5, early_stopping=False)  # doctest: +SKIP
    >>> with use_accelerator(model, Accelerator(cpu=True)):  # doctest: +SKIP
    ...     model.fit(X)
    """
    if not hasattr(estimator, "_build_net"):
        raise TypeError(
            f"{type(estimator).__name__} does not train a torch network; use_accelerator "
            "takes the package's torch estimators (AutoRec, MultVAE, ...)."
        )
    build = estimator._build_net

    @functools.wraps(build)
    def build_accelerated(*args, **kwargs):
        return accelerated_net(build(*args, **kwargs), accelerator)

    estimator._build_net = build_accelerated
    try:
        yield estimator
    finally:
        del estimator._build_net
        net = getattr(estimator, "net_", None)
        if isinstance(net, AcceleratedNetMixin):
            estimator.net_ = plain_net(net)
