"""The console's secrets: signed cookies, hashed tokens and codes, CSRF tokens, failure limits.

Decisions (docs/console.md):
- The session is server-side (`console_sessions`): the cookie carries a random token and its HMAC
  signature; the database keeps only the token's SHA-256. A forged or altered cookie fails the
  signature check before any lookup; signing out or expiry ends the session on the server too,
  and a staff member removed from the configuration loses access at the next request.
- The sign-in flow (before a session) has its own signed cookie: a random nonce that ties the
  one-time code to the browser that asked for it and gives the sign-in forms their CSRF token.
- CSRF token = HMAC(secret, "csrf:" + the cookie's token): nothing to store, different per session,
  checked (constant time) on every POST.
- One-time codes: 6 digits from `secrets`, stored as HMAC(secret, flow + code).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable

log = logging.getLogger(__name__)

SESSION_COOKIE = "hb_console"
FLOW_COOKIE = "hb_console_flow"
LANG_COOKIE = "hb_console_lang"
COOKIE_PATH = "/console/"
FLOW_SECONDS = 30 * 60


class Keys:
    """HMAC helpers over one secret (web.cookie_secret, or a random one for this process)."""

    def __init__(self, secret: str) -> None:
        if not secret:
            log.warning("web.cookie_secret is empty: console sign-ins end when the process stops")
            secret = secrets.token_urlsafe(32)
        self._key = hashlib.sha256(("healthbot-console:" + secret).encode()).digest()

    def mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def sign(self, token: str) -> str:
        """The cookie value: token '.' signature."""
        return f"{token}.{self.mac('cookie', token)}"

    def unsign(self, value: str | None) -> str | None:
        """The token of a cookie this server signed, else None (forged, altered, malformed)."""
        if not value or len(value) > 200 or value.count(".") != 1:
            return None
        token, signature = value.split(".")
        if not token or not hmac.compare_digest(signature, self.mac("cookie", token)):
            return None
        return token

    def csrf(self, token: str) -> str:
        return self.mac("csrf", token)

    def csrf_ok(self, token: str, offered: str | None) -> bool:
        return bool(offered) and hmac.compare_digest(str(offered), self.csrf(token))

    def code_hash(self, flow: str, code: str) -> str:
        return self.mac("code", f"{flow}:{code}")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps of a session token or a flow nonce."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


class Limiter:
    """At most `limit` events per key within `window` seconds (failed codes, code requests)."""

    def __init__(self, limit: int, window: float,
                 monotonic: Callable[[], float] = time.monotonic, max_keys: int = 50_000) -> None:
        self.limit, self.window, self.monotonic, self.max_keys = limit, window, monotonic, max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        now = self.monotonic()
        events = self._events.pop(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        self._events[key] = events
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        return events

    def blocked(self, key: str) -> bool:
        return len(self._recent(key)) >= self.limit

    def note(self, key: str) -> None:
        self._recent(key).append(self.monotonic())
