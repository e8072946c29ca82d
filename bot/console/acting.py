"""Acting from the console with the chat's own functions, through a stand-in `Context`.

The chat's domain functions (bot.feedback.handling, bot.conversations.broadcast) take a
conversation `Context`. `staff_context` builds the one context the console uses for a signed-in
staff member, in one of two shapes:

- **on a station's record** (`station_id` given; tickets): the inbound comes from the "console"
  channel, as a "group" of that station, so `ctx.station_id` and `ctx.settings` name the station
  residents read about; no reply is sent anywhere (the console shows the confirmation);
- **as the member in their own chat** (no `station_id`; the broadcast composer): the member's
  private chat with the bot on their first channel (`member_chat`), in the "broadcast"
  conversation with the composer's `data`, so the chat's flow treats the draft as theirs (the
  approvers are told in their chats, the author is told in theirs).

Nothing about the stand-in is stored: its person, chat and state are never added to the
session. Everything the functions enqueue goes through the outbox in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from bot.config import StaffMember
from bot.context import Context, Services
from bot.i18n import normalize_locale
from bot.model import TELEGRAM, WEB, ZALO_BOT, ZALO_OA, Capabilities, Inbound
from storage.models import Chat, Identity, Person
from storage.people import Contact, SavedState

CHANNEL = "console"
CONSOLE = Capabilities(buttons=False, max_text=4000, groups=False, name=CHANNEL, media=False,
                       replies=False)
# The member's own chat: the first channel they have an id on (the order sign-in codes use too).
CHANNEL_KEYS = (("telegram", "telegram_id"), ("zalo_bot", "zalo_bot_id"),
                ("zalo_oa", "zalo_oa_id"), ("web", "web_id"))
CHANNEL_CAPS = {c.name: c for c in (TELEGRAM, ZALO_BOT, ZALO_OA, WEB)}


def member_chat(member: StaffMember) -> tuple[str, str] | None:
    """(channel, chat id) of the member's own chat with the bot, or None (no id configured)."""
    for channel, key in CHANNEL_KEYS:
        if chat_id := getattr(member, key):
            return channel, chat_id
    return None


def staff_context(services: Services, session: Any, member: StaffMember, locale: str,
                  data: dict[str, Any] | None = None, *,
                  station_id: int | None = None) -> Context:
    """A `Context` standing for `member` (see the module docstring for the two shapes)."""
    locale = normalize_locale(locale)
    if station_id is not None:  # on a station's record, from the console itself
        channel, chat_id, kind, station = CHANNEL, member.name, "group", station_id
        caps, state = CONSOLE, SavedState(id=0, state="", data={})
    else:  # as the member writing in their own chat
        channel, chat_id = member_chat(member) or ("web", f"console:{member.name}")
        kind, station = "private", member.stations[0] if member.stations else 1
        caps = CHANNEL_CAPS.get(channel, WEB)
        state = SavedState(id=0, state="broadcast", data=dict(data or {}))
    chat = Chat(channel=channel, external_id=chat_id, kind=kind, station_id=station, active=True)
    contact = Contact(person=Person(locale=locale, station_id=station),
                      identity=Identity(channel=channel, external_id=chat_id), chat=chat,
                      state=state)
    inbound = Inbound(channel=channel, chat_id=chat_id, user_id=chat_id, chat_kind=kind)
    return Context(inbound=inbound, caps=caps, services=services, session=session,
                   contact=contact, locale=locale)
