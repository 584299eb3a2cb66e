"""The rules in directory/policy import only the standard library (and each other)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

POLICY = Path(__file__).resolve().parents[2] / "directory" / "policy"


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_policy_modules_import_only_the_standard_library():
    files = sorted(POLICY.glob("*.py"))
    assert len(files) >= 4
    for path in files:
        for name in imported_roots(path):
            root = name.split(".")[0]
            allowed = root in sys.stdlib_module_names or name.startswith("directory.policy")
            assert allowed, f"{path.name} imports {name}"
