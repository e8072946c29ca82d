"""Red flags end to end: the web chat over HTTP and Telegram through the real python-telegram-bot
client against FakeTelegram. A danger typed in the middle of the feedback flow is answered at once,
and the flow carries on after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_web_app
from bot.config import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import Running, running_bot

RESIDENT = 7501
LANGUAGE_REASON = (
    "replying in the resident's language when a drug name is typed is issue 12 item 4, the"
    " matcher's language stickiness (helper 'matching'); today 'paracetamol' is matched as English"
)


# --- web chat ----------------------------------------------------------------------------------


@pytest.fixture
async def web_client(healthbot) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(build_web_app(healthbot)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def post(client: TestClient, **body: str) -> list[dict]:
    res = await client.post("/api/message", json=body)
    assert res.status == 200
    return (await res.json())["messages"]


async def test_web_red_flag_in_the_feedback_flow_is_answered_first(web_client) -> None:
    await post(web_client, text="/gopy")
    (answer,) = await post(web_client, text="con tôi đang co giật")
    assert answer["text"].startswith("🚑 Người đang co giật: gọi ngay 115")
    assert "Nguồn:" in answer["text"] and "tiếp tục" in answer["text"]
    # The flow is still where it was: a category, then the description.
    await post(web_client, button="fb:cat:waiting")
    replies = await post(web_client, text="Chờ tiêm chủng 2 tiếng")
    datas = {b["data"] for m in replies for row in m["buttons"] for b in row}
    assert "fb:more" in datas


async def test_web_suicide_message_gets_the_calm_answer(web_client, settings) -> None:
    (answer,) = await post(web_client, text="toi ko muon song nua")
    assert "115" in answer["text"] and "111" in answer["text"]
    assert settings.station.phone in answer["text"]


async def test_web_vietnamese_resident_typing_a_drug_name_is_answered_in_vietnamese(
    web_client,
) -> None:
    await post(web_client, text="/start")
    (answer, *_rest) = await post(web_client, text="paracetamol")
    assert "Nguồn:" in answer["text"]


# --- Telegram ----------------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=None) as server:
        yield server


@pytest.fixture
async def tg(settings: Settings, fake: FakeTelegram, clock: object) -> AsyncIterator[Running]:
    async with running_bot(settings, fake, clock) as running:
        yield running


async def say(fake: FakeTelegram, text: str) -> list:
    before = len(fake.sent_to(RESIDENT))
    await fake.push_message(RESIDENT, RESIDENT, text)
    return (await fake.wait_for_sent(RESIDENT, before + 1))[before:]


async def tap(fake: FakeTelegram, data: str, message_id: int) -> list:
    before = len(fake.sent_to(RESIDENT))
    await fake.push_callback(RESIDENT, RESIDENT, data, message_id)
    return (await fake.wait_for_sent(RESIDENT, before + 1))[before:]


async def test_telegram_red_flag_in_the_feedback_flow_is_answered_first(
    tg: Running, fake: FakeTelegram
) -> None:
    (menu,) = await say(fake, "/gopy")
    (answer,) = await say(fake, "be bi co giat")
    assert answer.text.startswith("🚑 Người đang co giật: gọi ngay 115")
    assert "Nguồn:" in answer.text and answer.parse_mode == "HTML"
    await tap(fake, "fb:cat:waiting", menu.message_id)  # the flow is where it was
    (described,) = await say(fake, "Chờ tiêm chủng 2 tiếng")
    assert "fb:more" in described.callback_data


async def test_telegram_english_red_flag_gets_english_first_aid(
    tg: Running, fake: FakeTelegram
) -> None:
    (answer,) = await say(fake, "I was bitten by a dog")
    lines = answer.text.splitlines()
    assert "soap" in "\n".join(lines[:3]) and "rabies" in answer.text


async def test_telegram_blood_pressure_reading_is_read(tg: Running, fake: FakeTelegram) -> None:
    (high,) = await say(fake, "huyết áp 185/115")
    assert high.text.startswith("🚑 Huyết áp từ 180/110")
    (normal,) = await say(fake, "huyết áp 120/80 có bình thường không")
    assert not normal.text.startswith("🚑")


async def test_telegram_vietnamese_resident_typing_a_drug_name_is_answered_in_vietnamese(
    tg: Running, fake: FakeTelegram
) -> None:
    await say(fake, "/start")
    (answer,) = await say(fake, "paracetamol")
    assert "Nguồn:" in answer.text
