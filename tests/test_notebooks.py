"""Every notebook in notebooks/ uses only the public API and runs top to bottom (quick mode)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
#: Modules of the package that are not the public API a notebook should teach.
NOT_PUBLIC = ("sklearn_recae.cli", "sklearn_recae.registry", "sklearn_recae.benchmark")


def _code(path: Path) -> ast.Module:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ast.parse("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_only_the_public_api(path):
    offenders = []
    for node in ast.walk(_code(path)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                       else [alias.name for alias in node.names])
            names = [alias.name for alias in node.names]
            for module in modules:
                if module.startswith("sklearn_recae") and (
                        module.startswith(NOT_PUBLIC)
                        or any(part.startswith("_") for part in module.split("."))
                        or any(name.startswith("_") for name in names)):
                    offenders.append(f"import from {module}: {names}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            offenders.append(f"attribute {node.attr}")  # private state, __dict__
    assert offenders == []


def test_the_public_api_check_finds_internals(tmp_path):
    notebook = tmp_path / "bad.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [
        "from sklearn_recae.cli import load_dataset\n", "model.__dict__.update(state)\n"]}]}))
    with pytest.raises(AssertionError, match="sklearn_recae.cli"):
        test_notebook_uses_only_the_public_api(notebook)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("SKLEARN_RECAE_NOTEBOOK_QUICK", "1")
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert any(o.get("data", {}).get("image/png") for c in notebook.cells for o in c.get("outputs", []))
