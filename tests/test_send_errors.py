"""The one send-error table (`scheduler.sender.SEND_ERRORS`), code by code, through the fakes.

Every entry is exercised over real HTTP: the fake answers the platform's error, the channel's real
sender classifies it, and the test checks what a resident would notice: whether their chat is
marked unreachable (no more broadcasts) or only that one message failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.channels.telegram_send import TelegramSender
from bot.channels.zalo_bot_send import ZaloBotSender
from bot.channels.zalo_oa_send import ZaloOASender
from bot.model import Outbound
from scheduler.broadcasts import ANY_TOPIC, resolve_audience
from scheduler.dispatcher import Dispatcher
from scheduler.pacing import ChannelLimits
from scheduler.plan import Audience
from scheduler.sender import SEND_ERRORS, SendError, classify_code
from storage import outbox, people
from storage.models import Chat, Outbox
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.fakes.zalo_oa_api import OA_ERRORS, FakeZaloOA
from tests.test_zalo_oa import RESIDENT, running_bot, say, seed_tokens

OA_CODES = sorted(k for k in SEND_ERRORS["zalo_oa"] if isinstance(k, int))


def test_every_documented_oa_code_is_in_the_table_and_the_fake() -> None:
    """zalo-api.md 2.7 lists these; each one has a decided meaning and a fake answer."""
    documented = {-32, -100, -124, -201, -211, -213, -216, -217, -219, -220, -221, -223, -224,
                  -227, -230, -232, -233, -234, -237, -240, -244, -320, -321, -403}
    assert documented <= set(OA_CODES)
    assert documented <= set(OA_ERRORS)


@pytest.fixture
async def oa_fake(clock: object) -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA(clock=lambda: clock.now.timestamp()) as server:  # type: ignore[attr-defined]
        yield server


@pytest.mark.parametrize("code", OA_CODES)
async def test_each_oa_error_code_through_the_oa_api(
    code: int, settings: object, services: object, clock: object, oa_fake: FakeZaloOA
) -> None:
    from tests.test_zalo_oa import oa_settings

    cfg = oa_settings(settings, oa_fake)  # type: ignore[arg-type]
    db = services.db  # type: ignore[attr-defined]
    await seed_tokens(db, oa_fake, clock)
    oa_fake.add_user(RESIDENT)
    sender = ZaloOASender.from_settings(cfg, db, clock)
    oa_fake.set_user_error(RESIDENT, code)
    try:
        with pytest.raises(SendError) as caught:
            await sender.send(RESIDENT, Outbound("Lịch tiêm chủng tuần này"))
    finally:
        await sender.close()
    rule = SEND_ERRORS["zalo_oa"][code]
    assert (caught.value.kind, caught.value.reason) == (rule.kind, rule.reason)
    if rule.kind == "retry":
        assert caught.value.retry_after and caught.value.retry_after > 0
    # A refusal of the message never blames the resident.
    assert caught.value.blames_chat == (rule.kind == "stop")


@pytest.mark.parametrize("code", [-201, -233])
async def test_a_refused_message_keeps_the_resident_in_every_broadcast(
    code: int, settings: object, clock: object, oa_fake: FakeZaloOA
) -> None:
    """Issue 19.1: the OA answers -233 once; the resident stays subscribed and gets the next one."""
    async with running_bot(settings, oa_fake, clock) as oa:  # type: ignore[arg-type]
        await seed_tokens(oa.db, oa_fake, clock)
        await say(oa_fake, "/menu")
        async with oa.db.sessions() as session, session.begin():
            chat = (await session.execute(select(Chat).filter_by(external_id=RESIDENT))).scalar_one()
            await people.subscribe(session, chat.person_id, "dengue")
        audience = Audience(groups="none", subscribers_of=ANY_TOPIC)
        settings_ = oa.bot.services.settings
        dispatcher = Dispatcher(oa.db, oa.bot.services.extras["senders"], clock, "w1",
                                limits={"zalo_oa": ChannelLimits()})
        oa_fake.set_user_error(RESIDENT, code, times=1)
        for key in ("khancap-1", "khancap-2"):
            async with oa.db.sessions() as session, session.begin():
                recipients = await resolve_audience(session, audience, settings_)
                assert [r.chat_id for r in recipients] == [RESIDENT]  # the preview counts them
                await outbox.enqueue(session, dedupe_key=key, channel="zalo_oa", chat_id=RESIDENT,
                                     payload=Outbound(f"Cảnh báo {key}").to_payload(),
                                     not_before=clock.now)  # type: ignore[attr-defined]
            await dispatcher.drain()
        async with oa.db.sessions() as session:
            rows = {r.dedupe_key: r for r in (await session.execute(select(Outbox))).scalars()}
            chat = (await session.execute(select(Chat).filter_by(external_id=RESIDENT))).scalar_one()
        assert rows["khancap-1"].status == "failed"  # that one message was refused
        assert rows["khancap-2"].status == "sent"
        assert chat.unreachable_reason is None
        assert oa_fake.sent_to(RESIDENT)[-1].text == "Cảnh báo khancap-2"


async def test_the_oa_rate_limit_answers_minus_32_and_is_retried_later(
    settings: object, services: object, clock: object
) -> None:
    async with FakeZaloOA(clock=lambda: clock.now.timestamp(),  # type: ignore[attr-defined]
                          send_rate_per_second=2) as fake:
        from tests.test_zalo_oa import oa_settings

        await seed_tokens(services.db, fake, clock)  # type: ignore[attr-defined]
        sender = ZaloOASender.from_settings(oa_settings(settings, fake), services.db, clock)  # type: ignore[arg-type, attr-defined]
        errors = []
        try:
            for n in range(4):
                try:
                    await sender.send(f"user{n}", Outbound("Xin chào"))
                except SendError as error:
                    errors.append(error)
        finally:
            await sender.close()
    assert [(e.kind, e.reason) for e in errors] == [("retry", "rate limited")] * 2
    assert all(e.retry_after == 10.0 for e in errors)


ZALO_BOT_CASES = [
    (401, "Unauthorized", "retry", "invalid token"),
    (403, "Forbidden", "stop", "blocked"),
    (404, "Not Found: chat not found", "stop", "not_found"),
    (429, "Too Many Requests", "retry", "rate limited"),
    (400, "Bad Request: text is too long", "message", "bad_request"),
    (500, "Internal Server Error", "retry", "error 500"),
]


async def refusal_through_the_bot_api(
    platform: str, settings: object, code: int, description: str
) -> SendError:
    """The SendError the platform's real sender raises when its fake answers `code` (the Zalo
    Bot and Telegram Bot APIs share their shape: one token, one base URL, one chat id)."""
    fake_of, sender_of, chat = {
        "zalo_bot": (FakeZaloBot, ZaloBotSender, "a1b2c3"),
        "telegram": (lambda: FakeTelegram(flood_limits=None), TelegramSender, 4242),
    }[platform]
    async with fake_of() as fake:
        section = replace(getattr(settings, platform), token=fake.token,
                          api_base_url=fake.bot_api_url)
        sender = sender_of.from_settings(replace(settings, **{platform: section}))  # type: ignore[arg-type]
        fake.fail_next(chat, code, description)
        try:
            with pytest.raises(SendError) as caught:
                await sender.send(str(chat), Outbound("Xin chào"))
        finally:
            await sender.close()
    return caught.value


TELEGRAM_CASES = [
    (403, "Forbidden: bot was blocked by the user", "stop", "blocked"),
    (403, "Forbidden: user is deactivated", "stop", "deactivated"),
    (403, "Forbidden: bot was kicked from the group chat", "stop", "removed"),
    (403, "Forbidden: bot is not a member of the supergroup chat", "stop", "removed"),
    (400, "Bad Request: chat not found", "stop", "not_found"),
    (400, "Bad Request: have no rights to send a message", "stop", "no_rights"),
    (400, "Bad Request: not enough rights to send text messages to the chat", "stop", "no_rights"),
    (403, "Forbidden: something new", "stop", "forbidden"),
    (400, "Bad Request: can't parse entities: Unclosed start tag at byte offset 0",
     "message", "bad_request"),
]


@pytest.mark.parametrize(
    ("platform", "code", "description", "kind", "reason"),
    [("zalo_bot", *case) for case in ZALO_BOT_CASES]
    + [("telegram", *case) for case in TELEGRAM_CASES],
)
async def test_each_bot_api_refusal_is_classified(
    platform: str, code: int, description: str, kind: str, reason: str, settings: object
) -> None:
    error = await refusal_through_the_bot_api(platform, settings, code, description)
    assert (error.kind, error.reason) == (kind, reason)


def test_unknown_codes_fall_back_safely() -> None:
    assert classify_code("zalo_oa", -999).kind == "retry"  # unknown: try again later
    assert classify_code("zalo_bot", 418).kind == "message"  # an HTTP-like 4xx: our request
    assert classify_code("telegram", 400, "Bad Request: whatever").kind == "message"
