"""The command line: ``python -m sklearn_recae benchmark`` (also ``sklearn-recae benchmark``).

The benchmark fits registered models on seeded splits of a dataset
(MovieLens-100K by default), scores each on the held-out entries and reports
as it goes: a line per model (and, with ``-v 1``, the default, per epoch), a
record per finished model appended to ``results.jsonl`` and ``results.csv``
(so an interrupt keeps what finished), then the table over seeds.

- Without ``--task`` or ``--models``: one model per family on both tasks
  (``registry.DEFAULT_RUN``), a few minutes on 2 cores.
- ``--task explicit``: a uniform entry split of the ratings, scored by RMSE and
  MAE. With ``--valid-size`` the split has a validation part too (MMA's
  70/10/20 protocol: ``--test-size 0.2 --valid-size 0.1``): every model
  early-stops on it; otherwise each model holds out its own validation entries.
- ``--task implicit``: ratings >= 4 become 1 and users with fewer than 5
  positives are dropped (``binarize_interactions``); ``--test-size`` of each
  user's entries is held out (per-user hold-out), each model early-stops on
  10% of each user's remaining entries, and the lists are scored by Recall,
  NDCG, MAP, novelty-weighted MAP, coverage and popularity-tail shares.
- ``--models``: the models named, each on its own task (one table and folder per task).

The library side is :mod:`sklearn_recae.benchmark`; ``load_dataset`` and
``split_dataset`` are re-exported here for the scripts that import them from
this module.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .benchmark import (COST_COLUMNS, DATASETS, TASK_METRICS, ResultsWriter, check_matplotlib,
                        evaluate_model, format_table, load_dataset, metric_names, plot_results,
                        run_benchmark, run_metadata, split_dataset, summarize)
from .registry import DEFAULT_RUN, MODELS, TASK_MODELS, get_model_spec

__all__ = ["TASK_METRICS", "evaluate_model", "load_dataset", "main", "models_by_task",
           "run_benchmark", "split_dataset"]

#: Exit status of an interrupted run (128 + SIGINT, as a shell reports Ctrl-C).
INTERRUPTED = 130


def models_by_task(models: Sequence[str] | None, task: str | None) -> dict[str, list]:
    """``{task: models}`` to run.

    No models: the task's documented list (``registry.TASK_MODELS``), or
    without a task either the default run (``registry.DEFAULT_RUN``, both
    tasks). Models without a task: each on its own task, in order of
    appearance. Models and a task: that task (a model of the other task is
    refused when the run starts).
    """
    if models is None:
        chosen = DEFAULT_RUN if task is None else {task: TASK_MODELS[task]}
        return {name: list(names) for name, names in chosen.items()}
    if task is not None:
        return {task: list(models)}
    grouped: dict[str, list] = {}
    for name in models:
        grouped.setdefault(get_model_spec(name).task, []).append(name)
    return grouped


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sklearn_recae`` and the ``sklearn-recae`` script."""
    parser = _parser()
    args = parser.parse_args(argv)
    seeds = _seeds(parser, args)
    if args.plot:
        try:
            check_matplotlib()
        except ImportError as error:
            parser.error(f"argument --plot: {error}")
    # an explicit value always reaches the models (``is not None``: 0 is not "unset")
    overrides = {k: v for k, v in {"max_epochs": args.max_epochs, "device": args.device,
                                   "precision": args.precision}.items() if v is not None}
    tasks = models_by_task(args.models, args.task)
    for task, models in tasks.items():
        wrong = [name for name in models if get_model_spec(name).task != task]
        if wrong:
            parser.error(f"argument --models: {' '.join(wrong)} not {task}-feedback models; "
                         f"--task {task} runs {' '.join(TASK_MODELS[task])}")
    folders = {task: _output_dir(args.output_dir, task, tasks) for task in tasks}
    _prepare_output_dirs(parser, list(folders.values()))
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                if k not in ("seed", "command")}
    settings["seeds"] = seeds
    settings["argv"] = list(sys.argv[1:] if argv is None else argv)
    writer = None
    try:
        for task, models in tasks.items():
            writer = ResultsWriter(folders[task], run_metadata({**settings, "task": task,
                                                                "models": models}),
                                   ["model", "seed", *metric_names(task), *COST_COLUMNS])
            run_benchmark(models, task=task, dataset=args.dataset, test_size=args.test_size,
                          valid_size=args.valid_size, seeds=seeds, verbose=args.verbose,
                          on_result=writer.add, log=_print, **overrides)
            _report(writer, task, args, several_tasks=len(tasks) > 1)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        if writer is not None:
            _report(writer, writer.run["task"], args, several_tasks=len(tasks) > 1)
        print("the results of every model that finished are kept in the files written",
              flush=True)
        return INTERRUPTED
    return 0


def _print(text: str) -> None:
    print(text, flush=True)


def _report(writer: ResultsWriter, task: str, args, *, several_tasks: bool) -> None:
    """Print a task's table over seeds, plot it (``--plot``) and say where the files are."""
    columns = [*metric_names(task), *COST_COLUMNS]
    print(f"\n{task} feedback, {args.dataset}" if several_tasks else "", flush=True)
    if not writer.records:
        print(f"no {task} model finished; {writer.folder} holds the run record only")
        return
    print(format_table(summarize(writer.records, columns), columns))
    paths = list(writer.paths)
    if args.plot:
        paths += plot_results(writer.records, metric_names(task), writer.folder,
                              title=f"{task} feedback, {args.dataset}")
    print(f"\nwrote {', '.join(str(p) for p in paths)}", flush=True)


def _seeds(parser: argparse.ArgumentParser, args) -> list[int]:
    """The seeds to run: ``--seeds``, else ``--seed``; repeated seeds are an error."""
    seeds = args.seeds if args.seeds is not None else [args.seed]
    if len(set(seeds)) != len(seeds):
        parser.error(f"argument --seeds: each seed once, got {seeds}")
    return seeds


def _output_dir(output_dir: Path, task: str, tasks: dict) -> Path:
    """A task's results folder: ``output_dir``, or ``output_dir/<task>`` with several tasks."""
    return output_dir / task if len(tasks) > 1 else output_dir


def _prepare_output_dirs(parser: argparse.ArgumentParser, dirs: Sequence[Path]) -> None:
    """Create each output folder and check it is writable, before any model is fitted.

    A bad ``--output-dir`` (under a regular file, unwritable) exits with an
    argparse error at once instead of a traceback after the whole benchmark ran.
    """
    for folder in dirs:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            reason = error.strerror or str(error)
            parser.error(f"argument --output-dir: cannot write results to {str(folder)!r}: "
                         f"{reason}")


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``minimum`` (``--max-epochs 0`` is an error, not a default)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < minimum:
            what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
        return value

    parse.__name__ = "int"  # argparse names the type in its messages
    return parse


class _DefaultsHelp(argparse.RawDescriptionHelpFormatter):
    """Show ``(default: ...)`` after every option whose help does not say its default itself."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        unset = action.default in (None, argparse.SUPPRESS)
        if "default" in text or unset or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def _listing(runs: dict) -> str:
    return "; ".join(f"{task}: {' '.join(names)}" for task, names in runs.items())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sklearn-recae", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser(
        "benchmark", help="fit and score models on seeded splits, reporting as it goes",
        description=__doc__.split("\n\n", 1)[1].split("\n\nThe library side")[0],
        formatter_class=_DefaultsHelp,
    )
    bench.add_argument("--task", default=None, choices=["explicit", "implicit"],
                       help="ratings scored by RMSE/MAE, or binarized feedback scored by ranking "
                            f"(default: without --models both tasks with {_listing(DEFAULT_RUN)}; "
                            f"with --models each model's own task); alone it runs "
                            f"{_listing(TASK_MODELS)}")
    bench.add_argument("--models", nargs="+", default=None, choices=sorted(MODELS),
                       metavar="MODEL",
                       help=f"registered models, any of: {' '.join(MODELS)} (default: the "
                            "--task's list, or the default run)")
    bench.add_argument("--dataset", default="ml-100k", choices=list(DATASETS),
                       help="'synthetic' runs in seconds without a download")
    bench.add_argument("--test-size", type=float, default=None,
                       help="held-out fraction of the entries (default: 0.1 explicit; 0.2 of "
                            "each user's entries, implicit)")
    bench.add_argument("--valid-size", type=float, default=None,
                       help="explicit task: fraction of the entries every model early-stops on "
                            "(default: none, each model holds out its own from the training part)")
    seeds = bench.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=_int_at_least(0), default=0,
                       help="split and model seed")
    seeds.add_argument("--seeds", type=_int_at_least(0), nargs="+", default=None,
                       help="several seeds: each model on each seed's split, the table gives "
                            "mean ± std (default: --seed's one)")
    bench.add_argument("--max-epochs", type=_int_at_least(1), default=None,
                       help="override every model's max_epochs (default: each model's own)")
    bench.add_argument("--device", default=None,
                       help="override every model's device, e.g. cpu or cuda (default: each "
                            "model's own, 'auto')")
    bench.add_argument("--precision", choices=["32", "tf32", "bf16"], default=None,
                       help="override every torch model's precision: tf32 matmuls (CUDA) or "
                            "bf16 autocast (default: each model's own, '32')")
    bench.add_argument("--output-dir", type=Path, default=Path("benchmark-results"),
                       help="folder of results.jsonl, results.csv, results.json (and the PNGs); "
                            "one sub-folder per task when both run")
    bench.add_argument("--plot", action="store_true",
                       help="also write metrics.png (bars, error bars over the seeds) and "
                            "curves.png (training curves); needs matplotlib, the [plot] extra")
    bench.add_argument("-v", "--verbose", type=_int_at_least(0), default=1,
                       help="0: a line per model; 1: and a line (or bar, on a terminal) per "
                            "epoch; 2: and skorch's epoch table")
    return parser
