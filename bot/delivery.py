"""Deliveries outside a direct reply go through the outbox (durable, deduplicated, paced)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.model import Outbound
from storage import outbox


class OutboxDeliverer:
    """The `Deliverer` conversations use: writes an outbox row in the caller's transaction.

    Because the row commits together with whatever caused it (a ticket, a broadcast), a crash
    either loses both or neither; the dispatcher sends it after a restart. Rows are due at once by
    the services' clock, the same clock the dispatcher claims by.
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        channel: str,
        chat_id: str,
        message: Outbound,
        dedupe_key: str,
        priority: int = outbox.PRIORITY_STAFF,
        chat_kind: str = "private",
        ticket_id: int | None = None,
    ) -> None:
        await outbox.enqueue(
            session,
            dedupe_key=dedupe_key,
            channel=channel,
            chat_id=chat_id,
            payload=message.to_payload(),
            chat_kind=chat_kind,
            priority=priority,
            ticket_id=ticket_id,
            not_before=self.clock(),
        )
