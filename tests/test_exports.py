"""The public surface and the one-way dependencies of DESIGN.md."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import researchgym

PACKAGE = Path(researchgym.__file__).parent
SUBPACKAGES = [
    "engine",
    "agents",
    "tools",
    "sandboxes",
    "tasks",
    "storage",
    "analysis",
    "testing",
]

ALLOWED: dict[str, set[str]] = {
    "engine": {
        "agents",
        "tools",
        "sandboxes",
        "tasks",
        "storage",
        "errors",
        "config",
        "",
        "_host",
        "words",
    },
    "agents": {"tasks", "errors", "words", "plugins"},
    "tools": {"sandboxes", "tasks", "errors", "words"},
    "sandboxes": {"errors", "", "_host", "words", "plugins"},
    "tasks": {"sandboxes", "errors", "words", "plugins"},
    "storage": {"errors", "_host", "words", "plugins"},
    "analysis": {"storage", "errors", "words"},
    "config": {"errors", "tasks", "sandboxes", "storage", "words"},
    "errors": set(),
    "plugins": {"errors"},
    "words": set(),
    "_version": set(),
    "_host": set(),
    "api": {"engine", "storage", "analysis", "config", "errors", "words"},
    "testing": {"engine", "agents", "sandboxes", "storage", "config", "errors", "words"},
    "gym": {"engine", "agents", "tasks", "config", "words"},
    "cli": {
        "api",
        "engine",
        "agents",
        "sandboxes",
        "storage",
        "analysis",
        "tasks",
        "config",
        "errors",
        "words",
    },
    "__main__": {"cli"},
}
"""For each part of the package, the other parts it may import ("" is the package root;
``_host``, what any layer may ask of this host, and ``words``, the words the engine writes
and the SQL reads, import nothing of the package; ``plugins``, the registries' helper, only
the errors)."""

BACKEND_NEUTRAL = [
    "engine",
    "tools",
    "sandboxes/base.py",
    "sandboxes/local.py",
    "sandboxes/shell.py",
    "sandboxes/_processes.py",
    "storage/writer.py",
    "tasks/evaluator.py",
]
"""Code that must run under asyncio and trio alike: it may not import either backend."""


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "builtin" not in p.relative_to(PACKAGE).parts)


def part_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_dependencies_point_one_way(path: Path) -> None:
    part = part_of(path)
    if part == "__init__":
        return
    for name in imported(path):
        if not name.startswith("researchgym"):
            continue
        target = name.split(".")[1] if "." in name else ""
        if target == part:
            continue
        assert target in ALLOWED[part], f"{path.name} ({part}) imports {name}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_other_subpackages_are_used_through_their_public_face(path: Path) -> None:
    part = part_of(path)
    for name in imported(path):
        parts = name.split(".")
        if parts[0] == "researchgym" and len(parts) > 2 and parts[1] != part:
            assert parts[1] not in SUBPACKAGES, f"{path.name} imports {name}, not its __init__"


def test_nothing_imports_the_cli() -> None:
    for path in modules():
        if part_of(path) in ("cli", "__main__"):
            continue
        for name in imported(path):
            assert name.split(".")[:2] != ["researchgym", "cli"], f"{path} imports {name}"


@pytest.mark.parametrize("where", BACKEND_NEUTRAL)
def test_backend_neutral_code_imports_no_backend(where: str) -> None:
    paths = [PACKAGE / where] if where.endswith(".py") else list((PACKAGE / where).rglob("*.py"))
    for path in paths:
        for name in imported(path):
            assert name.split(".")[0] not in ("asyncio", "trio", "aiodocker", "litellm"), (
                f"{path} imports {name}"
            )


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_all_is_exactly_the_public_face(name: str) -> None:
    module = importlib.import_module(f"researchgym.{name}")
    exported = set(module.__all__)
    assert all(hasattr(module, n) for n in exported)
    face = Path(module.__file__ or "")
    if face.with_suffix(".pyi").exists():  # a lazy face: its stub names what it exports
        face = face.with_suffix(".pyi")
    tree = ast.parse(face.read_text())
    imported_names = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
    }
    assert exported == imported_names
    assert module.__doc__, f"researchgym.{name} needs a docstring map"


def test_every_module_uses_postponed_annotations() -> None:
    for path in modules():
        text = path.read_text()
        if text.strip():
            assert "from __future__ import annotations" in text, path
