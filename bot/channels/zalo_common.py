"""What both Zalo adapters share: per-chat ordering and background reply tasks.

Zalo has no update ids and may deliver a message twice (zalo-api.md 1.5, 2.6), so each adapter
passes the platform's message id to `HealthBot.handle(update_key=…)`, which answers it once.
Replies are sent in background tasks so a webhook can be acknowledged quickly; `Inflight.drain()`
waits for them on stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from storage.db import Database

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 64  # different chats in parallel (PostgreSQL); one chat is always in order


class ChatTurns:
    """One chat's updates are handled one after another; different chats run concurrently."""

    def __init__(self, db: Database) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}
        # SQLite has one writer: concurrent transactions only fail with "database is locked".
        self._db_slots = asyncio.Semaphore(1 if db.dialect == "sqlite" else CONCURRENT_UPDATES)

    @asynccontextmanager
    async def turn(self, chat_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:  # nobody waits: forget the lock
                del self._users[chat_id], self._locks[chat_id]

    @asynccontextmanager
    async def db_slot(self) -> AsyncIterator[None]:
        async with self._db_slots:
            yield


class Inflight:
    """Background tasks (reply sending) that must finish before the channel stops."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("%s failed", what, exc_info=t.exception())

        task.add_done_callback(done)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
