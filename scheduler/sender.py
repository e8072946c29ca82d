"""The seam between the outbox dispatcher and the channels: `Sender` and classified send errors.

Each channel adapter provides a `Sender` for its platform. A failed send raises `SendError` with a
`kind` from one shared table (after RapidPro's courier): `retry` (network, 5xx, rate limit: try again,
after `retry_after` if the platform said so), `stop` (blocked, kicked, chat not found, outside the
messaging window: mark the recipient and never retry), `migrated` (group became a supergroup: resend
once to `new_chat_id`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bot.model import Outbound

SendErrorKind = Literal["retry", "stop", "migrated"]


class SendError(Exception):
    def __init__(
        self,
        kind: SendErrorKind,
        reason: str,
        *,
        retry_after: float | None = None,
        new_chat_id: str | None = None,
    ) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.retry_after = retry_after
        self.new_chat_id = new_chat_id


@dataclass(frozen=True)
class SendResult:
    message_id: str | None = None


class Sender(Protocol):
    """Sends one message to one chat of one channel; raises `SendError` on failure."""

    channel: str

    async def send(
        self, chat_id: str, message: Outbound, *, chat_kind: str = "private"
    ) -> SendResult: ...
