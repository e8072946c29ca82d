"""Residents' data requests in the console (issue 18): the admin finds a resident by a ticket code
or a chat id, sees what is kept, erases it with the resident's own erasure; each access audited."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import ConsoleAudit, Identity, Person, Ticket
from tests.console_helpers import ADMIN, console_fixture, fake_fixture  # noqa: F401 - fixtures

RESIDENT = 5553


async def test_the_admin_sees_and_erases_a_residents_data_on_request(console) -> None:  # noqa: ANN001
    code = await console.file_on_telegram(RESIDENT, "Đèn đường hỏng ở ngõ 9")
    admin = await console.sign_in(ADMIN)
    nothing = await admin.get("/console/data?q=PA-2026-999999")
    assert "Không tìm thấy người dân" in nothing.text
    found = await admin.get(f"/console/data?q={code}")
    assert "Dữ liệu Trạm đang lưu về người dân này" in found.text
    assert "telegram" in found.text and code in found.text
    by_chat = await admin.get(f"/console/data?q={RESIDENT}")
    assert code in by_chat.text
    async with console.bot.services.db.sessions() as session:
        person_id = (await session.execute(select(Identity.person_id).where(
            Identity.external_id == str(RESIDENT)))).scalar_one()

    unconfirmed = await admin.post(f"/console/data/{person_id}/erase", {})
    assert "đánh dấu ô xác nhận" in unconfirmed.text
    done = await admin.post(f"/console/data/{person_id}/erase", {"confirm": "yes"})
    assert done.status == 200 and "Đã xoá dữ liệu của người dân." in done.text
    async with console.bot.services.db.sessions() as session:
        assert await session.get(Person, person_id) is None
        ticket = (await session.execute(select(Ticket).where(Ticket.code == code))).scalar_one()
        assert ticket.person_id is None and "Đèn đường" not in (ticket.text or "")
        audit = (await session.execute(select(ConsoleAudit).where(
            ConsoleAudit.action.like("data.%")).order_by(ConsoleAudit.id))).scalars().all()
    assert [(a.action, a.target, a.outcome) for a in audit] == [
        ("data.search", None, "failed"), ("data.view", str(person_id), "ok"),
        ("data.view", str(person_id), "ok"), ("data.erase", str(person_id), "failed"),
        ("data.erase", str(person_id), "ok")]
    assert all(a.actor == ADMIN.name for a in audit)
    gone = await admin.get(f"/console/data?q={code}")
    assert "Không tìm thấy người dân" in gone.text
