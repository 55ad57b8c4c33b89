"""The package layout stays readable: no import cycles, modules of one idea and a bounded size.

The import graph is read from the source (every `import`, including ones inside functions, since
a lazy import is still a dependency), so a cycle fails here before it fails at some import order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("autograder", "gradekit")
MAX_LINES = 400
# Longer modules that are still one idea, each with the reason it stays whole.
ONE_IDEA = {
    "autograder.sandbox.remote": "the grader-side proxy of the worker protocol: RemoteProvider and RemoteObject "
                                 "share one connection, its timeouts and its error mapping",
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports, and the other packages whose __init__ that import runs."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    edges = set()
    for target in targets:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
            prefix = ".".join(parts[:i])
            # a module's own ancestor packages are not edges: `pkg/__init__` re-exporting `pkg.mod` is
            # the public-surface pattern, and Python runs the ancestor first by construction
            if prefix in known and prefix != name and not name.startswith(prefix + "."):
                edges.add(prefix)
    return edges


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a planted cycle is reported, and a module outside it is not."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_reads_relative_lazy_and_package_imports() -> None:
    graph = _graph()
    assert "autograder.results" in graph["autograder.store"]  # from .results import ...
    assert "autograder.sandbox.host" in graph["autograder.grading.flow"]  # from ..sandbox.host import
    assert "autograder.exports" in graph["autograder.cli.exports"]  # from ..exports.gradebook runs its __init__
    assert "gradekit.hooks" in graph["gradekit.plugin"]  # a lazy import inside a function


def test_the_kit_never_imports_the_grader() -> None:
    """gradekit is copied into student folders, where autograder is not installed."""
    graph = _graph()
    leaks = {m: sorted(t for t in deps if t.startswith("autograder")) for m, deps in graph.items()
             if m.startswith("gradekit")}
    assert {m: t for m, t in leaks.items() if t} == {}


def test_the_sandbox_layers_do_not_import_the_grader_side_host() -> None:
    graph = _graph()
    for layer in ("zygote", "worker", "wire", "limits", "namespaces", "landlock", "seccomp", "remote"):
        assert "autograder.sandbox.host" not in graph[f"autograder.sandbox.{layer}"], layer
    assert graph["autograder.sandbox"] == set(), "the package's __init__ imports its layers only on use"


def test_grading_knows_no_export_format() -> None:
    graph = _graph()
    for name, deps in graph.items():
        if name.startswith("autograder.grading"):
            assert not [d for d in deps if d.startswith(("autograder.exports", "autograder.cli"))], name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_module_size(name: str) -> None:
    lines = len(_modules()[name].read_text(encoding="utf-8").splitlines())
    if name in ONE_IDEA:
        assert lines > MAX_LINES, f"{name} is short again: drop it from ONE_IDEA"
    else:
        assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by idea, or list it in ONE_IDEA with why"
