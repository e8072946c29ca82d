"""Where a ticket goes: the category's staff chat, else the station's, else the admin's private chat.

A staff chat is written "<channel>:<chat id>" in the configuration ("telegram:-1001234567890").
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import FeedbackCategory, Settings, StaffMember

# Which id of a staff member reaches them privately, in order of preference (the web chat cannot
# be written to outside a conversation, so it is not used for notifications).
PRIVATE_ID_FIELDS = (
    ("telegram", "telegram_id"),
    ("zalo_bot", "zalo_bot_id"),
    ("zalo_oa", "zalo_oa_id"),
)


@dataclass(frozen=True)
class StaffChat:
    channel: str
    chat_id: str
    kind: str  # private | group

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.chat_id}"


def parse_staff_chat(value: str, settings: Settings) -> StaffChat | None:
    """ "telegram:-100123" -> StaffChat; None when empty or malformed."""
    channel, sep, chat_id = value.strip().partition(":")
    if not sep or not channel or not chat_id:
        return None
    return StaffChat(channel, chat_id, _kind(channel, chat_id, settings))


def _kind(channel: str, chat_id: str, settings: Settings) -> str:
    if channel == "telegram":
        return "group" if chat_id.startswith("-") else "private"
    if channel == "zalo_oa" and chat_id in settings.zalo_oa.group_ids:
        return "group"
    return "private"


def private_chat_of(member: StaffMember, settings: Settings) -> StaffChat | None:
    for channel, field in PRIVATE_ID_FIELDS:
        value = getattr(member, field)
        if value:
            return StaffChat(channel, value, "private")
    return None


def admin_chats(settings: Settings) -> list[StaffChat]:
    """The private chats of every admin (escalations go there)."""
    chats = [private_chat_of(m, settings) for m in settings.staff if m.role == "admin"]
    return [c for c in chats if c is not None]


def staff_chat_for(settings: Settings, cat: FeedbackCategory | None) -> StaffChat | None:
    """The chat a category's tickets go to; None when nobody is configured at all."""
    for value in (cat.staff_chat if cat else "", settings.feedback.staff_chat):
        chat = parse_staff_chat(value, settings) if value else None
        if chat is not None:
            return chat
    admins = admin_chats(settings)
    return admins[0] if admins else None
