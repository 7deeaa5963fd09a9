"""The arithmetic precision of the nets' forward passes: float32, TF32 matmuls or bfloat16 autocast.

One value, the estimators' ``precision`` parameter, read by the nets
(:class:`~sklearn_recae._skorch.net.RecommenderNet`):

- ``"32"``: float32 throughout, nothing touched (the default; bit-identical
  to a net that has no such parameter);
- ``"tf32"``: float32 tensors, but CUDA matmuls and convolutions may use
  TF32 tensor cores (``torch.backends.cuda.matmul.fp32_precision`` and
  ``torch.backends.cudnn.conv.fp32_precision`` set to ``"tf32"``, or the
  legacy ``allow_tf32`` flags on a torch without them), set only while the
  net trains or predicts and restored afterwards, so the caller's global
  settings are left as they were. On a CPU the same as ``"32"``;
- ``"bf16"``: ``torch.autocast(device_type, dtype=torch.bfloat16)`` around
  each forward pass (and the loss inside the module, for the metric models);
  the outputs are cast back to float32 before the loss, so the likelihoods
  (a softmax over every item) are computed in float32. Parameters, gradients
  and the optimizer state stay float32, so no loss scaling is needed.

float16 is left out on purpose: it would need a ``GradScaler`` in every
optimizer step (RecVAE has two optimizers), and bfloat16 serves the same
hardware (Ampere and later) without one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["PRECISIONS", "as_float32", "check_precision", "matmul_scope", "precision_scope",
           "tf32_state"]

#: The values of the estimators' ``precision`` parameter.
PRECISIONS = ("32", "tf32", "bf16")


def _device_type(device) -> str:
    """``"cuda"`` or ``"cpu"`` (or another torch device type) of a device or device string."""
    return torch.device(device).type if device is not None else "cpu"


def check_precision(precision: str, device) -> None:
    """Raise a clear ``ValueError`` for a precision this device cannot run.

    Raises
    ------
    ValueError
        For a value not in :data:`PRECISIONS`, or ``"bf16"`` on a CUDA
        device without bfloat16 support (before Ampere).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is not one of {list(PRECISIONS)}.")
    device_type = _device_type(device)
    if precision == "bf16" and device_type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(
            "precision='bf16' but this CUDA device has no bfloat16 support "
            f"({torch.cuda.get_device_name()}); use precision='32'."
        )


def tf32_state() -> tuple:
    """The CUDA TF32 settings of matmuls and convolutions, as :func:`matmul_scope` sets them.

    ``("fp32_precision", matmul, conv)`` where torch has the per-backend API
    (``torch.backends.cuda.matmul.fp32_precision``; its legacy ``allow_tf32``
    flags cannot be read while it is in use), else ``("allow_tf32", matmul, cudnn)``.
    """
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    if hasattr(matmul, "fp32_precision") and hasattr(cudnn, "conv"):
        return "fp32_precision", matmul.fp32_precision, cudnn.conv.fp32_precision
    return "allow_tf32", matmul.allow_tf32, cudnn.allow_tf32


def _set_tf32_state(state: tuple) -> None:
    api, matmul, conv = state
    if api == "fp32_precision":
        torch.backends.cuda.matmul.fp32_precision = matmul
        torch.backends.cudnn.conv.fp32_precision = conv
    else:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, conv


@contextlib.contextmanager
def matmul_scope(precision: str, device) -> Iterator[None]:
    """Within the block, CUDA float32 matmuls and convolutions use TF32 for ``"tf32"``.

    The global settings (:func:`tf32_state`) are restored on leaving the
    block (even on an error); any other precision, or a non-CUDA device,
    leaves them alone.
    """
    if precision != "tf32" or _device_type(device) != "cuda":
        yield
        return
    saved = tf32_state()
    on = ("tf32", "tf32") if saved[0] == "fp32_precision" else (True, True)
    _set_tf32_state((saved[0], *on))
    try:
        yield
    finally:
        _set_tf32_state(saved)


def precision_scope(precision: str, device) -> contextlib.AbstractContextManager:
    """``torch.autocast`` to bfloat16 on ``device`` for ``"bf16"`` (TF32 flags for ``"tf32"``)."""
    if precision == "bf16":
        return torch.autocast(_device_type(device), dtype=torch.bfloat16)
    return matmul_scope(precision, device)


def as_float32(output):
    """``output`` (a tensor, or a tuple or list of them) with bfloat16/float16 made float32."""
    if isinstance(output, torch.Tensor):
        return output.float() if output.dtype in (torch.bfloat16, torch.float16) else output
    if isinstance(output, (tuple, list)):
        return type(output)(as_float32(part) for part in output)
    return output
