"""Periodic housekeeping while the bot runs: personal reminders, message-log retention and
overdue feedback tickets (reminders to staff, escalation to the admin).

Each task is a plain async function called on a fixed period; an error is logged and the loop goes
on, so one bad row never stops reminders for everyone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.broadcast_figures import notify_finished
from bot.context import Services
from bot.digest import send_digest
from bot.feedback.sweeps import SWEEP_EVERY_SECONDS, sweep_overdue_now
from scheduler.reminders import sweep_reminders
from storage import outbox, people
from storage.health import FaultLog, is_database_fault

log = logging.getLogger(__name__)

REMINDER_SWEEP_SECONDS = 60.0
RETENTION_SWEEP_SECONDS = 3600.0
FIGURES_SWEEP_SECONDS = 60.0

Task = Callable[[Services], Awaitable[object]]


async def sweep_due_reminders(services: Services) -> object:
    return await sweep_reminders(
        services.db, services.settings, services.library, services.clock()
    )


async def purge_old_messages(services: Services) -> object:
    """Delete chat history older than `database.message_log_retention_days` and finished outbox
    rows older than `database.outbox_retention_days` (Decree 13/2023)."""
    cfg, now = services.settings.database, services.clock()
    async with services.db.sessions() as session, session.begin():
        purged = await people.purge_message_log(
            session, now - timedelta(days=cfg.message_log_retention_days)
        )
        await outbox.purge_finished(session, now - timedelta(days=cfg.outbox_retention_days))
        return purged


def periodic_tasks() -> list[tuple[float, Task]]:
    """(period in seconds, task) pairs; features add theirs here."""
    return [
        (REMINDER_SWEEP_SECONDS, sweep_due_reminders),
        (RETENTION_SWEEP_SECONDS, purge_old_messages),
        (SWEEP_EVERY_SECONDS, sweep_overdue_now),
        (FIGURES_SWEEP_SECONDS, notify_finished),  # delivery figures to broadcast authors
        (FIGURES_SWEEP_SECONDS, send_digest),  # the staff's morning digest
    ]


async def run_periodic(services: Services, period: float, task: Task, stop: asyncio.Event) -> None:
    name = getattr(task, "__name__", str(task))
    faults = FaultLog(log, f"periodic task {name}")
    while not stop.is_set():
        try:
            await task(services)
        except Exception as exc:
            if is_database_fault(exc):
                faults.failed(exc)  # once per condition while the database is away
            else:
                log.exception("periodic task %s failed", name)
        else:
            faults.recovered()
        try:
            await asyncio.wait_for(stop.wait(), timeout=period)
        except TimeoutError:
            pass


def start_maintenance(services: Services, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(run_periodic(services, period, task, stop))
        for period, task in periodic_tasks()
    ]
