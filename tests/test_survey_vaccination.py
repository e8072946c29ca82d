"""A vaccine reminder carries "Đã tiêm": confirming the dose invites the resident to the
satisfaction survey once, respecting `[survey] interval_days` (issue 20)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import Settings
from bot.model import Outbound
from scheduler.reminders import sweep_reminders
from storage.models import Outbox, Reminder, SurveyResponse
from tests.transcript import Transcript


@pytest.fixture
async def services(settings: Settings, clock):  # noqa: ANN001, ANN201
    forty = replace(settings, survey=replace(settings.survey, interval_days=40))
    svc = build_services(forty, clock=clock)
    yield svc
    await svc.db.close()


async def child_of_55_days(chat: Transcript, name: str, clock) -> Transcript:  # noqa: ANN001
    """Vaccine reminders for a child born 55 days ago: doses at 2, 3 and 4 months ahead."""
    await chat.say("/nhaclich")
    await chat.tap("rem:child")
    await chat.tap("rem:consent:child")
    await chat.say(name)
    today = (clock.now + timedelta(hours=7)).date()
    await chat.say((today - timedelta(days=55)).strftime("%d/%m/%Y"))
    return chat


async def sent_reminder(services, clock) -> Outbox:  # noqa: ANN001
    """Sweep after moving the clock to the next reminder's morning; the reminder row sent."""
    before = await rows(services, Outbox, Outbox.dedupe_key.like("reminder:%"))
    for _day in range(40):
        clock.advance(days=1)
        if await sweep_reminders(services.db, services.settings, services.library, clock.now):
            break
    after = await rows(services, Outbox, Outbox.dedupe_key.like("reminder:%"))
    assert len(after) == len(before) + 1
    return after[-1]


async def rows(services, model, *where):  # noqa: ANN001, ANN201
    async with services.db.sessions() as session:
        return list((await session.execute(select(model).where(*where).order_by(model.id)))
                    .scalars())


def done_button(row: Outbox) -> str:
    (done,) = [b for b in Outbound.from_payload(row.payload).all_buttons() if b.label == "Đã tiêm"]
    return done.data


async def test_confirmed_dose_invites_to_the_survey_once_per_interval(services, clock) -> None:  # noqa: ANN001
    chat = await child_of_55_days(Transcript(build_bot(services)), "Na", clock)

    first = await sent_reminder(services, clock)
    await chat.send(button=done_button(first))
    assert "Trạm đã ghi nhận bé Na đã tiêm" in chat.text
    (invite,) = await rows(services, Outbox, Outbox.dedupe_key.like("survey-invite:%"))
    assert "Cảm ơn bác/anh/chị đã đưa bé đi tiêm" in invite.payload["text"]
    assert Outbound.from_payload(invite.payload).all_buttons()[0].data == "sv:start:vaccination"
    await chat.send(button=done_button(first))  # a second tap changes nothing
    assert "đã ghi nhận rồi" in chat.text
    assert len(await rows(services, Outbox, Outbox.dedupe_key.like("survey-invite:%"))) == 1

    # The survey from the invitation is recorded with its trigger.
    await chat.send(button="sv:start:vaccination")
    for _n in range(5):
        await chat.tap("4 – Hài lòng")
    (response,) = await rows(services, SurveyResponse)
    assert response.trigger == "vaccination" and response.completed_at is not None

    second = await sent_reminder(services, clock)  # about 30 days later: within 40 days
    await chat.send(button=done_button(second))
    assert "đã tiêm" in chat.text
    assert len(await rows(services, Outbox, Outbox.dedupe_key.like("survey-invite:%"))) == 1
    third = await sent_reminder(services, clock)  # about 60 days after the first: asked again
    await chat.send(button=done_button(third))
    invites = await rows(services, Outbox, Outbox.dedupe_key.like("survey-invite:%"))
    assert [r.dedupe_key for r in invites] == [
        f"survey-invite:vaccine:{first.dedupe_key.split(':')[1]}",
        f"survey-invite:vaccine:{third.dedupe_key.split(':')[1]}"]
    confirmed = await rows(services, Reminder, Reminder.sent_at.is_not(None))
    assert all(r.payload.get("confirmed_at") for r in confirmed)


async def test_only_the_residents_own_sent_reminder_can_be_confirmed(services, clock) -> None:  # noqa: ANN001
    bot = build_bot(services)
    chat = await child_of_55_days(Transcript(bot), "Bin", clock)
    (pending, *_rest) = await rows(services, Reminder)
    await chat.send(button=f"rem:done:{pending.id}")  # not sent yet
    assert "không còn trong danh sách" in chat.text
    sent = await sent_reminder(services, clock)
    other = Transcript(bot, chat_id="resident-2")
    await other.say("/start")
    await other.send(button=done_button(sent))
    assert "không còn trong danh sách" in other.text
    assert await rows(services, Outbox, Outbox.dedupe_key.like("survey-invite:%")) == []
