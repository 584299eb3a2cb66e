"""Mutation check of the pure rules: would tests/policy notice a small change in directory/policy?

    .venv/bin/python bench/mutation_policy.py [--module routing] [--list] [--timeout 120]

Each policy module is parsed with `ast` and changed in one place at a time: a comparison flipped
or off by one (`<` to `<=` or `>`, `==` to `!=`, `in` to `not in`), `and` and `or` swapped, a
`not` dropped, `+` and `-` swapped, a whole number one up or one down, True and False swapped, one
element left out of a literal tuple, list or set (the state groups, the settings); type
annotations and decorators (`frozen=True`) are left alone. For every such mutant `pytest -x tests/policy` runs; the mutant is killed when a test fails (or the run
times out) and survives when every test passes. The script prints each survivor and the score,
killed / all.

The checkout is never written: the mutants live in a temporary copy of directory/policy and
tests/policy (with an empty `directory/__init__.py`, which also shows that the rules need nothing
else). The copy's module is restored after every mutant, and the copy is removed at the end, on
Ctrl-C or a kill too. Hypothesis runs derandomised, so two runs give the same score.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "directory" / "policy"
TESTS = ROOT / "tests" / "policy"

# Hypothesis without its example database and with a fixed seed: the same mutant always meets
# the same examples, whatever ran before it.
CONFTEST = '''"""Written by bench/mutation_policy.py: deterministic property tests."""

from hypothesis import settings

settings.register_profile("mutation", database=None, derandomize=True, deadline=None)
settings.load_profile("mutation")
'''
# Modules of values only, with no rule in directory/policy that uses them: tests/policy has
# nothing to run them against. The forms' and imports' tests check them where they are enforced
# (tests/test_import.py, tests/test_activities_manage.py); name one with --module to mutate it.
DECLARATIONS_ONLY = ("limits",)
PYTEST_INI = "[pytest]\naddopts = -p no:cacheprovider\nfilterwarnings =\n    error\n"

COMPARISONS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
SYMBOLS = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.And: "and",
    ast.Or: "or", ast.Add: "+", ast.Sub: "-",
}  # fmt: skip
ARITHMETIC = {ast.Add: ast.Sub, ast.Sub: ast.Add}


@dataclass(frozen=True)
class Mutant:
    """One change: in which module, at which node (its index in ast.walk order), and how."""

    module: str
    node_index: int
    line: int
    description: str
    apply: Callable[[ast.AST, dict[ast.AST, ast.AST]], None]


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _not_behaviour(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether the node is part of a type annotation or a decorator (`frozen=True`): changing
    it changes no answer a rule gives."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.AnnAssign) and child is parent.annotation:
            return True
        if isinstance(parent, ast.arg) and child is parent.annotation:
            return True
        if isinstance(parent, ast.FunctionDef) and child is parent.returns:
            return True
        if isinstance(parent, ast.FunctionDef | ast.ClassDef) and child in parent.decorator_list:
            return True
        child, parent = parent, parents.get(parent)
    return False


def _replace_child(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise LookupError("node not found in its parent")


def _set_op(index: int, new_op: type) -> Callable[[ast.AST, dict], None]:
    def apply(node: ast.AST, parents: dict) -> None:
        if isinstance(node, ast.Compare):
            node.ops[index] = new_op()
        else:
            node.op = new_op()

    return apply


def _set_value(value: object) -> Callable[[ast.AST, dict], None]:
    def apply(node: ast.AST, parents: dict) -> None:
        node.value = value

    return apply


def _drop_not(node: ast.AST, parents: dict) -> None:
    _replace_child(parents[node], node, node.operand)


def _drop_element(index: int) -> Callable[[ast.AST, dict], None]:
    def apply(node: ast.AST, parents: dict) -> None:
        del node.elts[index]

    return apply


def _sites(module: str, tree: ast.AST) -> Iterator[Mutant]:
    parents = _parents(tree)
    for index, node in enumerate(ast.walk(tree)):
        line = getattr(node, "lineno", 0)
        if _not_behaviour(node, parents):
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for new in COMPARISONS.get(type(op), ()):
                    what = f"{SYMBOLS[type(op)]} -> {SYMBOLS[new]}"
                    yield Mutant(module, index, line, what, _set_op(i, new))
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            what = f"{SYMBOLS[type(node.op)]} -> {SYMBOLS[new]}"
            yield Mutant(module, index, line, what, _set_op(0, new))
        elif isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
            new = ARITHMETIC[type(node.op)]
            what = f"{SYMBOLS[type(node.op)]} -> {SYMBOLS[new]}"
            yield Mutant(module, index, line, what, _set_op(0, new))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield Mutant(module, index, line, "not x -> x", _drop_not)
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield Mutant(module, index, line, f"{node.value} -> {not node.value}",
                         _set_value(not node.value))  # fmt: skip
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            for new in (node.value + 1, node.value - 1):
                yield Mutant(module, index, line, f"{node.value} -> {new}", _set_value(new))
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) >= 2:
            if isinstance(getattr(node, "ctx", None), ast.Store):
                continue  # the target of an unpacking assignment, not a value
            if all(isinstance(e, ast.Constant | ast.Name) for e in node.elts):
                for i, element in enumerate(node.elts):
                    what = f"drop {ast.unparse(element)} from {ast.unparse(node)[:60]}"
                    yield Mutant(module, index, line, what, _drop_element(i))


def mutants(modules: list[Path]) -> list[Mutant]:
    """Every mutant of the given policy modules, in file and walk order."""
    found: list[Mutant] = []
    for path in modules:
        found.extend(_sites(path.stem, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def mutated_source(source: str, mutant: Mutant) -> str:
    """The module's source with the one change made."""
    tree = ast.parse(source)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == mutant.node_index)
    mutant.apply(node, _parents(tree))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _make_copy(into: Path) -> None:
    """directory/policy and tests/policy, with no other part of the project."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    shutil.copytree(POLICY, into / "directory" / "policy", ignore=skip)
    (into / "directory" / "__init__.py").write_text("", encoding="utf-8")
    shutil.copytree(TESTS, into / "tests" / "policy", ignore=skip)
    (into / "tests" / "__init__.py").write_text("", encoding="utf-8")
    (into / "tests" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (into / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")


def _run_tests(copy: Path, timeout: float) -> bool:
    """Whether tests/policy passes in the copy (a timeout counts as a failure)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "tests/policy"],
            cwd=copy,
            env=env,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _check_copy_is_imported(copy: Path) -> None:
    """Refuse to run when the tests would import the checkout's rules rather than the copy's."""
    probe = subprocess.run(
        [sys.executable, "-c", "import directory.policy.routing as m; print(m.__file__)"],
        cwd=copy,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    if not Path(probe.stdout.strip()).resolve().is_relative_to(copy.resolve()):
        sys.exit(f"the tests import {probe.stdout.strip()}, not the copy in {copy}")


def main() -> int:
    """Run the mutants and print the survivors and the score."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", help="only this policy module (by name)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per test run")
    args = parser.parse_args()
    # A plain kill ends the run like Ctrl-C does: the copy is removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    modules = sorted(p for p in POLICY.glob("*.py") if p.name != "__init__.py")
    if args.module:
        modules = [p for p in modules if p.stem in args.module]
    else:
        modules = [p for p in modules if p.stem not in DECLARATIONS_ONLY]
    todo = mutants(modules)
    if args.list:
        for m in todo:
            print(f"{m.module}.py:{m.line}: {m.description}")
        print(f"{len(todo)} mutants")
        return 0

    with tempfile.TemporaryDirectory(prefix="mutation-policy-") as tmp:
        copy = Path(tmp)
        _make_copy(copy)
        _check_copy_is_imported(copy)
        if not _run_tests(copy, args.timeout):
            sys.exit("tests/policy fails without any mutant; fix that first")
        started = time.monotonic()
        survivors: list[Mutant] = []
        killed = 0
        for number, mutant in enumerate(todo, 1):
            target = copy / "directory" / "policy" / f"{mutant.module}.py"
            original = target.read_text(encoding="utf-8")
            try:
                target.write_text(mutated_source(original, mutant), encoding="utf-8")
                caught = not _run_tests(copy, args.timeout)
            finally:
                target.write_text(original, encoding="utf-8")
            if caught:
                killed += 1
            else:
                survivors.append(mutant)
            mark = "killed" if caught else "SURVIVED"
            print(f"[{number}/{len(todo)}] {mutant.module}.py:{mutant.line}: "
                  f"{mutant.description}: {mark}", flush=True)  # fmt: skip

    elapsed = time.monotonic() - started
    print(f"\n{len(survivors)} surviving mutants:")
    sources = {p.stem: p.read_text(encoding="utf-8").splitlines() for p in modules}
    for m in survivors:
        code = sources[m.module][m.line - 1].strip() if m.line else ""
        print(f"  directory/policy/{m.module}.py:{m.line}: {m.description}    | {code}")
    total = len(todo)
    score = killed / total if total else 1.0
    print(f"\nkilled {killed}, survived {len(survivors)}, score {score:.1%} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
