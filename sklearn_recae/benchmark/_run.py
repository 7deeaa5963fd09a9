"""One task of the benchmark: every model on every seed's split, reported as each finishes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..registry import TASK_MODELS, get_model_spec
from ._data import describe_split, load_dataset, split_dataset
from ._evaluate import evaluate_model, metric_names
from ._report import format_result

__all__ = ["run_benchmark"]


def run_benchmark(
    models: Sequence[str] | None = None,
    *,
    task: str = "explicit",
    dataset: str = "ml-100k",
    test_size: float | None = None,
    valid_size: float | None = None,
    seed: int = 0,
    seeds: Sequence[int] | None = None,
    verbose: int = 0,
    on_result: Callable[[dict], None] | None = None,
    log: Callable[[str], None] | None = None,
    **params,
) -> list[dict]:
    """Fit and score each model on each seed's split; return one record per model and seed.

    Parameters
    ----------
    models : sequence of str, default=None
        Registered model names of ``task``; None runs ``registry.TASK_MODELS[task]``.
    task : {"explicit", "implicit"}, default="explicit"
    dataset : {"ml-100k", "synthetic"}, default="ml-100k"
    test_size : float, default=None
        0.1 (explicit entry split) or 0.2 (implicit per-user hold-out) when None.
    valid_size : float, default=None
        Explicit task: a validation part every model early-stops on.
    seed : int, default=0
        The split and model seed, when ``seeds`` is None.
    seeds : sequence of int, default=None
        Several seeds: each model runs on each seed's split (seed-minor order,
        so a model's seeds finish together).
    verbose : int, default=0
        The models' ``verbose`` (1: a line or bar per epoch).
    on_result : callable, default=None
        Called with each record as soon as it is done (a
        :class:`~sklearn_recae.benchmark.ResultsWriter`'s ``add``).
    log : callable, default=None
        Called with a line of text before and after each model (``print``).
    **params
        Overrides of every model's parameter of that name (``max_epochs``, ``device``, ``precision``).

    Returns
    -------
    records : list of dict
        See :func:`~sklearn_recae.benchmark.evaluate_model`; each also has
        ``data``, the shape of its split (:func:`describe_split`).
    """
    models = list(TASK_MODELS[task] if models is None else models)
    wrong = [name for name in models if get_model_spec(name).task != task]
    if wrong:
        raise ValueError(f"{wrong} are not {task}-feedback models; --task {task} runs "
                         f"{list(TASK_MODELS[task])}.")
    seeds = [seed] if seeds is None else list(seeds)
    if test_size is None:
        test_size = 0.1 if task == "explicit" else 0.2
    splits = {}
    for each in seeds:
        splits[each] = split_dataset(load_dataset(dataset, each, task), task, test_size,
                                     valid_size, each)
    say = log or (lambda text: None)
    records, total = [], len(models) * len(seeds)
    for name in models:
        for each in seeds:
            say(f"[{len(records) + 1}/{total}] {task}: {name}, seed {each}")
            record = evaluate_model(name, *splits[each], random_state=each, verbose=verbose,
                                    dataset=dataset, **params)
            record["data"] = describe_split(*splits[each])
            records.append(record)
            say(format_result(record, metric_names(task)[:4]))  # the first four: one line
            if on_result is not None:
                on_result(record)
    return records
