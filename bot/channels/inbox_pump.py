"""The inbox pump: records every update of a channel before it is acknowledged, then handles it.

Each channel adapter hands its updates to `InboxPump.receive()` (a poller before it confirms the
batch, a webhook before it answers 200). `receive` commits them to the inbox (`storage.inbox`)
and queues them; the pump handles them in the background, one chat at a time and in order,
different chats concurrently: `HealthBot.handle(update_key=…)` (which marks the row 'handled' and
keeps the replies in the same transaction), then the adapter's `deliver`, then `finish`.

On start `resume()` takes over what this worker left unfinished (a crash, a kill) and, every
`SWEEP_EVERY` seconds, what a dead worker left for longer than `LEASE`. A row that was already
handled is not handled again: its stored replies are sent. See docs/reliability-inbox.md.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError

from bot.channels.zalo_common import ChatTurns
from bot.engine import HealthBot
from bot.model import Capabilities, Inbound, Outbound
from storage import inbox

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # an unfinished row claimed longer ago belongs to a dead worker
SWEEP_EVERY = 30.0  # seconds between looks for such rows
MAX_QUEUED = 2000  # a poller waits before fetching more while this many updates are queued
RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # handling failed: the database may be back
MAX_ATTEMPTS = 20  # then the update is given up ('failed') and logged
MAX_ATTEMPTS_NOT_TRANSIENT = 3  # an error that is not the database's or the network's: a bug
CONCURRENT_CHATS = 64


class InboxChannel(Protocol):
    """What a channel adapter gives the pump."""

    def inbound_of(self, payload: dict[str, Any]) -> Inbound | None:
        """The neutral form of a stored update (None: nothing to do)."""

    async def prepare(self, inbound: Inbound, payload: dict[str, Any]) -> Inbound:
        """Last look before handling (e.g. a group admin flag); may call the platform."""

    async def deliver(self, inbound: Inbound, replies: list[Outbound]) -> None:
        """Send the replies; never raises for a platform refusal (it is logged)."""


def worker_id(port: int) -> str:
    """Stable across restarts of one process slot (as the outbox dispatcher's)."""
    return f"{socket.gethostname()}:{port}"


class InboxPump:
    """The inbox of one channel; see the module docstring."""

    def __init__(self, bot: HealthBot, channel: str, caps: Capabilities, adapter: InboxChannel,
                 *, worker: str, turns: ChatTurns | None = None) -> None:
        self.bot = bot
        self.channel = channel
        self.caps = caps
        self.adapter = adapter
        self.worker = worker
        self.turns = turns or ChatTurns(bot.services.db)
        self._queues: dict[str, deque[inbox.InboxItem]] = {}
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._queued_ids: set[int] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_CHATS)
        self._room = asyncio.Event()
        self._room.set()
        self._sweeper: asyncio.Task[None] | None = None
        self._finished: list[tuple[int, asyncio.Future[None]]] = []
        self._arriving: list[tuple[list[inbox.Arrival], asyncio.Future[int]]] = []
        self._receiver: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._stopping = False
        self.stats = {"received": 0, "duplicates": 0, "handled": 0, "resent": 0, "failed": 0}
        bot.services.extras.setdefault("inboxes", {})[channel] = self  # tests drain it

    # -- receiving --

    async def receive(self, arrivals: list[inbox.Arrival]) -> int:
        """Commit the updates to the inbox, then queue the new ones; returns how many were new.

        Raises when the database could not record them: the caller must then NOT acknowledge.
        Concurrent calls (webhook requests in flight together) share one transaction.
        """
        if not arrivals:
            return 0
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._arriving.append((arrivals, future))
        if self._receiver is None or self._receiver.done():
            self._receiver = asyncio.create_task(self._flush_arrivals())
        return await future

    async def _flush_arrivals(self) -> None:
        while self._arriving:
            batch, self._arriving = self._arriving, []
            unique: dict[str, inbox.Arrival] = {}
            for arrivals, _ in batch:
                for arrival in arrivals:
                    unique.setdefault(arrival.update_key[:128], arrival)
            try:
                async with self.turns.db_slot(), self.bot.services.db.sessions() as session, \
                        session.begin():
                    new = await inbox.receive(session, self.channel, list(unique.values()),
                                              worker_id=self.worker,
                                              now=self.bot.services.clock())
            except Exception as exc:  # noqa: BLE001 - every caller answers "not stored"
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            fresh = {item.update_key for item in new}
            self.stats["received"] += len(new)
            for item in new:
                self._queue(item)
            for arrivals, future in batch:
                count = sum(1 for a in arrivals if a.update_key[:128] in fresh)
                self.stats["duplicates"] += len(arrivals) - count
                if not future.done():
                    future.set_result(count)

    async def wait_for_room(self) -> None:
        """A poller calls this before fetching more (bounded memory under a backlog)."""
        await self._room.wait()

    # -- resuming --

    async def resume(self, *, own: bool = True) -> int:
        """Queue unfinished rows: this worker's own (`own`) and those of dead workers."""
        now = self.bot.services.clock()
        async with self.turns.db_slot(), self.bot.services.db.sessions() as session, \
                session.begin():
            items = await inbox.claim_unfinished(
                session, self.channel, worker_id=self.worker, now=now, lease=LEASE,
                own_worker_id=self.worker if own else None,
            )
        for item in items:
            self._queue(item)
        if items:
            log.warning("%s: resuming %d updates left unfinished", self.channel, len(items))
        return len(items)

    def start(self) -> None:
        """Start the periodic look for rows a dead worker left (several webhook workers)."""
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            try:
                await self.resume(own=False)
            except Exception as exc:  # noqa: BLE001 - the database may be restarting
                log.warning("%s: inbox sweep failed (%s)", self.channel, type(exc).__name__)

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish what is being handled (within `timeout`); the rest stays in the inbox."""
        self._stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for queue in self._queues.values():
            for item in queue:
                self._queued_ids.discard(item.id)
            queue.clear()
        runners = list(self._runners.values())
        if runners:
            _done, pending = await asyncio.wait(runners, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*runners, return_exceptions=True)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until everything queued was dealt with (tests)."""
        async with asyncio.timeout(timeout):
            while self._runners:
                await asyncio.gather(*list(self._runners.values()), return_exceptions=True)

    @property
    def queued(self) -> int:
        return len(self._queued_ids)

    # -- handling, one chat at a time --

    def _queue(self, item: inbox.InboxItem) -> None:
        if self._stopping or item.id in self._queued_ids:
            return
        self._queued_ids.add(item.id)
        key = item.chat_id or f"#{item.id}"
        self._queues.setdefault(key, deque()).append(item)
        if key not in self._runners:
            self._runners[key] = asyncio.create_task(self._run_chat(key))
        if len(self._queued_ids) >= MAX_QUEUED:
            self._room.clear()

    async def _run_chat(self, key: str) -> None:
        try:
            while (queue := self._queues.get(key)) and not self._stopping:
                item = queue[0]
                async with self._slots:
                    await self._process(item)
                queue.popleft()
                self._queued_ids.discard(item.id)
                if len(self._queued_ids) < MAX_QUEUED // 2:
                    self._room.set()
        finally:
            if not self._queues.get(key):
                self._queues.pop(key, None)
            self._runners.pop(key, None)

    async def _process(self, item: inbox.InboxItem) -> None:
        """Handle (unless already handled), deliver, finish; retried while the database fails."""
        attempt = 0
        while not self._stopping:
            try:
                if attempt:  # it may have been handled before the failure: look again
                    item = await self._reload(item)
                    if item.status not in inbox.UNFINISHED:
                        return
                await self._process_once(item)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - only the type: messages may carry data
                attempt += 1
                transient = isinstance(exc, (DBAPIError, OSError, TimeoutError))
                if attempt >= (MAX_ATTEMPTS if transient else MAX_ATTEMPTS_NOT_TRANSIENT):
                    frames = "".join(traceback.format_tb(exc.__traceback__)[-4:])
                    log.error("%s update given up after %d attempts (%s)\n%s", self.channel,
                              attempt, type(exc).__name__, frames)
                    await self._finish(item, failed=True)
                    self.stats["failed"] += 1
                    return
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]
                log.warning("%s update could not be handled (%s); again in %.1f s",
                            self.channel, type(exc).__name__, delay)
                await asyncio.sleep(delay)

    async def _process_once(self, item: inbox.InboxItem) -> None:
        inbound = self._inbound(item)
        if inbound is None:
            await self._finish(item)
            return
        if item.status == inbox.RECEIVED:
            inbound = await self.adapter.prepare(inbound, item.payload)
            async with self.turns.db_slot():
                replies = await self.bot.handle(inbound, self.caps, update_key=item.update_key)
            self.stats["handled"] += 1
        else:  # handled before a crash: send what was decided then
            replies = [Outbound.from_payload(p) for p in item.replies or []]
            self.stats["resent"] += 1
        if replies:
            await self.adapter.deliver(inbound, replies)
        await self._finish(item)

    async def _reload(self, item: inbox.InboxItem) -> inbox.InboxItem:
        async with self.bot.services.db.sessions() as session:
            return await inbox.current(session, item.id) or item

    def _inbound(self, item: inbox.InboxItem) -> Inbound | None:
        try:
            inbound = self.adapter.inbound_of(item.payload)
            return without_nul(inbound) if inbound is not None else None
        except Exception as exc:  # noqa: BLE001 - a shape we cannot read: nothing to handle
            log.warning("%s update skipped: unreadable (%s)", self.channel, type(exc).__name__)
            return None

    async def _finish(self, item: inbox.InboxItem, *, failed: bool = False) -> None:
        """Mark done (group commit: one transaction for all that finished meanwhile), so the
        window in which a kill makes sent replies go out again stays short."""
        if failed:
            async with self.bot.services.db.sessions() as session, session.begin():
                await inbox.finish(session, [item.id], failed=True)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._finished.append((item.id, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_finished())
        await future

    async def _flush_finished(self) -> None:
        while self._finished:
            batch, self._finished = self._finished, []
            try:
                # An UPDATE first takes SQLite's write lock at once (busy_timeout waits for it),
                # so this needs no turn in the handling's single-writer slot.
                async with self.bot.services.db.sessions() as session, session.begin():
                    await inbox.finish(session, [item_id for item_id, _ in batch])
            except Exception as exc:  # noqa: BLE001 - each waiter retries its own item
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)


Receiver = Callable[[list[inbox.Arrival]], Awaitable[int]]

_ID_FIELDS = ("chat_id", "user_id", "display_name", "message_id", "reply_to_message_id", "button",
              "event_arg", "photo")


def without_nul(inbound: Inbound) -> Inbound:
    """No NUL characters in ids and names: PostgreSQL text refuses them (a forged update)."""
    changes = {
        name: value.replace("\x00", "")
        for name in _ID_FIELDS
        if isinstance(value := getattr(inbound, name), str) and "\x00" in value
    }
    return replace(inbound, **changes) if changes else inbound
