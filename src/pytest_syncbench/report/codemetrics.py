"""Size and branching of each solution's code, measured with ``ast``.

A solution is measured as its own module plus every module of the same top-level package
that it imports, followed transitively (``solutions.hybrid_cdc`` brings in
``solutions.webhook_sync`` and the ``solutions.common`` modules they use). Modules of
other packages, ``pytest_syncbench`` included, are the harness or libraries, not code the
team writes, and are left out.

- Logical lines: statements, counting a compound statement's header once, without
  docstrings. Blank lines, comments and line continuations do not count.
- Branches: decision points: ``if``/``elif``, ``for``, ``while``, each ``except`` and
  ``case``, conditional expressions, comprehension ``if`` clauses, and each extra operand
  of ``and``/``or``.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

_BRANCH_NODES = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ExceptHandler,
    ast.IfExp,
    ast.match_case,
)


@dataclass(frozen=True)
class CodeMetrics:
    """Measured size of one solution's code."""

    modules: tuple[str, ...]
    logical_lines: int
    branches: int
    functions: int


def _is_docstring(node: ast.stmt, parent: ast.AST) -> bool:
    body = getattr(parent, "body", None)
    return (
        isinstance(body, list)
        and bool(body)
        and body[0] is node
        and isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and isinstance(
            parent, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        )
    )


def measure_source(text: str) -> tuple[int, int, int]:
    """Return the logical lines, branches and functions of Python source text."""
    tree = ast.parse(text)
    lines = branches = functions = 0
    for parent in ast.walk(tree):
        for node in ast.iter_child_nodes(parent):
            if isinstance(node, ast.stmt) and not _is_docstring(node, parent):
                lines += 1
            if isinstance(node, _BRANCH_NODES):
                branches += 1
            elif isinstance(node, ast.BoolOp):
                branches += len(node.values) - 1
            elif isinstance(node, ast.comprehension):
                branches += len(node.ifs)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions += 1
    return lines, branches, functions


def _imported_modules(tree: ast.Module, module: str) -> set[str]:
    names: set[str] = set()
    package = module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parents = parts[: len(parts) - node.level + 1]
                base = ".".join([*parents, base] if base else parents)
            names.add(base)
            # ``from solutions.common import rows`` imports a module, not a name.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def measure_module(module: str) -> CodeMetrics | None:
    """Measure ``module`` and what it imports from its own top-level package."""
    top = module.partition(".")[0]
    seen: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            continue
        seen[name] = path
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for imported in _imported_modules(tree, name):
            if imported.partition(".")[0] == top and imported not in seen:
                pending.append(imported)
    if module not in seen:
        return None
    lines = branches = functions = 0
    names = []
    for name, path in seen.items():
        counted = measure_source(path.read_text(encoding="utf-8"))
        lines += counted[0]
        branches += counted[1]
        functions += counted[2]
        # Package __init__ files with nothing in them are imported but add no code.
        if counted[0]:
            names.append(name)
    return CodeMetrics(tuple(sorted(names)), lines, branches, functions)


def solution_modules() -> dict[str, str]:
    """Map each registered solution's name to the module that defines it."""
    from pytest_syncbench import registry

    try:
        found = registry.discover()
    except (ImportError, TypeError, AttributeError):
        return {}
    return {name: cls.__module__ for name, cls in found.items()}


def measure_solutions(names: list[str]) -> dict[str, CodeMetrics]:
    """Measure the solutions among ``names`` whose code is installed."""
    modules = solution_modules()
    measured = {}
    for name in names:
        module = modules.get(name)
        metrics = measure_module(module) if module else None
        if metrics is not None:
            measured[name] = metrics
    return measured
