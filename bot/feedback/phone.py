"""Vietnamese phone numbers, normalised once to the national form ("0912345678").

Mobile numbers have 10 digits (03x, 05x, 07x, 08x, 09x); landlines 11 digits with the area code
(02x…, e.g. Hà Nội 024). "+84" and "84" prefixes, spaces, dots, dashes and brackets are accepted.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-()]")
MOBILE = re.compile(r"^0[35789]\d{8}$")
LANDLINE = re.compile(r"^02\d{9}$")


def normalize_phone(text: str) -> str | None:
    """The number in national form, or None when it is not a Vietnamese mobile or landline."""
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if MOBILE.match(digits) or LANDLINE.match(digits):
        return digits
    return None


def masked(phone: str) -> str:
    """0912345678 -> '0912***678': enough for the owner to recognise it."""
    return f"{phone[:4]}***{phone[-3:]}" if len(phone) >= 7 else "***"
