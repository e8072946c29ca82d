"""Redelivery dedupe for the Zalo adapters: a platform message is handled at most once.

Zalo may deliver a message twice. The adapters record the message id in `processed_updates` in a
transaction of its own before handling it (their replies are sent in the background), and forget
it when handling failed so the next redelivery is answered. Telegram instead passes its update id
to `HealthBot.handle(update_key=…)`, which records it in the handling's own transaction. The marks
are purged with the message log (retention).
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
