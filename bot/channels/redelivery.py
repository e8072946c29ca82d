"""Redelivery dedupe shared by the channels: a platform update is handled at most once.

Telegram redelivers an update when the bot crashed before confirming it (polling offsets, webhook
retries); Zalo may deliver a message twice. Each adapter records the update's id in
`processed_updates` before handling it, and forgets it when handling failed so the next
redelivery is answered. The marks are purged with the message log (retention).
"""

from __future__ import annotations

import logging

from sqlalchemy import delete

from storage import people
from storage.db import Database
from storage.models import ProcessedUpdate

log = logging.getLogger(__name__)


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
