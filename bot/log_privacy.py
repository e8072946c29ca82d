"""Keep personal data and secrets out of the logs (Decree 13/2023): a filter on every log handler.

The first line of defence is not to log personal values at all: the engine's errors carry no
statement parameters (`hide_parameters` in `storage.db`), database errors are described by class
and code (`storage.health.describe`), and code logs ticket codes, never texts. This module is the
second line, for whatever reaches a handler anyway (a message, its arguments, a traceback):

- exceptions are written through `exception_text`: a database error keeps its class, SQLSTATE and
  statement but never the server's DETAIL (PostgreSQL quotes the failing row there: a complaint, a
  phone) nor a value quoted by a data error; an HTTP parser error keeps its reason, not the raw
  request line (which carries download tokens, OAuth codes, cookies);
- `redact` masks the configured secrets (`register_settings`: bot tokens, webhook secrets, OA
  secrets, passwords in the database and Redis URLs; `register_secret`: OA access and refresh
  tokens as they are loaded), a bot token in an API URL (`/bot<token>/`), one-time download links,
  secret query values (`code=`, `state=`, `access_token=`...), credential headers, Vietnamese phone
  numbers, web chat cookies, typed dates (birth dates) and any leftover SQL parameter block;
- `PrivateAccessLogger` is the web server's access log: method, route pattern, status and time,
  never the path's values, the query string, headers, cookies or the client's address.

docs/privacy.md ("What never reaches logs") lists each value with its mechanism.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse
from aiohttp.web_urldispatcher import StaticResource

SECRET_QUERY_KEYS = (
    "code",
    "state",
    "access_token",
    "refresh_token",
    "code_verifier",
    "code_challenge",
    "secret_key",
    "secret_token",
    "token",
    "secret",
    "password",
)
SECRET_HEADERS = (
    "access_token",
    "secret_key",
    "X-Telegram-Bot-Api-Secret-Token",
    "X-Bot-Api-Secret-Token",
    "Authorization",
    "Cookie",
    "Set-Cookie",
)

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A "]" inside a value must not end the block early: up to SQLAlchemy's "Background" line.
    (
        re.compile(r"\[parameters: .*?\]\n?(?=\(Background on this error)", re.S),
        "[parameters hidden]\n",
    ),
    (re.compile(r"\[parameters: .*?\]\n?", re.S), "[parameters hidden]\n"),
    # PostgreSQL's DETAIL quotes the failing row or key ("Failing row contains (…, 'complaint')").
    (re.compile(r"^(\s*DETAIL:).*$", re.M), r"\1  [hidden]"),
    (re.compile(r"\bKey \((.*?)\)=\(.*?\)"), r"Key (\1)=([hidden])"),
    # Telegram and Zalo Bot API URLs carry the token: https://api.telegram.org/bot<TOKEN>/getMe
    (re.compile(r"(?<=/bot)[^/\s'\"?#]{8,}(?=/)"), "[token]"),
    (re.compile(r"(/tai-bao-cao/)(?![{\[])[^/\s'\"?#]+"), r"\1[link]"),
    (re.compile(r"(?i)\b(" + "|".join(SECRET_QUERY_KEYS) + r")=[^&\s'\"#]+"), r"\1=[hidden]"),
    (re.compile(r"(?im)^(\s*(?:Cookie|Set-Cookie|Authorization)\s*:).*$"), r"\1 [hidden]"),
    (
        re.compile(
            r"(?i)(['\"]?\b(?:"
            + "|".join(map(re.escape, SECRET_HEADERS))
            + r")['\"]?\s*[:=]\s*)(?!\[hidden\])(['\"]?)[^'\"\s,}]+"
        ),
        r"\1\2[hidden]",
    ),
    # Python's own parse errors quote their input, i.e. what a resident typed:
    # "invalid literal for int() with base 10: '…'", "time data '…' does not match format …"
    (
        re.compile(
            r"((?:invalid literal for \w+\(\) with base \d+|could not convert string to "
            r"\w+|Invalid isoformat string|unconverted data remains): ).+"
        ),
        r"\1[value hidden]",
    ),
    (
        re.compile(r"time data (?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")"),
        "time data [value hidden]",
    ),
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"), "[token]"),
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])"), "[web-id]"),
    (re.compile(r"(?<![\d.])(?:\+\s?84|84|0)(?:[\s.-]?\d){8,10}(?![\d.])"), "[phone]"),
    (re.compile(r"(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}(?!\d)"), "[date]"),
)

# --- configured secrets: masked wherever they appear, whatever their format ---

MIN_SECRET_CHARS = 8  # shorter values would mask ordinary words
SECRET_FIELDS = frozenset(
    {"token", "webhook_secret", "app_secret", "oa_secret_key", "cookie_secret"}
)
_secrets: set[str] = set()
_secrets_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Mask `value` in every later log line (a token loaded at run time, say)."""
    global _secrets_pattern
    if value and len(value) >= MIN_SECRET_CHARS and value not in _secrets:
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)  # a longer secret before its prefix
        _secrets_pattern = re.compile("|".join(map(re.escape, ordered)))


def register_settings(settings: Any) -> None:
    """Register every secret of the configuration: tokens, webhook secrets, the OA's secrets,
    the cookie secret (shared and each station's own), and passwords inside URLs."""
    for name, value in _walk(settings):
        if name in SECRET_FIELDS:
            register_secret(value)
        elif name == "url" and "@" in value:
            try:
                register_secret(urlsplit(value).password)
            except ValueError:
                continue


def _walk(node: Any) -> Iterable[tuple[str, str]]:
    if isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item)
    elif is_dataclass(node) and not isinstance(node, type):
        for f in fields(node):
            value = getattr(node, f.name)
            if isinstance(value, str):
                yield f.name, value
            else:
                yield from _walk(value)


def redact(text: str) -> str:
    if _secrets_pattern is not None:
        text = _secrets_pattern.sub("[secret]", text)
    for pattern, mask in PATTERNS:
        text = pattern.sub(mask, text)
    return text


# --- exceptions: what their message may say in a log ---

DATABASE_MODULES = ("asyncpg", "sqlalchemy", "sqlite3", "aiosqlite", "psycopg")
# PostgreSQL classes whose primary message names objects, never values (class 22, "data
# exception", quotes the offending value: 'invalid input syntax for type integer: "0912…"').
SAFE_SQLSTATE_CLASSES = ("08", "23", "25", "40", "42", "53", "54", "55", "57", "58")


def exception_text(exc: BaseException) -> str:
    """The message of `exc` as a log may show it (then `redact`ed like the rest of the line)."""
    from aiohttp.http_exceptions import HttpProcessingError
    from sqlalchemy.exc import StatementError

    if isinstance(exc, StatementError):
        orig = exc.orig
        inner = f"({_type_name(type(orig))}) {exception_text(orig)}" if orig is not None else ""
        statement = f"\n[SQL: {exc.statement[:2000]}]" if exc.statement else ""
        return f"{inner or type(exc).__name__}{statement}"
    if isinstance(exc, HttpProcessingError):  # the raw request line or header is not shown
        reason = next((line.strip() for line in exc.message.splitlines() if line.strip()), "")
        return f"{exc.code}, message: {reason}"
    if type(exc).__module__.split(".")[0] in DATABASE_MODULES:
        return _database_text(exc)
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not lose the log line
        return f"<{type(exc).__name__}>"


def _database_text(exc: BaseException) -> str:
    first = (str(exc).splitlines() or [""])[0]
    sqlstate = (
        getattr(exc, "sqlstate", None)
        or getattr(exc, "pgcode", None)
        or getattr(exc.__cause__, "sqlstate", None)
    )
    if sqlstate:
        if str(sqlstate)[:2] in SAFE_SQLSTATE_CLASSES:
            return f"{first} (SQLSTATE {sqlstate})"
        return f"details hidden (SQLSTATE {sqlstate})"
    if type(exc).__module__.startswith(("asyncpg", "psycopg")):
        # Client-side driver errors quote the argument: "invalid input for query argument $1: '…'"
        return first.split(": ")[0]
    return first  # SQLite names tables, columns and constraints, never values


def _type_name(cls: type) -> str:
    module = cls.__module__
    return (
        cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"
    )


def format_exception(exc: BaseException) -> str:
    """A traceback like `traceback.format_exception`, each message through `exception_text`."""
    parts: list[str] = []
    seen: set[int] = set()

    def walk(e: BaseException, depth: int) -> None:
        seen.add(id(e))
        cause, context = e.__cause__, None if e.__suppress_context__ else e.__context__
        if depth < 20 and cause is not None and id(cause) not in seen:
            walk(cause, depth + 1)
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
            )
        elif depth < 20 and context is not None and id(context) not in seen:
            walk(context, depth + 1)
            parts.append(
                "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        if e.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(e.__traceback__))
        text = exception_text(e)
        parts.append(f"{_type_name(type(e))}: {text}\n" if text else f"{_type_name(type(e))}\n")
        for i, sub in enumerate(getattr(e, "exceptions", None) or ()):  # an exception group
            if isinstance(sub, BaseException) and id(sub) not in seen and depth < 20:
                parts.append(f"\n+-- sub-exception {i + 1}:\n")
                walk(sub, depth + 1)

    walk(exc, 0)
    return "".join(parts)


class RedactingFilter(logging.Filter):
    """Masks personal values and secrets in a record's message and traceback (module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                exception_text(a) if isinstance(a, BaseException) else a for a in record.args
            )
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(format_exception(record.exc_info[1]).rstrip())
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# --- the web server's access log ---

ACCESS_LOGGER = "bot.access"
# Probes answered well are not logged (a load balancer and Prometheus call them every few seconds),
# nor static files served well.
QUIET_WHEN_OK = ("/healthz", "/readyz", "/metrics")
PLAIN_SEGMENT = re.compile(r"^[a-z][a-z.-]{0,23}$")  # "tai-bao-cao", "console", "sw.js"
QUERY_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")


def route_of(request: BaseRequest) -> str:
    """The matched route's pattern (`/tai-bao-cao/{token}`), never the values in the path; for a
    path no route matched, its plain words with every other segment shown as `{…}`; a query
    string only by its keys."""
    try:
        info = request.match_info  # type: ignore[attr-defined]
    except (AttributeError, AssertionError):  # a request refused before routing has none
        info = None
    resource = getattr(getattr(info, "route", None), "resource", None)
    if resource is not None and getattr(info, "http_exception", None) is None:
        route = resource.canonical
        if isinstance(resource, StaticResource):
            route = route.rstrip("/") + "/…"
    else:
        try:
            segments = request.path.split("/")
        except Exception:  # noqa: BLE001 - a request the parser refused has no usable path
            return "{unreadable}"
        route = "/".join(s if not s or PLAIN_SEGMENT.match(s) else "{…}" for s in segments)
    try:
        keys = sorted({k for k in request.query if QUERY_KEY.match(k)})
    except Exception:  # noqa: BLE001
        keys = []
    return route + ("?" + "&".join(keys) if keys else "")


class PrivateAccessLogger(AbstractAccessLogger):
    """One line per request: `GET /tai-bao-cao/{token} 410 3 ms`; nothing that identifies the
    resident (address, agent, cookies) nor the values a path or a query carries."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        try:
            route = route_of(request)
            if response.status < 400 and (route in QUIET_WHEN_OK or route.endswith("/…")):
                return
            self.logger.info(
                "%s %s %s %.0f ms", request.method, route, response.status, time * 1000
            )
        except Exception:  # noqa: BLE001 - an access line must never break a response
            self.logger.warning("access log line failed", exc_info=True)


def access_logger() -> logging.Logger:
    return logging.getLogger(ACCESS_LOGGER)


# Libraries that log whole request bodies at DEBUG (python-telegram-bot logs every text it sends,
# a console sign-in code included): never below INFO, whatever level the root logger is given.
TALKATIVE_LIBRARIES = ("telegram", "httpx", "httpcore", "hpack", "aiohttp.client")


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of `logger` (default: the root logger); idempotent.
    Also keeps the talkative libraries at INFO or above."""
    for name in TALKATIVE_LIBRARIES:
        library = logging.getLogger(name)
        if library.level < logging.INFO:
            library.setLevel(logging.INFO)
    # SQLAlchemy logs result rows at DEBUG (statements at INFO have their parameters hidden);
    # it is at WARNING unless someone turns it up: never below INFO.
    engine_log = logging.getLogger("sqlalchemy.engine")
    if engine_log.getEffectiveLevel() < logging.INFO:
        engine_log.setLevel(logging.INFO)
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
