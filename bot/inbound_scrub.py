"""Lone UTF-16 surrogates out of everything a platform hands us, before any of it is stored.

JSON may carry "\\ud83d" alone (half an emoji, a buggy client, a forged update). Python decodes
it into a str that no database driver can encode, so the handling failed every attempt and the
inbox gave the update up: the resident got no answer (found by the property-based webhook fuzz,
tests/faults/test_webhook_fuzz.py). Each lone surrogate becomes U+FFFD, as a decoder would.

Ids are stored in 64-character columns: PostgreSQL refuses a longer one (SQLite does not care), so
an update with a 200-character Zalo id failed every attempt there. Real ids are far shorter (a
Telegram id is an int64, a Zalo id about 20 characters): such an update is ignored, logged once.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import fields, replace
from typing import Any

from bot.model import Inbound

_LONE = re.compile("[\ud800-\udfff]")
MAX_ID_CHARS = 64  # chats.external_id, conversation_states.chat_id/user_id: String(64)


def scrub(value: str | None) -> str | None:
    return _LONE.sub("\ufffd", value) if value else value


def without_lone_surrogates(inbound: Inbound) -> Inbound:
    """The same inbound, every text field encodable as UTF-8."""
    changed = {f.name: scrub(v) for f in fields(inbound)
               if isinstance(v := getattr(inbound, f.name), str) and _LONE.search(v)}
    return replace(inbound, **changed) if changed else inbound


def storable_ids(inbound: Inbound) -> bool:
    return len(inbound.chat_id) <= MAX_ID_CHARS and len(inbound.user_id) <= MAX_ID_CHARS


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("a number JSON cannot hold")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def strict_json(raw: bytes | str) -> Any:
    """`json.loads` without Python's extensions: NaN, Infinity and 1e999 are refused (400), as
    no platform sends them and a JSON database column cannot store them (PostgreSQL refused the
    stored update: 503, redelivered forever)."""
    return json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
