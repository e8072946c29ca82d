"""Dependencies point down (issue 21, item 4): bot -> scheduler -> core -> storage, content.

Walks every module of the lower layers with `ast` (imports inside functions and under
TYPE_CHECKING count too) and names each import that points up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# layer -> the top-level packages it must never import
FORBIDDEN = {
    "core": {"bot", "scheduler"},
    "scheduler": {"bot"},
    "storage": {"bot", "scheduler", "core"},
    "content": {"bot", "scheduler", "core", "storage"},
}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def upward_imports(layer: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for line, module in imported_packages(path):
            if module.split(".")[0] in FORBIDDEN[layer]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layers_never_import_upper_ones(layer: str) -> None:
    assert (ROOT / layer).is_dir()
    assert upward_imports(layer) == []


def test_the_walk_sees_nested_and_type_checking_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.context import Context\n"
        "def f():\n    import bot.app\n",
        encoding="utf-8",
    )
    assert [m for _, m in imported_packages(sample)] == ["typing", "bot.context", "bot.app"]


def test_old_kernel_names_are_the_same_modules() -> None:
    import bot.config
    import bot.i18n
    import bot.model
    import bot.paths
    import bot.stations
    import core.config
    import core.i18n
    import core.model
    import core.paths
    import core.stations

    assert bot.config is core.config and bot.model is core.model and bot.i18n is core.i18n
    assert bot.paths is core.paths and bot.stations is core.stations
    from bot.config import Settings
    from core.config import Settings as KernelSettings

    assert Settings is KernelSettings


def test_the_zalo_oa_sender_no_longer_imports_the_app() -> None:
    path = ROOT / "bot" / "channels" / "zalo_oa_send.py"
    assert not [m for _, m in imported_packages(path) if m == "bot.app"]
