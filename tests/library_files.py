"""A private copy of the shipped content library for tests that break it on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from content.library import DEFAULT_LIBRARY_DIR


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    target = tmp_path / "library"
    shutil.copytree(DEFAULT_LIBRARY_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a library file; fail loudly if the fixture text moved."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
