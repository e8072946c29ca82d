"""Vietnamese phone numbers are normalised once; anything else is refused."""

from __future__ import annotations

import pytest

from bot.feedback.phone import masked, normalize_phone


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("(024) 3825.1234", "02438251234"),
        ("0386-123-456", "0386123456"),
    ],
)
def test_accepted_forms(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "0112345678", "09123456789", "091234567a", "", "115"])
def test_refused(typed: str) -> None:
    assert normalize_phone(typed) is None


def test_masked_keeps_only_the_ends() -> None:
    assert masked("0912345678") == "0912***678"
