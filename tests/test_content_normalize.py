"""Vietnamese text normalisation: diacritics, đ, punctuation, abbreviations, tokens."""

from __future__ import annotations

import pytest

from content.normalize import normalize, syllables, tokenize


@pytest.mark.parametrize(("raw", "folded"), [
    ("Sốt Xuất Huyết có lây không?", "sot xuat huyet co lay khong"),
    ("ĐẶT LỊCH ĐO HUYẾT ÁP", "dat lich do huyet ap"),
    ("Sốt xuất huyết", normalize("Sốt xuất huyết")),  # NFD input
    ("thẻ BHYT hết hạn!!!", "the bao hiem y te het han"),
    ("sxh co lay ko", "sot xuat huyet co lay khong"),
    ("tcm uống thuốc j, ntn?", "tay chan mieng uong thuoc gi nhu the nao"),
    ("đc ko vs bn tiền", "duoc khong voi bao nhieu tien"),
    ("con 2thang tiem mui gi", "con 2 thang tiem mui gi"),
    ("tay chân mồm", "tay chan mieng"),
    ("vắc-xin 5 trong 1", "vaccine 5 trong 1"),
    ("😷😷 sốt 🤒", "sot"),
])
def test_normalize(raw: str, folded: str) -> None:
    assert normalize(raw) == folded


def test_decomposed_unicode_folds_like_composed() -> None:
    import unicodedata

    composed = "Bảo hiểm y tế"
    assert normalize(unicodedata.normalize("NFD", composed)) == normalize(composed)


def test_tokens_are_syllables_then_bigrams() -> None:
    assert syllables("Sốt xuất huyết") == ["sot", "xuat", "huyet"]
    assert tokenize("Sốt xuất huyết") == ["sot", "xuat", "huyet", "sot_xuat", "xuat_huyet"]


def test_older_age_adds_the_elderly_word() -> None:
    assert "cao tuoi" in normalize("bà tôi 85 tuổi")
    assert "cao tuoi" not in normalize("con tôi 5 tuổi")


def test_huge_input_is_bounded() -> None:
    assert len(normalize("a " * 100_000)) <= 2_000
