"""Dead code found by reading (issue 11) stays gone: every public name these modules define
(module-level functions, classes and constants, and the methods of their classes) is used
somewhere in the package outside its own definition."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "orchestrator"
MODULES = ["config/service.py", "daemon/placement.py", "runs/record.py"]


def _defined(tree: ast.Module) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of every public definition, methods included."""
    found = []
    for node in tree.body:
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                found.append((target.id, node.lineno, node.end_lineno or node.lineno))
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            found.append((node.name, node.lineno, node.end_lineno or node.lineno))
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__"):
                    found.append((item.name, item.lineno, item.end_lineno or item.lineno))
    return [d for d in found if not d[0].startswith("_")]


def _uses(name: str, skip: tuple[Path, int, int]) -> int:
    word = re.compile(rf"\b{re.escape(name)}\b")
    count = 0
    for path in PACKAGE.rglob("*.py"):
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if path == skip[0] and skip[1] <= lineno <= skip[2]:
                continue
            count += len(word.findall(line))
    return count


@pytest.mark.parametrize("module", MODULES)
def test_every_public_definition_is_used(module: str) -> None:
    path = PACKAGE / module
    unused = [name for name, first, last in _defined(ast.parse(path.read_text()))
              if _uses(name, (path, first, last)) == 0]
    assert unused == [], f"{module}: defined and never used: {', '.join(unused)}"
