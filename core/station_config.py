"""A station's own bots and library in the configuration (issue 21, docs/stations.md).

`[stations.telegram]`, `[stations.zalo_bot]` and `[stations.zalo_oa]` of a `[[stations]]` table,
their secrets from the environment (the shared variable's name + `_<CODE>`), a station library folder read next to the
config file, and the checks on station bots. `core.config` builds and checks the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.config import Settings


@dataclass(frozen=True)
class StationTelegram:
    """A station's own Telegram bot (empty token: its residents use the shared [telegram] bot).

    Secrets from the environment as for [telegram]: TELEGRAM_BOT_TOKEN_<CODE> and
    TELEGRAM_WEBHOOK_SECRET_<CODE> (CODE = the station's code in capitals). The mode is
    [telegram]'s; an empty api_base_url is [telegram]'s.
    """

    token: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    api_base_url: str = ""
    bot_username: str = ""  # for t.me links to this bot (ward search on the shared bot)


@dataclass(frozen=True)
class StationZaloBot:
    """A station's own Zalo Bot (empty token: the shared [zalo_bot]). Secrets from
    ZALO_BOT_TOKEN_<CODE> and ZALO_BOT_WEBHOOK_SECRET_<CODE>; the mode is [zalo_bot]'s."""

    token: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    api_base_url: str = ""
    # For the shared bots' answer to a resident who picks this station (Zalo Bot user ids are
    # per bot, so the shared bot cannot move them): no public link form of a Zalo Bot is
    # documented, so `link` is the one Zalo Bot Manager shows ("" = none) and `name` the bot's
    # name residents search for in Zalo.
    name: str = ""
    link: str = ""


@dataclass(frozen=True)
class StationZaloOA:
    """A station's own Zalo Official Account, on its own app (empty app_id: the shared [zalo_oa]).

    Secrets from ZALO_OA_APP_SECRET_<CODE> and ZALO_OA_SECRET_KEY_<CODE>, as for [zalo_oa]. Its
    webhook is /zalo/oa/webhook/<code>, its OAuth tokens are stored under `zalo_oa@<id>`
    (`healthbot zalo auth-url --station CODE`). Empty URLs are [zalo_oa]'s.
    """

    app_id: str = ""
    app_secret: str = ""
    oa_secret_key: str = ""
    oa_id: str = ""
    redirect_uri: str = ""
    api_base_url: str = ""
    oauth_base_url: str = ""
    group_ids: list[str] = field(default_factory=list)


# A station's own bots: (table, key, variable prefix); the variable ends with the station's code.
STATION_SECRET_ENV = (
    ("telegram", "token", "TELEGRAM_BOT_TOKEN_"),
    ("telegram", "webhook_secret", "TELEGRAM_WEBHOOK_SECRET_"),
    ("zalo_bot", "token", "ZALO_BOT_TOKEN_"),
    ("zalo_bot", "webhook_secret", "ZALO_BOT_WEBHOOK_SECRET_"),
    ("zalo_oa", "app_secret", "ZALO_OA_APP_SECRET_"),
    ("zalo_oa", "oa_secret_key", "ZALO_OA_SECRET_KEY_"),
)


def station_secrets(raw: dict[str, Any], env: dict[str, str]) -> None:
    """A station's own bot secrets from TELEGRAM_BOT_TOKEN_<CODE>, ZALO_BOT_TOKEN_<CODE>..."""
    entries = raw.get("stations")
    for entry in entries if isinstance(entries, list) else []:
        if not (isinstance(entry, dict) and isinstance(entry.get("code"), str)):
            continue
        code = entry["code"].upper()
        for section, key, var in STATION_SECRET_ENV:
            if env.get(var + code):
                table = entry.setdefault(section, {})
                if isinstance(table, dict):
                    table[key] = env[var + code]


def anchor_libraries(raw: dict[str, Any], config_file: Path) -> None:
    """A relative station library folder is read relative to the config file, not the cwd."""
    entries = raw.get("stations")
    tables = [raw.get("station"), *(entries if isinstance(entries, list) else [])]
    for table in tables:
        if isinstance(table, dict) and isinstance(table.get("library"), str) and table["library"]:
            folder = Path(table["library"])
            if not folder.is_absolute():
                table["library"] = str(config_file.resolve().parent / folder)


def station_bot_problem(settings: Settings) -> str:
    """One bot per token (two pollers on one token collide); a webhook needs its secret. The
    first problem found, or ""."""
    for section, prefix in (("telegram", "TELEGRAM"), ("zalo_bot", "ZALO_BOT")):
        shared = getattr(settings, section)
        tokens = {shared.token} - {""}
        for i, entry in enumerate(settings.stations):
            own = getattr(entry, section)
            if not own.token:
                continue
            where = f"stations[{i}].{section}"
            if own.token in tokens:
                return (f"'{where}.token' is another bot's token; each station's own bot has its"
                        " own token (or none: the shared bot)")
            tokens.add(own.token)
            if shared.mode == "webhook" and not own.webhook_secret:
                return (f"'{where}' needs webhook_secret (or {prefix}_WEBHOOK_SECRET_"
                        f"{entry.code.upper()}) in webhook mode")
    return station_oa_problem(settings)


def station_oa_problem(settings: Settings) -> str:
    """Each station's own OA is on its own app (its own webhook, signing key and tokens)."""
    apps = {settings.zalo_oa.app_id} - {""}
    oas = {settings.zalo_oa.oa_id} - {""}
    for i, entry in enumerate(settings.stations):
        own = entry.zalo_oa
        if not own.app_id:
            continue
        where = f"stations[{i}].zalo_oa"
        if own.app_id in apps or (own.oa_id and own.oa_id in oas):
            return (f"'{where}' is another OA's app or OA id; each station's own OA has its own"
                    " app (or none: the shared [zalo_oa])")
        apps.add(own.app_id)
        oas.add(own.oa_id)
    return ""
