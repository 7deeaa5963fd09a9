"""The benchmark behind ``python -m sklearn_recae benchmark``, as a library.

:func:`run_benchmark` fits registered models (:mod:`sklearn_recae.registry`)
on seeded splits of a dataset (:func:`load_dataset`, :func:`split_dataset`)
and scores each on its held-out entries (:func:`evaluate_model`);
:class:`ResultsWriter` writes each result as soon as it is done,
:func:`summarize` and :func:`format_table` give the table over seeds and
:func:`plot_results` the figures (matplotlib).
"""

from ._data import DATASETS, describe_split, load_dataset, split_dataset
from ._evaluate import (TASK_METRICS, build_model, evaluate_model, json_safe, metric_names,
                        training_curve)
from ._plot import check_matplotlib, plot_results
from ._report import COST_COLUMNS, format_result, format_table, summarize
from ._results import ResultsWriter, run_metadata
from ._run import run_benchmark

__all__ = [
    "COST_COLUMNS",
    "DATASETS",
    "ResultsWriter",
    "TASK_METRICS",
    "build_model",
    "check_matplotlib",
    "describe_split",
    "evaluate_model",
    "format_result",
    "format_table",
    "json_safe",
    "load_dataset",
    "metric_names",
    "plot_results",
    "run_benchmark",
    "run_metadata",
    "split_dataset",
    "summarize",
    "training_curve",
]
