"""Messages that reach a web resident later (issue 14): through the outbox, the web Sender, the
open page's event stream, and the history of a page opened afterwards: in order, each once.

Staff work on Telegram (the real PTB client against FakeTelegram); the resident uses the page's
HTTP API; the real outbox Dispatcher delivers. Runs on SQLite and PostgreSQL.
"""

# The shared fixtures (`fake`, `stack`, `visitor`) come from tests/web_visitor.py; pytest passes
# them as parameters of the same name.
# ruff: noqa: F811
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.model import Outbound
from storage import outbox, people
from storage.models import Chat, Outbox, WebMessage, WebPushSubscription
from tests.web_visitor import WebStack, WebVisitor, fake, stack, visitor  # noqa: F401


async def _web_rows(stack: WebStack) -> list[tuple[str, str]]:
    async with stack.bot.services.db.sessions() as session:
        rows = await session.execute(
            select(Outbox.status, Outbox.chat_id).where(Outbox.channel == "web")
        )
        return [tuple(r) for r in rows.all()]


async def test_staff_answer_reaches_the_open_page_and_a_later_page_once(
    stack: WebStack, visitor: WebVisitor
) -> None:
    code = await visitor.file_feedback("Chờ tiêm chủng hơn 2 tiếng")
    start = (await visitor.history())["cursor"]
    stop = asyncio.Event()
    running = asyncio.create_task(stack.dispatcher.run_forever(stop))
    try:
        async with visitor.stream(after=start) as page:
            await stack.staff_says(f"/traloi {code} Trạm xin lỗi bác, sẽ thêm bàn tiếp đón.")
            answer = await page.next(timeout=2.0)  # live, without reloading
            assert "thêm bàn tiếp đón" in answer["text"] and code in answer["text"]
            assert await page.nothing_within(0.3), "delivered once"
    finally:
        stop.set()
        await running
    assert [status for status, _chat in await _web_rows(stack)] == ["sent"]

    # A page opened later (same resident) shows the answer once, after the filing, in order.
    later = await visitor.history()
    texts = [m["text"] for m in later["messages"]]
    assert sum("thêm bàn tiếp đón" in t for t in texts) == 1
    assert "thêm bàn tiếp đón" in texts[-1] and any(code in t for t in texts[:-1])
    assert later["cursor"] == answer["event_id"]
    # Resuming from that page's cursor brings nothing twice.
    async with visitor.stream(after=later["cursor"]) as page:
        assert await page.nothing_within(0.3)


async def test_messages_sent_while_the_page_was_closed_arrive_in_order_once(
    stack: WebStack,
    visitor: WebVisitor,
    clock,  # noqa: ANN001
) -> None:
    await visitor.say("xin chào")
    chat_id = next(c.value for c in visitor.http.cookie_jar if c.key == "hb_web")
    deliverer = stack.bot.services.deliverer
    async with stack.bot.services.db.sessions() as session, session.begin():
        for n in (1, 2, 3):
            await deliverer.enqueue(
                session,
                channel="web",
                chat_id=chat_id,
                message=Outbound(text=f"Tin số {n}"),
                dedupe_key=f"test:{n}",
                priority=outbox.PRIORITY_BROADCAST,
            )
    await stack.dispatcher.drain()
    clock.advance(seconds=5)  # the dispatcher hands one chat at most 2 rows per batch
    await stack.dispatcher.drain()
    assert [s for s, _ in await _web_rows(stack)] == ["sent"] * 3, "stored for the resident"

    async with visitor.stream(after=0) as page:
        got = [await page.next() for _ in range(3)]
    assert [m["text"] for m in got] == ["Tin số 1", "Tin số 2", "Tin số 3"]
    ids = [m["event_id"] for m in got]
    assert ids == sorted(ids)
    # The browser reconnects with Last-Event-ID after the second: only the third comes again.
    async with visitor.stream(last_event_id=ids[1]) as page:
        assert (await page.next())["text"] == "Tin số 3"
        assert await page.nothing_within(0.3)


async def test_rating_buttons_of_a_closed_ticket_work_from_the_page(
    stack: WebStack, visitor: WebVisitor
) -> None:
    code = await visitor.file_feedback("Phòng chờ nóng quá")
    await stack.dispatcher.drain()
    card = stack.fake.sent_to(-4601)[-1]
    close = next(
        b["callback_data"]
        for row in card.reply_markup["inline_keyboard"]
        for b in row
        if b["text"] == "Đóng"
    )
    await stack.staff_closes(close, card.message_id)
    await stack.dispatcher.drain()
    history = await visitor.history()
    rating = history["messages"][-1]
    assert code in rating["text"] and rating["buttons"], "the rating request keeps live buttons"
    five = next(b["data"] for row in rating["buttons"] for b in row if b["data"].endswith(":5"))
    thanks = await visitor.say(button=five)
    assert "5/5" in thanks[0]["text"]


async def test_erasing_a_web_resident_removes_their_waiting_messages_and_push_subscriptions(
    stack: WebStack, visitor: WebVisitor
) -> None:
    await visitor.say("xin chào")
    chat_id = next(c.value for c in visitor.http.cookie_jar if c.key == "hb_web")
    await stack.web.sender.send(chat_id, Outbound(text="Nhắc lịch tiêm"))
    async with stack.bot.services.db.sessions() as session, session.begin():
        session.add(
            WebPushSubscription(
                chat_id=chat_id, endpoint="https://push.example/1", p256dh="x" * 87, auth="y" * 22
            )
        )
    async with stack.bot.services.db.sessions() as session, session.begin():
        chat = (await session.execute(select(Chat).filter_by(external_id=chat_id))).scalar_one()
        await people.erase_person(session, chat.person_id)
    async with stack.bot.services.db.sessions() as session:
        for model in (WebMessage, WebPushSubscription):
            assert (await session.execute(select(func.count()).select_from(model))).scalar() == 0
