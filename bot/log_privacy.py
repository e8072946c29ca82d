"""Keep personal data out of the logs (Decree 13/2023): a filter on every log handler.

The first line of defence is not to log personal values at all: the engine's errors carry no
statement parameters (`hide_parameters` in `storage.db`), database errors are described by class
and code (`storage.health.describe`), and code logs ticket codes, never texts. This filter is the
second line: whatever reaches a handler (a message, its arguments, a traceback) has Vietnamese
phone numbers, web chat cookies (a credential: whoever has it is that resident), bot tokens,
typed dates (birth dates) and any leftover SQL parameter block masked before it is written.
"""

from __future__ import annotations

import logging
import re
import traceback

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\[parameters: .*?\]\n?", re.S), "[parameters hidden]\n"),
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"), "[token]"),
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])"), "[web-id]"),
    (re.compile(r"(?<![\d.])(?:\+\s?84|84|0)(?:[\s.-]?\d){8,10}(?![\d.])"), "[phone]"),
    (re.compile(r"(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}(?!\d)"), "[date]"),
)


def redact(text: str) -> str:
    for pattern, mask in PATTERNS:
        text = pattern.sub(mask, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks personal values in a record's message and traceback (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


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
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
