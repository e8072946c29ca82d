"""The inbox pump: records every update of a channel before it is acknowledged, then handles it.

Each channel adapter hands its updates to `InboxPump.receive()` (a poller before it confirms the
batch, a webhook before it answers 200). `receive` commits them to the inbox (`storage.inbox`)
and wakes the chats they belong to; the pump handles them in the background, one chat at a time
and in order, different chats concurrently: `HealthBot.handle(update_key=…)` (which marks the row
'handled' and keeps the replies in the same transaction), then the adapter's `deliver`, then
`finish`.

Per-chat order holds across workers (several `healthbot run` behind a load balancer): a chat's
runner claims the chat's oldest unfinished row in the database (`inbox.take_next`), whichever
worker received it, handles it, finishes it, and claims the next one (the hand-over). A row whose
chat is busy on another worker is left to that worker. Claims are renewed every `lease / 3`; every
`lease / 2` the sweep looks for chats nobody works on (a killed worker's: its claim was not
renewed within `lease`), so survivors take them over promptly; a row that was already handled is
not handled again, its stored replies are sent. See docs/inbox.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import traceback
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

# A claim not renewed for this long belongs to a dead worker; its chat is taken over. Live workers
# renew theirs every LEASE / 3 and sweep every LEASE / 2. HEALTHBOT_INBOX_LEASE_SECONDS overrides.
LEASE = timedelta(seconds=30)
LEASE_ENV = "HEALTHBOT_INBOX_LEASE_SECONDS"
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


def lease_from_env() -> timedelta:
    """The lease, from HEALTHBOT_INBOX_LEASE_SECONDS if set (≥ 1 s), else `LEASE`."""
    raw = os.environ.get(LEASE_ENV, "").strip()
    try:
        seconds = float(raw) if raw else 0.0
    except ValueError:
        seconds = 0.0
    return timedelta(seconds=max(seconds, 1.0)) if seconds else LEASE


def worker_id(port: int) -> str:
    """Stable across restarts of one process slot (as the outbox dispatcher's)."""
    return f"{socket.gethostname()}:{port}"


class InboxPump:
    """The inbox of one channel; see the module docstring."""

    def __init__(self, bot: HealthBot, channel: str, caps: Capabilities, adapter: InboxChannel,
                 *, worker: str, turns: ChatTurns | None = None,
                 lease: timedelta | None = None) -> None:
        self.bot = bot
        self.channel = channel
        self.caps = caps
        self.adapter = adapter
        self.worker = worker
        self.turns = turns or ChatTurns(bot.services.db)
        self.lease = lease or lease_from_env()
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._woken: set[str] = set()  # chats that may have a claimable head since their last look
        self._pending: set[int] = set()  # rows received here and not known to be finished
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
            self._pending.update(item.id for item in new)
            self._full_check()
            for item in new:  # after the commit: see inbox.take_next on the hand-over race
                self._wake(item.chat_id)
            for arrivals, future in batch:
                count = sum(1 for a in arrivals if a.update_key[:128] in fresh)
                self.stats["duplicates"] += len(arrivals) - count
                if not future.done():
                    future.set_result(count)

    async def wait_for_room(self) -> None:
        """A poller calls this before fetching more (bounded memory under a backlog)."""
        await self._room.wait()

    # -- resuming, sweeping, the heartbeat --

    async def resume(self, *, own: bool = True) -> int:
        """Wake every chat whose head nobody works on: this worker's own rows from before a
        restart (same id), rows never claimed, and a dead worker's (claim older than the lease).
        `own`: at start (worth a warning); the sweep (`own=False`) finds heads that are free
        for a moment on a busy installation too, so it only logs at INFO."""
        async with self.turns.db_slot(), self.bot.services.db.sessions() as session, \
                session.begin():
            chats = await inbox.claimable_chats(
                session, self.channel, worker_id=self.worker, now=self.bot.services.clock(),
                lease=self.lease,
            )
        fresh = [chat for chat in chats if chat not in self._runners]
        for chat in chats:
            self._wake(chat)
        if fresh:
            log.log(logging.WARNING if own else logging.INFO,
                    "%s: taking up %d chats with unfinished updates", self.channel, len(fresh))
        return len(fresh)

    def start(self) -> None:
        """Start the heartbeat and the sweep (a dead worker's chats are taken over)."""
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        beat = self.lease.total_seconds() / 3
        ticks = 0
        while True:
            await asyncio.sleep(beat / 2)  # heartbeat every lease/3 and sweep every lease/2:
            ticks += 1  # ticks of lease/6
            try:
                if ticks % 2 == 0:
                    async with self.turns.db_slot(), self.bot.services.db.sessions() as session, \
                            session.begin():
                        await inbox.renew(session, self.channel, worker_id=self.worker,
                                          now=self.bot.services.clock())
                if ticks % 3 == 0:
                    await self.resume(own=False)
                    await self._prune_pending()
            except Exception as exc:  # noqa: BLE001 - the database may be restarting
                log.warning("%s: inbox heartbeat or sweep failed (%s)", self.channel,
                            type(exc).__name__)

    async def _prune_pending(self) -> None:
        """Forget received rows another worker finished (the poller's back-pressure count)."""
        if not self._pending:
            return
        ids = sorted(self._pending)[:MAX_QUEUED]
        async with self.bot.services.db.sessions() as session:
            left = await inbox.still_unfinished(session, ids)
        self._pending.difference_update(set(ids) - left)
        self._full_check()

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish what is being handled (within `timeout`); the rest stays in the inbox, released
        so that other workers' sweeps take it over at once."""
        self._stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        runners = list(self._runners.values())
        if runners:
            _done, pending = await asyncio.wait(runners, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*runners, return_exceptions=True)
        try:
            async with self.turns.db_slot(), self.bot.services.db.sessions() as session, \
                    session.begin():
                await inbox.release(session, self.channel, worker_id=self.worker)
        except Exception as exc:  # noqa: BLE001 - then the claims expire after the lease
            log.warning("%s: inbox claims not released (%s)", self.channel, type(exc).__name__)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until everything woken was dealt with (tests)."""
        async with asyncio.timeout(timeout):
            while self._runners:
                await asyncio.gather(*list(self._runners.values()), return_exceptions=True)

    @property
    def queued(self) -> int:
        """Updates received here and not finished yet (as far as this worker knows)."""
        return len(self._pending)

    def _full_check(self) -> None:
        if len(self._pending) >= MAX_QUEUED:
            self._room.clear()
        elif len(self._pending) < MAX_QUEUED // 2:
            self._room.set()

    # -- handling, one chat at a time (across workers: the chat's head in the database) --

    def _wake(self, chat: str) -> None:
        """The chat may have a row to claim: its runner (started if need be) looks again."""
        if self._stopping:
            return
        self._woken.add(chat)
        if chat not in self._runners:
            self._runners[chat] = asyncio.create_task(self._run_chat(chat))

    async def _run_chat(self, chat: str) -> None:
        """Claim the chat's head, handle it, finish it, claim the next (the hand-over); stop when
        the head is gone or held by another worker, unless woken meanwhile (a row arrived while
        the claim was being tried: it may have missed it, so look again)."""
        try:
            while not self._stopping:
                self._woken.discard(chat)
                async with self._slots:
                    item = await self._take(chat)
                    if item is not None:
                        await self._process(item)
                        self._pending.discard(item.id)
                        self._full_check()
                if item is None and chat not in self._woken:
                    return
        finally:
            self._runners.pop(chat, None)

    async def _take(self, chat: str) -> inbox.InboxItem | None:
        try:
            async with self.turns.db_slot(), self.bot.services.db.sessions() as session, \
                    session.begin():
                return await inbox.take_next(
                    session, self.channel, chat, worker_id=self.worker,
                    now=self.bot.services.clock(), lease=self.lease,
                )
        except Exception as exc:  # noqa: BLE001 - the database may be away: the sweep wakes it
            log.warning("%s: could not claim a chat's next update (%s)", self.channel,
                        type(exc).__name__)
            self._woken.discard(chat)
            return None

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
