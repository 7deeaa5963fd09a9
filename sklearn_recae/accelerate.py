"""Train any torch estimator of the package through Hugging Face Accelerate (multi-GPU, AMP).

Nothing here is a training loop: skorch's :class:`skorch.hf.AccelerateMixin`
hands the module, the optimizer and the batch iterators to an
``accelerate.Accelerator``, which wraps the module in
``DistributedDataParallel`` when ``accelerate launch`` starts several
processes, shards the batches across them, places them on each process's
device and runs mixed precision if asked. This module only puts that mixin
under the nets the estimators build (:func:`use_accelerator`), and turns the
trained net back into a plain, picklable one afterwards.

The skorch side lives in the glue (:mod:`sklearn_recae._skorch.hf`, imported
only here, so the package never needs ``accelerate`` otherwise); this module
is its public face. ``accelerate`` itself is the ``[accelerate]`` extra.

Recipe (one process per GPU; ``train.py``)::

    from accelerate import Accelerator
    from sklearn_recae.accelerate import use_accelerator
    from sklearn_recae.autoencoder import MultVAE

    model = MultVAE(max_epochs=50, early_stopping=False, random_state=0)
    accelerator = Accelerator()            # Accelerator(cpu=True) on a CPU machine
    with use_accelerator(model, accelerator):
        model.fit(X)                       # data-parallel over the launched processes
    if accelerator.is_main_process:
        joblib.dump(model, "multvae.joblib")   # a plain fitted estimator

    # accelerate launch --multi_gpu --num_processes 4 train.py

With several processes each one validates on its own shard of the held-out
rows, so early stopping could stop them at different epochs: train a fixed
``max_epochs`` with ``early_stopping=False`` there (one process may early-stop
as usual). Every process sees ``1 / num_processes`` of each epoch's rows; the
gradients are averaged, so the effective batch is ``num_processes ×
batch_size``.
"""

from ._skorch.hf import AcceleratedNetMixin, accelerated_net, plain_net, use_accelerator

__all__ = ["AcceleratedNetMixin", "accelerated_net", "plain_net", "use_accelerator"]
