"""TelegramSender (the outbox's Telegram side) through the real PTB client against FakeTelegram."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.telegram_send import UNREACHABLE_REASONS, TelegramSender, file_base_url
from bot.config import load_settings
from bot.model import Button, Outbound
from scheduler.sender import SendError
from tests.fakes.telegram_api import FakeTelegram, FloodLimits
from tests.test_telegram_e2e import free_port

CHAT = 9001
GROUP = -9002
MENU = ((Button("Chủ đề sức khỏe", "topics"),), (Button("Góp ý", "cmd:gopy"),))


def sender_for(base_url: str, token: str) -> TelegramSender:
    settings = load_settings(None, env={})
    telegram = replace(settings.telegram, token=token, api_base_url=base_url)
    return TelegramSender.from_settings(replace(settings, telegram=telegram))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=FloodLimits()) as server:
        yield server


@pytest.fixture
async def sender(fake: FakeTelegram) -> AsyncIterator[TelegramSender]:
    sender = sender_for(fake.bot_api_url, fake.token)
    yield sender
    await sender.close()


async def test_sends_escaped_html_with_inline_keyboard(
    fake: FakeTelegram, sender: TelegramSender
) -> None:
    result = await sender.send(str(CHAT), Outbound("Sốt > 38°C & ho <kéo dài>", MENU))
    (sent,) = fake.sent_to(CHAT)
    assert sent.text == "Sốt > 38°C & ho <kéo dài>"
    assert sent.parse_mode == "HTML"
    assert sent.callback_data == ["topics", "cmd:gopy"]
    assert result.message_id == str(sent.message_id)
    assert sender.channel == "telegram"


async def test_long_text_is_split_with_buttons_on_the_last_part(
    fake: FakeTelegram, sender: TelegramSender
) -> None:
    text = "\n\n".join(f"Đoạn {i}: " + "muỗi vằn " * 60 for i in range(12))
    assert len(text) > 4096
    await sender.send(str(CHAT), Outbound(text, MENU))
    parts = fake.sent_to(CHAT)
    assert len(parts) == 2 and all(len(p.text or "") <= 4096 for p in parts)
    assert parts[0].callback_data == [] and parts[1].callback_data == ["topics", "cmd:gopy"]
    assert "\n\n".join(p.text or "" for p in parts) == text


async def test_image_with_short_text_goes_as_a_caption(
    fake: FakeTelegram, sender: TelegramSender, tmp_path: Path
) -> None:
    from PIL import Image

    picture = tmp_path / "poster.png"
    Image.new("RGB", (40, 40), "white").save(picture)
    await sender.send(str(CHAT), Outbound("Lịch tiêm <tháng 12>", MENU, image=str(picture)))
    (photo,) = fake.sent_to(CHAT)
    assert photo.photo and photo.caption == "Lịch tiêm <tháng 12>"
    assert photo.params["photo"]["size"] > 0  # the local file was uploaded
    assert photo.callback_data == ["topics", "cmd:gopy"]


async def test_image_with_long_text_sends_the_text_after_it(
    fake: FakeTelegram, sender: TelegramSender
) -> None:
    text = "Phòng bệnh sởi. " * 80  # over 1024 characters
    await sender.send(str(CHAT), Outbound(text, MENU, image="https://example.org/soi.png"))
    photo, follow = fake.sent_to(CHAT)
    assert photo.photo and not photo.caption and photo.callback_data == []
    assert (follow.text or "").strip() == text.strip() and follow.callback_data == [
        "topics",
        "cmd:gopy",
    ]


@pytest.mark.parametrize(
    ("code", "description", "reason"),
    [
        (403, "Forbidden: bot was blocked by the user", "blocked"),
        (403, "Forbidden: user is deactivated", "deactivated"),
        (403, "Forbidden: bot was kicked from the supergroup chat", "removed"),
        (400, "Bad Request: chat not found", "not_found"),
    ],
)
async def test_unreachable_recipients_stop(
    fake: FakeTelegram, sender: TelegramSender, code: int, description: str, reason: str
) -> None:
    fake.fail_next(CHAT, code, description)
    with pytest.raises(SendError) as caught:
        await sender.send(str(CHAT), Outbound("Tin mới"))
    assert (caught.value.kind, caught.value.reason) == ("stop", reason)


async def test_rate_limit_is_retry_after_the_given_seconds(
    fake: FakeTelegram, sender: TelegramSender
) -> None:
    fake.rate_limit_next(CHAT, retry_after=7)
    with pytest.raises(SendError) as caught:
        await sender.send(str(CHAT), Outbound("Tin mới"))
    assert caught.value.kind == "retry" and caught.value.retry_after == 7.0


async def test_private_flood_limit_surfaces_as_retry(
    fake: FakeTelegram, sender: TelegramSender
) -> None:
    kinds = []
    for i in range(8):  # a burst of 5 is allowed, then 1 msg/s
        try:
            await sender.send(str(CHAT), Outbound(f"Tin {i}"))
            kinds.append("sent")
        except SendError as exc:
            kinds.append(exc.kind)
    assert kinds[:5] == ["sent"] * 5 and "retry" in kinds[5:]


async def test_migrated_group_reports_the_new_id(
    fake: FakeTelegram, sender: TelegramSender
) -> None:
    fake.migrate_chat(GROUP, -1009002)
    with pytest.raises(SendError) as caught:
        await sender.send(str(GROUP), Outbound("Tin tổ dân phố"), chat_kind="group")
    assert caught.value.kind == "migrated" and caught.value.new_chat_id == "-1009002"


async def test_unreachable_server_is_retry() -> None:
    sender = sender_for(f"http://127.0.0.1:{free_port()}/bot", "123456:TEST-TOKEN")
    with pytest.raises(SendError) as caught:
        await sender.send(str(CHAT), Outbound("Tin mới"))
    assert caught.value.kind == "retry" and caught.value.retry_after
    await sender.close()


def test_file_url_follows_the_api_url() -> None:
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"


async def test_our_own_bad_request_stops_the_message_but_not_the_recipient(
    fake: FakeTelegram, sender: TelegramSender
) -> None:
    fake.fail_next(CHAT, 400, "Bad Request: can't parse entities: Unsupported start tag")
    with pytest.raises(SendError) as caught:
        await sender.send(str(CHAT), Outbound("Tin mới"))
    assert (caught.value.kind, caught.value.reason) == ("message", "bad_request")
    assert "bad_request" not in UNREACHABLE_REASONS and "blocked" in UNREACHABLE_REASONS
