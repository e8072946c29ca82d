"""The outbox dispatcher: claims due rows, sends them through the channel's `Sender`, records all.

- Claims rows atomically (`storage.outbox.claim_due`: PostgreSQL `FOR UPDATE SKIP LOCKED`, so
  several dispatchers share the load without ever sharing a row; SQLite: one dispatcher).
- Lowest priority value first: replies and staff notifications (0) before reminders and bulk.
- Paces every channel at the platform's limits (`scheduler.pacing`; with several workers the
  buckets are shared through Redis, `scheduler.shared_pacing`): a message to a chat that
  would have to wait longer than `max_inline_wait` is released with `not_before` set instead.
- `SendError("retry")`: waits `retry_after` for that chat (the whole channel when the 429 cannot
  be per chat), else exponential backoff; after `max_attempts` tries the row is 'failed'.
- `SendError("stop")`: marks the chat unreachable and fails the row; later rows for that chat
  are skipped. `SendError("message")`: fails the row only; the chat stays reachable.
  `SendError("migrated")`: moves the chat to its new id and resends once.
- Rows stuck in 'sending' longer than `lease` (a killed worker) are put back and sent again: the
  at-least-once window is the sends in flight at the kill (see docs/broadcast.md).

Outcomes are written by a group commit (one transaction for everything that finished since the
last one), so recording keeps up with 30+ msg/s on SQLite and the in-flight window stays small.

Sent once, even when the database blips: an outcome that cannot be recorded (a dropped connection,
a locked or restarting database) is kept in memory and written again with backoff until it is
committed; the row stays claimed by this live worker meanwhile (the stale-claim sweep skips rows
this process still holds), so it is never sent a second time. Only a crash between the platform's
answer and the commit can repeat a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utc_clock
from core.model import Outbound
from core.stations import sender_key
from scheduler.pacing import ChannelLimits, ChannelPacer, channel_limits
from scheduler.sender import Sender, SendError
from storage import outbox, people
from storage.db import Database
from storage.health import Backoff, FaultLog
from storage.models import Chat

log = logging.getLogger(__name__)

BATCH_SIZE = 64  # rows per claim; about 2 s of Telegram's overall limit
MAX_IN_FLIGHT = 64  # claimed rows being paced or sent at once (bounds the at-least-once window)
MAX_QUEUED_PER_CHAT = 2  # more rows for one chat in one batch are given back for later
MAX_INLINE_WAIT = 3.5  # seconds a claimed row may wait for its chat (a group slot is 3 s)
LEASE = timedelta(minutes=5)  # 'sending' older than this belongs to a dead worker
RECLAIM_EVERY = 30.0  # seconds between stale-claim sweeps
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=15)
BACKOFF_MAX = timedelta(hours=1)
SEND_TIMEOUT = 60.0  # a send that hangs longer is treated as a network error
STOP_GRACE = 15.0  # seconds a clean stop waits for unrecorded outcomes (database blip)
POLL_INTERVAL = 1.0  # run_forever: idle wait between claims (wake() cuts it short)
ERROR_TEXT_LIMIT = 255
# "stop" reasons that blame the message, not the recipient: fail the row, leave the chat alone.
MESSAGE_FAULTS = ("bad_request", "bad request", "empty message")


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()) & 0xFFFF:x}"


class Dispatcher:
    """Sends due outbox rows through `senders[row.channel]`; see the module docstring."""

    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime] = utc_clock,
        worker_id: str | None = None,
        *,
        limits: Mapping[str, ChannelLimits] | None = None,
        batch_size: int = BATCH_SIZE,
        max_in_flight: int = MAX_IN_FLIGHT,
        max_inline_wait: float = MAX_INLINE_WAIT,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
        monotonic: Callable[[], float] = time.monotonic,
        pacer_factory: PacerFactory | None = None,
    ) -> None:
        self.db = db
        self.senders = senders  # live: channels that start later add their sender here
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.batch_size = batch_size
        self.max_inline_wait = max_inline_wait
        self.lease = lease
        self.max_attempts = max_attempts
        self.monotonic = monotonic
        self.limits = {**channel_limits(), **(limits or {})}
        # None: in-process buckets; `scheduler.shared_pacing.SharedPacing`: shared via Redis.
        self.pacer_factory = pacer_factory
        self.pacers: dict[str, Any] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self._max_in_flight = max_in_flight
        self._chat_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._chat_lock_users: dict[tuple[str, str], int] = {}
        self._pending: list[tuple[outbox.Outcome, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._last_reclaim = float("-inf")
        self._wake = asyncio.Event()
        self._held: set[int] = set()  # claimed rows whose outcome is not committed yet
        self._via: dict[int, str] = {}  # claimed row -> sender key, when a station has its own bot
        self._claim_faults = FaultLog(log, "claiming outbox rows")
        self._record_faults = FaultLog(log, "recording outbox outcomes")
        self._claim_backoff = Backoff()
        self._paused: dict[tuple[str, str | None], datetime] = {}  # 429 pauses, by wall clock
        self.stats: dict[str, int] = {"sent": 0, "retried": 0, "failed": 0, "skipped": 0,
                                      "deferred": 0, "rate_limited": 0, "migrated": 0}

    # -- public --

    async def run_once(self) -> int:
        """Claim one batch of due rows and finish them (sent, retried later, failed, skipped).

        Returns how many rows it claimed; 0 means nothing was due.
        """
        claimed = await self._claim(self.batch_size)
        if claimed:
            await asyncio.gather(*(self._deliver(row) for row in claimed))
        return len(claimed)

    async def drain(self, timeout: float = 10) -> None:
        """Run batches until nothing is due (by this dispatcher's clock); TimeoutError if slow."""
        async with asyncio.timeout(timeout):
            while await self.run_once():
                pass

    def wake(self) -> None:
        """Tell `run_forever` that something was queued (skips its idle wait)."""
        self._wake.set()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set, keeping up to `max_in_flight` rows in progress.

        New rows are claimed whenever half the slots are free, so a reply queued during a big
        broadcast waits at most about `max_in_flight / rate` seconds.
        """
        in_flight: set[asyncio.Task[None]] = set()
        stop_wait = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                room = self._max_in_flight - len(in_flight)
                claimed = []
                if room >= max(1, self._max_in_flight // 2):
                    try:
                        claimed = await self._claim(min(room, self.batch_size))
                    except Exception as error:  # the database may be restarting: keep trying
                        self._claim_faults.failed(error)
                        await _sleep_or_stop(stop, self._claim_backoff.next())
                        continue
                    self._claim_faults.recovered()
                    self._claim_backoff.reset()
                for row in claimed:
                    in_flight.add(asyncio.create_task(self._deliver(row)))
                if claimed and len(claimed) == min(room, self.batch_size):
                    continue  # more may be due: claim again as soon as there is room
                self._wake.clear()
                waiters: set[asyncio.Future[object]] = {stop_wait, *in_flight}
                if not in_flight:
                    waiters.add(asyncio.ensure_future(self._wake.wait()))
                done, _ = await asyncio.wait(
                    waiters, timeout=POLL_INTERVAL, return_when=asyncio.FIRST_COMPLETED
                )
                for extra in waiters - set(in_flight) - {stop_wait}:
                    extra.cancel()
                in_flight -= {t for t in done if t in in_flight}
        except asyncio.CancelledError:
            # Killed, not stopped: abandon what is in flight (those rows stay 'sending' and are
            # reclaimed after the lease), exactly like a process that dies.
            for task in in_flight:
                task.cancel()
            raise
        finally:
            stop_wait.cancel()
        # A clean stop: finish and record what was started. If the database stays away longer
        # than STOP_GRACE, stop anyway: those rows are resent after the restart (as after a crash).
        finishing = [*in_flight, *([self._flusher] if self._flusher is not None else [])]
        if finishing:
            done, left = await asyncio.wait(finishing, timeout=STOP_GRACE)
            if left:
                log.error("stopping with %d outbox outcomes unrecorded (database unavailable); "
                          "those rows will be sent again after the restart", len(self._pending))
                for task in left:
                    task.cancel()

    # -- claiming --

    async def _claim(self, limit: int) -> list[Claimed]:
        """Claim due rows, each with the reason its chat is unreachable (None: send it)."""
        now = self.clock()
        async with self.db.sessions() as session, session.begin():
            if self.monotonic() - self._last_reclaim >= RECLAIM_EVERY:
                # The first sweep also takes back rows our own id claimed before a restart: with
                # a stable worker_id a killed process is resumed at once, not after the lease.
                own = self.worker_id if self._last_reclaim == float("-inf") else None
                self._last_reclaim = self.monotonic()
                if reclaimed := await outbox.reclaim_stale(session, now=now, lease=self.lease,
                                                           own_worker_id=own, keep=self._held):
                    log.warning("reclaimed %d outbox rows from a stopped worker", reclaimed)
            claimed = await outbox.claim_due(
                session, worker_id=self.worker_id, now=now, limit=limit,
                channels=list({key.partition("@")[0] for key in self.senders}),
            )
            unreachable, stations = await _chat_facts(session, claimed) if claimed else ({}, {})
            if stations and any("@" in key for key in self.senders):
                # Stations with their own bot (issue 21): a chat is written to by its station's bot.
                for row in claimed:
                    key = sender_key(row.channel, stations.get((row.channel, row.chat_id)))
                    if key in self.senders:
                        self._via[row.id] = key
        self._held.update(row.id for row in claimed)
        return [(row, unreachable.get((row.channel, row.chat_id))) for row in claimed]

    # -- delivering one row --

    async def _deliver(self, claimed: Claimed) -> None:
        row, unreachable = claimed
        try:
            if unreachable is not None:
                self.stats["skipped"] += 1
                await self._record(outbox.Outcome(
                    row.id, outbox.STATUS_FAILED, row.attempts,
                    f"skipped: chat unreachable ({unreachable})",
                ))
                return
            if self._chat_lock_users.get((row.channel, row.chat_id), 0) >= MAX_QUEUED_PER_CHAT:
                # Several messages to one chat are already waiting here: give this one back rather
                # than hold a slot for seconds (a chat takes 1 msg/s, a group 1 per 3 s).
                self.stats["deferred"] += 1
                await self._record(outbox.Outcome(
                    row.id, outbox.STATUS_PENDING, row.attempts, None,
                    not_before=self.clock() + timedelta(seconds=self.max_inline_wait),
                ))
                return
            async with self._slots, self._chat_lock(row.channel, row.chat_id):
                await self._paced_send(row, row.chat_id, may_follow_migration=True)
        except asyncio.CancelledError:
            raise
        except Exception:  # never lose the loop over one row; it is reclaimed after the lease
            log.exception("outbox row %s could not be processed", row.id)
            self._held.discard(row.id)
        finally:
            self._via.pop(row.id, None)

    async def _paced_send(
        self, row: outbox.ClaimedMessage, chat_id: str, *, may_follow_migration: bool
    ) -> None:
        via = self._via.get(row.id, row.channel)  # the station's own bot, else the channel's
        pacer = self._pacer(via)
        paused = self._paused_for(via, chat_id)
        ready_at = await _value(pacer.chat_ready_at(chat_id, row.chat_kind))
        wait = max(ready_at - self.monotonic(), paused)
        if wait > self.max_inline_wait:
            # The chat is busy (many messages queued to it, or paused by a 429): give the row back
            # instead of holding a slot.
            self.stats["deferred"] += 1
            await self._record(outbox.Outcome(
                row.id, outbox.STATUS_PENDING, row.attempts, None,
                not_before=self.clock() + timedelta(seconds=wait),
                chat_id=chat_id if chat_id != row.chat_id else None,
            ))
            return
        if paused > 0:
            await asyncio.sleep(paused)
        send_at = await _value(pacer.reserve(chat_id, row.chat_kind))
        if (delay := send_at - self.monotonic()) > 0:
            await asyncio.sleep(delay)
        attempts = row.attempts + 1
        moved = chat_id if chat_id != row.chat_id else None
        try:
            message = Outbound.from_payload(row.payload)
            result = await asyncio.wait_for(
                self.senders[via].send(chat_id, message, chat_kind=row.chat_kind),
                SEND_TIMEOUT,
            )
        except SendError as error:
            await self._failed(row, chat_id, attempts, error, may_follow_migration)
            return
        except (TimeoutError, OSError) as error:
            await self._failed(
                row, chat_id, attempts, SendError("retry", f"network: {type(error).__name__}"),
                may_follow_migration,
            )
            return
        except Exception as error:  # a sender bug: retry with backoff, keep the traceback in logs
            log.exception("sender %s raised an unclassified error", row.channel)
            await self._failed(
                row, chat_id, attempts, SendError("retry", f"error: {type(error).__name__}"),
                may_follow_migration,
            )
            return
        self.stats["sent"] += 1
        await self._record(outbox.Outcome(
            row.id, outbox.STATUS_SENT, attempts, None, sent_at=self.clock(),
            sent_message_id=result.message_id, chat_id=moved,
        ))

    async def _failed(
        self,
        row: outbox.ClaimedMessage,
        chat_id: str,
        attempts: int,
        error: SendError,
        may_follow_migration: bool,
    ) -> None:
        moved = chat_id if chat_id != row.chat_id else None
        reason = f"{error.kind}: {error.reason}"[:ERROR_TEXT_LIMIT]
        if error.kind == "migrated" and error.new_chat_id and may_follow_migration:
            self.stats["migrated"] += 1
            await self._migrate(row.channel, chat_id, error.new_chat_id)
            async with self._chat_lock(row.channel, error.new_chat_id):
                await self._paced_send(row, error.new_chat_id, may_follow_migration=False)
            return
        if error.kind in ("stop", "migrated", "message"):
            self.stats["failed"] += 1
            # "message": the platform refused this message only (scheduler.sender's table).
            if error.blames_chat and not error.reason.lower().startswith(MESSAGE_FAULTS):
                await self._until_committed(
                    "marking a chat unreachable",
                    lambda session: people.mark_chat_unreachable(session, row.channel, chat_id,
                                                                 error.reason),
                )
                log.info("chat %s:%s unreachable (%s); its messages stop", row.channel, chat_id,
                         error.reason)
            await self._record(outbox.Outcome(
                row.id, outbox.STATUS_FAILED, attempts, reason, chat_id=moved
            ))
            return
        if attempts >= self.max_attempts:
            self.stats["failed"] += 1
            await self._record(outbox.Outcome(
                row.id, outbox.STATUS_FAILED, attempts, f"gave up after {attempts}: {reason}",
                chat_id=moved,
            ))
            return
        self.stats["retried"] += 1
        if error.retry_after is not None:
            self.stats["rate_limited"] += 1
            delay = timedelta(seconds=error.retry_after)
            # We kept this chat under its own limit, so the channel's overall limit answered.
            via = self._via.get(row.id, row.channel)
            whole_channel = self._pacer(via).chat_was_idle(chat_id, row.chat_kind)
            key = (via, None if whole_channel else chat_id)
            self._paused[key] = max(self._paused.get(key, self.clock()), self.clock() + delay)
            if (share := getattr(self._pacer(via), "pause", None)) is not None:
                await share(key[1], error.retry_after)  # tell the other workers (Redis)
        else:
            delay = min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_MAX)
        await self._record(outbox.Outcome(
            row.id, outbox.STATUS_PENDING, attempts, reason,
            not_before=self.clock() + delay, chat_id=moved,
        ))

    async def _migrate(self, channel: str, old_id: str, new_id: str) -> None:
        async def move(session: AsyncSession) -> None:
            await people.migrate_chat(session, channel, old_id, new_id)
            await outbox.reroute_chat(session, channel, old_id, new_id)

        await self._until_committed("moving a migrated chat", move)
        log.info("chat %s:%s moved to %s; resending there", channel, old_id, new_id)

    def _paused_for(self, channel: str, chat_id: str) -> float:
        """Seconds this chat (or its whole channel) must still wait after a 429."""
        now = self.clock()
        waits = [0.0]
        for key in ((channel, None), (channel, chat_id)):
            until = self._paused.get(key)
            if until is not None:
                if until <= now:
                    del self._paused[key]
                else:
                    waits.append((until - now).total_seconds())
        return max(waits)

    def _pacer(self, channel: str) -> Any:
        """The pacer of a sender key: a channel, or a station's own bot (``telegram@2``)."""
        if channel not in self.pacers:
            limits = self.limits.get(channel.partition("@")[0], ChannelLimits())
            if self.pacer_factory is None:
                self.pacers[channel] = ChannelPacer(limits, self.monotonic)
            else:
                self.pacers[channel] = self.pacer_factory(channel, limits, self.monotonic)
        return self.pacers[channel]

    # -- per-chat serialisation --

    @contextlib.asynccontextmanager
    async def _chat_lock(self, channel: str, chat_id: str) -> AsyncIterator[None]:
        key = (channel, chat_id)
        lock = self._chat_locks.setdefault(key, asyncio.Lock())
        self._chat_lock_users[key] = self._chat_lock_users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._chat_lock_users[key] -= 1
            if not self._chat_lock_users[key]:
                del self._chat_lock_users[key], self._chat_locks[key]

    # -- recording (group commit) --

    async def _record(self, outcome: outbox.Outcome) -> None:
        """Queue an outcome and wait until it is committed (with whatever else finished)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())
        await future

    async def _flush_loop(self) -> None:
        backoff = Backoff()
        while self._pending:
            if not await self._flush_now():
                await asyncio.sleep(backoff.next())
            else:
                backoff.reset()

    async def _flush_now(self) -> bool:
        """Commit the queued outcomes; on a database error keep them queued (False)."""
        batch, self._pending = self._pending, []
        if not batch:
            return True
        try:
            async with self.db.sessions() as session, session.begin():
                await outbox.record_outcomes(session, self.worker_id, [o for o, _ in batch])
        except Exception as error:  # noqa: BLE001 - the sends happened: record them later
            self._record_faults.failed(error)
            self._pending = batch + self._pending
            return False
        self._record_faults.recovered()
        for outcome, future in batch:
            self._held.discard(outcome.id)
            if not future.done():
                future.set_result(None)
        return True

    async def _until_committed(
        self, what: str, step: Callable[[AsyncSession], Awaitable[object]]
    ) -> None:
        """Run one bookkeeping transaction, retrying with backoff until it commits."""
        faults, backoff = FaultLog(log, what), Backoff()
        while True:
            try:
                async with self.db.sessions() as session, session.begin():
                    await step(session)
            except Exception as error:  # noqa: BLE001 - the database may be restarting
                faults.failed(error)
                await asyncio.sleep(backoff.next())
                continue
            faults.recovered()
            return


Claimed = tuple[outbox.ClaimedMessage, "str | None"]
# (channel, limits, monotonic clock) -> a pacer; the shared one answers with awaitables.
PacerFactory = Callable[[str, ChannelLimits, Callable[[], float]], Any]


async def _value(result: Any) -> float:
    """A pacer's answer: the in-process pacer answers at once, the shared one awaits Redis."""
    return await result if inspect.isawaitable(result) else result


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _chat_facts(
    session: AsyncSession, claimed: list[outbox.ClaimedMessage]
) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], int]]:
    """The claimed rows' chats we may not write to (blocked, kicked, left, moved away), and
    every chat's station (a station with its own bot writes to its chats); one query a channel."""
    by_channel: dict[str, set[str]] = {}
    for row in claimed:
        by_channel.setdefault(row.channel, set()).add(row.chat_id)
    unreachable: dict[tuple[str, str], str] = {}
    stations: dict[tuple[str, str], int] = {}
    for channel, chat_ids in by_channel.items():
        stmt = select(Chat.external_id, Chat.unreachable_reason, Chat.active,
                      Chat.station_id).where(Chat.channel == channel,
                                             Chat.external_id.in_(chat_ids))
        for chat_id, reason, active, station_id in (await session.execute(stmt)).all():
            stations[(channel, chat_id)] = station_id
            if reason or not active:
                unreachable[(channel, chat_id)] = reason or "inactive"
    return unreachable, stations
