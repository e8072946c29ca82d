"""`healthbot zalo auth-url` and `healthbot zalo exchange-code CODE`: connect the station's OA once.

`auth-url` prints the OA permission URL with a PKCE `code_challenge` (zalo-api.md 2.2) and keeps the
verifier in the database. The OA admin opens it, approves, and Zalo sends the browser to
`[zalo_oa] redirect_uri` with `?code=…&oa_id=…`; `exchange-code` trades that code (valid 10 minutes)
for the access and refresh tokens, stored in the database, from where the bot refreshes them.

`--station CODE` connects a station's own OA (`[stations.zalo_oa]`, issue 21) instead: its app, its
redirect address, its tokens (`zalo_oa@<id>` in `oauth_tokens`). Station 1's code, or none, is the
shared `[zalo_oa]`.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from datetime import UTC, datetime

import aiohttp

from bot.channels.zalo_oa_tokens import OATokens, OAuthError, new_verifier, permission_url
from bot.config import Settings, ZaloOA, load_settings
from bot.i18n import Gettext, gettext_for, local_datetime, normalize_locale
from core.stations import DEFAULT_STATION, own_zalo_oa, sender_key, station_by_code
from storage import tokens
from storage.db import open_database, upgrade

EXIT_USAGE = 2
EXIT_REFUSED = 1
STATE_BYTES = 8
STATION_HELP = "a station's own OA ([stations.zalo_oa]); default: the shared [zalo_oa]"


def register(sub: argparse._SubParsersAction, with_config) -> None:  # noqa: ANN001
    parser = with_config(sub.add_parser("zalo", help="connect the Zalo Official Account"))
    actions = parser.add_subparsers(dest="zalo_command", required=True)
    auth = actions.add_parser("auth-url", help="print the URL where the OA admin grants access")
    auth.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="TOML file")
    auth.add_argument("--station", metavar="CODE", default="", help=STATION_HELP)
    auth.set_defaults(func=auth_url_command)
    exchange = actions.add_parser("exchange-code", help="store the tokens for an approval code")
    exchange.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="TOML file")
    exchange.add_argument("--station", metavar="CODE", default="", help=STATION_HELP)
    exchange.add_argument("code", help="the `code` parameter Zalo added to the redirect URL")
    exchange.set_defaults(func=exchange_code_command)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def _gettext(settings: Settings):  # noqa: ANN202 - bot.i18n.Gettext
    return gettext_for(normalize_locale(settings.station.default_language))


class Target:
    """Which OA a command connects: the shared [zalo_oa] (station None) or a station's own."""

    def __init__(self, settings: Settings, station_id: int | None, code: str) -> None:
        self.settings = settings
        self.station_id = station_id
        self.code = code  # "" for the shared OA
        own = None if station_id is None else own_zalo_oa(settings, station_id)
        self.cfg: ZaloOA = settings.zalo_oa if own is None else own
        self.provider = sender_key(tokens.ZALO_OA, station_id)  # its row in oauth_tokens

    def lacks(self, _: Gettext, *keys: str) -> bool:
        """True (and says which) when one of the OA's `keys` is not set."""
        missing = [k for k in keys if not getattr(self.cfg, k)]
        if missing and self.station_id is None:
            print(_("Please set {keys} in the [zalo_oa] section first.").format(
                keys=", ".join(missing)), file=sys.stderr)
        elif missing:
            print(_("Please set {keys} in the [stations.zalo_oa] table of station {code} "
                    "first.").format(keys=", ".join(missing), code=self.code), file=sys.stderr)
        return bool(missing)

    def option(self) -> str:
        return f" --station {self.code}" if self.code else ""

    def command(self, action: str) -> str:
        """`healthbot zalo <action>` for this OA (with `--station CODE` for a station's own)."""
        return f"healthbot zalo {action}{self.option()}"


def _target(args: argparse.Namespace, settings: Settings, _: Gettext) -> Target | None:
    """The OA `--station` names (None, after saying why, for an unknown code or a station
    without an OA of its own: its residents use the shared OA)."""
    code = (getattr(args, "station", "") or "").strip()
    if not code:
        return Target(settings, None, "")
    station_id = station_by_code(settings, code)
    if station_id is None:
        print(_("No station has the code {code}.").format(code=code), file=sys.stderr)
        return None
    if station_id == DEFAULT_STATION:
        return Target(settings, None, "")
    if own_zalo_oa(settings, station_id) is None:
        print(_("Station {code} has no Zalo Official Account of its own (set app_id in its "
                "[stations.zalo_oa] table); its residents use the shared one.").format(code=code),
              file=sys.stderr)
        return None
    return Target(settings, station_id, code.upper())


def auth_url_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _ = _gettext(settings)
    target = _target(args, settings, _)
    if target is None or target.lacks(_, "app_id", "redirect_uri"):
        return EXIT_USAGE
    verifier = new_verifier()
    asyncio.run(_store_verifier(target, verifier))
    print(_("Open this address as the Official Account's admin and approve the app:"))
    print(permission_url(target.cfg, verifier, secrets.token_urlsafe(STATE_BYTES)))
    print(_("Zalo then opens the redirect address with ?code=… in it. Within 10 minutes, run:"))
    print(f"  {target.command('exchange-code')} <code>")
    return 0


async def _store_verifier(target: Target, verifier: str) -> None:
    url = target.settings.database.url
    await upgrade(url)
    db = open_database(url)
    try:
        async with db.sessions() as session, session.begin():
            await tokens.save_verifier(session, target.provider, verifier, datetime.now(UTC))
    finally:
        await db.close()


def exchange_code_command(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _ = _gettext(settings)
    target = _target(args, settings, _)
    if target is None or target.lacks(_, "app_id", "app_secret"):
        return EXIT_USAGE
    try:
        expires_at, renewable = asyncio.run(exchange(settings, args.code.strip(), target))
    except OAuthError:
        print(_("Zalo did not accept this code. Codes are valid for 10 minutes and only once: "
                "run `{auth_url}` again.").format(auth_url=target.command("auth-url")),
              file=sys.stderr)
        return EXIT_REFUSED
    locale = normalize_locale(settings.station.default_language)
    when = local_datetime(expires_at, locale)
    if not renewable:  # a trial OA: an access token only (issue 19)
        print(_("The Official Account is connected, but Zalo gave no refresh token (a trial "
                "Official Account). The bot can send until {when}; then run `{auth_url}` and "
                "`{exchange_code}` again to reconnect.").format(
                    when=when, auth_url=target.command("auth-url"),
                    exchange_code=target.command("exchange-code")))
        return 0
    print(_("The Official Account is connected. The access token is valid until {when}; "
            "the bot renews it by itself.").format(when=when))
    return 0


async def exchange(settings: Settings, code: str,
                   target: Target | None = None) -> tuple[datetime, bool]:
    """Exchange `code` (with the stored PKCE verifier, if any); returns the token's expiry and
    whether the bot can renew it (False for a trial OA, which gets no refresh token)."""
    target = target or Target(settings, None, "")
    await upgrade(settings.database.url)
    db = open_database(settings.database.url)
    try:
        async with db.sessions() as session, session.begin():
            verifier = await tokens.pop_verifier(session, target.provider)
        async with aiohttp.ClientSession() as http:
            manager = OATokens(db, target.cfg, lambda: datetime.now(UTC), lambda: http,
                               station_id=target.station_id, station_code=target.code)
            pair = await manager.exchange_code(code, verifier)
        return pair.expires_at, bool(pair.refresh_token)
    finally:
        await db.close()
