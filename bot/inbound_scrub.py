"""Lone UTF-16 surrogates out of everything a platform hands us, before any of it is stored.

JSON may carry "\\ud83d" alone (half an emoji, a buggy client, a forged update). Python decodes
it into a str that no database driver can encode, so the handling failed every attempt and the
inbox gave the update up: the resident got no answer (found by the property-based webhook fuzz,
tests/faults/test_webhook_fuzz.py). Each lone surrogate becomes U+FFFD, as a decoder would.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace

from bot.model import Inbound

_LONE = re.compile("[\ud800-\udfff]")


def scrub(value: str | None) -> str | None:
    return _LONE.sub("\ufffd", value) if value else value


def without_lone_surrogates(inbound: Inbound) -> Inbound:
    """The same inbound, every text field encodable as UTF-8."""
    changed = {f.name: scrub(v) for f in fields(inbound)
               if isinstance(v := getattr(inbound, f.name), str) and _LONE.search(v)}
    return replace(inbound, **changed) if changed else inbound
