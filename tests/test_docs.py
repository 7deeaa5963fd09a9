"""The documentation builds with Sphinx without a single warning.

CI runs this file with the rest of the suite: ``sphinx-build -W --keep-going``
on a copy of ``docs/`` (so autosummary's generated pages never pile up in the
checkout, and a page removed from the API list leaves no stale stub behind).
Offline and quick: no intersphinx, no notebook execution.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("myst_parser")
    source = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", source, ignore=shutil.ignore_patterns("generated", "_build"))
    shutil.copy(ROOT / "CONTRIBUTING.md", tmp_path)  # docs/contributing.md includes it
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "1", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(source), str(tmp_path / "html")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    html = tmp_path / "html"
    # the API reference is generated from the docstrings, one page per public object
    ease = (html / "generated" / "sklearn_recae.linear.EASE.html").read_text(encoding="utf-8")
    assert "l2" in ease and "Parameters" in ease
    assert (html / "index.html").is_file()
