"""Telegram update -> neutral `Inbound`: no flow logic, only translation of the platform's shapes.

Which updates become what:
- a message (text, caption, photo, location) -> an `Inbound` with `addressed` computed the Telegram
  way (private chat, a command for this bot, an @mention of the bot, or a reply to a bot message);
- a callback query (a tap on an inline button) -> an `Inbound` with `button` = the callback data;
- `my_chat_member` (the bot's own membership changed) -> the events "joined_group", "left_group",
  "blocked", "unblocked";
- a service message with `migrate_to_chat_id` -> the event "migrated" (event_arg = the new id).
Anything else (service messages, edits, stickers in groups) is dropped: `None`.
"""

from __future__ import annotations

import re

from telegram import Chat, ChatMember, Message, Update

from bot.model import ChatKind, Inbound, Location

CHANNEL = "telegram"
GROUP_TYPES = frozenset({Chat.GROUP, Chat.SUPERGROUP})
PRESENT = frozenset(
    {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}
)
GONE = frozenset({ChatMember.LEFT, ChatMember.BANNED})
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@([A-Za-z0-9_]+))?(?:\s|$)")


def chat_kind(chat: Chat) -> ChatKind:
    return "group" if chat.type in GROUP_TYPES else "private"


def to_inbound(update: Update, bot_username: str, bot_id: int) -> Inbound | None:
    """The neutral form of one update, or None when the bot has nothing to do with it."""
    if update.my_chat_member is not None:
        return _membership(update)
    if update.callback_query is not None:
        return _callback(update)
    if update.message is not None:
        return _message(update.message, bot_username, bot_id)
    return None


def _membership(update: Update) -> Inbound | None:
    change = update.my_chat_member
    assert change is not None
    old, new = change.old_chat_member.status, change.new_chat_member.status
    chat, user = change.chat, change.from_user
    base = {
        "channel": CHANNEL,
        "chat_id": str(chat.id),
        "user_id": str(user.id),
        "chat_kind": chat_kind(chat),
        "display_name": user.full_name or "",
        "locale_hint": user.language_code,
    }
    if chat.type == Chat.PRIVATE:
        if new == ChatMember.BANNED:
            return Inbound(**base, event="blocked")
        if old == ChatMember.BANNED and new in PRESENT:
            return Inbound(**base, event="unblocked")
        return None
    if chat.type not in GROUP_TYPES:
        return None  # channels: the bot never posts there
    if new in PRESENT and old in GONE:
        return Inbound(**base, event="joined_group", event_arg=chat.title or "")
    if new in GONE and old in PRESENT:
        return Inbound(**base, event="left_group")
    return None


def _callback(update: Update) -> Inbound | None:
    query = update.callback_query
    assert query is not None
    message = query.message
    if message is None or not isinstance(query.data, str) or not query.data:
        return None
    user = query.from_user
    return Inbound(
        channel=CHANNEL,
        chat_id=str(message.chat.id),
        user_id=str(user.id),
        chat_kind=chat_kind(message.chat),
        button=query.data,
        display_name=user.full_name or "",
        message_id=str(message.message_id),
        addressed=True,
        locale_hint=user.language_code,
    )


def _message(message: Message, bot_username: str, bot_id: int) -> Inbound | None:
    chat = message.chat
    if message.migrate_to_chat_id is not None:
        user_id = str(message.from_user.id) if message.from_user else str(chat.id)
        return Inbound(
            channel=CHANNEL,
            chat_id=str(chat.id),
            user_id=user_id,
            chat_kind="group",
            event="migrated",
            event_arg=str(message.migrate_to_chat_id),
        )
    user = message.from_user
    if user is None or user.is_bot:
        return None  # anonymous admins, channel posts, other bots
    kind = chat_kind(chat)
    text = message.text or message.caption or ""
    photo = message.photo[-1].file_id if message.photo else None  # the largest size is last
    location = (
        Location(message.location.latitude, message.location.longitude)
        if message.location
        else None
    )
    if kind == "group" and not (text or photo or location):
        return None  # joins, leaves, pins, stickers: group chatter the bot ignores
    addressed, text = _addressing(message, text, kind, bot_username, bot_id)
    replied = message.reply_to_message
    return Inbound(
        channel=CHANNEL,
        chat_id=str(chat.id),
        user_id=str(user.id),
        chat_kind=kind,
        text=text,
        display_name=user.full_name or "",
        message_id=str(message.message_id),
        reply_to_message_id=str(replied.message_id) if replied else None,
        photo=photo,
        location=location,
        addressed=addressed,
        locale_hint=user.language_code,
    )


def _addressing(
    message: Message, text: str, kind: ChatKind, bot_username: str, bot_id: int
) -> tuple[bool, str]:
    """Whether the message speaks to this bot, and its text without the bot's @mention."""
    if kind == "private":
        return True, text
    command = _COMMAND.match(text)
    if command:
        target = command.group(1)
        return target is None or target.lower() == bot_username.lower(), text
    mention = f"@{bot_username}"
    if bot_username and mention.lower() in text.lower():
        stripped = re.sub(re.escape(mention), " ", text, flags=re.I)
        return True, " ".join(stripped.split())
    replied = message.reply_to_message
    to_bot = (
        replied is not None and replied.from_user is not None and replied.from_user.id == bot_id
    )
    return to_bot, text
