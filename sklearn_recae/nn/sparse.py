"""A first layer that reads a sparse batch directly, and the input noise it needs, no scikit-learn.

For a wide input (many items) and sparse rows, densifying a batch and
multiplying it by the first weight matrix costs ``batch × n_items × h``;
``torch.sparse.mm`` over the batch's stored entries costs ``nnz × h``. The
functions here take a dense tensor or a sparse COO tensor (coalesced, as
``_skorch.collate_csr`` builds it) and give the same numbers either way:

- :func:`normalize_rows` — ``F.normalize(x, p=2, dim=1)``;
- :func:`dropout_values` — ``F.dropout``; on a sparse tensor it drops stored
  values only (the zeros of a dense row stay zero under dropout anyway);
- :func:`mask_values` — AutoRec's masking noise (drop without rescaling);
- :func:`first_linear` — ``layer(x)``; :func:`item_major_` stores the
  layer's weight item-major, so that the sparse product reads one contiguous
  weight row per stored entry (``nn.Linear``'s ``(out, in)`` layout would
  stride across ``out`` rows: ~10× slower at 26,744 items).

The noise is drawn per stored value, not per dense entry, so in training the
random masks of the two paths differ (same distribution, different draws);
without noise (evaluation mode, or a zero rate) both paths agree to rounding.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["SPARSE_INPUT_MAX_DENSITY", "SPARSE_INPUT_MAX_DENSITY_WIDE", "WIDE_INPUT", "dropout_values", "first_linear", "is_sparse",
           "item_major_", "mask_values", "normalize_rows", "resolve_sparse_input"]

#: ``sparse_input="auto"`` reads batches sparse when at most this share of the entries is
#: stored. Measured (``benchmarks/sparse_first_layer.py``, first layer of 600 units, batch 500,
#: densifying included, one thread): the sparse product wins below a density of ~0.15 at 500
#: items, ~0.13 at 1,682, ~0.10 at 5,000 and ~0.03 at 26,744 items; these thresholds keep a
#: margin below that.
SPARSE_INPUT_MAX_DENSITY = 0.05
#: Above ``WIDE_INPUT`` items the crossover density is lower: this one applies.
SPARSE_INPUT_MAX_DENSITY_WIDE = 0.01
WIDE_INPUT = 10_000
#: On CUDA ``"auto"`` stays dense: on an H200 (``--device cuda``) the dense first layer is
#: 1.3-2.4x faster than the sparse product at every width and density above (the CSR batch is
#: copied and densified on the GPU), and whole Mult-VAE epochs 6-15% faster.


def is_sparse(x: torch.Tensor) -> bool:
    """Whether ``x`` has a sparse layout."""
    return x.layout != torch.strided


def _with_values(x: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """The sparse COO tensor ``x`` with its (coalesced) values replaced."""
    # check_invariants=False explicitly: the indices are those of x (from our canonical CSR),
    # and leaving it implicit makes torch warn "Sparse invariant checks are implicitly disabled"
    return torch.sparse_coo_tensor(
        x._indices(), values, x.shape, is_coalesced=True, check_invariants=False
    )


def _coalesced(x: torch.Tensor) -> torch.Tensor:
    if x.layout != torch.sparse_coo:
        raise TypeError(f"sparse input must be a COO tensor, got layout {x.layout}.")
    return x if x.is_coalesced() else x.coalesce()


def normalize_rows(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Each row divided by its L2 norm (at least ``eps``), as ``F.normalize(x, dim=1)``."""
    if not is_sparse(x):
        return F.normalize(x, p=2.0, dim=1, eps=eps)
    x = _coalesced(x)
    rows, values = x._indices()[0], x._values()
    squares = torch.zeros(x.shape[0], dtype=values.dtype, device=values.device)
    norms = squares.index_add_(0, rows, values.square()).sqrt().clamp_min(eps)
    return _with_values(x, values / norms[rows])


def dropout_values(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``F.dropout(x, p, training)``; on a sparse tensor, of its stored values."""
    if not is_sparse(x) or not training or p == 0:
        return F.dropout(x, p=p, training=training) if not is_sparse(x) else x
    x = _coalesced(x)
    return _with_values(x, F.dropout(x._values(), p=p, training=True))


def mask_values(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Set each entry to 0 with probability ``p`` in training, without rescaling the others."""
    if not training or p == 0:
        return x
    if not is_sparse(x):
        return x * (torch.rand_like(x) >= p)
    x = _coalesced(x)
    values = x._values()
    return _with_values(x, values * (torch.rand_like(values) >= p))


def first_linear(x: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    """``layer(x)``; for a sparse ``x`` one ``torch.sparse.mm`` over its stored entries.

    The sparse product runs in float32 even under ``torch.autocast``: its
    backward has no mixed-dtype kernel (a float32 sparse input against a
    bfloat16 gradient fails), and a gather-sum of ``nnz × h`` values gains
    little from bfloat16; the layers after it are autocast as usual.
    """
    if not is_sparse(x):
        return layer(x)
    with torch.autocast(x.device.type, enabled=False):
        out = torch.sparse.mm(_coalesced(x).float(), layer.weight.t())
        return out if layer.bias is None else out + layer.bias


def item_major_(layer: nn.Linear) -> nn.Linear:
    """Store ``layer.weight`` transposed in memory (same values, shape and parameter name), in place.

    ``layer.weight.t()`` is then contiguous: :func:`first_linear`'s sparse
    product gathers whole rows of it, and the dense ``F.linear`` runs as fast
    (BLAS reads either layout).
    """
    with torch.no_grad():
        layer.weight = nn.Parameter(layer.weight.t().contiguous().t())
    return layer


def resolve_sparse_input(sparse_input, n_rows: int, n_items: int, nnz: int,
                         device: str | torch.device = "cpu") -> bool:
    """An estimator's ``sparse_input`` (``"auto"`` or bool) as a bool for a matrix and a device.

    ``"auto"``: dense on CUDA; on CPU sparse when at most
    :data:`SPARSE_INPUT_MAX_DENSITY` of the entries are stored
    (:data:`SPARSE_INPUT_MAX_DENSITY_WIDE` above :data:`WIDE_INPUT` items).
    """
    if sparse_input == "auto":
        if torch.device(device).type == "cuda":
            return False
        limit = SPARSE_INPUT_MAX_DENSITY_WIDE if n_items > WIDE_INPUT else SPARSE_INPUT_MAX_DENSITY
        return nnz <= limit * n_rows * n_items
    return bool(sparse_input)
