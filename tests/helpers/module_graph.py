"""The package's import graph and module sizes, read from the source (no module is imported).

Every import counts wherever it is written: at the top, inside a function (a lazy import), under
``if TYPE_CHECKING:``, and ``importlib.import_module("literal")``. A lazy import still ties two
modules together; it only moves the moment the tie is felt.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path


def module_name(package_dir: Path, path: Path) -> str:
    """``agentmux_companion.core.plan`` for ``<package_dir>/core/plan.py`` (packages by their ``__init__``)."""
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_modules(package_dir: Path) -> dict[str, Path]:
    """Every module of the package under ``package_dir``, by dotted name."""
    return {module_name(package_dir, path): path for path in sorted(package_dir.rglob("*.py"))}


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) == "import_module")):
            yield node.args[0].value


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """For each module of the package, the package's modules it imports (itself excluded)."""
    modules = package_modules(package_dir)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets: set[str] = set()
        for imported in _imported_names(tree, name, path.name == "__init__.py"):
            # ``from pkg import name``: name may be a module or just an attribute of pkg.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def import_cycles(graph: Mapping[str, Iterable[str]]) -> list[tuple[str, ...]]:
    """The groups of modules that import each other, directly or round about (sorted names).

    Tarjan's strongly connected components; a group of one is a cycle only if the module imports
    itself, which :func:`import_graph` never reports.
    """
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                lowlink[node] = min(lowlink[node], lowlink[target])
            elif target in on_stack:
                lowlink[node] = min(lowlink[node], index[target])
        if lowlink[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(tuple(sorted(group)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def module_sizes(package_dir: Path) -> dict[str, int]:
    """Lines of each module of the package."""
    return {name: len(path.read_text(encoding="utf-8").splitlines())
            for name, path in package_modules(package_dir).items()}
