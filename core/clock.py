"""The wall clock in UTC: the default `Services.clock` and the dispatcher's."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_clock() -> datetime:
    return datetime.now(UTC)
