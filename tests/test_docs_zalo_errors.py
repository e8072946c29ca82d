"""docs/zalo.md lists every Zalo OA error code the shared send-error table handles (issue 19)."""

from __future__ import annotations

from pathlib import Path

from scheduler.sender import SEND_ERRORS

DOC = Path(__file__).resolve().parents[1] / "docs" / "zalo.md"


def test_every_oa_error_code_in_the_table_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| -")}
    codes = {str(code) for code in SEND_ERRORS["zalo_oa"] if isinstance(code, int)}
    assert codes <= rows, sorted(codes - rows)
    for code, rule in SEND_ERRORS["zalo_oa"].items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {code} |"))
        assert rule.kind in row, (code, rule.kind)
