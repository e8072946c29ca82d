"""What both Zalo adapters share: per-chat ordering, redelivery dedupe and background reply tasks.

Zalo has no update ids and may deliver a message twice (zalo-api.md 1.5, 2.6), so each adapter
records the platform's message id in `processed_updates` before handling it. Replies are sent in
background tasks so a webhook can be acknowledged quickly; `Inflight.drain()` waits for them on stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import delete

from storage import people
from storage.db import Database
from storage.models import ProcessedUpdate

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


async def first_delivery(db: Database, channel: str, message_id: str) -> bool:
    """Record a platform message id; False when it was handled before (a redelivery)."""
    async with db.sessions() as session, session.begin():
        return await people.mark_processed(session, channel, message_id)


async def forget_delivery(db: Database, channel: str, message_id: str) -> None:
    """Undo `first_delivery` when handling failed, so the platform's next redelivery is answered."""
    try:
        async with db.sessions() as session, session.begin():
            await session.execute(
                delete(ProcessedUpdate).where(
                    ProcessedUpdate.channel == channel,
                    ProcessedUpdate.update_key == message_id[:128],
                )
            )
    except Exception:  # noqa: BLE001 - the database may be what failed in the first place
        log.warning("could not forget a failed %s update; a redelivery will be skipped", channel)


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
