"""The web chat's `Sender`: the outbox dispatcher delivers to web visitors through it.

Sending means storing: the message becomes a `web_messages` row (committed before the dispatcher
marks the outbox row sent), then the visitor's open pages are woken and, if the resident allowed
notifications, their browsers get a Web Push. The push is a courtesy on top: it runs in the
background and its failure never fails the delivery, because the page shows the stored message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.channels.web.live import LiveHub
from bot.channels.web.push import WebPush, notification
from bot.channels.web.writes import WriteGate
from bot.model import Outbound
from scheduler.sender import SendResult
from storage import web as web_store
from storage.db import Database

log = logging.getLogger(__name__)


class WebSender:
    channel = "web"

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        hub: LiveHub,
        push: WebPush | None,
        gate: WriteGate,
        push_title: str,
    ) -> None:
        self.db = db
        self.clock = clock
        self.hub = hub
        self.push = push
        self.gate = gate
        self.push_title = push_title
        self._pushes: set[asyncio.Task[int]] = set()

    async def send(
        self, chat_id: str, message: Outbound, *, chat_kind: str = "private"
    ) -> SendResult:
        payload = message.to_payload()
        async with self.gate.write(), self.db.sessions() as session, session.begin():
            # The wall clock, like the message log it is merged with in the page's history.
            message_id = await web_store.store_message(session, chat_id, payload, datetime.now(UTC))
        self.hub.notify(chat_id)
        if self.push is not None and message.text:
            task = asyncio.create_task(
                self.push.notify(
                    chat_id, {**notification(message.text, self.push_title), "id": message_id}
                )
            )
            self._pushes.add(task)
            task.add_done_callback(self._pushed)
        return SendResult(message_id=str(message_id))

    def _pushed(self, task: asyncio.Task[int]) -> None:
        self._pushes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("web push raised %s", type(task.exception()).__name__)

    async def drain(self) -> None:
        """Wait for pushes in flight (on stop, and in tests)."""
        while self._pushes:
            await asyncio.gather(*list(self._pushes), return_exceptions=True)
