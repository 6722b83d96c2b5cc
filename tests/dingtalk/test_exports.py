"""``dingbridge.dingtalk.__all__`` is exactly what the package exports, and what the rest of
dingbridge takes from the package top level is in it (no one leans on an accidental name)."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import dingbridge
import dingbridge.dingtalk as package


def test_all_names_exist_and_every_public_name_is_listed() -> None:
    listed = set(package.__all__)
    assert len(listed) == len(package.__all__), "a name is listed twice"
    assert all(hasattr(package, name) for name in listed)
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    public.discard("annotations")
    assert public == listed


def test_dingbridge_imports_only_listed_names_from_the_package() -> None:
    root = Path(dingbridge.__file__).parent
    used: set[str] = set()
    for module in root.rglob("*.py"):
        if module.is_relative_to(root / "dingtalk"):
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "dingbridge.dingtalk":
                used.update(alias.name for alias in node.names)
    assert used, "the server uses the client"
    assert used <= set(package.__all__)
