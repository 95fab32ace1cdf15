"""The layers import one way: ciudadano -> crawler -> archive. archive/ (the article model,
storage, search, exports, Datasette) knows nothing of how pages are fetched or parsed; the
crawler writes through archive/; only ciudadano/ (the command line, reparse, import) joins them.
The stand-in site is test and demo support: no shipped package imports it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package -> the packages of ours it may not import
FORBIDDEN = {
    "archive": {"crawler", "ciudadano", "standin", "tests", "benchmarks"},
    "crawler": {"ciudadano", "standin", "tests", "benchmarks"},
    "ciudadano": {"standin", "tests", "benchmarks"},
}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in a file, at any depth (function-level
    imports count: a lazy import is still a dependency)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations(package: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, name in imported_packages(path)
        if name in FORBIDDEN[package]
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_one_way(package):
    assert violations(package) == []


def test_the_check_sees_a_lazy_import(tmp_path):
    # the contract would be empty if the walk missed imports inside functions
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from crawler.parsers import parse_article\n")
    assert imported_packages(module) == [(2, "crawler")]
