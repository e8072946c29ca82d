"""Configuration: one TOML file plus environment variables for secrets.

`load_settings(path)` returns a fully validated `Settings`. With no file at all the embedded
defaults describe a runnable demo station. A malformed file, an unknown key or a value of the wrong
type raises `ConfigError` naming the file, the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from content.station import StationInfo
from core.paths import anchored_database_url, default_database_url
from core.station_config import (
    StationTelegram,
    StationZaloBot,
    StationZaloOA,
    anchor_libraries,
    station_bot_problem,
    station_secrets,
)

# The embedded default is resolved from the environment (core/paths.py), never the current folder.
DEFAULT_DATABASE_URL = default_database_url(os.environ)
TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")

# Secrets may come from the environment instead of the file: (section, key) -> variable.
SECRET_ENV = {
    ("telegram", "token"): "TELEGRAM_BOT_TOKEN",
    ("telegram", "webhook_secret"): "TELEGRAM_WEBHOOK_SECRET",
    ("zalo_bot", "token"): "ZALO_BOT_TOKEN",
    ("zalo_bot", "webhook_secret"): "ZALO_BOT_WEBHOOK_SECRET",
    ("zalo_oa", "app_secret"): "ZALO_OA_APP_SECRET",
    ("zalo_oa", "oa_secret_key"): "ZALO_OA_SECRET_KEY",
    ("database", "url"): "HEALTHBOT_DATABASE_URL",
    ("web", "cookie_secret"): "HEALTHBOT_COOKIE_SECRET",
    ("redis", "url"): "HEALTHBOT_REDIS_URL",
}


class ConfigError(Exception):
    """The configuration file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Station:
    name: str = "Trạm Y tế phường Mẫu"
    ward: str = "Phường Mẫu"
    address: str = "Số 1 đường Mẫu, phường Mẫu"
    phone: str = "0243 000 0000"
    hours_vi: str = "Thứ Hai – Thứ Sáu: 7:00–11:30 và 13:30–17:00; Thứ Bảy: 7:00–11:30"
    hours_en: str = "Mon–Fri 7:00–11:30 and 13:30–17:00; Sat 7:00–11:30"
    map_url: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    region: Literal["north", "central", "south"] = "north"
    default_language: Literal["vi", "en"] = "vi"
    info_reviewed_on: str = "2026-11-01"
    code: str = "default"  # stations (issue 21): station 1's code in deep links and the table
    library: str = ""  # a folder of this station's own library entries (content/station_library)

    def info(self) -> StationInfo:
        """The station's public facts, as the content renderer needs them."""
        return StationInfo(
            name=self.name,
            ward=self.ward,
            address=self.address,
            phone=self.phone,
            hours={"vi": self.hours_vi, "en": self.hours_en},
            map_url=self.map_url,
            updated_on=date.fromisoformat(self.info_reviewed_on),
        )


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    # Check-up coverage as a share (issue 20): the area's residents from the ward's own figures;
    # 0 = not entered ("chưa có số dân"). The groups are optional and part of `population`.
    population: int = 0
    population_elderly: int = 0  # aged 60 and over
    population_children: int = 0  # under 16


@dataclass(frozen=True)
class Database:
    url: str = DEFAULT_DATABASE_URL
    message_log_retention_days: int = 90
    outbox_retention_days: int = 30  # sent/failed/cancelled outbox rows (staff cards hold complaints)


@dataclass(frozen=True)
class Web:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    cookie_secret: str = ""
    max_text_chars: int = 2000
    # issue 14: proxies whose X-Forwarded-For/-Proto are believed, pacing, Web Push contact
    trusted_proxies: list[str] = field(default_factory=list)
    messages_per_minute: int = 30
    address_messages_per_minute: int = 240
    push_contact: str = ""


@dataclass(frozen=True)
class Telegram:
    token: str = ""
    api_base_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_secret: str = ""
    bot_username: str = ""
    # Every running bot (and each station's own) is asked getMe (and getWebhookInfo in webhook
    # mode) this often, so a revoked token or a lost webhook shows in /readyz without a send
    # failing; 0 = off. A bot that is down is retried sooner (2 s doubling up to 60 s).
    health_check_seconds: float = 300.0


@dataclass(frozen=True)
class ZaloBot:
    token: str = ""
    api_base_url: str = "https://bot-api.zaloplatforms.com/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_secret: str = ""
    # Webhook mode: getMe and getWebhookInfo this often, as [telegram] (polling sees it itself).
    health_check_seconds: float = 300.0


@dataclass(frozen=True)
class ZaloOA:
    app_id: str = ""
    app_secret: str = ""
    oa_secret_key: str = ""
    oa_id: str = ""
    oauth_base_url: str = "https://oauth.zaloapp.com"
    api_base_url: str = "https://openapi.zalo.me"
    redirect_uri: str = ""
    group_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StaffMember:
    name: str
    role: Literal["admin", "staff", "approver"] = "staff"
    telegram_id: str = ""
    zalo_bot_id: str = ""
    zalo_oa_id: str = ""
    web_id: str = ""
    # stations (issue 21): the stations this member works for; province = sees and acts on all
    stations: list[int] = field(default_factory=lambda: [1])
    province: bool = False
    # the console (issue 18): the short sign-in name; "" = sign in with the full name
    handle: str = ""


@dataclass(frozen=True)
class Broadcast:
    require_approval: bool = False
    quiet_hours: str = "21:00-07:00"
    missed_grace_hours: int = 12
    zalo_messages_per_second: float = 5.0


@dataclass(frozen=True)
class FeedbackCategory:
    code: str
    name_vi: str
    name_en: str
    urgency: Literal["urgent", "normal"] = "normal"
    staff_chat: str = ""


@dataclass(frozen=True)
class Feedback:
    staff_chat: str = ""
    accept_hours: int = 8
    urgent_accept_hours: int = 4
    resolve_working_days: int = 5
    max_tickets_per_day: int = 5
    max_text_chars: int = 4000
    working_days: list[str] = field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    working_hours: list[str] = field(default_factory=lambda: ["07:00-11:30", "13:30-17:00"])
    categories: list[FeedbackCategory] = field(default_factory=list)


@dataclass(frozen=True)
class Digest:
    """The staff's morning digest (bot.digest): local time on working days; "" turns it off."""

    time: str = "07:30"


@dataclass(frozen=True)
class Posters:
    """Links `healthbot qr` puts on posters besides Telegram's deep link (issue 16)."""

    zalo_bot_link: str = ""
    zalo_oa_link: str = ""  # default: https://zalo.me/<zalo_oa.oa_id>
    web_url: str = ""


@dataclass(frozen=True)
class Bhyt:
    # 0: use the dated table content/data/base_salary.yaml (the normal case); > 0: an explicit
    # override in đồng/month, e.g. while a new decree is not yet in the table.
    base_salary: int = 0


# --- satisfaction survey (issue 20) ---
@dataclass(frozen=True)
class Survey:
    interval_days: int = 180  # a resident is asked at most once in this many days


# --- several workers (issue 21): shared pacing through Redis ---
@dataclass(frozen=True)
class Redis:
    url: str = ""  # "" = one worker, in-process pacing; redis://host:6379/0 = shared by all workers


# --- stations (issue 21): further stations served by this installation (docs/stations.md) ---


@dataclass(frozen=True)
class StationEntry:
    """Station 2, 3...: [station] and [[areas]] stay station 1; empty facts are taken from it."""

    id: int
    code: str
    name: str
    ward: str = ""
    address: str = ""
    phone: str = ""
    hours_vi: str = ""
    hours_en: str = ""
    map_url: str = ""
    region: Literal["north", "central", "south", ""] = ""
    info_reviewed_on: str = ""
    staff_chat: str = ""  # "<channel>:<chat id>" for this station's new tickets
    areas: list[Area] = field(default_factory=list)
    telegram: StationTelegram = field(default_factory=StationTelegram)
    zalo_bot: StationZaloBot = field(default_factory=StationZaloBot)
    zalo_oa: StationZaloOA = field(default_factory=StationZaloOA)
    library: str = ""  # a folder of this station's own library entries, on top of the shared one


# --- the station's web console (issue 18): /console/ on the web server, off by default ---
@dataclass(frozen=True)
class Console:
    enabled: bool = False
    session_hours: int = 12  # a sign-in lasts this long (absolute, not sliding)
    code_minutes: int = 10  # a one-time sign-in code expires after this many minutes
    # Only for http://127.0.0.1 development and tests: cookies without the Secure flag. Refused
    # unless web.host is a loopback address (docs/console.md).
    insecure_cookies: bool = False


@dataclass(frozen=True)
class Settings:
    station: Station = field(default_factory=Station)
    areas: list[Area] = field(
        default_factory=lambda: [
            Area("TDP1", "Tổ dân phố 1"),
            Area("TDP2", "Tổ dân phố 2"),
            Area("TDP3", "Tổ dân phố 3"),
        ]
    )
    database: Database = field(default_factory=Database)
    web: Web = field(default_factory=Web)
    telegram: Telegram = field(default_factory=Telegram)
    zalo_bot: ZaloBot = field(default_factory=ZaloBot)
    zalo_oa: ZaloOA = field(default_factory=ZaloOA)
    staff: list[StaffMember] = field(default_factory=list)
    broadcast: Broadcast = field(default_factory=Broadcast)
    feedback: Feedback = field(default_factory=Feedback)
    bhyt: Bhyt = field(default_factory=Bhyt)
    digest: Digest = field(default_factory=Digest)  # staff tools (issue 16)
    posters: Posters = field(default_factory=Posters)
    redis: Redis = field(default_factory=Redis)
    stations: list[StationEntry] = field(default_factory=list)  # issue 21
    survey: Survey = field(default_factory=Survey)
    console: Console = field(default_factory=Console)  # issue 18
    source: str = "<embedded defaults>"

    def area(self, code: str) -> Area | None:
        """The configured area with this code (case-insensitive), if any."""
        wanted = code.strip().upper()
        return next((a for a in self.areas if a.code.upper() == wanted), None)


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read and validate the configuration; `None` means embedded defaults (plus environment)."""
    env = dict(os.environ if env is None else env)
    raw: dict[str, Any] = {}
    source = "<embedded defaults>"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read the file ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{source}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
            ) from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
        database = raw.get("database")
        if isinstance(database, dict) and isinstance(database.get("url"), str):
            database["url"] = anchored_database_url(database["url"], Path(path))
    for (section, key), var in SECRET_ENV.items():
        if env.get(var):
            raw.setdefault(section, {})
            if isinstance(raw[section], dict):
                raw[section][key] = env[var]
    station_secrets(raw, env)
    if path is not None:
        anchor_libraries(raw, Path(path))
    raw.setdefault("database", {})
    if isinstance(raw["database"], dict):
        raw["database"].setdefault("url", default_database_url(env))
    settings = _build(Settings, raw, source, "")
    settings = dataclasses.replace(settings, source=source)
    _check_semantics(settings, source)
    return settings


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type, raw: Any, source: str, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{where or 'top level'}] must be a table")
    hints = _type_hints(cls)  # cached: a province config builds thousands of Area tables
    names = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(raw) - names)
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise ConfigError(
            f"{source}: unknown key '{key}'; expected one of: {', '.join(sorted(names))}"
        )
    values: dict[str, Any] = {}
    for name in names & set(raw):
        key = f"{where}.{name}" if where else name
        values[name] = _convert(hints[name], raw[name], source, key)
    try:
        return cls(**values)
    except TypeError as exc:  # a required key is missing
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in values]
        raise ConfigError(f"{source}: [{where}] needs the key(s) {', '.join(missing)}") from exc


def _convert(tp: Any, value: Any, source: str, key: str) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, source, key)
    if origin is list:
        (item,) = get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{source}: '{key}' must be a list, got {_kind(value)}")
        return [_convert(item, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(
                f"{source}: '{key}' must be one of {', '.join(map(repr, allowed))}, got {value!r}"
            )
        return value
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{source}: '{key}' has an unsupported type")
    expected = {str: "a string", int: "a whole number", bool: "true or false", float: "a number"}
    ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        ok, value = True, float(value)
    if not ok:
        raise ConfigError(f"{source}: '{key}' must be {expected.get(tp, tp)}, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _check_semantics(settings: Settings, source: str) -> None:
    codes = [a.code.upper() for a in settings.areas]
    if len(codes) != len(set(codes)):
        raise ConfigError(f"{source}: 'areas' has the same code twice")
    for i, area in enumerate(settings.areas):
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", area.code):
            raise ConfigError(
                f"{source}: 'areas[{i}].code' must be 1-32 ASCII letters, digits, '-' or '_'"
                " (it goes into QR deep links)"
            )
        _check_population(area, source, f"areas[{i}]")
    _check_stations(settings, source)
    if settings.digest.time and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", settings.digest.time):
        raise ConfigError(f"{source}: 'digest.time' must look like \"07:30\" (or \"\" for off)")
    if not TIME_RANGE.match(settings.broadcast.quiet_hours):
        raise ConfigError(f"{source}: 'broadcast.quiet_hours' must look like \"21:00-07:00\"")
    for i, span in enumerate(settings.feedback.working_hours):
        if not TIME_RANGE.match(span):
            raise ConfigError(
                f"{source}: 'feedback.working_hours[{i}]' must look like \"07:00-11:30\""
            )
    try:
        date.fromisoformat(settings.station.info_reviewed_on)
    except ValueError:
        raise ConfigError(
            f"{source}: 'station.info_reviewed_on' must be a date like \"2026-11-01\""
        ) from None
    if not settings.database.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            f"{source}: 'database.url' must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    if settings.redis.url and not settings.redis.url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{source}: 'redis.url' must start with redis://, rediss:// or unix://")
    if not 1 <= settings.web.port <= 65535:
        raise ConfigError(f"{source}: 'web.port' must be between 1 and 65535")
    for i, proxy in enumerate(settings.web.trusted_proxies):
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(
                f"{source}: 'web.trusted_proxies[{i}]' must be an address or network like"
                " \"127.0.0.1\" or \"10.0.0.0/8\""
            ) from None
    _check_console(settings, source)
    for section in ("telegram", "zalo_bot"):
        probe = getattr(settings, section).health_check_seconds
        if probe != 0 and not 10 <= probe <= 86_400:
            raise ConfigError(f"{source}: '{section}.health_check_seconds' must be 0 (off) or"
                              " between 10 and 86400")
    if settings.web.messages_per_minute < 1 or settings.web.address_messages_per_minute < 1:
        raise ConfigError(f"{source}: 'web.messages_per_minute' and"
                          " 'web.address_messages_per_minute' must be at least 1")


def _check_population(area: Area, source: str, where: str) -> None:
    """Population figures: whole numbers from 0 (0 = not entered); the groups need the total and
    fit in it (elderly + children <= population)."""
    for key in ("population", "population_elderly", "population_children"):
        if getattr(area, key) < 0:
            raise ConfigError(f"{source}: '{where}.{key}' must be 0 (not entered) or more")
    groups = area.population_elderly + area.population_children
    if groups and not area.population:
        raise ConfigError(f"{source}: '{where}.population' is needed when"
                          " 'population_elderly' or 'population_children' is given")
    if groups > area.population:
        raise ConfigError(f"{source}: '{where}.population_elderly' + 'population_children'"
                          f" ({groups}) must not exceed 'population' ({area.population})")


HANDLE = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _check_console(settings: Settings, source: str) -> None:
    """Console keys in range; staff handles well-formed and unique (they are the sign-in name)."""
    console = settings.console
    if not 1 <= console.session_hours <= 24 * 7:
        raise ConfigError(f"{source}: 'console.session_hours' must be between 1 and 168")
    if not 2 <= console.code_minutes <= 30:
        raise ConfigError(f"{source}: 'console.code_minutes' must be between 2 and 30")
    if console.insecure_cookies and settings.web.host not in LOOPBACK_HOSTS:
        raise ConfigError(f"{source}: 'console.insecure_cookies' is only allowed when 'web.host'"
                          " is 127.0.0.1 (plain-HTTP development and tests)")
    seen: set[str] = set()
    for i, member in enumerate(settings.staff):
        names = {" ".join(member.name.split()).casefold()}
        if member.handle:
            if not HANDLE.fullmatch(member.handle):
                raise ConfigError(f"{source}: 'staff[{i}].handle' must be 2-32 lower-case ASCII"
                                  " letters, digits, '.', '_' or '-'")
            names.add(member.handle)
        if names & seen:
            raise ConfigError(f"{source}: 'staff[{i}]' has the same name or handle as another"
                              " staff member (each signs in to the console with it)")
        seen |= names


STATION_CODE = re.compile(r"[A-Za-z0-9]{1,20}")


def _check_stations(settings: Settings, source: str) -> None:
    """Station ids unique and >= 2, codes unique and unlike any area code (deep links)."""
    ids = {1}
    codes = {settings.station.code.upper()}
    if not STATION_CODE.fullmatch(settings.station.code):
        raise ConfigError(f"{source}: 'station.code' must be 1-20 ASCII letters or digits")
    for i, entry in enumerate(settings.stations):
        where = f"stations[{i}]"
        if entry.id in ids:
            raise ConfigError(f"{source}: '{where}.id' must be 2 or more and unique"
                              " (station 1 is [station])")
        if entry.id < 2:
            raise ConfigError(f"{source}: '{where}.id' must be 2 or more (station 1 is [station])")
        if not STATION_CODE.fullmatch(entry.code) or entry.code.upper() in codes:
            raise ConfigError(f"{source}: '{where}.code' must be 1-20 ASCII letters or digits,"
                              " unique among stations")
        ids.add(entry.id)
        codes.add(entry.code.upper())
        area_codes = [a.code.upper() for a in entry.areas]
        if len(area_codes) != len(set(area_codes)):
            raise ConfigError(f"{source}: '{where}.areas' has the same code twice")
        for j, area in enumerate(entry.areas):
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", area.code):
                raise ConfigError(f"{source}: '{where}.areas[{j}].code' must be 1-32 ASCII"
                                  " letters, digits, '-' or '_'")
            _check_population(area, source, f"{where}.areas[{j}]")
        if entry.info_reviewed_on:
            try:
                date.fromisoformat(entry.info_reviewed_on)
            except ValueError:
                raise ConfigError(f"{source}: '{where}.info_reviewed_on' must be a date like"
                                  " \"2026-11-01\"") from None
    problem = station_bot_problem(settings)
    if problem:
        raise ConfigError(f"{source}: {problem}")
    for member in settings.staff:
        unknown = sorted(set(member.stations) - ids)
        if unknown:
            raise ConfigError(f"{source}: staff '{member.name}' works for station {unknown[0]},"
                              " which is not configured")
