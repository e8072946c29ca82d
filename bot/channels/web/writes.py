"""Write serialisation for the web chat: one visitor's messages in order, one SQLite writer.

SQLite allows one writer at a time; concurrent transactions that read and then write fail with
"database is locked" instead of waiting. Every web path that writes (a message, a push
subscription, a delivery from the outbox) goes through `WriteGate.write()`, which on SQLite lets
one transaction in at a time (fair, first come first served, no timeout) and on PostgreSQL lets up
to `CONCURRENT_WRITES` run together. `turn(visitor)` keeps one visitor's messages in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage.db import Database

CONCURRENT_WRITES = 16  # PostgreSQL: below the pool (10 + 10 overflow), leaving room for reads


class WriteGate:
    def __init__(self, db: Database) -> None:
        self._slots = asyncio.Semaphore(1 if db.dialect == "sqlite" else CONCURRENT_WRITES)
        self._turns: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        async with self._slots:
            yield

    @asynccontextmanager
    async def turn(self, visitor: str) -> AsyncIterator[None]:
        lock = self._turns.setdefault(visitor, asyncio.Lock())
        self._waiting[visitor] = self._waiting.get(visitor, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[visitor] -= 1
            if not self._waiting[visitor]:  # nobody waits: forget the lock
                del self._waiting[visitor], self._turns[visitor]
