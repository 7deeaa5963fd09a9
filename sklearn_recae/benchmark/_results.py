"""What a benchmark run writes as it goes: one record per finished model, flushed at once.

A run's folder holds ``results.jsonl`` (a ``run`` record with the settings,
versions, device and commit, then one ``result`` record per model and seed),
``results.csv`` (one row per model and seed: the table's columns) and
``results.json`` (the settings and every result so far, rewritten after each
model). Every file is complete after each model, so an interrupted run keeps
what finished.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

__all__ = ["ResultsWriter", "run_metadata"]

#: The packages whose versions a run records.
PACKAGES = ("sklearn-recae", "torch", "scikit-learn", "skorch", "numpy", "scipy")


def run_metadata(settings: dict) -> dict:
    """The record of a run: ``settings`` plus versions, hardware, threads, commit and start time.

    ``hardware`` is the accelerator ``device="auto"`` picks (CUDA's name and
    count) or the CPU; each result records the device its model trained on.
    """
    import torch

    return {
        **settings,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), **_versions()},
        "platform": platform.platform(),
        "hardware": _hardware(torch),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "git": _git_state(),
    }


def _versions() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    if found["sklearn-recae"] is None:  # a checkout on the path, not installed
        from .. import __version__

        found["sklearn-recae"] = __version__
    return found


def _hardware(torch) -> dict:
    """The accelerator ``device="auto"`` picks, or the CPU."""
    if torch.cuda.is_available():
        return {"auto": "cuda", "name": torch.cuda.get_device_name(0),
                "count": torch.cuda.device_count()}
    return {"auto": "cpu", "name": platform.processor() or platform.machine(),
            "count": os.cpu_count()}


def _git_state() -> dict | None:
    """The commit of the package's checkout and whether it has changes; None outside git."""
    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


class ResultsWriter:
    """Write a run's records into ``folder`` as they come (see the module docstring).

    Parameters
    ----------
    folder : path
        Created if missing; the three files in it are replaced.
    run : dict
        The run record (:func:`run_metadata`).
    columns : list of str
        The CSV's columns, in order: keys of each result record.
    """

    def __init__(self, folder: Path, run: dict, columns: list[str]) -> None:
        self.folder = Path(folder)
        self.run = run
        self.columns = list(columns)
        self.records: list[dict] = []
        self.folder.mkdir(parents=True, exist_ok=True)
        self.jsonl_path = self.folder / "results.jsonl"
        self.csv_path = self.folder / "results.csv"
        self.json_path = self.folder / "results.json"
        self.jsonl_path.write_text(_json_line({"record": "run", **run}))
        with self.csv_path.open("w", newline="") as f:
            csv.writer(f).writerow(self.columns)
        self._write_json()

    @property
    def paths(self) -> list[Path]:
        """The three files written."""
        return [self.jsonl_path, self.csv_path, self.json_path]

    def add(self, record: dict) -> None:
        """Append one result record to every file (each closed, so flushed, on return)."""
        self.records.append(record)
        with self.jsonl_path.open("a") as f:
            f.write(_json_line({"record": "result", **record}))
        with self.csv_path.open("a", newline="") as f:
            csv.writer(f).writerow([record.get(column) for column in self.columns])
        self._write_json()

    def _write_json(self) -> None:
        """Replace ``results.json`` whole (a temporary file renamed: never half written)."""
        partial = self.json_path.with_suffix(".json.tmp")
        partial.write_text(json.dumps({"settings": self.run, "results": self.records}, indent=2))
        os.replace(partial, self.json_path)


def _json_line(record: dict) -> str:
    return json.dumps(record, allow_nan=False) + "\n"
