"""The console's secrets: signed cookies, hashed tokens and codes, CSRF tokens.

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
- The failure limits are shared by every worker: bot.console.limits.
- The one-time notice after an action ("flash") travels in its own cookie, HMAC-signed, bound to
  the session token and valid 5 minutes, so the next page shows it whichever worker serves it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets

log = logging.getLogger(__name__)

SESSION_COOKIE = "hb_console"
FLOW_COOKIE = "hb_console_flow"
LANG_COOKIE = "hb_console_lang"
COOKIE_PATH = "/console/"
FLASH_COOKIE = "hb_console_flash"
FLOW_SECONDS = 30 * 60
FLASH_SECONDS = 5 * 60
MAX_FLASH_CHARS = 600  # a notice is one sentence; a cookie holds at most ~4 kB


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

    def seal_flash(self, token: str, text: str, expires: float) -> str:
        """A cookie value carrying a one-time notice for the session `token`, signed, bound to
        that session and valid until `expires` (a POSIX time from the bot's clock)."""
        body = json.dumps({"t": text[:MAX_FLASH_CHARS], "e": int(expires)}, ensure_ascii=False)
        payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{payload}.{self.mac('flash', token + ':' + payload)}"

    def open_flash(self, token: str, value: str | None, now: float) -> str:
        """The notice of a cookie `seal_flash` made for this session and still valid, else ""."""
        if not token or not value or len(value) > 3800 or value.count(".") != 1:
            return ""
        payload, signature = value.split(".")
        if not hmac.compare_digest(signature, self.mac("flash", token + ":" + payload)):
            return ""
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return ""
        if not isinstance(data, dict) or not isinstance(data.get("t"), str) or \
                not isinstance(data.get("e"), int) or data["e"] < now:
            return ""
        return data["t"]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps of a session token or a flow nonce."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"
