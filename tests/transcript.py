"""A chat transcript helper (after errbot's TestBackend): say, tap, read replies."""

from __future__ import annotations

from bot.engine import HealthBot
from bot.model import WEB, Capabilities, Inbound, Outbound


class Transcript:
    """One person chatting with the bot on one channel, as a test reads it."""

    def __init__(
        self,
        bot: HealthBot,
        caps: Capabilities = WEB,
        channel: str = "web",
        chat_id: str = "resident-1",
        user_id: str | None = None,
        chat_kind: str = "private",
    ) -> None:
        self.bot, self.caps, self.channel = bot, caps, channel
        self.chat_id, self.user_id, self.chat_kind = chat_id, user_id or chat_id, chat_kind
        self.replies: list[Outbound] = []

    async def send(self, **fields: object) -> list[Outbound]:
        inbound = Inbound(
            channel=self.channel,
            chat_id=self.chat_id,
            user_id=self.user_id,
            chat_kind=self.chat_kind,  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        )
        self.replies = await self.bot.handle(inbound, self.caps)
        return self.replies

    async def say(self, text: str) -> list[Outbound]:
        return await self.send(text=text)

    async def tap(self, label_or_data: str) -> list[Outbound]:
        """Tap a button of the last replies, found by its label (or its data)."""
        for button in self.buttons():
            if label_or_data in (button.label, button.data):
                return await self.send(button=button.data)
        raise AssertionError(
            f"no button {label_or_data!r}; have: {[b.label for b in self.buttons()]}"
        )

    def buttons(self):  # noqa: ANN201 - list[Button]
        return [b for r in self.replies for b in r.all_buttons()]

    @property
    def text(self) -> str:
        return "\n\n".join(r.text for r in self.replies)
