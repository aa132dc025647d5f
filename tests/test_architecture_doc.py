"""docs/ARCHITECTURE.md names each hop of an SMS as `app/...py:function`: each must exist."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
HOP = re.compile(r"`(app/[\w/]+\.py):([\w.]+)`")


def _defined(path: Path) -> set[str]:
    """Names defined in a module: functions, classes, and Class.method."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(f"{node.name}.{item.name}")
    return names


def test_every_hop_in_the_architecture_doc_exists() -> None:
    hops = HOP.findall(DOC.read_text(encoding="utf-8"))
    assert len(hops) >= 10, "the inbound SMS walk-through names its hops as `app/file.py:function`"
    missing = [
        f"{file}:{name}"
        for file, name in hops
        if not (ROOT / file).is_file() or name not in _defined(ROOT / file)
    ]
    assert missing == [], f"docs/ARCHITECTURE.md names hops that do not exist: {missing}"


def test_readme_links_only_to_files_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)", readme)
    outside = [t for t in targets if not t.startswith("http") and not (ROOT / t).exists()]
    assert outside == [], f"README links to files not in the repository: {outside}"
    assert "docs/ARCHITECTURE.md" in readme
