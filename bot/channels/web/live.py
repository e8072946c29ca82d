"""Open pages of the web chat: who is listening, and waking them when a message is stored.

Each open page holds one Server-Sent Events stream. When the web sender stores a message it calls
`LiveHub.notify(chat_id)`; every stream of that visitor wakes and reads the new rows from the
database (the rows, not the wake-up, carry the messages: a wake-up that is missed costs at most
one poll interval, never a message). A second worker's pages are reached by that poll.
"""

from __future__ import annotations

import asyncio


class LiveHub:
    """Per-visitor wake-up events for the open pages of this process."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[asyncio.Event]] = {}

    def listen(self, chat_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._listeners.setdefault(chat_id, set()).add(event)
        return event

    def forget(self, chat_id: str, event: asyncio.Event) -> None:
        events = self._listeners.get(chat_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self._listeners[chat_id]

    def notify(self, chat_id: str) -> None:
        for event in self._listeners.get(chat_id, ()):
            event.set()

    def notify_all(self) -> None:
        for events in self._listeners.values():
            for event in events:
                event.set()

    def open_pages(self, chat_id: str) -> int:
        return len(self._listeners.get(chat_id, ()))

    @property
    def streams(self) -> int:
        return sum(len(v) for v in self._listeners.values())
