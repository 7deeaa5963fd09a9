"""Sphinx configuration: autodoc + autosummary + numpydoc, Markdown pages through MyST.

The build is part of the test suite (``tests/test_docs.py`` runs
``sphinx-build -W``), so it stays offline and fast: no intersphinx, no
notebook execution, no gallery, no per-method stub pages.
"""

from __future__ import annotations

import os
import sys

# the checkout (tests/test_docs.py builds a copy of docs/ and sets PYTHONPATH instead)
sys.path.insert(0, os.path.abspath(".."))

project = "sklearn-recae"
author = "sklearn-recae developers"
copyright = "sklearn-recae developers"  # noqa: A001 (Sphinx's name)

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_autosummary_templates"]
templates_path = ["_templates"]

# API reference: one page per public object, generated from the docstrings.
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"          # the numpydoc "Parameters" sections carry the types
# numpydoc: no per-member tables (thousands of stubs for the scikit-learn
# methods every estimator inherits); the class docstring is the page.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# MyST: GitHub-style Markdown (tables, ``$`` maths off), heading anchors for links.
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]

html_theme = "alabaster"
html_title = "sklearn-recae"
html_static_path: list[str] = []
# Offline build: nothing is fetched (no intersphinx), nothing is executed.
