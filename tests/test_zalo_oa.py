"""Zalo Official Account end to end: signed webhooks in, OA API sends out, over real HTTP to FakeZaloOA."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.channels.zalo_oa import start_zalo_oa
from bot.channels.zalo_oa_send import ZaloOASender
from bot.config import Settings
from bot.engine import HealthBot
from bot.model import Button, Outbound
from scheduler.sender import SendError
from storage import tokens
from storage.models import Chat
from tests.fakes.zalo_oa_api import FakeZaloOA, OASent

RESIDENT = "8171934537203385927"
GROUP = "f414c8f76fa586fbdfb4"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oa_settings(settings: Settings, fake: FakeZaloOA) -> Settings:
    cfg = replace(
        settings.zalo_oa,
        app_id=fake.app_id,
        app_secret=fake.app_secret,
        oa_secret_key=fake.oa_secret_key,
        oa_id=fake.oa_id,
        oauth_base_url=fake.oauth_base_url,
        api_base_url=fake.api_base_url,
        redirect_uri="https://tram.example.vn/zalo/callback",
    )
    return replace(settings, zalo_oa=cfg)


async def seed_tokens(db: object, fake: FakeZaloOA, clock: object, lifetime_hours: float = 25) -> str:
    access, refresh = fake.issue_tokens()
    async with db.sessions() as session, session.begin():  # type: ignore[attr-defined]
        await tokens.save_token(
            session, tokens.ZALO_OA, access, refresh,
            clock.now + timedelta(hours=lifetime_hours),  # type: ignore[attr-defined]
        )
    return refresh


async def stored(db: object) -> tokens.TokenPair:
    async with db.sessions() as session:  # type: ignore[attr-defined]
        pair = await tokens.load_token(session, tokens.ZALO_OA)
    assert pair is not None
    return pair


@dataclass
class Running:
    bot: HealthBot
    fake: FakeZaloOA

    @property
    def db(self):  # noqa: ANN201
        return self.bot.services.db


@pytest.fixture
async def fake(clock: object) -> AsyncIterator[FakeZaloOA]:
    # The fake's clock follows the bot's, so event timestamps and token lifetimes agree.
    async with FakeZaloOA(clock=lambda: clock.now.timestamp()) as server:  # type: ignore[attr-defined]
        yield server


@asynccontextmanager
async def running_bot(settings: Settings, fake: FakeZaloOA, clock: object) -> AsyncIterator[Running]:
    port = free_port()
    services = build_services(oa_settings(settings, fake), clock=clock)  # type: ignore[arg-type]
    bot = build_bot(services)
    app = web.Application()
    stop = await start_zalo_oa(bot, app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.webhook_url = f"http://127.0.0.1:{port}/zalo/oa/webhook"
    try:
        yield Running(bot, fake)
    finally:
        await stop()
        await runner.cleanup()
        await services.db.close()


@pytest.fixture
async def oa(settings: Settings, fake: FakeZaloOA, clock: object) -> AsyncIterator[Running]:
    async with running_bot(settings, fake, clock) as running:
        await seed_tokens(running.db, fake, clock)
        yield running


async def drained(oa: Running) -> None:
    """Events are acknowledged once in the inbox; wait until the pump has dealt with them."""
    await oa.bot.services.extras["inboxes"]["zalo_oa"].drain()


async def say(fake: FakeZaloOA, text: str, user: str = RESIDENT, expect: int = 1) -> list[OASent]:
    before = len(fake.sent_to(user))
    delivery = await fake.send_text(user, text)
    assert delivery.status == 200
    return (await fake.wait_for_sent(user, before + expect))[before:]


async def test_signed_question_gets_the_sourced_answer(oa: Running, fake: FakeZaloOA) -> None:
    (answer,) = await say(fake, "sot xuat huyet co lay khong")
    assert answer.endpoint == "message/cs"
    assert "muỗi vằn" in (answer.text or "") and "Nguồn:" in (answer.text or "")


async def test_forged_or_stale_events_are_refused_and_not_answered(
    oa: Running, fake: FakeZaloOA
) -> None:
    forged = await fake.send_event(fake.user_send_text(RESIDENT, "/start"), forge_signature=True)
    unsigned = await fake.send_event(fake.user_send_text(RESIDENT, "/start"), signature="mac=00")
    stale = await fake.send_event(
        fake.user_send_text(RESIDENT, "/start", timestamp_ms=fake.stale_timestamp_ms(7 * 3600))
    )
    assert forged.status in (401, 403) and unsigned.status in (401, 403)
    assert stale.status in (401, 403)
    await say(fake, "/menu")  # answered; the refused ones were not
    assert len(fake.sent_to(RESIDENT)) == 1
    async with oa.db.sessions() as session:
        assert len((await session.execute(select(Chat))).scalars().all()) == 1


async def test_echoes_and_other_oas_are_ignored(oa: Running, fake: FakeZaloOA) -> None:
    echo = await fake.send_event(fake.oa_send_text(RESIDENT, "Xin chào"))
    other = await fake.send_event(fake.user_send_text(RESIDENT, "/start", oa_id="999"))
    assert echo.status == 200 and other.status == 200
    await say(fake, "/menu")
    assert len(fake.sent) == 1


async def test_redelivered_event_is_answered_once(oa: Running, fake: FakeZaloOA) -> None:
    event = fake.user_send_text(RESIDENT, "/menu")
    await fake.send_event(event)
    await fake.wait_for_sent(RESIDENT, 1)
    again = await fake.send_event(event)
    assert again.status == 200
    await say(fake, "/start")
    assert len(fake.sent_to(RESIDENT)) == 2


async def test_buttons_go_out_as_oa_query_and_a_tap_comes_back(
    oa: Running, fake: FakeZaloOA
) -> None:
    (choice,) = await say(fake, "/ngonngu")
    assert [b["type"] for b in choice.buttons] == ["oa.query.hide", "oa.query.hide"]
    english = next(b for b in choice.buttons if b["payload"].endswith("lang:en"))
    (done,) = await say(fake, english["payload"])  # Zalo sends the payload back as user text
    assert (done.text or "").startswith("From now on I will write in English.")


async def test_a_long_menu_becomes_a_numbered_list(oa: Running, fake: FakeZaloOA) -> None:
    (menu,) = await say(fake, "/start")
    assert menu.buttons == []
    assert "Gõ số để chọn:" in (menu.text or "") and "\n2. " in (menu.text or "")


async def test_image_and_location_are_answered(oa: Running, fake: FakeZaloOA) -> None:
    await fake.send_event(fake.user_send_image(RESIDENT, "https://example.org/a.jpg"))
    await fake.wait_for_sent(RESIDENT, 1)
    await fake.send_event(fake.user_send_location(RESIDENT, 21.03, 105.85))
    await fake.wait_for_sent(RESIDENT, 2)


async def test_expired_token_is_refreshed_and_the_reply_still_goes_out(
    oa: Running, fake: FakeZaloOA
) -> None:
    first_refresh = (await stored(oa.db)).refresh_token
    fake.expire_access_token()
    (answer,) = await say(fake, "/menu")
    assert answer.text
    assert fake.refreshes == 1
    assert -216 in [c.status for c in fake.calls_to("message/cs")]  # refused once, then sent
    pair = await stored(oa.db)
    assert pair.refresh_token != first_refresh
    assert pair.refresh_token in fake.refresh_tokens  # the rotated one, still unused, is kept


@pytest.mark.parametrize("code", [-220, -124])
async def test_other_token_error_codes_also_refresh(
    oa: Running, fake: FakeZaloOA, code: int
) -> None:
    fake.token_error_code = code
    fake.expire_access_token()
    await say(fake, "/menu")
    assert fake.refreshes == 1


async def test_token_near_expiry_is_refreshed_before_sending(
    settings: Settings, fake: FakeZaloOA, clock: object
) -> None:
    async with running_bot(settings, fake, clock) as running:
        await seed_tokens(running.db, fake, clock, lifetime_hours=0.1)
        await say(fake, "/menu")
        assert fake.refreshes == 1
        assert all(c.status == 0 for c in fake.calls_to("message/cs"))  # never refused


async def test_concurrent_sends_refresh_once(oa: Running, fake: FakeZaloOA) -> None:
    fake.expire_access_token()
    sender: ZaloOASender = oa.bot.services.extras["senders"]["zalo_oa"]
    users = [f"{RESIDENT}{i}" for i in range(5)]
    results = await asyncio.gather(*(sender.send(u, Outbound("Nhắc lịch")) for u in users))
    assert all(r.message_id for r in results)
    assert fake.refreshes == 1


async def test_outside_window_is_not_retried_and_the_chat_is_flagged(
    oa: Running, fake: FakeZaloOA
) -> None:
    await say(fake, "/menu")  # the resident wrote once, so the chat exists
    fake.users_outside_window.add(RESIDENT)
    sender: ZaloOASender = oa.bot.services.extras["senders"]["zalo_oa"]
    calls = len(fake.calls_to("message/cs"))
    with pytest.raises(SendError) as raised:
        await sender.send(RESIDENT, Outbound("Lịch tiêm chủng tuần này"))
    assert raised.value.kind == "stop" and raised.value.reason == "zalo_window"
    assert len(fake.calls_to("message/cs")) == calls + 1  # one attempt, no retry
    async with oa.db.sessions() as session:
        chat = (await session.execute(select(Chat).filter_by(external_id=RESIDENT))).scalar_one()
    assert chat.unreachable_reason == "zalo_window"
    # Writing again makes the resident reachable.
    fake.users_outside_window.discard(RESIDENT)
    await say(fake, "/menu")
    async with oa.db.sessions() as session:
        chat = (await session.execute(select(Chat).filter_by(external_id=RESIDENT))).scalar_one()
    assert chat.unreachable_reason is None


@pytest.mark.parametrize("code", [-213, -232])
async def test_other_window_errors_stop(oa: Running, fake: FakeZaloOA, code: int) -> None:
    fake.set_user_error(RESIDENT, code)
    sender: ZaloOASender = oa.bot.services.extras["senders"]["zalo_oa"]
    with pytest.raises(SendError) as raised:
        await sender.send(RESIDENT, Outbound("Xin chào"))
    assert raised.value.kind == "stop"


async def test_rate_limit_asks_the_dispatcher_to_retry_later(
    oa: Running, fake: FakeZaloOA
) -> None:
    fake.fail_next(-32)
    sender: ZaloOASender = oa.bot.services.extras["senders"]["zalo_oa"]
    with pytest.raises(SendError) as raised:
        await sender.send(RESIDENT, Outbound("Xin chào"))
    assert raised.value.kind == "retry" and (raised.value.retry_after or 0) > 0
    assert (await sender.send(RESIDENT, Outbound("Xin chào"))).message_id


async def test_group_message_reaches_the_oa_group(
    settings: Settings, fake: FakeZaloOA, clock: object
) -> None:
    fake.add_group(GROUP)
    async with running_bot(settings, fake, clock) as running:
        await seed_tokens(running.db, fake, clock)
        sender = ZaloOASender.from_settings(oa_settings(settings, fake), running.db, clock)
        try:
            buttons = ((Button("Đăng ký", "cmd:theodoi"),),)
            result = await sender.send(
                GROUP, Outbound("Tuần này có lịch tiêm chủng.", buttons=buttons,
                                image="https://example.org/poster.png"),
                chat_kind="group",
            )
        finally:
            await sender.close()
    sent = fake.sent_to(GROUP)
    assert [s.endpoint for s in sent] == ["group/message"]
    assert sent[0].image == "https://example.org/poster.png"  # the text is its caption
    assert "Tuần này có lịch tiêm chủng." in (sent[0].text or "")
    assert "1. Đăng ký" in (sent[0].text or "")  # groups take no buttons: a numbered line
    assert result.message_id == sent[0].message_id


async def test_outbox_rows_go_out_through_the_dispatcher(
    oa: Running, fake: FakeZaloOA, clock: object
) -> None:
    from scheduler.dispatcher import Dispatcher
    from scheduler.pacing import ChannelLimits
    from storage import outbox
    from storage.models import Outbox

    fake.add_group(GROUP)
    await say(fake, "/menu", user="555")  # a resident who wrote once, then went quiet
    fake.users_outside_window.add("555")
    rows = [("to-resident", RESIDENT, "private"), ("to-group", GROUP, "group"),
            ("to-quiet", "555", "private")]
    async with oa.db.sessions() as session, session.begin():
        for key, chat_id, kind in rows:
            await outbox.enqueue(session, dedupe_key=key, channel="zalo_oa", chat_id=chat_id,
                                 payload=Outbound(f"Tin {key}").to_payload(), chat_kind=kind,
                                 not_before=clock.now)
    senders = oa.bot.services.extras["senders"]
    dispatcher = Dispatcher(oa.db, senders, clock, "w1", limits={"zalo_oa": ChannelLimits()})
    await dispatcher.drain()
    assert fake.sent_to(RESIDENT)[-1].text == "Tin to-resident"
    assert fake.sent_to(GROUP)[-1].endpoint == "group/message"
    async with oa.db.sessions() as session:
        status = {r.dedupe_key: r.status for r in (await session.execute(select(Outbox))).scalars()}
        quiet = (await session.execute(select(Chat).filter_by(external_id="555"))).scalar_one()
    assert status == {"to-resident": "sent", "to-group": "sent", "to-quiet": "failed"}
    assert quiet.unreachable_reason == "zalo_window"
    assert len([c for c in fake.calls_to("message/cs") if c.status == -230]) == 1


async def test_unfollow_and_follow_mark_the_chat(oa: Running, fake: FakeZaloOA) -> None:
    await say(fake, "/menu")

    async def reason() -> str | None:
        async with oa.db.sessions() as session:
            stmt = select(Chat).filter_by(channel="zalo_oa", external_id=RESIDENT)
            return (await session.execute(stmt)).scalar_one().unreachable_reason

    assert (await fake.send_event(fake.follow(RESIDENT, unfollow=True))).status == 200
    await drained(oa)
    assert await reason() == "blocked"
    assert (await fake.send_event(fake.follow(RESIDENT))).status == 200
    await drained(oa)
    assert await reason() is None
    assert len(fake.sent_to(RESIDENT)) == 1  # events are not answered


async def test_oa_group_answers_commands_and_ignores_chatter(
    oa: Running, fake: FakeZaloOA
) -> None:
    fake.add_group(GROUP)
    chatter = await fake.send_event(fake.user_send_group_text(GROUP, RESIDENT, "chào cả nhà"))
    assert chatter.status == 200
    await fake.send_event(fake.user_send_group_text(GROUP, RESIDENT, "/menu"))
    (menu,) = await fake.wait_for_sent(GROUP, 1)
    assert menu.endpoint == "group/message" and menu.buttons == []
    assert "Gõ số để chọn:" in (menu.text or "")  # groups take no buttons
    assert fake.sent_to(RESIDENT) == []


async def test_configured_groups_are_known_as_group_chats(
    settings: Settings, fake: FakeZaloOA, clock: object
) -> None:
    cfg = oa_settings(settings, fake)
    cfg = replace(cfg, zalo_oa=replace(cfg.zalo_oa, group_ids=[GROUP]))
    async with running_bot(cfg, fake, clock) as running:
        async with running.db.sessions() as session:
            chat = (await session.execute(select(Chat).filter_by(external_id=GROUP))).scalar_one()
    assert (chat.channel, chat.kind, chat.active) == ("zalo_oa", "group", True)


async def test_a_number_in_an_oa_group_answers_the_bots_last_menu_there(
    oa: Running, fake: FakeZaloOA
) -> None:
    """Issue 19.3: groups get numbered lists instead of buttons; typing "6" must choose item 6."""
    fake.add_group(GROUP)
    await fake.send_event(fake.user_send_group_text(GROUP, RESIDENT, "/menu"))
    (menu,) = await fake.wait_for_sent(GROUP, 1)
    lines = (menu.text or "").splitlines()
    sixth = next(line for line in lines if line.startswith("6. "))
    # Another member of the group answers the menu the bot showed to everyone.
    await fake.send_event(fake.user_send_group_text(GROUP, "member-2", "6"))
    (answer,) = (await fake.wait_for_sent(GROUP, 2))[1:]
    assert "did not understand" not in (answer.text or "") and "không hiểu" not in (answer.text or "")
    assert answer.text and answer.text != menu.text, sixth
    # A number no menu offered, and chatter, stay unanswered.
    await fake.send_event(fake.user_send_group_text(GROUP, RESIDENT, "99"))
    await fake.send_event(fake.user_send_group_text(GROUP, RESIDENT, "ok 6 người"))
    await drained(oa)
    assert len(fake.sent_to(GROUP)) == 2


async def test_an_event_delivered_10_minutes_late_is_answered_once(
    oa: Running, fake: FakeZaloOA
) -> None:
    """Issue 19.2: the bot was down; Zalo's retries bring the signed event late, twice."""
    late = fake.user_send_text(RESIDENT, "/menu", timestamp_ms=fake.stale_timestamp_ms(10 * 60))
    first = await fake.send_event(late)
    assert first.status == 200
    await fake.wait_for_sent(RESIDENT, 1)
    retry = await fake.send_event(late)  # Zalo did not see the first 200 in time
    assert retry.status == 200
    await drained(oa)
    assert len(fake.sent_to(RESIDENT)) == 1
    future = fake.user_send_text(RESIDENT, "/menu", timestamp_ms=fake.stale_timestamp_ms(-3600))
    assert (await fake.send_event(future)).status == 403


async def test_the_webhook_answers_before_the_handling_is_done(
    oa: Running, fake: FakeZaloOA
) -> None:
    """Zalo wants its 200 within ~2 s: the event is answered once it is in the inbox."""
    pump = oa.bot.services.extras["inboxes"]["zalo_oa"]
    gate = asyncio.Event()
    original = oa.bot.handle

    async def slow_handle(*args: object, **kwargs: object) -> object:
        await gate.wait()
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    oa.bot.handle = slow_handle  # type: ignore[method-assign]
    try:
        delivery = await asyncio.wait_for(fake.send_text(RESIDENT, "/menu"), 2.0)
        assert delivery.status == 200 and not fake.sent_to(RESIDENT)
        assert pump.queued == 1
    finally:
        gate.set()
    await fake.wait_for_sent(RESIDENT, 1)


async def test_a_trial_oa_token_warns_at_start_and_asks_to_reconnect_at_expiry(
    settings: Settings, fake: FakeZaloOA, clock: object, caplog: pytest.LogCaptureFixture
) -> None:
    access, _refresh = fake.issue_tokens()
    services_settings = oa_settings(settings, fake)
    from bot.app import build_services as build

    services = build(services_settings, clock=clock)  # type: ignore[arg-type]
    async with services.db.sessions() as session, session.begin():
        await tokens.save_token(session, tokens.ZALO_OA, access, "",
                                clock.now + timedelta(hours=25))  # type: ignore[attr-defined]
    await services.db.close()
    async with running_bot(settings, fake, clock) as running:
        assert "no refresh token" in caplog.text and "auth-url" in caplog.text
        await say(fake, "/menu")  # it works meanwhile
        clock.advance(hours=26)  # type: ignore[attr-defined]
        fake.advance(0)
        sender: ZaloOASender = running.bot.services.extras["senders"]["zalo_oa"]
        with pytest.raises(SendError) as caught:
            await sender.send(RESIDENT, Outbound("Nhắc lịch tiêm"))
    assert caught.value.kind == "retry"
    assert "exchange-code" in caplog.text
