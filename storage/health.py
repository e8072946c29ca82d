"""Database faults as operators see them: a short description without personal data, one log line
per condition (not one per message), a backoff for loops that retry, and the readiness probe.

A database that is unreachable or read-only makes every message fail the same way; logging each
failure with its traceback once filled the log at 270 lines a second. `FaultLog` logs the first
failure of a condition, stays silent while it lasts, and logs once more when it is over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from storage.db import Database

BACKOFF_FIRST = 0.5  # seconds before the first retry of a failed database step
BACKOFF_MAX = 30.0  # the longest wait between retries while the database stays away
PROBE_TIMEOUT = 3.0  # seconds /readyz waits for the database before it says "not ready"


def describe(exc: BaseException) -> str:
    """What went wrong, for a log line: the error's class and code, never statement parameters.

    PostgreSQL messages can quote values ('invalid input … "0912…"'), so for them only the
    SQLSTATE is kept; SQLite's messages name tables and columns, not values.
    """
    inner: BaseException = exc
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        inner = exc.orig
    while inner.__cause__ is not None and type(inner).__module__.startswith("sqlalchemy"):
        inner = inner.__cause__
    name = type(inner).__name__
    sqlstate = getattr(inner, "sqlstate", None) or getattr(getattr(inner, "__cause__", None),
                                                          "sqlstate", None)
    if sqlstate:
        return f"{name} (SQLSTATE {sqlstate})"
    if type(inner).__module__ == "sqlite3" or name in ("OperationalError", "IntegrityError"):
        return f"{name}: {str(inner).splitlines()[0][:120]}" if str(inner) else name
    if isinstance(inner, OSError):
        return f"{name}: {inner.strerror or inner}"[:160]
    return name


def is_database_fault(exc: BaseException) -> bool:
    """A failure of the database or the way to it (not a bug in a handler)."""
    return isinstance(exc, SQLAlchemyError | OSError | TimeoutError | ConnectionError)


class DatabaseUnavailable(Exception):
    """An inbound could not be handled because the database failed; the message says how
    (`describe`), never with parameters. Web routes answer 503, webhooks let the platform retry."""


class FaultLog:
    """Logs a failing condition once, and once more when it clears."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger = logger
        self.what = what
        self.current: str | None = None
        self.since = 0.0
        self.count = 0

    def failed(self, exc: BaseException, *, with_traceback: bool = False) -> None:
        condition = describe(exc)
        self.count += 1
        if condition != self.current:
            self.current, self.since, self.count = condition, time.monotonic(), 1
            self.logger.error(
                "%s failed: %s (logged once while it lasts)", self.what, condition,
                exc_info=exc if with_traceback else None,
            )

    def recovered(self) -> None:
        if self.current is not None:
            self.logger.warning(
                "%s works again after %.0f s of %s (%d failures)",
                self.what, time.monotonic() - self.since, self.current, self.count,
            )
            self.current = None


class Backoff:
    """Waits that double from `first` to `most` while a step keeps failing."""

    def __init__(self, first: float = BACKOFF_FIRST, most: float = BACKOFF_MAX) -> None:
        self.first, self.most, self.current = first, most, first

    def next(self) -> float:
        wait, self.current = self.current, min(self.current * 2, self.most)
        return wait

    def reset(self) -> None:
        self.current = self.first


async def probe(db: Database, clock: Callable[[], float] = time.monotonic) -> str | None:
    """None when the database answers and accepts writes; else why not (for /readyz).

    The write check is an UPDATE that matches no row, rolled back: PostgreSQL refuses it in a
    read-only transaction or on a standby, SQLite when the file or its folder became read-only.
    """
    import asyncio

    reason: str | None = None
    for _attempt in range(2):  # a pooled connection the server dropped fails once, then is gone
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                async with db.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                    await connection.execute(
                        text("UPDATE scheduler_marks SET name = name WHERE 1 = 0")
                    )
                    await connection.rollback()
        except TimeoutError:
            return f"the database did not answer within {PROBE_TIMEOUT:.0f} s"
        except Exception as exc:  # noqa: BLE001 - any failure means: not ready
            reason = describe(exc)
            continue
        return None
    return reason
