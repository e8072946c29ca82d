"""Zalo OA OAuth v4: the permission URL (PKCE), code exchange and serialised token refreshes.

Tokens live in the database (`storage.tokens`), never in the config file: the access token lasts
25 h and the refresh token is single-use and rotates (zalo-api.md 2.2). Refreshes are serialised by
an asyncio lock (one process) and, on PostgreSQL, by a row lock held across the HTTP call, so two
workers never spend the same refresh token and the rotated one is always saved. On SQLite the HTTP
call happens outside any transaction (a read snapshot could not be upgraded to a write after it)
and the new pair is saved right after. No token is ever logged.

Each OA has its own row: the shared [zalo_oa] under `zalo_oa`, a station's own OA (issue 21)
under `zalo_oa@<station id>`; refreshing one never reads or locks another's.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.channel_health import TOKEN_EXPIRED, TOKEN_REJECTED, UP, ChannelHealth
from bot.config import ZaloOA
from bot.log_privacy import register_secret
from core.stations import sender_key
from storage import tokens
from storage.db import Database

log = logging.getLogger(__name__)

PROVIDER = tokens.ZALO_OA
TOKEN_PATH = "/v4/oa/access_token"
PERMISSION_PATH = "/v4/oa/permission"
REFRESH_MARGIN = timedelta(minutes=30)  # refresh this long before the access token expires
DEFAULT_LIFETIME_SECONDS = 90_000  # 25 h, when Zalo's answer has no usable expires_in
OAUTH_TIMEOUT_SECONDS = 20.0
VERIFIER_BYTES = 48  # 64 base64url characters (RFC 7636 allows 43-128)


class OAuthError(Exception):
    """Zalo refused an OAuth call, or the OA is not connected yet."""


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_verifier() -> str:
    return secrets.token_urlsafe(VERIFIER_BYTES)


def permission_url(cfg: ZaloOA, verifier: str, state: str) -> str:
    """Where the OA admin approves the app; Zalo sends `code` and `oa_id` to redirect_uri."""
    query = {
        "app_id": cfg.app_id,
        "redirect_uri": cfg.redirect_uri,
        "code_challenge": code_challenge(verifier),
        "state": state,
    }
    return f"{cfg.oauth_base_url.rstrip('/')}{PERMISSION_PATH}?{urlencode(query)}"


def parse_token_answer(body: Any, now: datetime) -> tokens.TokenPair:
    """Read `{access_token, refresh_token, expires_in: "90000"}` defensively (2.2)."""
    if not isinstance(body, dict):
        raise OAuthError("malformed OAuth answer")
    inner = body.get("data")
    data: dict[str, Any] = inner if isinstance(inner, dict) else body
    access, refresh = data.get("access_token"), data.get("refresh_token")
    if not access:
        code = body.get("error")
        raise OAuthError(f"Zalo refused the OAuth request (error {code})")
    # A trial (unverified) OA gets an access token only (zalo-api.md 2.2 [S]): it is accepted, and
    # stored with an empty refresh token; it works until it expires (`is_trial`).
    raw = data.get("expires_in", data.get("expire_in"))
    try:
        lifetime = int(str(raw))
    except ValueError:
        lifetime = DEFAULT_LIFETIME_SECONDS
    return tokens.TokenPair(str(access), str(refresh or ""), now + timedelta(seconds=lifetime))


def is_trial(pair: tokens.TokenPair) -> bool:
    """An access token without a refresh token (a trial OA): it cannot be renewed."""
    return not pair.refresh_token


RECONNECT_HINT = ("run `healthbot zalo auth-url` and `healthbot zalo exchange-code <code>` "
                  "again to reconnect")


def reconnect_hint(station_code: str = "") -> str:
    """How to reconnect this OA (a station's own OA: with `--station CODE`)."""
    if not station_code:
        return RECONNECT_HINT
    return (f"run `healthbot zalo auth-url --station {station_code}` and `healthbot zalo "
            f"exchange-code --station {station_code} <code>` again to reconnect")


class OATokens:
    """Hands out a valid access token, refreshing it (once, serialised) when needed."""

    def __init__(
        self,
        db: Database,
        cfg: ZaloOA,
        clock: Callable[[], datetime],
        http: Callable[[], aiohttp.ClientSession],
        *,
        station_id: int | None = None,
        station_code: str = "",
        health: ChannelHealth | None = None,
    ) -> None:
        self.db = db
        self.cfg = cfg
        self.clock = clock
        self._http = http
        # The shared OA's row is `zalo_oa`; a station's own OA's `zalo_oa@<id>` (issue 21).
        self.provider = sender_key(PROVIDER, station_id)
        self.name = self.provider  # names the OA in logs (no personal data)
        self.hint = reconnect_hint(station_code)
        self._lock = asyncio.Lock()
        self._trial_reported = False
        self.health = health  # the running channel's (None in `healthbot zalo` commands)

    async def warn_if_trial(self) -> None:
        """Log once at start-up when the stored token cannot be renewed (a trial OA)."""
        async with self.db.sessions() as session:
            pair = await tokens.load_token(session, self.provider)
        if pair is not None and is_trial(pair):
            log.warning("%s: this OA has no refresh token (a trial OA); sending works until "
                        "%s UTC, then %s", self.name, pair.expires_at.strftime("%d/%m/%Y %H:%M"),
                        self.hint)

    async def access_token(self) -> str:
        async with self.db.sessions() as session:
            pair = await tokens.load_token(session, self.provider)
        masked(pair)
        if pair is None:
            raise OAuthError(f"the OA is not connected: {self.hint}")
        if pair.expires_at - self.clock() > REFRESH_MARGIN:
            self._state(UP)  # e.g. reconnected with `healthbot zalo exchange-code`
            return pair.access_token
        return await self.refresh(stale=pair.access_token)

    def _state(self, state: str) -> None:
        if self.health is None or self.health.states.get(self.name) == state:
            return
        if state == UP:
            self.health.up(self.name)
        else:
            self.health.down(self.name, state)

    async def refresh(self, stale: str | None = None) -> str:
        """A new access token; if another task or worker already replaced `stale`, that one."""
        async with self._lock:
            if self.db.dialect == "postgresql":
                async with self.db.sessions() as session, session.begin():
                    pair = await tokens.locked_token(session, self.provider)
                    masked(pair)
                    if pair is None:
                        raise OAuthError("the OA is not connected")
                    if self._already_fresh(pair, stale):
                        return pair.access_token
                    new = await self._refresh_request(pair.refresh_token)
                    await tokens.save_token(
                        session, self.provider, new.access_token, new.refresh_token, new.expires_at
                    )
                return new.access_token
            async with self.db.sessions() as session:
                pair = await tokens.load_token(session, self.provider)
            if pair is None:
                raise OAuthError("the OA is not connected")
            if self._already_fresh(pair, stale):
                return pair.access_token
            new = await self._refresh_request(pair.refresh_token)
            async with self.db.sessions() as session, session.begin():
                await tokens.save_token(
                    session, self.provider, new.access_token, new.refresh_token, new.expires_at
                )
            return new.access_token

    def _already_fresh(self, pair: tokens.TokenPair, stale: str | None) -> bool:
        return (
            stale is not None
            and pair.access_token != stale
            and pair.expires_at - self.clock() > REFRESH_MARGIN
        )

    async def _refresh_request(self, refresh_token: str) -> tokens.TokenPair:
        if not refresh_token:
            if not self._trial_reported:
                self._trial_reported = True
                log.error("%s access token expired and this OA has no refresh token "
                          "(a trial OA): %s", self.name, self.hint)
            self._state(TOKEN_EXPIRED)
            raise OAuthError("no refresh token (trial OA): reconnect")
        form = {"app_id": self.cfg.app_id, "grant_type": "refresh_token",
                "refresh_token": refresh_token}
        try:
            pair = await self._token_request(form)
        except OAuthError:
            log.error("%s token refresh refused: the OA admin must %s", self.name, self.hint)
            self._state(TOKEN_REJECTED)
            raise
        log.info("%s access token refreshed", self.name)
        self._state(UP)
        return pair

    async def exchange_code(self, code: str, verifier: str | None) -> tokens.TokenPair:
        """Trade the authorization code for tokens and store them."""
        form = {"app_id": self.cfg.app_id, "grant_type": "authorization_code", "code": code}
        if verifier:
            form["code_verifier"] = verifier
        pair = await self._token_request(form)
        async with self.db.sessions() as session, session.begin():
            await tokens.save_token(
                session, self.provider, pair.access_token, pair.refresh_token, pair.expires_at
            )
        return pair

    async def _token_request(self, form: dict[str, str]) -> tokens.TokenPair:
        url = f"{self.cfg.oauth_base_url.rstrip('/')}{TOKEN_PATH}"
        try:
            async with self._http().post(
                url,
                data=form,
                headers={"secret_key": self.cfg.app_secret},
                timeout=aiohttp.ClientTimeout(total=OAUTH_TIMEOUT_SECONDS),
            ) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OAuthError(f"OAuth call failed: {type(exc).__name__}") from exc
        return masked(parse_token_answer(body, self.clock()))


def masked(pair: tokens.TokenPair | None) -> Any:
    """`pair`, its tokens now masked in every log line (`bot.log_privacy`)."""
    if pair is not None:
        register_secret(pair.access_token)
        register_secret(pair.refresh_token)
    return pair
