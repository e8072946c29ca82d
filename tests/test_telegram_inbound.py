"""Telegram update -> neutral Inbound: what the adapter hands to the conversation core."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.channels.telegram_inbound import to_inbound
from bot.model import Location
from tests.fakes.telegram_api import chat_member, user_object

BOT_ID = 123456
BOT = {"id": BOT_ID, "is_bot": True, "first_name": "Healthbot", "username": "hb_bot"}
GROUP = {"id": -500, "type": "group", "title": "Tổ dân phố 1"}
PRIVATE = {"id": 42, "type": "private", "first_name": "Lan"}


def inbound(**update: Any):  # noqa: ANN201
    return to_inbound(Update.de_json({"update_id": 1, **update}, None), "hb_bot", BOT_ID)


def message(chat: dict, user_id: int = 42, **content: Any) -> dict:
    return {"message_id": 10, "date": 0, "chat": chat, "from": user_object(user_id), **content}


def test_photo_gives_the_largest_size_and_the_caption_as_text() -> None:
    sizes = [
        {"file_id": f"id{w}", "file_unique_id": f"u{w}", "width": w, "height": w}
        for w in (90, 320, 1280)
    ]
    got = inbound(message=message(PRIVATE, photo=sizes, caption="Ổ rác ở ngõ 5"))
    assert got.photo == "id1280" and got.text == "Ổ rác ở ngõ 5" and got.addressed


def test_location_and_language_hint() -> None:
    sender = user_object(42, language_code="en")
    got = inbound(
        message=message(PRIVATE, location={"latitude": 21.05, "longitude": 105.8})
        | {"from": sender}
    )
    assert got.location == Location(21.05, 105.8) and got.locale_hint == "en"


def test_group_addressing() -> None:
    from_bot = message(GROUP, user_id=BOT_ID) | {"from": BOT, "message_id": 3, "text": "Chào"}
    from_other = message(GROUP, user_id=77) | {"message_id": 4, "text": "hi"}
    assert inbound(message=message(GROUP, text="ai biết lịch tiêm?")).addressed is False
    reply_to_bot = inbound(message=message(GROUP, text="cảm ơn", reply_to_message=from_bot))
    assert reply_to_bot.addressed and reply_to_bot.reply_to_message_id == "3"
    assert not inbound(message=message(GROUP, text="ok", reply_to_message=from_other)).addressed
    assert inbound(message=message(GROUP, text="/hoi@hb_bot sốt")).addressed
    assert not inbound(message=message(GROUP, text="/start@other_bot")).addressed
    mention = inbound(message=message(GROUP, text="@hb_bot sot xuat huyet"))
    assert mention.addressed and mention.text == "sot xuat huyet"


def test_group_service_messages_are_dropped() -> None:
    joined = message(GROUP, new_chat_members=[user_object(9)])
    assert inbound(message=joined) is None


def test_button_tap() -> None:
    query = {
        "id": "q1",
        "from": user_object(42),
        "chat_instance": "1",
        "data": "t:dengue",
        "message": message(PRIVATE, user_id=BOT_ID) | {"from": BOT, "text": "Chủ đề"},
    }
    got = inbound(callback_query=query)
    assert got.button == "t:dengue" and got.chat_id == "42" and got.message_id == "10"


def membership(chat: dict, old: str, new: str) -> dict:
    return {
        "chat": chat,
        "from": user_object(42),
        "date": 0,
        "old_chat_member": chat_member(BOT, old),
        "new_chat_member": chat_member(BOT, new),
    }


def test_membership_events() -> None:
    assert inbound(my_chat_member=membership(GROUP, "left", "member")).event == "joined_group"
    joined = inbound(my_chat_member=membership(GROUP, "left", "administrator"))
    assert joined.event_arg == "Tổ dân phố 1"
    assert inbound(my_chat_member=membership(GROUP, "member", "administrator")) is None
    assert inbound(my_chat_member=membership(GROUP, "member", "kicked")).event == "left_group"
    assert inbound(my_chat_member=membership(PRIVATE, "member", "kicked")).event == "blocked"
    assert inbound(my_chat_member=membership(PRIVATE, "kicked", "member")).event == "unblocked"


def test_migration_event_carries_the_new_id() -> None:
    got = inbound(message=message(GROUP, migrate_to_chat_id=-1001234))
    assert (got.event, got.event_arg, got.chat_id) == ("migrated", "-1001234", "-500")
