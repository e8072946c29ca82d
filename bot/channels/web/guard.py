"""What the web endpoint checks before anything reaches the bot: the body, the sender's pace,
and who the client really is behind the station's TLS proxy.

- `parse_message(raw, max_chars)` turns a request body into (text, button, lang) or raises
  `BadRequest` with a message a resident understands: bad JSON, deep nesting, lone surrogates,
  wrong types, control bytes, text over `web.max_text_chars`.
- `RateLimits` keeps a token bucket per visitor and per address; a refusal says how many seconds
  to wait (HTTP 429 with Retry-After).
- `ClientInfo.of(request, trusted)` reads X-Forwarded-For / X-Forwarded-Proto only when the direct
  peer is a configured trusted proxy, so a visitor cannot claim another address or fake HTTPS.
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

MAX_BODY_BYTES = 32 * 1024
MAX_BUTTON_CHARS = 64
MAX_TRACKED = 50_000  # buckets kept in memory (oldest forgotten first); bounds memory under a flood


class BadRequest(Exception):
    """A request the resident (or a broken client) got wrong; `key` picks the message shown."""

    def __init__(self, key: str, text: str = "", **fields: int) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields
        self.text = text  # "too_long": the whole text, read for danger before it is refused


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_message(raw: bytes, max_chars: int) -> tuple[str, str | None, str | None]:
    """(text, button, lang) from a JSON body like {"text": "…"} or {"button": "topics"}."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("invalid") from None
    if not isinstance(body, dict):
        raise BadRequest("invalid")
    text, button, lang = body.get("text", ""), body.get("button"), body.get("lang")
    if text is None:
        text = ""
    if not isinstance(text, str) or (button is not None and not isinstance(button, str)):
        raise BadRequest("invalid")
    if lang is not None and lang not in ("vi", "en"):
        raise BadRequest("invalid")
    if _has_lone_surrogate(text) or "\x00" in text:
        raise BadRequest("invalid")
    if button is not None and (
        not button.isascii() or not button.isprintable() or not 0 < len(button) <= MAX_BUTTON_CHARS
    ):
        raise BadRequest("invalid")
    if len(text) > max_chars:
        raise BadRequest("too_long", text=text, count=len(text), limit=max_chars)
    if not text.strip() and button is None:
        raise BadRequest("empty")
    return text, button, lang


class TokenBuckets:
    """Token buckets by key: `per_minute` sustained, bursts up to `burst`."""

    def __init__(
        self, per_minute: int, burst: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.monotonic = monotonic
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """0 when allowed (a token is spent), else the seconds until the next token."""
        now = self.monotonic()
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / self.rate if self.rate > 0 else math.inf
        while len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        return wait


class RateLimits:
    def __init__(
        self,
        per_visitor: int,
        per_address: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # A resident types slower than this; a burst of 20 covers tapping quickly through a
        # whole flow and on into the menu (feedback is 7 messages, a topic answer 3 more).
        self.visitors = TokenBuckets(per_visitor, max(1, min(20, per_visitor)), monotonic)
        # One address may be a whole family or a ward office behind one router.
        self.addresses = TokenBuckets(per_address, max(1, per_address // 4), monotonic)

    def check(self, visitor: str | None, address: str) -> int:
        """0 when allowed, else whole seconds to wait (at least 1)."""
        wait = self.addresses.take(address)
        if not wait and visitor is not None:
            wait = self.visitors.take(visitor)
        return 0 if not wait else max(1, math.ceil(wait))


@dataclass(frozen=True)
class ClientInfo:
    address: str
    secure: bool

    @classmethod
    def of(cls, request: web.Request, trusted: Sequence[ipaddress._BaseNetwork]) -> ClientInfo:
        peer = request.remote or ""
        if not _in(peer, trusted):
            return cls(peer, request.secure)
        # Walk X-Forwarded-For from the right: the first hop that is not our proxy is the client.
        address = peer
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            address = hop
            if not _in(hop, trusted):
                break
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return cls(address[:64], proto == "https" or request.secure)


def trusted_networks(entries: Sequence[str]) -> list[ipaddress._BaseNetwork]:
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries]


def _in(address: str, networks: Sequence[ipaddress._BaseNetwork]) -> bool:
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)
