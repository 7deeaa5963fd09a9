"""The skorch glue: the only package (with :mod:`sklearn_recae.accelerate`) that imports skorch.

- :mod:`.data`: CSR row datasets, their collate functions, entry-level splits;
- :mod:`.entries`: NRP's batches of entries;
- :mod:`.callbacks`: validation scoring, divergence guard, KL annealing,
  max-norm clipping, early stopping and progress;
- :mod:`.net`: the skorch nets and the optimizer names;
- :mod:`.precision`: float32, TF32 or bfloat16 forward passes (``precision``).

The estimators import from here and never from skorch itself (a test checks
it), so a change of skorch touches this package alone.
"""

from .callbacks import (
    Callback,
    ErrorSumScoring,
    FitProgress,
    GradientNormClipping,
    KLAnnealing,
    MaxNormClipping,
    RaiseOnDivergence,
    add_fit_progress,
    clipped_error_sums,
    make_callbacks,
    ndcg_error_sums,
    ndcg_scoring,
    print_table,
    rmse_from_sums,
    rmse_scoring,
    weight_norm,
)
from .data import (
    CSRRows,
    EntryHoldoutSplit,
    FixedEntrySplit,
    UserCSRRows,
    collate_csr,
    collate_user_csr,
    csr_to_torch,
    densify,
)
from .entries import EntryBatch, EntryDataset, collate_entries, entry_values
from .precision import PRECISIONS, as_float32, check_precision
from .net import (
    OPTIMIZERS,
    DeepRecNet,
    InterruptibleMixin,
    MetricLearningNet,
    NRPNet,
    RecommenderNet,
    RecVAENet,
    UserRowsNet,
    VAENet,
    resolve_optimizer,
)

__all__ = [
    "OPTIMIZERS",
    "PRECISIONS",
    "CSRRows",
    "Callback",
    "DeepRecNet",
    "EntryBatch",
    "EntryDataset",
    "EntryHoldoutSplit",
    "ErrorSumScoring",
    "FitProgress",
    "FixedEntrySplit",
    "GradientNormClipping",
    "InterruptibleMixin",
    "KLAnnealing",
    "MaxNormClipping",
    "MetricLearningNet",
    "NRPNet",
    "RaiseOnDivergence",
    "RecVAENet",
    "RecommenderNet",
    "UserCSRRows",
    "UserRowsNet",
    "VAENet",
    "add_fit_progress",
    "as_float32",
    "check_precision",
    "clipped_error_sums",
    "collate_csr",
    "collate_entries",
    "collate_user_csr",
    "csr_to_torch",
    "densify",
    "entry_values",
    "make_callbacks",
    "ndcg_error_sums",
    "ndcg_scoring",
    "print_table",
    "resolve_optimizer",
    "rmse_from_sums",
    "rmse_scoring",
    "weight_norm",
]
