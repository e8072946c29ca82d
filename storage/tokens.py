"""OAuth tokens (Zalo OA) on the `oauth_tokens` table: read, lock for a refresh, save.

A Zalo refresh token is single-use and rotates on every refresh (zalo-api.md 2.2), so losing the
new one forces the OA admin to authorise again. `locked_token` takes a row lock
(`SELECT … FOR UPDATE` on PostgreSQL) so two workers never refresh with the same refresh token;
SQLite ignores FOR UPDATE and relies on there being one process (the caller's asyncio lock).
A PKCE verifier waiting for `healthbot zalo exchange-code` is kept in the same table under its own
provider name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OAuthToken

ZALO_OA = "zalo_oa"
PKCE_SUFFIX = ":pkce"  # provider "<name>:pkce" holds a code verifier, not a token


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime


def _pair(row: OAuthToken | None) -> TokenPair | None:
    if row is None:
        return None
    return TokenPair(row.access_token, row.refresh_token, row.expires_at)


async def load_token(session: AsyncSession, provider: str) -> TokenPair | None:
    row = await session.get(OAuthToken, provider)
    return _pair(row)


async def locked_token(session: AsyncSession, provider: str) -> TokenPair | None:
    """The stored pair, row-locked until the transaction ends (PostgreSQL; a no-op on SQLite)."""
    stmt = (
        select(OAuthToken)
        .where(OAuthToken.provider == provider)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return _pair((await session.execute(stmt)).scalar_one_or_none())


async def save_token(
    session: AsyncSession, provider: str, access_token: str, refresh_token: str, expires_at: datetime
) -> None:
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware UTC datetime")
    row = await session.get(OAuthToken, provider)
    if row is None:
        session.add(
            OAuthToken(
                provider=provider,
                access_token=access_token,
                refresh_token=refresh_token,
                expires_at=expires_at.astimezone(UTC),
            )
        )
    else:
        row.access_token = access_token
        row.refresh_token = refresh_token
        row.expires_at = expires_at.astimezone(UTC)
    await session.flush()


async def save_verifier(session: AsyncSession, provider: str, verifier: str, now: datetime) -> None:
    """Keep a PKCE code verifier until the authorization code is exchanged."""
    await save_token(session, provider + PKCE_SUFFIX, verifier, "", now)


async def pop_verifier(session: AsyncSession, provider: str) -> str | None:
    """The waiting PKCE verifier (used once, then removed)."""
    row = await session.get(OAuthToken, provider + PKCE_SUFFIX)
    if row is None:
        return None
    verifier = row.access_token
    await session.execute(delete(OAuthToken).where(OAuthToken.provider == provider + PKCE_SUFFIX))
    return verifier
