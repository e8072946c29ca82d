"""The planner: turns the communication plan (and scheduled staff broadcasts) into outbox rows.

The plan files are the source of truth; nothing about them is stored in APScheduler. `Planner.fire_due`
does the work and is idempotent: it looks at every occurrence from the last mark (`SchedulerMark`
"plan") up to now, and for each one resolves the audience at that moment and writes the outbox rows,
the `BroadcastRecord` and the new mark in ONE transaction. A crash loses a whole occurrence or none;
re-running finds it recorded (and the rows' dedupe keys guard anyway), so nothing is sent twice.

- Missed while the bot was down: sent once if no older than `broadcast.missed_grace_hours`,
  otherwise recorded as skipped and logged.
- Quiet hours hold ordinary occurrences (occurrences are computed with them; a late catch-up at
  night gets `not_before` = the end of the quiet hours); urgent ones pass.
- Several instances on PostgreSQL: only the holder of a session advisory lock (on a dedicated
  connection) fires; the others keep trying every tick and take over when it goes away.

`start()` uses APScheduler 3.11's AsyncIOScheduler with two jobs: a date job that wakes exactly at
the next occurrence (`next_occurrences_after`), re-armed after each firing, and a one-minute tick
that fires scheduled staff broadcasts, retries the lock and catches up after a clock jump or a
missed wake-up. A job per occurrence is not needed: the next one is always computable from the plan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from content.library import Library
from core.config import Settings
from scheduler import broadcasts, report_reminders
from scheduler.occurrences import Occurrence, next_occurrences_after, occurrences
from scheduler.plan import Plan
from storage import outbox
from storage.db import Database
from storage.models import BroadcastRecord, SchedulerMark

log = logging.getLogger(__name__)

MARK_NAME = "plan"
PLANNER_LOCK_KEY = 0x6865616C  # "heal": the PostgreSQL advisory lock only one planner holds
TICK_SECONDS = 60
MISFIRE_GRACE_SECONDS = 3600  # APScheduler may run a late job this late; fire_due decides the rest
PLAN_CREATOR_PREFIX = "plan:"
STATUS_QUEUED = "queued"
STATUS_SKIPPED = "skipped"
STATUS_SCHEDULED = "scheduled"


@dataclass
class FireReport:
    fired: list[str] = field(default_factory=list)  # occurrence dedupe keys queued now
    skipped: list[str] = field(default_factory=list)  # missed beyond the grace period
    rows: int = 0
    broadcasts: int = 0  # scheduled staff broadcasts released


class Planner:
    """Fires plan occurrences and scheduled staff broadcasts into the outbox."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        library: Library,
        plan: Plan,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.library = library
        self.plan = plan
        self.clock = clock
        self.on_queued = on_queued  # e.g. Dispatcher.wake
        self.quiet = broadcasts.quiet_hours(settings)
        self.grace = timedelta(hours=settings.broadcast.missed_grace_hours)
        self._lock_conn: AsyncConnection | None = None
        self._firing = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None

    # -- leadership --

    async def is_leader(self) -> bool:
        """SQLite: always (one instance). PostgreSQL: holds the advisory lock (tried now)."""
        if self.db.dialect != "postgresql":
            return True
        if self._lock_conn is not None:
            try:
                await self._lock_conn.execute(text("SELECT 1"))
                await self._lock_conn.commit()
                return True
            except Exception:  # the connection died, and the lock with it
                log.warning("lost the planner lock connection; trying again")
                await self._drop_lock()
        conn = await self.db.engine.connect()
        got = (
            await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PLANNER_LOCK_KEY})
        ).scalar()
        await conn.commit()  # keep no transaction open; a session lock outlives it
        if got:
            self._lock_conn = conn
            log.info("this instance fires the communication plan")
            return True
        await conn.close()
        return False

    async def _drop_lock(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is None:
            return
        try:
            # The pool would keep the session (and its lock) alive: unlock, then close.
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PLANNER_LOCK_KEY})
            await conn.commit()
            await conn.close()
        except Exception:  # a dead connection: make sure it is not reused with the lock on it
            log.debug("closing the planner lock connection failed", exc_info=True)
            try:
                await conn.invalidate()
                await conn.close()
            except Exception:
                log.debug("invalidating the planner lock connection failed", exc_info=True)

    # -- firing --

    async def fire_due(self) -> FireReport:
        """Queue everything due up to now (idempotent); a no-op unless this instance leads."""
        report = FireReport()
        async with self._firing:
            if not await self.is_leader():
                return report
            now = self.clock()
            mark = await self._mark()
            if mark is None:
                await self._set_mark(now)  # first start: the past is not "missed"
            else:
                for occ in occurrences(self.plan, mark, now + timedelta(microseconds=1),
                                       quiet=self.quiet):
                    await self._fire(occ, now, report)
                await self._set_mark(max(now, mark))
            report.broadcasts = await self._release_scheduled_broadcasts(now, report)
        if report.rows and self.on_queued is not None:
            self.on_queued()
        return report

    async def _mark(self) -> datetime | None:
        async with self.db.sessions() as session:
            row = await session.get(SchedulerMark, MARK_NAME)
            return row.value if row else None

    async def _set_mark(self, value: datetime, session: AsyncSession | None = None) -> None:
        if session is None:
            async with self.db.sessions() as own, own.begin():
                await self._set_mark(value, own)
            return
        row = await session.get(SchedulerMark, MARK_NAME)
        if row is None:
            session.add(SchedulerMark(name=MARK_NAME, value=value))
        elif value > row.value:
            row.value = value

    async def _fire(self, occ: Occurrence, now: datetime, report: FireReport) -> None:
        creator = f"{PLAN_CREATOR_PREFIX}{occ.campaign_id}"[:64]
        async with self.db.sessions() as session, session.begin():
            done = await session.execute(
                select(BroadcastRecord.id).where(
                    BroadcastRecord.kind == "campaign",
                    BroadcastRecord.created_by == creator,
                    BroadcastRecord.scheduled_at == occ.planned_at,
                )
            )
            if done.first() is not None:
                return  # fired before (by us before a restart, or by another leader)
            record = BroadcastRecord(
                kind="campaign", created_by=creator, message_id=occ.message_id,
                audience=occ.audience.to_dict(), scheduled_at=occ.planned_at,
                status=STATUS_QUEUED,
            )
            session.add(record)
            if now - occ.at > self.grace:
                record.status = STATUS_SKIPPED
                report.skipped.append(occ.dedupe_key)
                log.warning("skipped %s: missed by more than %s (the bot was down)",
                            occ.dedupe_key, self.grace)
            else:
                await session.flush()
                not_before = now if occ.urgent else self.quiet.release_time(max(now, occ.at))
                recipients = await broadcasts.resolve_audience(
                    session, occ.audience, self.settings,
                    broadcasts.plan_stations(self.settings, self.plan.region, occ.audience))
                if report_reminders.is_staff_message(occ.message_id):
                    deadline = report_reminders.deadline_of(
                        self.plan.campaign(occ.campaign_id), occ.planned_at.date())
                    render = report_reminders.staff_message(
                        self.settings, occ.message_id, deadline, occ.planned_at.date())
                else:
                    render = broadcasts.library_message(
                        self.library, self.settings, occ.message_id, now
                    )
                count = await broadcasts.enqueue_for(
                    session, recipients, render, key=occ.dedupe_key,
                    priority=outbox.PRIORITY_URGENT if occ.urgent else outbox.PRIORITY_CAMPAIGN,
                    not_before=not_before.astimezone(UTC), urgent=occ.urgent,
                    broadcast_id=record.id, campaign_id=occ.campaign_id,
                )
                record.recipients = len(recipients)
                report.fired.append(occ.dedupe_key)
                report.rows += count
                log.info("fired %s: %d recipients", occ.dedupe_key, len(recipients))
            await self._set_mark(occ.at, session)

    async def _release_scheduled_broadcasts(self, now: datetime, report: FireReport) -> int:
        """Staff broadcasts confirmed (and approved) for a time that has come: queue them now."""
        released = 0
        async with self.db.sessions() as session, session.begin():
            due = (
                await session.execute(
                    select(BroadcastRecord).where(
                        BroadcastRecord.status == STATUS_SCHEDULED,
                        BroadcastRecord.scheduled_at <= now,
                    )
                )
            ).scalars().all()
            for record in due:
                report.rows += await broadcasts.queue_broadcast(
                    session, record, self.settings, self.library, now
                )
                released += 1
        return released

    # -- APScheduler --

    def start(self) -> AsyncIOScheduler:
        """Start the jobs on the running loop (call from async code); `stop()` ends them."""
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": MISFIRE_GRACE_SECONDS, "coalesce": True,
                          "max_instances": 1},
        )
        scheduler.add_job(self._tick, "interval", seconds=TICK_SECONDS, id="planner-tick",
                          next_run_time=datetime.now(UTC))
        scheduler.start()
        self._scheduler = scheduler
        return scheduler

    async def _tick(self) -> None:
        try:
            await self.fire_due()
        except asyncio.CancelledError:  # the scheduler is shutting down while this tick waited
            log.debug("planner tick cancelled at shutdown")
            return
        except Exception:
            log.exception("the planner tick failed; it runs again in %s s", TICK_SECONDS)
        self._arm_next()

    def _arm_next(self) -> None:
        """One date job at the next occurrence's send time (recomputed after every firing)."""
        if self._scheduler is None:
            return
        upcoming = next_occurrences_after(self.plan, self.clock(), quiet=self.quiet)
        if not upcoming:
            return
        wake = upcoming[0].at.astimezone(UTC) + (datetime.now(UTC) - self.clock())
        self._scheduler.add_job(self._tick, "date", run_date=wake, id="planner-next",
                                replace_existing=True)

    async def stop(self) -> None:
        """Stop the jobs; a firing in progress finishes first (it is one short transaction)."""
        async with self._firing:
            if self._scheduler is not None:
                # APScheduler's asyncio executor cancels running jobs at shutdown: take the lock
                # first, so no firing is cut in half (a waiting tick is cancelled harmlessly).
                self._scheduler.shutdown(wait=False)
                self._scheduler = None
            await self._drop_lock()
