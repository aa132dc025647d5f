"""The house's rules that import-linter's layer contract does not check by itself.

- A domain calls another domain's service, never its repository.
- No function-level `import app…` (a lazy import hides a cycle the layers forbid).
- Every top-level module or package of app/ has its place in the layer contract.
- No module binds a name twice at its top level (ruff flags a function or an import defined
  again, not a constant: a second `_AFTER = {...}` silently replaced the set a rule read).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"

# The commands (the top layer: nothing imports app.cli) load what a command needs when it runs,
# so that `kengele --help` and each command do not import the whole gateway first. A lazy import
# there cannot hide a cycle: every package it names is below it.
LAZY_ALLOWED = {"cli"}


def _top(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def _packages() -> list[str]:
    names = [p.stem for p in APP.glob("*.py") if p.stem != "__init__"]
    names += [p.name for p in APP.iterdir() if (p / "__init__.py").exists()]
    return sorted(names)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("app")


@pytest.mark.parametrize("package", _packages())
def test_no_reach_into_another_domains_repository(graph: grimp.ImportGraph, package: str) -> None:
    wrong = sorted(
        f"{importer} -> {imported}"
        for imported in graph.modules
        if imported.endswith(".repository")  # app.kit.repository is the base of them all
        for importer in graph.find_modules_that_directly_import(imported)
        if _top(importer) == package and _top(imported) not in (package, "kit")
    )
    assert wrong == [], "call the other domain's service:\n" + "\n".join(wrong)


def _lazy_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import):
                names = [a.name for a in inner.names]
            elif isinstance(inner, ast.ImportFrom) and inner.level == 0:
                names = [inner.module or ""]
            else:
                continue
            if any(n == "app" or n.startswith("app.") for n in names):
                found.append(f"{path.relative_to(ROOT)}:{inner.lineno} in {node.name}()")
    return found


@pytest.mark.parametrize("package", sorted(set(_packages()) - LAZY_ALLOWED))
def test_no_function_level_import_of_app(package: str) -> None:
    target = APP / package
    files = sorted(target.rglob("*.py")) if target.is_dir() else [APP / f"{package}.py"]
    lazy = [line for path in files for line in _lazy_imports(path)]
    assert lazy == [], "import at the top of the module:\n" + "\n".join(lazy)


def test_every_module_has_a_layer() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    layered = {
        name.strip().removeprefix("app.")
        for layer in contract["layers"]
        for name in layer.replace(":", "|").split("|")
    }
    assert sorted(set(_packages()) - layered) == []


def _bound_twice(path: Path) -> list[str]:
    """Names a module binds more than once by top-level assignment, def or class."""
    lines: dict[str, list[int]] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        else:
            continue
        for name in names:
            lines.setdefault(name, []).append(node.lineno)
    rel = path.relative_to(ROOT)
    return [f"{rel}: {name} at lines {at}" for name, at in lines.items() if len(at) > 1]


def test_no_module_binds_a_name_twice() -> None:
    twice = [line for path in sorted(APP.rglob("*.py")) for line in _bound_twice(path)]
    assert twice == [], "a later binding replaces the earlier one:\n" + "\n".join(twice)
