"""Every string a person reads is translated in every catalog, and local formats are Vietnamese."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, LOCALES, gettext_for, local_date, local_datetime, money
from bot.locale.sync import extract

ROOT = Path(__file__).parent.parent


def _catalogs(locale: str) -> dict[str, tuple[str, bool]]:
    found: dict[str, tuple[str, bool]] = {}
    for po_path in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as fh:
            for message in read_po(fh, locale=locale):
                if message.id:
                    found[str(message.id)] = (str(message.string or ""), message.fuzzy)
    return found


def test_every_ui_string_is_translated_and_not_fuzzy() -> None:
    messages = extract([ROOT / "bot", ROOT / "core", ROOT / "scheduler"])
    assert len(messages) > 40
    for locale in LOCALES:
        catalog = _catalogs(locale)
        missing = [m for m in messages if m not in catalog]
        untranslated = [m for m in messages if m in catalog and not catalog[m][0]]
        fuzzy = [m for m in messages if m in catalog and catalog[m][1]]
        assert not missing, f"{locale}: strings missing from the catalogs: {missing}"
        assert not untranslated, f"{locale}: untranslated strings: {untranslated}"
        assert not fuzzy, f"{locale}: fuzzy translations: {fuzzy}"


def test_placeholders_survive_translation() -> None:
    import re

    for locale in LOCALES:
        for msgid, (msgstr, _fuzzy) in _catalogs(locale).items():
            assert set(re.findall(r"{\w+}", msgid)) == set(re.findall(r"{\w+}", msgstr)), (
                locale,
                msgid,
            )


def test_vietnamese_is_the_default_and_english_is_available() -> None:
    assert gettext_for("vi")("Main menu") == "Menu chính"
    assert gettext_for("en")("Main menu") == "Main menu"
    assert (
        gettext_for("fr")("Main menu") == "Menu chính"
    )  # unknown languages fall back to Vietnamese


def test_money_dates_and_times_in_the_vietnamese_way() -> None:
    assert money(1_263_600, "vi") == "1.263.600\xa0₫"
    assert local_date(date(2026, 2, 17), "vi") == "17/02/2026"
    # 16:30 UTC is 23:30 in Hanoi: the date shown is the Vietnamese one.
    assert local_datetime(datetime(2026, 2, 16, 16, 30, tzinfo=UTC), "vi") == "23:30 16/02/2026"
    assert local_date(datetime(2026, 2, 16, 17, 30, tzinfo=UTC), "vi") == "17/02/2026"


def test_one_source_string_reads_the_same_in_every_feature() -> None:
    """Catalogs are merged, so a string translated two ways in two files shows one of them at
    random to the feature that wrote the other (a report column said "Tổ dân phố" in check-up
    sheets); each source string has one translation per language."""
    for locale in LOCALES:
        seen: dict[str, dict[str, str]] = {}
        for po_path in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
            with po_path.open("rb") as fh:
                for message in read_po(fh, locale=locale):
                    if message.id and isinstance(message.id, str) and message.string:
                        seen.setdefault(message.id, {})[po_path.name] = str(message.string)
        clashes = {k: v for k, v in seen.items() if len(set(v.values())) > 1}
        assert not clashes, f"{locale}: {clashes}"
