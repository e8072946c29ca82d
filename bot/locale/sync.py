"""Keep a catalog in step with the code: `python -m bot.locale.sync DOMAIN PATH...`.

Extracts `_("...")` strings from the given files or folders (Python, and Jinja2 templates), then updates
`bot/locale/{vi,en}/LC_MESSAGES/DOMAIN.po`: new strings are added (English gets its own text,
Vietnamese is left empty for a translator), vanished ones are dropped, translations are kept.
The test suite fails while any string of any catalog is untranslated or fuzzy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

from bot.i18n import LOCALE_DIR, LOCALES

# Jinja2 templates (the web console's, bot/console/templates) hold `{{ _("...") }}` strings too.
JINJA = "jinja2.ext:babel_extract"
METHODS = [("**.py", "python"), ("**/templates/**.html", JINJA)]


def extract(paths: list[Path]) -> list[str]:
    found: list[str] = []
    for path in paths:
        if path.is_dir():
            items = ((m[2],) for m in extract_from_dir(str(path), method_map=METHODS))
        else:
            method = JINJA if path.suffix == ".html" else "python"
            items = ((m[1],) for m in extract_from_file(method, str(path)))
        for (message,) in items:
            if isinstance(message, str) and message not in found:
                found.append(message)
    return sorted(found)


def sync(domain: str, paths: list[Path]) -> None:
    messages = extract(paths)
    for locale in LOCALES:
        po_path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
        old = Catalog(locale=locale)
        if po_path.exists():
            with po_path.open("rb") as fh:
                old = read_po(fh, locale=locale)
        new = Catalog(locale=locale, project="healthbot", fuzzy=False)
        for msgid in messages:
            prev = old.get(msgid)
            text = prev.string if prev is not None and prev.string else ""
            if not text and locale == "en":
                text = msgid
            new.add(msgid, text, flags=("python-brace-format",) if "{" in msgid else ())
        po_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("wb") as fh:
            write_po(fh, new, width=100, omit_header=False, sort_output=True, no_location=True)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    sync(sys.argv[1], [Path(p) for p in sys.argv[2:]])
