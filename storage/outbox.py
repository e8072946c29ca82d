"""The outbox: anything sent outside a direct reply is first written here, then dispatched.

`enqueue` is idempotent on the dedupe key (a second enqueue of the same key is a no-op), so a
restart, a misfire or two instances never queue a message twice. Priorities: 0 replies and staff
notifications, 3 personal reminders, 5 staff broadcasts, 9 plan campaigns (lower goes first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox, utcnow

PRIORITY_REPLY = 0
PRIORITY_STAFF = 0
PRIORITY_REMINDER = 3
PRIORITY_BROADCAST = 5
PRIORITY_CAMPAIGN = 9


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    channel: str,
    chat_id: str,
    payload: dict[str, Any],
    chat_kind: str = "private",
    priority: int = PRIORITY_BROADCAST,
    urgent: bool = False,
    not_before: datetime | None = None,
    broadcast_id: int | None = None,
    campaign_id: str | None = None,
    ticket_id: int | None = None,
) -> bool:
    """Queue one message; False when this dedupe key was queued before (nothing changes)."""
    existing = await session.execute(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key))
    if existing.scalar_one_or_none() is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                Outbox(
                    dedupe_key=dedupe_key[:191],
                    channel=channel,
                    chat_id=chat_id,
                    chat_kind=chat_kind,
                    payload=payload,
                    priority=priority,
                    urgent=urgent,
                    not_before=not_before or utcnow(),
                    broadcast_id=broadcast_id,
                    campaign_id=campaign_id,
                    ticket_id=ticket_id,
                )
            )
            await session.flush()
    except IntegrityError:
        return False
    return True
