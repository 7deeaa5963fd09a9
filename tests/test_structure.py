"""The package's seams: skorch only in the glue, no import circle, no private cross-family import.

The import graph is read from the source (``ast``), lazy imports inside
functions included: a circle hidden behind a function-level import is still a
circle for the next engineer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_recae"
#: The skorch glue: the only place that imports skorch.
GLUE = "sklearn_recae._skorch"
#: Sub-packages that are model families or tools (each owns its private modules).
FAMILIES = {"autoencoder", "compose", "datasets", "ensemble", "hybrid", "linear",
            "metric_learning", "metrics", "model_selection", "neighbors", "nn",
            "preprocessing", "utils", "_skorch"}
#: Shared floors whose private modules every family may use: the skorch glue and
#: ``utils._sklearn``, the one shim over scikit-learn's private helpers.
SHARED = {"_skorch", "utils"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> list[str]:
    """Every module ``path`` imports (absolute names), lazy imports included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names]  # submodule imports
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {target for target in _imports(name, path) if target in modules and target != name}
        for name, path in modules.items()
    }


def test_only_the_glue_imports_skorch():
    offenders = sorted(
        name for name, path in _modules().items()
        if not (name == GLUE or name.startswith(GLUE + "."))
        and any(m == "skorch" or m.startswith("skorch.") for m in _imports(name, path))
    )
    assert offenders == [], f"modules outside {GLUE} import skorch: {offenders}"
    assert any(m.startswith("skorch") for m in _imports(GLUE + ".net", PACKAGE / "_skorch/net.py"))


def test_nn_modules_do_not_import_scikit_learn():
    offenders = sorted(
        name for name, path in _modules().items() if name.startswith("sklearn_recae.nn")
        and any(m == "sklearn" or m.startswith("sklearn.") for m in _imports(name, path))
    )
    assert offenders == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Edges to a sub-package's ``__init__`` go to the modules it re-exports from.

    ``from ..metrics import get_scorer`` needs ``metrics/_scorer.py``, not every
    module ``metrics/__init__.py`` happens to import; reading it so keeps a
    re-exporting ``__init__`` from making two unrelated modules a circle.
    """
    modules = _modules()
    inits = {name for name, path in modules.items() if path.name == "__init__.py"}
    resolved = {}
    for name, targets in graph.items():
        out = set()
        for target in targets:
            if target in inits and target != "sklearn_recae" and not name.startswith(target + "."):
                out |= {t for t in graph[target] if t.startswith(target + ".")}
            else:
                out.add(target)
        resolved[name] = out - {name}
    return resolved


def test_no_import_circle():
    graph = _without_package_inits(_graph())
    graph.pop("sklearn_recae", None)  # the top-level re-exports
    for targets in graph.values():
        targets.discard("sklearn_recae")
    assert _cycles(graph) == []


def test_no_private_import_across_families():
    offenders = []
    for name, targets in _graph().items():
        family = name.split(".")[1] if name.count(".") >= 1 else ""
        for target in targets:
            parts = target.split(".")
            if len(parts) < 3 or parts[1] not in FAMILIES or parts[1] == family:
                continue
            if any(part.startswith("_") for part in parts[2:]) and parts[1] not in SHARED:
                offenders.append(f"{name} -> {target}")
    assert offenders == [], offenders


@pytest.mark.parametrize("graph_source", ["this package"])
def test_the_cycle_finder_finds_a_circle(graph_source):
    # the check above can fail: a made-up graph with a circle is reported
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
