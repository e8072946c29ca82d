"""`healthbot zalo auth-url` and `healthbot zalo exchange-code CODE`: connect the station's OA once.

`auth-url` prints the OA permission URL with a PKCE `code_challenge` (zalo-api.md 2.2) and keeps the
verifier in the database. The OA admin opens it, approves, and Zalo sends the browser to
`[zalo_oa] redirect_uri` with `?code=…&oa_id=…`; `exchange-code` trades that code (valid 10 minutes)
for the access and refresh tokens, stored in the database, from where the bot refreshes them.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from datetime import UTC, datetime

import aiohttp

from bot.channels.zalo_oa_tokens import OATokens, OAuthError, new_verifier, permission_url
from bot.config import Settings, load_settings
from bot.i18n import Gettext, gettext_for, local_datetime, normalize_locale
from storage import tokens
from storage.db import open_database, upgrade

EXIT_USAGE = 2
EXIT_REFUSED = 1
STATE_BYTES = 8


def register(sub: argparse._SubParsersAction, with_config) -> None:  # noqa: ANN001
    parser = with_config(sub.add_parser("zalo", help="connect the Zalo Official Account"))
    actions = parser.add_subparsers(dest="zalo_command", required=True)
    auth = actions.add_parser("auth-url", help="print the URL where the OA admin grants access")
    auth.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="TOML file")
    auth.set_defaults(func=auth_url_command)
    exchange = actions.add_parser("exchange-code", help="store the tokens for an approval code")
    exchange.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="TOML file")
    exchange.add_argument("code", help="the `code` parameter Zalo added to the redirect URL")
    exchange.set_defaults(func=exchange_code_command)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def _gettext(settings: Settings):  # noqa: ANN202 - bot.i18n.Gettext
    return gettext_for(normalize_locale(settings.station.default_language))


def _lacks(settings: Settings, _: Gettext, *keys: str) -> bool:
    """True (and says which) when one of the [zalo_oa] `keys` is not set."""
    missing = [k for k in keys if not getattr(settings.zalo_oa, k)]
    if missing:
        print(_("Please set {keys} in the [zalo_oa] section first.").format(
            keys=", ".join(missing)), file=sys.stderr)
    return bool(missing)


def auth_url_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _ = _gettext(settings)
    if _lacks(settings, _, "app_id", "redirect_uri"):
        return EXIT_USAGE
    verifier = new_verifier()
    asyncio.run(_store_verifier(settings, verifier))
    print(_("Open this address as the Official Account's admin and approve the app:"))
    print(permission_url(settings.zalo_oa, verifier, secrets.token_urlsafe(STATE_BYTES)))
    print(_("Zalo then opens the redirect address with ?code=… in it. Within 10 minutes, run:"))
    print("  healthbot zalo exchange-code <code>")
    return 0


async def _store_verifier(settings: Settings, verifier: str) -> None:
    await upgrade(settings.database.url)
    db = open_database(settings.database.url)
    try:
        async with db.sessions() as session, session.begin():
            await tokens.save_verifier(session, tokens.ZALO_OA, verifier, datetime.now(UTC))
    finally:
        await db.close()


def exchange_code_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _ = _gettext(settings)
    if _lacks(settings, _, "app_id", "app_secret"):
        return EXIT_USAGE
    try:
        expires_at, renewable = asyncio.run(exchange(settings, args.code.strip()))
    except OAuthError:
        print(_("Zalo did not accept this code. Codes are valid for 10 minutes and only once: "
                "run `healthbot zalo auth-url` again."), file=sys.stderr)
        return EXIT_REFUSED
    locale = normalize_locale(settings.station.default_language)
    when = local_datetime(expires_at, locale)
    if not renewable:  # a trial OA: an access token only (issue 19)
        print(_("The Official Account is connected, but Zalo gave no refresh token (a trial "
                "Official Account). The bot can send until {when}; then run `healthbot zalo "
                "auth-url` and `healthbot zalo exchange-code` again to reconnect.").format(when=when))
        return 0
    print(_("The Official Account is connected. The access token is valid until {when}; "
            "the bot renews it by itself.").format(when=when))
    return 0


async def exchange(settings: Settings, code: str) -> tuple[datetime, bool]:
    """Exchange `code` (with the stored PKCE verifier, if any); returns the token's expiry and
    whether the bot can renew it (False for a trial OA, which gets no refresh token)."""
    await upgrade(settings.database.url)
    db = open_database(settings.database.url)
    try:
        async with db.sessions() as session, session.begin():
            verifier = await tokens.pop_verifier(session, tokens.ZALO_OA)
        async with aiohttp.ClientSession() as http:
            manager = OATokens(db, settings.zalo_oa, lambda: datetime.now(UTC), lambda: http)
            pair = await manager.exchange_code(code, verifier)
        return pair.expires_at, bool(pair.refresh_token)
    finally:
        await db.close()
