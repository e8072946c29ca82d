"""The fake Bot API behaves like Telegram as seen through the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dt
import unicodedata
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
)

from tests.fakes.telegram_api import FakeTelegram, FloodLimits

PRIVATE_CHAT = 4242
GROUP_CHAT = -5001


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.bot_api_url) as client:
        yield client


async def test_sent_message_is_recorded_with_ids(fake: FakeTelegram, bot: Bot) -> None:
    first = await bot.send_message(PRIVATE_CHAT, "Xin chào")
    second = await bot.send_message(PRIVATE_CHAT, "Lịch tiêm chủng")
    assert (first.message_id, second.message_id) == (1, 2)
    assert [m.text for m in fake.sent_to(PRIVATE_CHAT)] == ["Xin chào", "Lịch tiêm chủng"]
    assert fake.calls[0].method == "getMe"
    assert fake.calls_to("sendMessage")[0].params["chat_id"] == PRIVATE_CHAT


async def test_text_limit_is_4096_characters_after_nfc(bot: Bot) -> None:
    await bot.send_message(PRIVATE_CHAT, "a" * 4096)
    decomposed = unicodedata.normalize("NFD", "ế" * 4096)  # 3 code points each, 1 after NFC
    await bot.send_message(PRIVATE_CHAT, decomposed)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(PRIVATE_CHAT, "a" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(PRIVATE_CHAT, "   ")


async def test_callback_data_limit_is_64_bytes(fake: FakeTelegram, bot: Bot) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("Tiêm chủng", callback_data="x" * 64)]])
    await bot.send_message(PRIVATE_CHAT, "Chọn", reply_markup=ok)
    assert fake.sent_to(PRIVATE_CHAT)[0].callback_data == ["x" * 64]
    vietnamese = "ả" * 22  # 22 characters but 66 UTF-8 bytes
    bad = InlineKeyboardMarkup([[InlineKeyboardButton("Tiêm chủng", callback_data=vietnamese)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(PRIVATE_CHAT, "Chọn", reply_markup=bad)


async def test_invalid_html_is_refused_and_valid_html_parsed(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)can't find end tag corresponding to start tag \"b\""):
        await bot.send_message(PRIVATE_CHAT, "<b>Xin chào", parse_mode="HTML")
    with pytest.raises(BadRequest, match='(?i)unsupported start tag "br"'):
        await bot.send_message(PRIVATE_CHAT, "Dòng 1<br>Dòng 2", parse_mode="HTML")
    sent = await bot.send_message(PRIVATE_CHAT, "<b>Sốt</b> &lt;38&gt; &amp; ho", parse_mode="HTML")
    assert sent.text == "Sốt <38> & ho"


async def test_caption_over_1024_is_refused_and_photo_upload_recorded(
    fake: FakeTelegram, bot: Bot
) -> None:
    await bot.send_photo(PRIVATE_CHAT, photo=b"\x89PNG fake bytes", caption="Áp phích")
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_photo(PRIVATE_CHAT, photo="AgAC-file-id", caption="c" * 1025)
    sent = fake.sent_to(PRIVATE_CHAT)
    assert len(sent) == 1 and sent[0].photo and sent[0].caption == "Áp phích"


async def test_private_chat_flood_gives_retry_after_timedelta() -> None:
    now = [0.0]
    async with FakeTelegram(flood_clock=lambda: now[0]) as fake:
        async with Bot(fake.token, base_url=fake.bot_api_url) as bot:
            for n in range(fake.flood.limits.private_burst):
                await bot.send_message(PRIVATE_CHAT, f"tin {n}")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(PRIVATE_CHAT, "một tin quá nhiều")
            assert caught.value.retry_after == dt.timedelta(seconds=1)
            await bot.send_message(PRIVATE_CHAT + 1, "another chat is not throttled")
            fake.rate_limit_next(PRIVATE_CHAT + 1, retry_after=7)
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(PRIVATE_CHAT + 1, "forced 429")
            assert caught.value.retry_after == dt.timedelta(seconds=7)


async def test_group_flood_limit_is_20_per_minute() -> None:
    now = [0.0]
    async with FakeTelegram(flood_clock=lambda: now[0]) as fake:
        async with Bot(fake.token, base_url=fake.bot_api_url) as bot:
            for n in range(20):
                await bot.send_message(GROUP_CHAT, f"tin {n}")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(GROUP_CHAT, "tin 21")
            assert caught.value.retry_after == dt.timedelta(seconds=3)  # 20/min: one every 3 s
            now[0] += 3
            await bot.send_message(GROUP_CHAT, "tin 21")


async def test_overall_flood_limit_is_30_per_second() -> None:
    now = [0.0]  # a frozen clock: the test does not depend on how fast this machine is
    async with FakeTelegram(flood_clock=lambda: now[0]) as fake:
        async with Bot(fake.token, base_url=fake.bot_api_url) as bot:
            for chat in range(1, 31):
                await bot.send_message(chat, "thông báo")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(31, "thông báo")
            now[0] += caught.value.retry_after.total_seconds()
            await bot.send_message(31, "thông báo")


async def test_scaled_limits_let_a_benchmark_go_faster() -> None:
    async with FakeTelegram(flood_limits=FloodLimits(scale=10)) as fake:
        async with Bot(fake.token, base_url=fake.bot_api_url) as bot:
            for n in range(50):
                await bot.send_message(PRIVATE_CHAT, f"tin {n}")
    assert len(fake.sent_to(PRIVATE_CHAT)) == 50


async def test_unreachable_chats_answer_like_telegram(fake: FakeTelegram, bot: Bot) -> None:
    fake.block_user(PRIVATE_CHAT)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(PRIVATE_CHAT, "Nhắc lịch")
    fake.kick_from(GROUP_CHAT)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(GROUP_CHAT, "Thông báo")
    fake.strict_chats = True
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(777, "Ai đây?")
    assert fake.sent == []


async def test_group_migration_raises_chat_migrated(fake: FakeTelegram, bot: Bot) -> None:
    fake.migrate_chat(GROUP_CHAT, -1001234567890)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(GROUP_CHAT, "Thông báo")
    assert caught.value.new_chat_id == -1001234567890
    await bot.send_message(-1001234567890, "Thông báo")


async def test_get_updates_returns_pushed_updates_once(fake: FakeTelegram, bot: Bot) -> None:
    await fake.push_message(PRIVATE_CHAT, PRIVATE_CHAT, "/start tdp3", first_name="Lan")
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 1
    message = updates[0].message
    assert message.text == "/start tdp3" and message.from_user.first_name == "Lan"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()


async def test_long_poll_returns_as_soon_as_an_update_arrives(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for_poll()
    await fake.push_message(GROUP_CHAT, 7, "@healthbot_test_bot hỏi", chat_type="group")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message.chat.type == "group"
    assert updates[0].message.entities[0].type == "mention"


async def test_callback_tap_edit_and_answer(fake: FakeTelegram, bot: Bot) -> None:
    menu = InlineKeyboardMarkup([[InlineKeyboardButton("Tiêm chủng", callback_data="t:vac")]])
    sent = await bot.send_message(PRIVATE_CHAT, "Menu", reply_markup=menu)
    await fake.push_callback(PRIVATE_CHAT, PRIVATE_CHAT, "t:vac", sent.message_id)
    query = (await bot.get_updates(timeout=0))[0].callback_query
    assert query.data == "t:vac" and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    await bot.edit_message_text("Lịch tiêm", chat_id=PRIVATE_CHAT, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Lịch tiêm", chat_id=PRIVATE_CHAT, message_id=sent.message_id)
    record = fake.sent_to(PRIVATE_CHAT)[0]
    assert record.text == "Lịch tiêm" and record.edit_count == 1


async def test_admins_and_membership_updates(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_admins(GROUP_CHAT, [11], creator_id=10)
    admins = await bot.get_chat_administrators(GROUP_CHAT)
    assert {(a.user.id, a.status) for a in admins} == {(10, "creator"), (11, "administrator")}
    assert (await bot.get_chat_member(GROUP_CHAT, 12)).status == "member"
    await fake.push_my_chat_member(GROUP_CHAT, 10, "left", "member", title="Tổ dân phố 3")
    await fake.push_my_chat_member(PRIVATE_CHAT, PRIVATE_CHAT, "member", "kicked")
    added, blocked = [u.my_chat_member for u in await bot.get_updates(timeout=0)]
    assert added.chat.title == "Tổ dân phố 3" and added.new_chat_member.status == "member"
    assert blocked.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden):
        await bot.send_message(PRIVATE_CHAT, "Nhắc lịch")
    assert (await bot.get_chat(GROUP_CHAT)).title == "Tổ dân phố 3"


async def test_bot_added_to_group_arrives_as_two_updates(fake: FakeTelegram, bot: Bot) -> None:
    await fake.push_bot_added(GROUP_CHAT, 10, title="Tổ dân phố 5")
    change, service = await bot.get_updates(timeout=0)
    assert change.my_chat_member.new_chat_member.status == "member"
    assert service.message.new_chat_members[0].id == bot.id
    assert service.message.chat.title == "Tổ dân phố 5"


async def test_push_migration_sends_service_messages(fake: FakeTelegram, bot: Bot) -> None:
    await fake.push_migration(GROUP_CHAT, -1009876543210)
    old, new = [u.message for u in await bot.get_updates(timeout=0)]
    assert old.migrate_to_chat_id == -1009876543210 and new.migrate_from_chat_id == GROUP_CHAT
    with pytest.raises(ChatMigrated):
        await bot.send_message(GROUP_CHAT, "Thông báo")


async def test_commands_per_language(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("ngonngu", "Đổi ngôn ngữ")], language_code="vi")
    await bot.set_my_commands([BotCommand("ngonngu", "Change language")], language_code="en")
    assert (await bot.get_my_commands(language_code="vi"))[0].description == "Đổi ngôn ngữ"
    assert fake.commands_for("en")[0]["description"] == "Change language"
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Ngôn_ngữ", "x")])


async def test_webhook_delivery_carries_the_secret(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                         await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/tg", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/tg"
    try:
        await bot.set_webhook(url, secret_token="s3cret-token")
        with pytest.raises(Conflict, match="(?i)webhook is active"):
            await bot.get_updates(timeout=0)
        await fake.push_message(PRIVATE_CHAT, PRIVATE_CHAT, "Xin chào")
        assert received[0][0] == "s3cret-token"
        assert Update.de_json(received[0][1], bot).message.text == "Xin chào"
        assert (await bot.get_webhook_info()).url == url
    finally:
        await runner.cleanup()


async def test_wait_for_sent_wakes_on_send(fake: FakeTelegram, bot: Bot) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(PRIVATE_CHAT, "Trả lời")

    task = asyncio.create_task(later())
    sent = await fake.wait_for_sent(PRIVATE_CHAT, timeout=2)
    await task
    assert sent[0].text == "Trả lời"
    with pytest.raises(TimeoutError):
        await fake.wait_for_sent(PRIVATE_CHAT, count=2, timeout=0.1)


async def test_wrong_token_and_unknown_method(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.bot_api_url):
            pass
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.bot_api_url}{fake.token}/sendTelepathy") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.post(f"{fake.bot_api_url}{fake.token}/sendmessage",
                             json={"chat_id": 5, "text": "json body, lower-case method"}) as resp:
            assert (await resp.json())["result"]["text"] == "json body, lower-case method"


async def test_application_polling_round_trip(fake: FakeTelegram) -> None:
    """The way `healthbot run` talks to a Bot API server: Application + Updater polling."""
    from telegram.ext import Application, CommandHandler, ContextTypes

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text("Chào mừng đến Trạm Y tế")

    app = Application.builder().token(fake.token).base_url(fake.bot_api_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await fake.push_message(PRIVATE_CHAT, PRIVATE_CHAT, "/start")
        reply = (await fake.wait_for_sent(PRIVATE_CHAT))[0]
        await app.updater.stop()
        await app.stop()
    assert reply.text == "Chào mừng đến Trạm Y tế"
    assert [c.method for c in fake.calls[:3]] == ["getMe", "deleteWebhook", "getUpdates"]


async def test_document_upload_delete_and_bad_markup(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_document(PRIVATE_CHAT, document=b"%PDF-1.4", filename="lich-tiem.pdf")
    assert sent.document.file_name == "lich-tiem.pdf"
    assert fake.sent_to(PRIVATE_CHAT)[0].document
    assert await bot.delete_message(PRIVATE_CHAT, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(PRIVATE_CHAT, sent.message_id)
    assert fake.sent_to(PRIVATE_CHAT)[0].deleted
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.bot_api_url}{fake.token}/sendMessage", data={
                "chat_id": "5", "text": "x", "reply_markup": "{not json"}) as resp:
            assert resp.status == 400 and "JSON" in (await resp.json())["description"]
