"""The neutral message model shared by every channel.

Adapters turn a platform update into one `Inbound` and send each `Outbound` in the platform's own way.
`Capabilities` tells the conversation core what a channel can show (buttons or numbered menus, text
limits, groups), so flows adapt without special-casing a platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ChatKind = Literal["private", "group"]

# Button data travels through Telegram callback_data (max 64 bytes): keep it short ASCII.
MAX_BUTTON_DATA_BYTES = 64


@dataclass(frozen=True)
class Button:
    label: str
    data: str

    def __post_init__(self) -> None:
        raw = self.data.encode("utf-8")
        if not self.data.isascii() or not 0 < len(raw) <= MAX_BUTTON_DATA_BYTES:
            raise ValueError(f"button data must be 1-64 ASCII bytes: {self.data!r}")


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Inbound:
    """One thing a person did: a message, a button tap, a photo, a location."""

    channel: str
    chat_id: str
    user_id: str
    chat_kind: ChatKind = "private"
    text: str = ""
    button: str | None = None
    display_name: str = ""
    message_id: str | None = None
    reply_to_message_id: str | None = None
    photo: str | None = None  # a platform file id or URL
    location: Location | None = None
    addressed: bool = True  # in groups: a command, a mention or a reply to the bot
    sender_is_group_admin: bool = False
    locale_hint: str | None = None  # the platform's language for the user, if it says
    # A platform event instead of a message: "joined_group", "left_group", "blocked", "unblocked",
    # "migrated" (event_arg = the new chat id). Events are answered only if a handler replies.
    event: str | None = None
    event_arg: str | None = None
    # Stations (issue 21): set when a station's own bot received it (the update belongs there).
    station_id: int | None = None


@dataclass(frozen=True)
class Outbound:
    """One message to send. `buttons` is a list of rows."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: str | None = None
    source: str | None = None
    topic: str | None = None
    reply_to_message_id: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    # Replace this earlier message instead (channels that can edit; others send it as new).
    edit_message_id: str | None = None
    # report (issue 17): a local file sent as a document (Telegram); `text` is its caption.
    document: str | None = None

    def all_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]

    def to_payload(self) -> dict[str, Any]:
        """The JSON shape stored in the outbox."""
        return {
            "text": self.text,
            "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
            "image": self.image,
            "source": self.source,
            "topic": self.topic,
            "reply_to_message_id": self.reply_to_message_id,
            **({"edit_message_id": self.edit_message_id} if self.edit_message_id else {}),
            **({"document": self.document} if self.document else {}),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Outbound:
        return cls(
            text=payload.get("text") or "",
            buttons=tuple(
                tuple(Button(label, data) for label, data in row)
                for row in payload.get("buttons") or []
            ),
            image=payload.get("image"),
            source=payload.get("source"),
            topic=payload.get("topic"),
            reply_to_message_id=payload.get("reply_to_message_id"),
            edit_message_id=payload.get("edit_message_id"),
            document=payload.get("document"),
        )


@dataclass(frozen=True)
class Capabilities:
    buttons: bool
    max_text: int
    groups: bool
    max_buttons: int = 12
    name: str = ""
    media: bool = True  # the resident can send photos and locations (the web page cannot)
    replies: bool = True  # the resident can reply to (quote) a message (the web page cannot)


WEB = Capabilities(buttons=True, max_text=4000, groups=False, max_buttons=40, name="web",
                   media=False, replies=False)
TELEGRAM = Capabilities(buttons=True, max_text=4096, groups=True, max_buttons=20, name="telegram")
ZALO_BOT = Capabilities(buttons=False, max_text=2000, groups=False, name="zalo_bot")
ZALO_OA = Capabilities(buttons=True, max_text=2000, groups=True, max_buttons=5, name="zalo_oa")
