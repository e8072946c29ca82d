"""Feedback in the web console (issue 18): the queue with its filters and SLA colours, the ticket
page, and the chat's own actions — an answer from the console reaches the resident on Telegram
and on the web chat through the outbox; stations and roles are respected."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.models import ConsoleAudit, TicketEvent
from tests.console_helpers import (  # noqa: F401 - fixtures
    APPROVER,
    NURSE,
    NURSE2,
    console_fixture,
    fake_fixture,
)

RESIDENT = 5551


def row_of(html: str, code: str) -> str:
    found = re.search(r'<tr class="([^"]*)" data-code="' + re.escape(code) + '"', html)
    assert found, f"{code} not in the queue"
    return found.group(1)


async def test_an_answer_from_the_console_reaches_telegram_and_the_web_chat(console) -> None:  # noqa: ANN001
    on_telegram = await console.file_on_telegram(RESIDENT, "Ổ bọ gậy trong lốp xe ở ngõ 7")
    visitor = await console.web_visitor()
    on_web = await visitor.file_feedback("Chờ tiêm chủng hơn 2 tiếng")
    nurse = await console.sign_in(NURSE)
    queue = await nurse.get("/console/tickets")
    assert on_telegram in queue.text and on_web in queue.text
    assert row_of(queue.text, on_web) == "sla-ok"

    tid = await console.ticket_id(on_telegram)
    page = await nurse.get(f"/console/tickets/{tid}")
    assert "Ổ bọ gậy trong lốp xe ở ngõ 7" in page.text and "Người gửi: ẩn danh" in page.text
    before = len(console.fake.sent_to(RESIDENT))
    done = await nurse.post(f"/console/tickets/{tid}/answer",
                            {"text": "Tổ dân phố đã thu gom lốp xe sáng nay."})
    assert done.status == 200 and "đang được gửi tới người dân" in done.text
    answer = (await console.fake.wait_for_sent(RESIDENT, before + 1))[-1].text
    assert "Tổ dân phố đã thu gom lốp xe sáng nay." in answer
    assert "Cán bộ Trạm Y tế" in answer and "Mai" not in answer  # signed by the station

    wid = await console.ticket_id(on_web)
    await nurse.get(f"/console/tickets/{wid}")
    await nurse.post(f"/console/tickets/{wid}/answer", {"text": "Tuần sau trạm mở thêm bàn."})
    for _ in range(50):
        history = (await visitor.history())["messages"]
        if any("mở thêm bàn" in m["text"] for m in history):
            break
        await __import__("asyncio").sleep(0.1)
    else:
        raise AssertionError("the answer did not reach the web chat")

    # A note stays inside; closing asks the resident for a rating; reopening tells them.
    told = len(console.fake.sent_to(RESIDENT))
    await nurse.post(f"/console/tickets/{tid}/note", {"text": "Đã gọi tổ trưởng."})
    await nurse.post(f"/console/tickets/{tid}/close")
    closing = (await console.fake.wait_for_sent(RESIDENT, told + 1))[-1]
    assert "hoàn tất xử lý phản ánh" in closing.text and closing.callback_data
    page = await nurse.post(f"/console/tickets/{tid}/reopen")
    assert "Mở lại" not in page.text and "Đóng và mời đánh giá" in page.text
    reopened = (await console.fake.wait_for_sent(RESIDENT, told + 2))[-1]
    assert "mở lại phản ánh" in reopened.text
    assert len(console.fake.sent_to(RESIDENT)) == told + 2  # the note was not sent
    page = await nurse.get(f"/console/tickets/{tid}")
    assert "Đã gọi tổ trưởng." in page.text and "ghi chú nội bộ" in page.text

    async with console.bot.services.db.sessions() as session:
        events = (await session.execute(select(TicketEvent).where(TicketEvent.ticket_id == tid)
                                        .order_by(TicketEvent.id))).scalars().all()
        audit = (await session.execute(select(ConsoleAudit).where(
            ConsoleAudit.action.like("ticket.%")))).scalars().all()
    assert [(e.actor, e.action) for e in events][1:] == [
        (NURSE.name, "accepted"), (NURSE.name, "answered"), (NURSE.name, "note"),
        (NURSE.name, "closed"), (NURSE.name, "reopened")]
    assert [(a.actor, a.action, a.target) for a in audit][:2] == [
        (NURSE.name, "ticket.answer", str(tid)), (NURSE.name, "ticket.answer", str(wid))]
    assert all("lốp" not in str(a.target) for a in audit)


async def test_the_queue_filters_and_colours_by_working_time(console, clock) -> None:  # noqa: ANN001
    first = await (await console.web_visitor()).file_feedback("Chờ lâu ở bàn tiếp đón")
    second = await (await console.web_visitor()).file_feedback("Phòng chờ nóng quá")
    nurse = await console.sign_in(NURSE)
    await nurse.get(f"/console/tickets/{await console.ticket_id(first)}")
    await nurse.post(f"/console/tickets/{await console.ticket_id(first)}/accept")

    mine = await nurse.get("/console/tickets?status=open&mine=1")
    assert first in mine.text and second not in mine.text
    new = await nurse.get("/console/tickets?status=new")
    assert second in new.text and first not in new.text
    other = await nurse.get("/console/tickets?category=khac")
    assert first not in other.text and second not in other.text
    # Filed Monday 23/11 10:00 with 8 working hours to accept: 5 on Monday, none on Tuesday
    # (24/11 is a public holiday in the test calendar), so it is due Wednesday 10:00.
    clock.advance(hours=46, minutes=30)  # Wednesday 08:30: 1.5 working hours left
    assert (await nurse.get("/console/tickets", follow=False)).status == 303  # 12 h sign-in
    nurse = await console.sign_in(NURSE)
    assert row_of((await nurse.get("/console/tickets")).text, second) == "sla-soon"
    clock.advance(hours=3)  # Wednesday 11:30
    queue = await nurse.get("/console/tickets")
    assert row_of(queue.text, second) == "sla-late"
    assert row_of(queue.text, first) == "sla-ok"
    overdue = await nurse.get("/console/tickets?overdue=1")
    assert second in overdue.text and first not in overdue.text


async def test_roles_and_stations_are_respected(console) -> None:  # noqa: ANN001
    code = await console.file_on_telegram(RESIDENT, "Nước thải tràn ra ngõ 3")
    tid = await console.ticket_id(code)
    approver = await console.sign_in(APPROVER)
    page = await approver.get(f"/console/tickets/{tid}")
    assert page.status == 200 and "Gửi câu trả lời" not in page.text  # reads, does not act
    before = len(console.fake.sent_to(RESIDENT))
    refused = await approver.post(f"/console/tickets/{tid}/answer", {"text": "Trả lời thử"})
    assert refused.status == 403
    other_station = await console.sign_in(NURSE2)
    assert code not in (await other_station.get("/console/tickets")).text
    assert (await other_station.get(f"/console/tickets/{tid}")).status == 404
    forced = await other_station.post(f"/console/tickets/{tid}/answer", {"text": "Trả lời thử"})
    assert forced.status == 404
    await __import__("asyncio").sleep(0.3)
    assert len(console.fake.sent_to(RESIDENT)) == before  # nothing reached the resident
